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

# Every control total in one statement and one pass over orderdetails: order
# lines and revenue per order first (grouped in primary-key order, no join),
# then the per-order sums joined to their order's customer. The LEFT JOINs keep
# lines whose order or customer is missing (hasCustomer = 0): they count in the
# totals but belong to no country. So:
#   order lines   = SUM(orderLines) over all rows
#   total revenue = SUM(revenue) over all rows
#   per country   = the rows with hasCustomer = 1
# (Joining the 3M order lines themselves to orders and customers gives the same
# figures but costs MySQL about twice as much CPU at SF1000.)
CONTROL_TOTALS_SQL = """
WITH order_totals AS (
    SELECT orderNumber,
           COUNT(*) AS orderLines,
           SUM(quantityOrdered * priceEach) AS revenue
    FROM orderdetails
    GROUP BY orderNumber
)
SELECT c.customerNumber IS NOT NULL AS hasCustomer,
       TRIM(c.country) AS country,
       SUM(t.orderLines) AS orderLines,
       SUM(t.revenue) AS revenue
FROM order_totals AS t
LEFT JOIN orders AS o ON o.orderNumber = t.orderNumber
LEFT JOIN customers AS c ON c.customerNumber = o.customerNumber
GROUP BY hasCustomer, TRIM(c.country)
ORDER BY hasCustomer, country
"""


@dataclass(frozen=True)
class Truth:
    """Source-side control totals."""

    order_lines: int
    total_revenue: Decimal
    revenue_by_country: dict[str, Decimal]


def fold_control_totals(rows: list[tuple]) -> Truth:
    """:data:`CONTROL_TOTALS_SQL`'s rows -> order lines, total revenue, revenue per country."""
    lines, total, by_country = 0, Decimal(0), {}
    for has_customer, country, order_lines, revenue in rows:
        revenue = Decimal(revenue if revenue is not None else 0)
        lines += int(order_lines)
        total += revenue
        if has_customer:
            by_country[country] = revenue
    return Truth(lines, total, by_country)


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
            cur.execute(CONTROL_TOTALS_SQL)
            return fold_control_totals(cur.fetchall())
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
