"""Row explosion: what happens when you join on something that is not a key.

A tiny classicmodels-like data set (customers, orders, order lines) where one
postal code, 94217, is shared by customers in two different cities and one
customer has no postal code. Joining order lines to a location table on postal
code multiplies some lines (revenue inflates) and an inner join silently drops
the customer without one (revenue disappears). Joining on the real key
(customerNumber) keeps the grain: one row per order line.

Runs in-memory with DuckDB over pandas frames: no server needed.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

#: Locations as the flawed design builds them: DISTINCT (postalCode, city, state, country).
DIM_LOCATIONS_BY_POSTAL_CODE = """
SELECT DISTINCT postalCode, city, state, country FROM customers
"""

#: The flawed fact table: order lines joined to locations on postal code.
FACT_JOINED_ON_POSTAL_CODE = """
SELECT d.orderNumber, d.orderLineNumber, c.customerNumber, l.country,
       d.quantityOrdered * d.priceEach AS orderAmount
FROM orderdetails d
JOIN orders o USING (orderNumber)
JOIN customers c USING (customerNumber)
LEFT JOIN (SELECT DISTINCT postalCode, city, state, country FROM customers) l USING (postalCode)
"""

#: The dashboard's view of the flawed fact: an INNER join on postal code drops NULL codes.
FACT_INNER_JOINED_ON_POSTAL_CODE = FACT_JOINED_ON_POSTAL_CODE.replace("LEFT JOIN (SELECT", "JOIN (SELECT")

#: The correct fact: the location comes from the customer row itself (a real key).
FACT_JOINED_ON_CUSTOMER = """
SELECT d.orderNumber, d.orderLineNumber, c.customerNumber, c.country,
       d.quantityOrdered * d.priceEach AS orderAmount
FROM orderdetails d
JOIN orders o USING (orderNumber)
JOIN customers c USING (customerNumber)
"""


def toy_tables() -> dict[str, pd.DataFrame]:
    """Five customers, six orders, ten order lines and their ten products; deterministic."""
    customers = pd.DataFrame(
        {
            "customerNumber": [103, 112, 124, 129, 141],
            "customerName": [
                "Atelier graphique",
                "Signal Gift Stores",
                "Mini Gifts Distributors",
                "Mini Wheels Co.",
                "Dublin Diecast",
            ],
            "city": ["Nantes", "Las Vegas", "San Rafael", "San Francisco", "Dublin"],
            "state": [None, "NV", "CA", "CA", None],
            "postalCode": ["44000", "83030", "94217", "94217", None],
            "country": ["France", "USA", "USA", "USA", "Ireland"],
        }
    )
    orders = pd.DataFrame(
        {
            "orderNumber": [10100, 10101, 10102, 10103, 10104, 10105],
            "customerNumber": [103, 112, 124, 129, 141, 124],
        }
    )
    orderdetails = pd.DataFrame(
        {
            "orderNumber": [10100, 10100, 10101, 10102, 10102, 10103, 10104, 10104, 10105, 10105],
            "orderLineNumber": [1, 2, 1, 1, 2, 1, 1, 2, 1, 2],
            "productCode": [
                "S18_1749",
                "S18_2248",
                "S18_4409",
                "S24_3969",
                "S18_2325",
                "S18_1589",
                "S12_1099",
                "S18_2795",
                "S24_1937",
                "S24_2022",
            ],
            "quantityOrdered": [30, 50, 22, 49, 25, 26, 40, 33, 45, 20],
            "priceEach": [136.00, 55.09, 75.46, 35.29, 108.06, 96.57, 171.00, 132.00, 29.06, 44.80],
        }
    )
    # The product line is an attribute of the product, looked up by its key.
    # The code's prefix (S10, S12, S18, S24...) is the model's scale, not its line.
    products = pd.DataFrame(
        {
            "productCode": [
                "S12_1099",
                "S18_1589",
                "S18_1749",
                "S18_2248",
                "S18_2325",
                "S18_2795",
                "S18_4409",
                "S24_1937",
                "S24_2022",
                "S24_3969",
            ],
            "productName": [
                "1968 Ford Mustang",
                "1965 Aston Martin DB5",
                "1917 Grand Touring Sedan",
                "1911 Ford Town Car",
                "1932 Model A Ford J-Coupe",
                "1928 Mercedes-Benz SSK",
                "1932 Alfa Romeo 8C2300 Spider Sport",
                "1939 Chevrolet Deluxe Coupe",
                "1938 Cadillac V-16 Presidential Limousine",
                "1936 Mercedes Benz 500k Roadster",
            ],
            "productLine": ["Classic Cars", "Classic Cars"] + ["Vintage Cars"] * 8,
            "productScale": ["1:12", "1:18", "1:18", "1:18", "1:18", "1:18", "1:18", "1:24", "1:24", "1:24"],
        }
    )
    return {"customers": customers, "orders": orders, "orderdetails": orderdetails, "products": products}


def run_sql(sql: str, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Run ``sql`` in a fresh in-memory DuckDB where each frame is a table; rows sorted."""
    con = duckdb.connect()
    try:
        for name, frame in tables.items():
            con.register(name, frame)
        result = con.execute(sql).fetchdf()
    finally:
        con.close()
    return result.sort_values(list(result.columns)).reset_index(drop=True)


def revenue_by_country(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Revenue per country from the correct fact and from both flawed ones, side by side."""

    def totals(sql: str, label: str) -> pd.Series:
        fact = run_sql(sql, tables)
        return fact.groupby("country", dropna=False)["orderAmount"].sum().round(2).rename(label)

    frame = pd.concat(
        [
            totals(FACT_JOINED_ON_CUSTOMER, "true revenue"),
            totals(FACT_JOINED_ON_POSTAL_CODE, "joined on postal code"),
            totals(FACT_INNER_JOINED_ON_POSTAL_CODE, "inner join (dashboard)"),
        ],
        axis=1,
    )
    frame.index = frame.index.fillna("(no location)")
    return frame.fillna(0.0).sort_index()


def reconcile(fact: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> list[str]:
    """Compare a fact table with its source; return the problems (empty means it reconciles).

    Checks the grain (one row per order line, no duplicates) and total revenue.
    """
    source = tables["orderdetails"]
    problems = []
    if len(fact) != len(source):
        problems.append(f"row count {len(fact)} != {len(source)} order lines in the source")
    duplicated = int(fact.duplicated(["orderNumber", "orderLineNumber"]).sum())
    if duplicated:
        problems.append(f"{duplicated} order lines appear more than once (the grain is broken)")
    true_total = round(float((source["quantityOrdered"] * source["priceEach"]).sum()), 2)
    fact_total = round(float(fact["orderAmount"].sum()), 2)
    if fact_total != true_total:
        problems.append(f"revenue {fact_total:,.2f} != {true_total:,.2f} in the source")
    return problems


# --- the same checks on the real classicmodels ----------------------------------------------------

SOURCE_TABLES = ("customers", "orders", "orderdetails")


def load_classicmodels(conn: Any) -> dict[str, pd.DataFrame]:
    """The source tables the fact is built from, read from MariaDB (``conn``: a pymysql connection).

    Money columns arrive as DECIMAL; they are turned into floats so DuckDB and pandas sum
    them alike (totals are compared rounded to cents).
    """
    tables = {}
    with conn.cursor() as cursor:
        for name in SOURCE_TABLES:
            cursor.execute(f"SELECT * FROM {name}")
            columns = [d[0] for d in cursor.description]
            tables[name] = pd.DataFrame(list(cursor.fetchall()), columns=columns)
    for frame in tables.values():
        for column in ("priceEach", "creditLimit"):
            if column in frame:
                frame[column] = frame[column].astype(float)
    return tables


def reconcile_figures(fact: pd.DataFrame, orderdetails: pd.DataFrame) -> dict[str, float]:
    """The control figures that catch a broken grain, each side from its own table alone.

    ``source_lines`` and ``fact_rows`` must be equal, and so must ``fact_lines`` (distinct
    order lines in the fact: a duplicate counts once) and the two revenues. A fact whose
    explosion and losses cancel out in the row count still fails on ``fact_lines`` or revenue.
    """
    return {
        "source_lines": len(orderdetails),
        "fact_rows": len(fact),
        "fact_lines": int(len(fact[["orderNumber", "orderLineNumber"]].drop_duplicates())),
        "source_revenue": round(float((orderdetails["quantityOrdered"] * orderdetails["priceEach"]).sum()),
                                2),
        "fact_revenue": round(float(fact["orderAmount"].sum()), 2),
    }
