"""Independent clients get the same answers: PyAthena's DB-API cursor and the aws CLI."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import awswrangler as wr
import boto3
import pytest

from tests.cloud.athena_helpers import DATABASE, RESULTS, ensure_lake, wait


@pytest.fixture(scope="module")
def lake(local_cloud: str) -> dict:
    """Small Parquet tables in the local S3, registered in Glue (shared by every Athena test)."""
    return ensure_lake()

JOIN_SQL = """
    SELECT c.country, COUNT(*) AS order_lines, SUM(o.quantity) AS units
    FROM fact_orders o JOIN dim_customers c ON o.customer_id = c.customer_id
    GROUP BY c.country ORDER BY c.country"""


@pytest.fixture()
def cursor(lake: dict):  # noqa: ANN201 - a DB-API cursor
    pyathena = pytest.importorskip("pyathena")
    connection = pyathena.connect(s3_staging_dir=RESULTS, region_name="us-east-1", schema_name=DATABASE,
                                  endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    yield connection.cursor()
    connection.close()


def test_pyathena_matches_awswrangler(cursor) -> None:  # noqa: ANN001
    cursor.execute(JOIN_SQL)
    rows = cursor.fetchall()
    df = wr.athena.read_sql_query(JOIN_SQL, database=DATABASE, s3_output=RESULTS)
    assert rows == [tuple(r) for r in df.itertuples(index=False, name=None)]
    assert [d[0] for d in cursor.description] == ["country", "order_lines", "units"]
    assert [d[1] for d in cursor.description] == ["varchar", "bigint", "bigint"]


def test_pyathena_converts_types(cursor, lake: dict) -> None:  # noqa: ANN001
    cursor.execute("SELECT customer_id, credit_limit, active, DATE '2024-02-29' AS d, "
                   "TIMESTAMP '2024-02-29 13:45:00.250' AS ts FROM dim_customers WHERE customer_id = 3")
    (row,) = cursor.fetchall()
    want = lake["customers"].to_pandas().set_index("customer_id").loc[3]
    assert row == (3, want["credit_limit"], bool(want["active"]), dt.date(2024, 2, 29),
                   dt.datetime(2024, 2, 29, 13, 45, 0, 250000))
    assert isinstance(row[1], Decimal)


def test_pyathena_pages_large_results(cursor, lake: dict) -> None:  # noqa: ANN001
    cursor.execute("SELECT order_line_id FROM fact_orders ORDER BY order_line_id")
    ids = [r[0] for r in cursor.fetchall()]
    assert ids == lake["orders"]["order_line_id"].to_pylist()


def test_pyathena_failure_is_an_error(cursor) -> None:  # noqa: ANN001
    from pyathena.error import OperationalError

    reason = "COLUMN_NOT_FOUND: line 1:8: Column 'no_col' cannot be resolved"
    with pytest.raises(OperationalError, match=reason):
        cursor.execute("SELECT no_col FROM dim_customers")


def _aws(*args: str) -> dict:
    aws = Path(sys.executable).with_name("aws")
    out = subprocess.run([str(aws), *args, "--output", "json"], capture_output=True, text=True, timeout=120,
                         env={**os.environ}, check=False)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout) if out.stdout.strip() else {}


def test_aws_cli_start_query_execution(lake: dict) -> None:
    started = _aws("athena", "start-query-execution", "--query-string",
                   "SELECT country, COUNT(*) AS n FROM dim_customers GROUP BY country ORDER BY country",
                   "--query-execution-context", f"Database={DATABASE}",
                   "--result-configuration", f"OutputLocation={RESULTS}")
    query_id = started["QueryExecutionId"]
    assert wait(query_id)["Status"]["State"] == "SUCCEEDED"
    results = boto3.client("athena").get_query_results(QueryExecutionId=query_id)
    rows = [[d.get("VarCharValue") for d in r["Data"]] for r in results["ResultSet"]["Rows"]]
    counts = lake["customers"].to_pandas()["country"].value_counts().sort_index()
    assert rows == [["country", "n"]] + [[c, str(n)] for c, n in counts.items()]


def test_pyathena_finds_the_endpoint_from_the_environment(lake: dict) -> None:
    pyathena = pytest.importorskip("pyathena")
    with pyathena.connect(s3_staging_dir=RESULTS, region_name="us-east-1") as connection:
        cursor = connection.cursor()
        cursor.execute(f"SELECT COUNT(*) FROM {DATABASE}.dim_customers")
        assert cursor.fetchone() == (lake["customers"].num_rows,)
