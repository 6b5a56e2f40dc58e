"""Ground truth computed in MySQL: the figures every downstream copy must match.

The ETL reconciles its star schema against these numbers before publishing,
and tests and notebooks compare Athena results with them. They are computed
by the source database itself, from the normalised tables, with no star
schema in between, so they are independent of the transform they check.

Countries are compared trimmed: the public sample stores "Norway  " with
trailing spaces, which MySQL's PAD SPACE collations already group with
"Norway"; TRIM makes that explicit and portable.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pymysql

ORDER_LINES_SQL = "SELECT COUNT(*) FROM orderdetails"
TOTAL_REVENUE_SQL = "SELECT COALESCE(SUM(quantityOrdered * priceEach), 0) FROM orderdetails"
REVENUE_BY_COUNTRY_SQL = """
SELECT TRIM(c.country) AS country,
       SUM(od.quantityOrdered * od.priceEach) AS revenue
FROM orderdetails AS od
JOIN orders AS o ON o.orderNumber = od.orderNumber
JOIN customers AS c ON c.customerNumber = o.customerNumber
GROUP BY TRIM(c.country)
ORDER BY country
"""


@dataclass(frozen=True)
class Truth:
    """Source-side control totals."""

    order_lines: int
    total_revenue: Decimal
    revenue_by_country: dict[str, Decimal]


def _open(conn: pymysql.connections.Connection | None, database: str | None):
    if conn is not None:
        return conn, False
    from utils.services.mariadb import connect

    return (connect("etl") if database is None else connect("admin", database=database)), True


def ground_truth(conn: pymysql.connections.Connection | None = None, database: str | None = None) -> Truth:
    """Order line count, total revenue and revenue per customer country, from MySQL.

    Uses ``conn`` when given; otherwise connects as the read-only ETL user to
    the source database (or as admin to another ``database``, e.g. in tests).
    """
    conn, owned = _open(conn, database)
    try:
        with conn.cursor() as cur:
            cur.execute(ORDER_LINES_SQL)
            lines = int(cur.fetchone()[0])
            cur.execute(TOTAL_REVENUE_SQL)
            total = Decimal(cur.fetchone()[0])
            cur.execute(REVENUE_BY_COUNTRY_SQL)
            by_country = {country: Decimal(revenue) for country, revenue in cur.fetchall()}
        return Truth(lines, total, by_country)
    finally:
        if owned:
            conn.close()


def order_line_count(conn: pymysql.connections.Connection | None = None, database: str | None = None) -> int:
    """Number of order lines (rows of ``orderdetails``)."""
    return ground_truth(conn, database).order_lines


def total_revenue(conn: pymysql.connections.Connection | None = None, database: str | None = None) -> Decimal:
    """SUM(quantityOrdered * priceEach) over all order lines."""
    return ground_truth(conn, database).total_revenue


def revenue_by_country(
    conn: pymysql.connections.Connection | None = None, database: str | None = None
) -> dict[str, Decimal]:
    """Revenue per (trimmed) customer country."""
    return ground_truth(conn, database).revenue_by_country
