"""Athena on the local cloud (engine: DuckDB; SQL dialect: Trino via sqlglot).

- ``engine.py``: executes Athena SQL over the Glue catalog and S3 (no HTTP).
- ``models.py``: query executions, workgroups, result files in S3.
- ``responses.py``: the JSON protocol (``AmazonAthena.*`` operations).
"""

from __future__ import annotations


def register() -> None:
    """Route every ``AmazonAthena.*`` operation of the local cloud to our Athena."""
    from utils.cloud.athena.responses import handle
    from utils.cloud.server import register_json

    register_json("AmazonAthena.", handle)
