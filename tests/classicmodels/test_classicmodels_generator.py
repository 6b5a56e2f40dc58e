"""The generator: sizes, determinism, schema conformance, integrity and quirks."""

from __future__ import annotations

import time

import duckdb
import pyarrow as pa
import pytest

from utils.classicmodels import TABLES, generate, rows_for
from utils.classicmodels.schema import arrow_schema

PUBLIC_SF1 = {"customers": 122, "employees": 23, "offices": 7, "orderdetails": 2996, "orders": 326,
              "payments": 273, "productlines": 7, "products": 110}
STATE_COUNTRIES = {"USA", "Canada", "Australia", "Japan"}


@pytest.fixture(scope="module")
def sf1() -> dict[str, pa.Table]:
    return generate(1)


def test_sf1_has_the_public_sample_sizes(sf1: dict[str, pa.Table]) -> None:
    assert {t: sf1[t].num_rows for t in TABLES} == PUBLIC_SF1
    assert rows_for(1) == PUBLIC_SF1


def test_sizes_grow_linearly_and_the_catalogue_stays_fixed(sf1: dict[str, pa.Table]) -> None:
    sf10 = generate(10)
    for table in ("customers", "orders", "orderdetails", "payments"):
        assert sf10[table].num_rows == 10 * PUBLIC_SF1[table]
    for table in ("productlines", "products", "offices", "employees"):
        assert sf10[table].equals(sf1[table]), f"{table} must not depend on the scale factor"


def test_same_seed_same_data_other_seed_other_data(sf1: dict[str, pa.Table]) -> None:
    again = generate(1)
    assert all(again[t].equals(sf1[t]) for t in TABLES)
    other = generate(1, seed=7)
    assert not other["orderdetails"].equals(sf1["orderdetails"])


def test_tables_match_the_schema(sf1: dict[str, pa.Table]) -> None:
    for table in TABLES:
        assert sf1[table].schema.equals(arrow_schema(table)), table
        for field in arrow_schema(table):
            if not field.nullable:
                assert sf1[table].column(field.name).null_count == 0, f"{table}.{field.name}"


def test_keys_are_unique_and_references_resolve(sf1: dict[str, pa.Table]) -> None:
    t = sf1
    con = duckdb.connect()
    for name, table in t.items():
        con.register(name, table)
    checks = {
        "duplicate order lines": "SELECT count(*) - count(DISTINCT (orderNumber, productCode)) "
                                 "FROM orderdetails",
        "duplicate payments": "SELECT count(*) - count(DISTINCT (customerNumber, checkNumber)) FROM payments",
        "duplicate customers": "SELECT count(*) - count(DISTINCT customerNumber) FROM customers",
        "lines without order": "SELECT count(*) FROM orderdetails WHERE orderNumber NOT IN "
                               "(SELECT orderNumber FROM orders)",
        "lines without product": "SELECT count(*) FROM orderdetails WHERE productCode NOT IN "
                                 "(SELECT productCode FROM products)",
        "orders without customer": "SELECT count(*) FROM orders WHERE customerNumber NOT IN "
                                   "(SELECT customerNumber FROM customers)",
        "unknown sales rep": "SELECT count(*) FROM customers WHERE salesRepEmployeeNumber NOT IN "
                             "(SELECT employeeNumber FROM employees)",
        "products without line": "SELECT count(*) FROM products WHERE productLine NOT IN "
                                 "(SELECT productLine FROM productlines)",
        "bad line numbers": "SELECT count(*) FROM (SELECT orderNumber, max(orderLineNumber) m, count(*) n "
                            "FROM orderdetails GROUP BY 1) WHERE m <> n",
    }
    for label, sql in checks.items():
        assert con.execute(sql).fetchone()[0] == 0, label


def test_real_world_quirks_exist(sf1: dict[str, pa.Table]) -> None:
    con = duckdb.connect()
    for name, table in sf1.items():
        con.register(name, table)

    def one(sql: str) -> object:
        return con.execute(sql).fetchone()[0]

    countries = ", ".join(f"'{c}'" for c in STATE_COUNTRIES)
    assert one(f"SELECT count(*) FROM customers WHERE trim(country) NOT IN ({countries}) "
               "AND state IS NOT NULL") == 0, "state only in a few countries"
    assert one("SELECT count(*) FROM customers WHERE state IS NULL") > 40
    assert one("SELECT count(*) FROM customers WHERE postalCode IS NULL") >= 3
    assert one("SELECT count(*) FROM (SELECT postalCode FROM customers WHERE postalCode IS NOT NULL "
               "GROUP BY 1 HAVING count(DISTINCT city) > 1)") >= 2, "a postal code shared by cities"
    assert one("SELECT count(*) FROM (SELECT postalCode FROM customers WHERE postalCode IS NOT NULL "
               "GROUP BY 1 HAVING count(DISTINCT trim(country)) > 1)") >= 1, "...and by countries"
    assert one("SELECT count(*) FROM customers WHERE country <> trim(country)") >= 1, "stray spaces"
    assert one("SELECT count(*) FROM orders WHERE status IN ('In Process', 'On Hold', 'Cancelled') "
               "AND shippedDate IS NOT NULL") == 0
    assert one("SELECT count(*) FROM orders WHERE shippedDate IS NULL") >= 3
    assert one("SELECT count(*) FROM orders WHERE status IN ('Shipped', 'Resolved', 'Disputed') "
               "AND shippedDate IS NULL") == 0
    assert one("SELECT count(DISTINCT status) FROM orders") == 6
    assert one("SELECT count(*) FROM customers WHERE customerNumber NOT IN "
               "(SELECT customerNumber FROM orders)") >= 10, "customers with no orders"
    assert one("SELECT count(*) FROM customers WHERE salesRepEmployeeNumber IS NULL") >= 10
    assert one("SELECT count(*) FROM customers WHERE creditLimit = 0") >= 10
    assert one("SELECT count(*) FROM customers WHERE creditLimit = 0 "
               "AND salesRepEmployeeNumber IS NOT NULL") >= 1
    assert one("SELECT count(*) FROM orders WHERE comments LIKE '%;%' OR comments LIKE '%\"%'") >= 1


def test_generation_is_vectorised() -> None:
    started = time.perf_counter()
    tables = generate(100)
    elapsed = time.perf_counter() - started
    assert tables["orderdetails"].num_rows == 299_600
    assert elapsed < 10, f"SF100 took {elapsed:.1f} s; SF1000 would not be 'seconds'"


def test_rejects_a_non_positive_scale_factor() -> None:
    with pytest.raises(ValueError, match="positive"):
        rows_for(0)
