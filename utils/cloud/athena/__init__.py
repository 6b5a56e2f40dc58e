"""Athena on the local cloud (engine: DuckDB; SQL dialect: Trino via sqlglot).

- ``engine.py``: classifies one Athena SQL statement and dispatches it to its family
  (no HTTP): ``query.py`` (SELECT), ``writes.py`` (CTAS/INSERT/UNLOAD), ``ddl.py``
  (catalog DDL), ``show.py`` (SHOW/DESCRIBE/EXPLAIN); ``cache.py`` is the decoded-data
  cache, ``statement.py`` what every statement shares.
- ``models.py``: query executions and their result files in S3 (workgroups, named
  queries, tags and data catalogs are moto's: ``moto_athena.py`` extends it).
- ``types.py``: the one type pivot (sqlglot ``DataType``) for Hive, Trino, DuckDB and Arrow.
- ``responses.py``: the JSON protocol (``AmazonAthena.*`` operations, routed in
  :mod:`utils.cloud.urls`).
"""

from __future__ import annotations

