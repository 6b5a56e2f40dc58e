"""Helpers for tests that need the real MariaDB server (used by tests/classicmodels and tests/etl).

Tests against the database must FAIL, not skip, when the server is missing:
a skipped integration test reads as green in CI while proving nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


def require_server() -> None:
    """Fail the calling test loudly when MariaDB does not answer."""
    from utils.config import get_settings
    from utils.services.mariadb import server_is_up

    s = get_settings()
    if not server_is_up(s):
        pytest.fail(
            f"MariaDB does not answer on {s.db_host}:{s.db_port}. These tests need the real "
            "server: run `make up` (or set DELAB_DB_HOST/DELAB_DB_PORT) and try again.",
            pytrace=False,
        )


@contextmanager
def scratch_database(purpose: str) -> Iterator[str]:
    """A private database (``<db>_<purpose>_<worker>``) that is dropped afterwards.

    The admin user may create ``classicmodels_*`` databases; using one per
    test module and xdist worker keeps tests from disturbing the seeded
    ``classicmodels`` that notebooks and other tests read.
    """
    from utils.config import get_settings
    from utils.services.mariadb import connect

    require_server()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"{get_settings().db_name}_{purpose}_{worker}"
    try:
        yield name
    finally:
        conn = connect("admin", database=None, autocommit=True)
        try:
            with conn.cursor() as cur:
                for suffix in ("", "_staging", "_old", "_previous", "_swap"):  # _previous: rollback copy
                    cur.execute(f"DROP DATABASE IF EXISTS `{name}{suffix}`")
        finally:
            conn.close()


def table_counts(database: str) -> dict[str, int]:
    """Rows of each classicmodels table in ``database`` (read as the admin user)."""
    from utils.classicmodels import TABLES
    from utils.services.mariadb import connect

    conn = connect("admin", database=database)
    try:
        with conn.cursor() as cur:
            out = {}
            for table in TABLES:
                cur.execute(f"SELECT COUNT(*) FROM `{table}`")
                out[table] = cur.fetchone()[0]
            return out
    finally:
        conn.close()
