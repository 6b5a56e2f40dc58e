"""awswrangler.athena against the local Athena: rows and dtypes, CTAS approach and CSV approach.

Expected values are computed here with pandas from the same data the lake holds,
never typed in by hand.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import awswrangler as wr
import pandas as pd
import pytest

from tests.cloud.athena_helpers import DATABASE, FACT_ROWS, RESULTS, ensure_lake


@pytest.fixture(scope="module")
def lake(local_cloud: str) -> dict:
    """Small Parquet tables in the local S3, registered in Glue (shared by every Athena test)."""
    return ensure_lake()

BOTH = pytest.mark.parametrize("ctas", [True, False], ids=["ctas", "csv"])


def read(sql: str, ctas: bool, **kwargs: Any) -> pd.DataFrame:
    return wr.athena.read_sql_query(sql, database=DATABASE, ctas_approach=ctas, s3_output=RESULTS, **kwargs)


@BOTH
def test_select_star_rows_and_dtypes(lake: dict, ctas: bool) -> None:
    df = read("SELECT * FROM dim_customers ORDER BY customer_id", ctas)
    expected = lake["customers"].to_pandas()
    assert list(df.columns) == list(expected.columns)
    assert df["customer_id"].dtype == "Int32"
    assert df["customer_name"].dtype == "string"
    assert df["active"].dtype == "boolean"
    assert df["customer_id"].tolist() == expected["customer_id"].tolist()
    assert df["customer_name"].tolist() == expected["customer_name"].tolist()
    assert df["credit_limit"].tolist() == expected["credit_limit"].tolist()
    assert isinstance(df["credit_limit"][0], Decimal)
    assert df["active"].tolist() == expected["active"].tolist()


@BOTH
def test_fact_table_types_and_nulls(lake: dict, ctas: bool) -> None:
    df = read("SELECT * FROM fact_orders ORDER BY order_line_id", ctas)
    expected = lake["orders"].to_pandas()
    assert len(df) == FACT_ROWS
    assert df["order_line_id"].dtype == "Int64"
    assert df["quantity"].dtype == "Int32"
    assert df["price"].dtype == "float64"
    assert df["status"].dtype == "string"
    assert str(df["shipped_at"].dtype).startswith("datetime64")
    assert df["order_date"].tolist() == expected["order_date"].tolist()
    assert isinstance(df["order_date"][0], dt.date)
    assert df["price"].tolist() == expected["price"].tolist()
    assert df["status"].isna().sum() == expected["status"].isna().sum()
    assert df["shipped_at"].isna().sum() == expected["shipped_at"].isna().sum()
    got_ts = pd.to_datetime(df["shipped_at"]).dropna().astype("datetime64[ms]").tolist()
    want_ts = pd.to_datetime(expected["shipped_at"]).dropna().astype("datetime64[ms]").tolist()
    assert got_ts == want_ts


@BOTH
def test_join_group_by_order_by(lake: dict, ctas: bool) -> None:
    df = read("""
        SELECT c.country, COUNT(*) AS order_lines, SUM(o.quantity) AS units,
               ROUND(SUM(o.quantity * o.price), 2) AS revenue
        FROM fact_orders o JOIN dim_customers c ON o.customer_id = c.customer_id
        GROUP BY c.country
        ORDER BY revenue DESC""", ctas)
    fact, dim = lake["orders"].to_pandas(), lake["customers"].to_pandas()
    joined = fact.merge(dim, on="customer_id")
    joined["rev"] = joined["quantity"] * joined["price"]
    want = joined.groupby("country").agg(order_lines=("rev", "size"), units=("quantity", "sum"),
                                         revenue=("rev", "sum")).reset_index()
    want = want.sort_values("revenue", ascending=False)
    assert df["country"].tolist() == want["country"].tolist()
    assert df["order_lines"].tolist() == want["order_lines"].tolist()
    assert df["units"].tolist() == want["units"].tolist()
    assert df["revenue"].tolist() == pytest.approx(want["revenue"].round(2).tolist())
    # Trino types: COUNT and SUM of integers are BIGINT.
    assert df["order_lines"].dtype == "Int64"
    assert df["units"].dtype == "Int64"
    assert df["revenue"].dtype == "float64"


@BOTH
def test_window_function(lake: dict, ctas: bool) -> None:
    df = read("""
        SELECT customer_id, order_line_id,
               ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY order_line_id) AS rn,
               SUM(quantity) OVER (PARTITION BY customer_id ORDER BY order_line_id) AS running_units
        FROM fact_orders WHERE customer_id IN (1, 2) ORDER BY customer_id, order_line_id""", ctas)
    fact = lake["orders"].to_pandas()
    want = fact[fact["customer_id"].isin([1, 2])].sort_values(["customer_id", "order_line_id"]).copy()
    want["rn"] = want.groupby("customer_id").cumcount() + 1
    want["running_units"] = want.groupby("customer_id")["quantity"].cumsum()
    assert df["rn"].tolist() == want["rn"].tolist()
    assert df["running_units"].tolist() == want["running_units"].tolist()
    assert df["rn"].dtype == "Int64"


@BOTH
def test_date_functions_keep_dates(lake: dict, ctas: bool) -> None:
    df = read("""
        SELECT date_trunc('month', order_date) AS month, year(order_date) AS yr,
               date_format(order_date, '%Y-%m') AS ym, date_add('day', 1, order_date) AS next_day,
               CAST(order_date AS varchar) AS as_text, COUNT(*) AS n
        FROM fact_orders GROUP BY 1, 2, 3, 4, 5 ORDER BY next_day LIMIT 5""", ctas)
    fact = lake["orders"].to_pandas()
    days = sorted(set(fact["order_date"]))[:5]
    assert df["next_day"].tolist() == [d + dt.timedelta(days=1) for d in days]
    assert df["month"].tolist() == [d.replace(day=1) for d in days]
    assert all(type(v) is dt.date for v in df["month"])  # a DATE, as in Athena, not a timestamp
    assert df["yr"].tolist() == [d.year for d in days]
    assert df["ym"].tolist() == [d.strftime("%Y-%m") for d in days]
    assert df["as_text"].tolist() == [d.isoformat() for d in days]
    assert df["n"].tolist() == [int((fact["order_date"] == d).sum()) for d in days]


@BOTH
def test_limit_with_cte_and_cast(lake: dict, ctas: bool) -> None:
    df = read("""
        WITH big AS (SELECT order_line_id, CAST(price AS integer) AS whole_price FROM fact_orders
                     WHERE price > 20)
        SELECT * FROM big ORDER BY order_line_id LIMIT 7""", ctas)
    fact = lake["orders"].to_pandas()
    want = fact[fact["price"] > 20].sort_values("order_line_id").head(7)
    assert len(df) == 7
    assert df["order_line_id"].tolist() == want["order_line_id"].tolist()
    assert df["whole_price"].dtype == "Int32"
    # Trino rounds half away from zero when casting to an integer.
    assert df["whole_price"].tolist() == [int(Decimal(str(p)).quantize(Decimal(1), "ROUND_HALF_UP"))
                                          for p in want["price"]]


@BOTH
def test_partitioned_table_with_partition_column(lake: dict, ctas: bool) -> None:
    df = read("SELECT year, region, SUM(amount) AS total FROM sales GROUP BY year, region "
              "ORDER BY year, region", ctas)
    rows = []
    for year, table in sorted(lake["sales"].items()):
        sums = table.to_pandas().groupby("region")["amount"].sum()
        rows += [(year, region, total) for region, total in sums.items()]
    assert list(df.itertuples(index=False, name=None)) == rows
    assert df["year"].dtype == "string"


def test_select_one_latency_path(lake: dict) -> None:
    """Unnamed columns: fine without CTAS; refused with it, as Athena refuses (awswrangler says why)."""
    assert read("SELECT 1", ctas=False)["_col0"].tolist() == [1]
    with pytest.raises(wr.exceptions.InvalidArgumentValue, match="define all columns names"):
        read("SELECT 1", ctas=True)
    assert read("SELECT 1 AS one", ctas=True)["one"].tolist() == [1]


def test_ctas_temp_table_is_dropped_and_manifest_read(lake: dict) -> None:
    before = set(wr.catalog.tables(database=DATABASE, limit=1000)["Table"])
    df = read("SELECT customer_id FROM dim_customers", ctas=True, keep_files=False)
    assert sorted(df["customer_id"].tolist()) == list(range(1, 11))
    after = set(wr.catalog.tables(database=DATABASE, limit=1000)["Table"])
    assert after == before
    stats = df.query_metadata["Statistics"]
    assert stats["DataManifestLocation"].endswith("-manifest.csv")
    assert stats["DataScannedInBytes"] > 0


def test_empty_result_keeps_types(lake: dict) -> None:
    df = read("SELECT customer_id, country FROM dim_customers WHERE customer_id < 0", ctas=True)
    assert df.empty and list(df.columns) == ["customer_id", "country"]
    df = read("SELECT customer_id, country FROM dim_customers WHERE customer_id < 0", ctas=False)
    assert df.empty and list(df.columns) == ["customer_id", "country"]


def test_unload_approach(lake: dict) -> None:
    df = wr.athena.read_sql_query("SELECT customer_id, country FROM dim_customers ORDER BY customer_id",
                                  database=DATABASE, ctas_approach=False, unload_approach=True,
                                  s3_output=f"{RESULTS}unload/run1/")
    assert df["customer_id"].tolist() == list(range(1, 11))


def test_start_query_execution_and_wait(lake: dict) -> None:
    query_id = wr.athena.start_query_execution("SELECT COUNT(*) AS n FROM fact_orders", database=DATABASE,
                                               s3_output=RESULTS)
    response = wr.athena.wait_query(query_id)
    assert response["Status"]["State"] == "SUCCEEDED"
    assert response["StatementType"] == "DML"
    df = wr.athena.get_query_results(query_id)
    assert df["n"].tolist() == [FACT_ROWS]


def test_failed_query_raises_with_athena_reason(lake: dict) -> None:
    with pytest.raises(wr.exceptions.QueryFailed, match="TABLE_NOT_FOUND: line 1:15: Table "
                       f"'awsdatacatalog.{DATABASE}.no_such_table' does not exist"):
        read("SELECT * FROM no_such_table", ctas=False)


def test_describe_and_show_tables_helpers(lake: dict) -> None:
    described = wr.athena.describe_table("sales", database=DATABASE, s3_output=RESULTS)
    assert described["Column Name"].tolist() == ["region", "amount", "year"]
    assert described["Partition"].tolist() == [False, False, True]
    assert described["Type"].tolist() == ["string", "double", "string"]


@BOTH
@pytest.mark.filterwarnings("ignore:No `s3_output`")
def test_defaults_without_s3_output(lake: dict, ctas: bool) -> None:
    """No s3_output and no workgroup location: awswrangler creates Athena's default results bucket."""
    df = wr.athena.read_sql_query("SELECT COUNT(*) AS n FROM fact_orders", database=DATABASE,
                                  ctas_approach=ctas)
    assert df["n"].tolist() == [FACT_ROWS]
    location = df.query_metadata["ResultConfiguration"]["OutputLocation"]
    assert location.startswith("s3://aws-athena-query-results-123456789012-us-east-1/")
