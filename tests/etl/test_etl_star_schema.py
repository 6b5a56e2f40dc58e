"""The star schema: grain, keys, reconciliation against MySQL, and the original defect."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from utils.classicmodels import truth as truth_module
from utils.classicmodels.testing import scratch_database
from utils.classicmodels.truth import ground_truth
from utils.etl import job, source_config
from utils.etl.job import (
    STAR_SQL,
    DbConfig,
    ReconciliationError,
    build_star,
    check_source_schema,
    extract,
    parquet_bytes,
    reconcile,
    transform,
)
from utils.etl.original import ORIGINAL_KEYS, ORIGINAL_STAR_SQL
from utils.services.mariadb import connect


def _country_revenue(star: dict[str, pa.Table]) -> dict[str, Decimal]:
    con = duckdb.connect()
    con.register("fact_orders", star["fact_orders"])
    con.register("dim_locations", star["dim_locations"])
    rows = con.execute("SELECT l.country, SUM(f.orderAmount) FROM fact_orders f "
                       "JOIN dim_locations l USING (locationKey) GROUP BY 1").fetchall()
    return {country: Decimal(str(revenue)) for country, revenue in rows}


def _source(db: DbConfig) -> dict[str, pa.Table]:
    tables, _ = check_source_schema(extract(db))
    return tables


@pytest.mark.parametrize("source", ["sf1_db", "quirks_db"])
def test_star_schema_reconciles_with_mysql(source: str, request: pytest.FixtureRequest) -> None:
    db: DbConfig = request.getfixturevalue(source)
    star, result, _ = build_star(db)
    assert result.ok, result.failures()
    truth = ground_truth(database=db.database)
    assert star["fact_orders"].num_rows == truth.order_lines
    assert _country_revenue(star) == truth.revenue_by_country  # what a dashboard would show


def test_quirks_become_clean_locations(quirks_db: DbConfig) -> None:
    star = transform(_source(quirks_db))
    locations = star["dim_locations"].to_pylist()
    by_postal: dict[str | None, set[str]] = {}
    for row in locations:
        by_postal.setdefault(row["postalCode"], set()).add(row["locationKey"])
    assert len(by_postal["94217"]) == 2, "one postal code, two cities, two locations"
    assert len(by_postal["3004"]) == 2, "one postal code, two countries, two locations"
    assert len(by_postal[None]) == 3, "customers without a postal code still have a location"
    countries = {row["country"] for row in locations}
    assert "Norway" in countries and "Norway  " not in countries
    assert {row["city"] for row in locations} >= {"Auckland"}
    assert "530-0003" in by_postal
    customers = {row["customerNumber"] for row in star["dim_customers"].to_pylist()}
    assert {110, 113} <= customers, "customers without orders stay in the dimension"
    facts = star["fact_orders"].to_pylist()
    open_orders = [f for f in facts if f["status"] in ("Cancelled", "On Hold", "In Process")]
    assert open_orders and all(f["shippedDate"] is None for f in open_orders)


def test_original_postal_code_design_fails_reconciliation(quirks_db: DbConfig, sf1_db: DbConfig) -> None:
    for db in (quirks_db, sf1_db):
        star = transform(_source(db), ORIGINAL_STAR_SQL, {})
        with pytest.raises(ReconciliationError) as err:
            reconcile(star, ground_truth(database=db.database), ORIGINAL_KEYS)
        message = str(err.value)
        assert "fact rows == source order lines" in message
        assert "revenue per customer country" in message
        assert "dim_locations.postalCode unique and not null" in message
        assert "nothing was published" in message


def test_a_postal_code_join_slipped_into_our_sql_is_caught(quirks_db: DbConfig) -> None:
    # Someone "simplifies" the fact table by looking the location up by postal code.
    broken = dict(STAR_SQL)
    broken["fact_orders"] = STAR_SQL["fact_orders"].replace(
        "LEFT JOIN stg_customers AS c ON c.customerNumber = o.customerNumber",
        "LEFT JOIN customers AS cu ON cu.customerNumber = o.customerNumber\n"
        "LEFT JOIN stg_customers AS c ON c.postalCode = cu.postalCode")
    assert broken["fact_orders"] != STAR_SQL["fact_orders"]
    star = transform(_source(quirks_db), broken)
    with pytest.raises(ReconciliationError, match=r"fact rows == source order lines: 41 fact rows vs 26"):
        reconcile(star, ground_truth(database=quirks_db.database))


def test_reconcile_catches_a_lost_order_line(sf1_db: DbConfig) -> None:
    star = transform(_source(sf1_db))
    star["fact_orders"] = star["fact_orders"].slice(1)
    with pytest.raises(ReconciliationError, match="2,995 fact rows vs 2,996"):
        reconcile(star, ground_truth(database=sf1_db.database))


def test_transform_is_deterministic(sf1_db: DbConfig) -> None:
    source = _source(sf1_db)
    first, second = transform(source), transform(source)
    for name in first:
        assert parquet_bytes(first[name]) == parquet_bytes(second[name]), name


def test_parquet_bytes_do_not_depend_on_chunking(sf1_db: DbConfig) -> None:
    fact = transform(_source(sf1_db))["fact_orders"]
    rechunked = pa.Table.from_batches(fact.to_batches(max_chunksize=777))
    assert parquet_bytes(rechunked) == parquet_bytes(fact.combine_chunks())


def test_job_control_totals_match_the_truth_module() -> None:
    # job.py must be self-contained (Glue), so it carries its own copy of the SQL.
    assert job.CONTROL_TOTALS_SQL == truth_module.CONTROL_TOTALS_SQL


# The one-pass control totals must equal what the obvious statements say.
PLAIN_ORDER_LINES_SQL = "SELECT COUNT(*) FROM orderdetails"
PLAIN_TOTAL_REVENUE_SQL = "SELECT COALESCE(SUM(quantityOrdered * priceEach), 0) FROM orderdetails"
PLAIN_REVENUE_BY_COUNTRY_SQL = """
SELECT TRIM(c.country), SUM(od.quantityOrdered * od.priceEach)
FROM orderdetails AS od
JOIN orders AS o ON o.orderNumber = od.orderNumber
JOIN customers AS c ON c.customerNumber = o.customerNumber
GROUP BY TRIM(c.country)
"""


def _plain_totals(conn: Any) -> tuple[int, Decimal, dict[Any, Decimal]]:
    with conn.cursor() as cur:
        cur.execute(PLAIN_ORDER_LINES_SQL)
        lines = int(cur.fetchone()[0])
        cur.execute(PLAIN_TOTAL_REVENUE_SQL)
        total = Decimal(cur.fetchone()[0])
        cur.execute(PLAIN_REVENUE_BY_COUNTRY_SQL)
        return lines, total, {c: Decimal(r) for c, r in cur.fetchall()}


def _assert_one_pass_equals_plain(database: str, db: DbConfig) -> None:
    conn = connect("admin", database=database)
    try:
        lines, total, by_country = _plain_totals(conn)
        truth = ground_truth(conn)
    finally:
        conn.close()
    totals = job.control_totals(db)
    assert (truth.order_lines, truth.total_revenue, truth.revenue_by_country) == (lines, total, by_country)
    assert (totals.order_lines, totals.total_revenue, totals.revenue_by_country) == (lines, total, by_country)
    assert list(truth.revenue_by_country) == sorted(by_country, key=lambda c: (c is not None, c or ""))


@pytest.mark.parametrize("source", ["sf1_db", "quirks_db"])
def test_one_pass_control_totals_equal_the_plain_statements(
        source: str, request: pytest.FixtureRequest) -> None:
    db: DbConfig = request.getfixturevalue(source)
    _assert_one_pass_equals_plain(db.database, db)


def test_one_pass_control_totals_with_orphans_and_null_countries() -> None:
    # Broken references (no foreign keys here): lines of a missing order, an
    # order of a missing customer, a customer without a country. They count in
    # the line and revenue totals, and only the NULL country is a country.
    with scratch_database("etl_orphans") as name:
        conn = connect("admin", database=None, autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute(f"CREATE DATABASE `{name}`")
                cur.execute(f"USE `{name}`")
                cur.execute("CREATE TABLE customers (customerNumber INT PRIMARY KEY, country VARCHAR(50))")
                cur.execute("CREATE TABLE orders (orderNumber INT PRIMARY KEY, customerNumber INT)")
                cur.execute("CREATE TABLE orderdetails (orderNumber INT, productCode VARCHAR(15), "
                            "quantityOrdered INT, priceEach DECIMAL(10,2), "
                            "PRIMARY KEY (orderNumber, productCode))")
                cur.execute("INSERT INTO customers VALUES "
                            "(1, 'Norway  '), (2, 'Norway'), (3, NULL), (4, 'France')")
                cur.execute("INSERT INTO orders VALUES (10, 1), (11, 2), (12, 3), (13, 99), (14, 4)")
                cur.execute("INSERT INTO orderdetails VALUES (10, 'A', 2, 10.50), (10, 'B', 1, 0.01), "
                            "(11, 'A', 3, 1.00), (12, 'A', 1, 7.00), (13, 'A', 5, 2.00), "
                            "(99, 'A', 1, 100.00), "
                            "(99, 'B', 2, 0.25)")
            admin = source_config("admin", database=name)
            _assert_one_pass_equals_plain(name, admin)
            truth = ground_truth(database=name)
            assert truth.order_lines == 7 and truth.total_revenue == Decimal("141.51")
            assert truth.revenue_by_country == {None: Decimal("7.00"), "Norway": Decimal("24.01")}
        finally:
            conn.close()


def test_star_has_the_documented_columns(sf1_db: DbConfig) -> None:
    star = transform(_source(sf1_db))
    assert star["fact_orders"].column_names == [
        "orderNumber", "orderLineNumber", "customerNumber", "locationKey", "productCode", "orderDate",
        "requiredDate", "shippedDate", "status", "comments", "quantityOrdered", "priceEach",
        "orderAmount", "buyPrice", "MSRP"]
    assert "productLineDescription" in star["dim_products"].column_names
    assert star["dim_locations"].column_names == ["locationKey", "postalCode", "city", "state", "country"]
    assert star["fact_orders"].schema.field("orderAmount").type == pa.decimal128(18, 2)
