"""The local AWS cloud: moto for what only needs recording, our engines for what must run.

Start it with ``make up`` (or ``python -m utils.cloud serve``); point any AWS client
at it with the standard ``AWS_ENDPOINT_URL`` (``eval "$(make -s env)"``).
"""
