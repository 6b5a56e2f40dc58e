"""Fixtures for the week-2 lab tests: a private SF1 copy of classicmodels on the real server.

Graders compute their expected figures from whatever database they are given, so the
tests seed their own scratch database (generated, seeded, deterministic) instead of
reading the shared ``classicmodels`` that notebooks and other tests may reseed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from tests.conftest import BASE_ENVIRONMENT, environment  # imported before any fixture changes it
from utils.classicmodels.testing import scratch_database

# Aggregated like the dashboard's Athena query (utils.teaching.dashboard.SALES_SQL), from MySQL.
SALES_FROM_SOURCE_SQL = """
SELECT o.orderDate AS order_date, p.productLine AS product_line, p.productName AS product_name,
       TRIM(c.country) AS country, SUM(od.quantityOrdered * od.priceEach) AS total_sales
FROM orderdetails AS od
JOIN orders AS o ON o.orderNumber = od.orderNumber
JOIN customers AS c ON c.customerNumber = o.customerNumber
JOIN products AS p ON p.productCode = od.productCode
GROUP BY o.orderDate, p.productLine, p.productName, TRIM(c.country)
"""

@pytest.fixture(scope="session")
def kernel_environment() -> dict[str, str]:
    """The environment for notebook kernels and JupyterLab: the one the test run started with.

    ``make test`` points it at the local cloud daemon, where the lab is provisioned; fixtures
    such as ``local_cloud`` repoint ``os.environ`` at an empty in-process cloud, which
    kernels must not see. When the run started without an endpoint on the local target,
    the daemon's address comes from the settings.
    """
    from utils.config import get_settings

    env = dict(BASE_ENVIRONMENT)
    with environment(env):
        settings = get_settings()
        if settings.is_local and "AWS_ENDPOINT_URL" not in env:
            env.update(settings.aws_environment())
    return env


@pytest.fixture(scope="session")
def source_db() -> Iterator[str]:
    """Name of a scratch database holding generated classicmodels at SF1 (dropped afterwards)."""
    from utils.classicmodels.loader import seed

    with scratch_database("labs") as name:
        seed(1, database=name, progress=False)
        yield name


@pytest.fixture(scope="session")
def conn(source_db: str) -> Iterator[Any]:
    """A pymysql connection to the scratch source database."""
    from utils.services.mariadb import connect

    connection = connect("admin", database=source_db)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def sales(conn: Any) -> pd.DataFrame:
    """The dashboard's sales table, aggregated in MySQL (no cloud needed)."""
    from utils.teaching.dashboard import prepare_sales
    from utils.teaching.lab_c1w2 import run_sql

    return prepare_sales(run_sql(conn, SALES_FROM_SOURCE_SQL))
