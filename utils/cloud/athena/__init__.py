"""Athena on the local cloud (engine: DuckDB; SQL dialect: Trino via sqlglot).

- ``engine.py``: executes Athena SQL over the Glue catalog and S3 (no HTTP).
- ``models.py``: query executions, workgroups, result files in S3.
- ``responses.py``: the JSON protocol (``AmazonAthena.*`` operations, routed in
  :mod:`utils.cloud.urls`).
"""

from __future__ import annotations

