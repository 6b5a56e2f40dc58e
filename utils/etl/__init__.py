"""The lab's ETL: classicmodels -> star schema in S3 (``gold/``), reconciled and atomic.

Everything lives in :mod:`utils.etl.job`, the self-contained script that runs
as the Glue job ``de-c1w2-etl-job``; this package re-exports it and adds
conveniences that read the lab's settings:

- :func:`source_config` - the ETL user's credentials from ``utils.config``;
- :func:`build_star_schema` - extract, transform, reconcile (no writes), for notebooks;
- :func:`run_etl` - the whole job against the configured data lake.

:mod:`utils.etl.original` holds the course's original (postal-code) design
for the lesson on grain.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from utils.etl.job import (
    STAR_KEYS,
    STAR_SQL,
    STAR_TABLES,
    ControlTotals,
    DbConfig,
    EtlError,
    Reconciliation,
    ReconciliationError,
    SchemaDriftError,
    SourceConnectionError,
    build_star,
    check_source_schema,
    control_totals,
    extract,
    publish,
    reconcile,
    transform,
)

__all__ = [
    "STAR_KEYS", "STAR_SQL", "STAR_TABLES", "ControlTotals", "DbConfig", "EtlError", "Reconciliation",
    "ReconciliationError", "SchemaDriftError", "SourceConnectionError", "build_star",
    "build_star_schema", "check_source_schema", "control_totals", "extract", "publish", "reconcile",
    "run_etl", "source_config", "transform",
]


def source_config(role: str = "etl", database: str | None = None) -> DbConfig:
    """Credentials of the lab's ``etl`` (read-only, default) or ``admin`` user from the settings."""
    from utils.config import get_settings

    s = get_settings()
    if role == "etl":
        user, password, origin = s.db_etl_user, s.db_etl_password, "DELAB_DB_ETL_PASSWORD in .env"
    elif role == "admin":
        user, password, origin = s.db_admin_user, s.db_admin_password, "DELAB_DB_ADMIN_PASSWORD in .env"
    else:
        raise ValueError("role must be 'etl' or 'admin'")
    return DbConfig(s.db_host, s.db_port, user, password or "", database or s.db_name, origin)


def build_star_schema(db: DbConfig | None = None) -> dict[str, pa.Table]:
    """Extract, check, transform and reconcile the star schema in memory (nothing written)."""
    star, _, _ = build_star(db or source_config())
    return star


def run_etl(target_path: str | None = None, db: DbConfig | None = None, **kwargs: Any) -> dict[str, str]:
    """Run the whole job against the configured data lake (``s3://<data-lake>/gold``)."""
    from utils.config import get_settings
    from utils.etl.job import run

    return run(db or source_config(), target_path or get_settings().gold_path, **kwargs)
