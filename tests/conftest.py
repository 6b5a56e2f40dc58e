"""Shared fixtures.

``BASE_ENVIRONMENT`` is the environment the test run started with (``make test``
points it at the local cloud DAEMON that notebooks use). Fixtures that start an
in-process cloud change ``os.environ``; notebook kernels are started with
``BASE_ENVIRONMENT`` instead, so they always see the daemon and its provisioned lab.
"""

from __future__ import annotations

import os
import socket
import threading

import pytest

BASE_ENVIRONMENT = dict(os.environ)


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def local_cloud() -> str:
    """Start a local cloud in this process on a free loopback port; point AWS clients at it.

    The server runs in a thread of the test process, so tests can both call it over
    HTTP (boto3, awswrangler, the aws CLI) and inspect its stores in-process
    (``utils.cloud.backends``).
    """
    from utils.cloud.server import serve

    port = free_port()
    ready = threading.Event()
    thread = threading.Thread(target=serve, args=(port,), kwargs={"ready": ready}, daemon=True)
    thread.start()
    assert ready.wait(30), "local cloud did not start"
    endpoint = f"http://127.0.0.1:{port}"
    from utils.config import ensure_aws_config_file

    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        AWS_CONFIG_FILE=str(ensure_aws_config_file()),
        DELAB_TARGET="local",
        DELAB_CLOUD_PORT=str(port),
    )
    os.environ.pop("AWS_PROFILE", None)
    return endpoint
