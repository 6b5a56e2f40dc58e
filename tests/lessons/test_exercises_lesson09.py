"""Lesson 09's graders: the solution passes, the placeholder is not done, mistakes are named."""

from __future__ import annotations

from tests.lessons.exercise_helpers import assert_grader_proven
from utils.concepts import storage
from utils.teaching.exercises.lesson09 import grade_live_files, grade_reconcile_sql, grade_tiered_cost

# --- exercise 1: tiered_monthly_cost -----------------------------------------------------------


def tiered_monthly_cost(daily_gb, plan):
    total, start = 0.0, 0
    for storage_class, until_day in plan:
        spec = storage.S3_STORAGE_CLASSES[storage_class]
        total += daily_gb * max(until_day - start, spec["minimum_days"]) * spec["usd_gb_month"]
        start = until_day
    return round(total, 2)


def tiered_cost_with_zip(daily_gb, plan):
    starts = [0] + [until for _, until in plan[:-1]]
    prices = storage.S3_STORAGE_CLASSES
    return sum(daily_gb * max(end - begin, prices[c]["minimum_days"]) * prices[c]["usd_gb_month"]
               for (c, end), begin in zip(plan, starts, strict=True))  # not rounded: fine


def tiered_cost_without_minimums(daily_gb, plan):
    total, start = 0.0, 0
    for storage_class, until_day in plan:
        total += daily_gb * (until_day - start) * storage.S3_STORAGE_CLASSES[storage_class]["usd_gb_month"]
        start = until_day
    return round(total, 2)


def tiered_cost_from_day_zero(daily_gb, plan):
    return round(sum(daily_gb * max(until, storage.S3_STORAGE_CLASSES[c]["minimum_days"])
                     * storage.S3_STORAGE_CLASSES[c]["usd_gb_month"] for c, until in plan), 2)


def tiered_cost_one_month_each(daily_gb, plan):
    return round(sum(daily_gb * 30 * storage.S3_STORAGE_CLASSES[c]["usd_gb_month"] for c, _ in plan), 2)


def tiered_cost_at_standard(daily_gb, plan):
    return round(daily_gb * plan[-1][1] * 0.023, 2)


def test_tiered_cost():
    assert_grader_proven(
        grade_tiered_cost,
        solution=tiered_monthly_cost,
        mistakes=[
            (tiered_cost_without_minimums, "minimum storage duration"),
            (tiered_cost_from_day_zero, "counted each class from day 0"),
            (tiered_cost_one_month_each, "one month of new data"),
            (tiered_cost_at_standard, "at the standard rate"),
        ],
        equivalents=[tiered_cost_with_zip],
    )


# --- exercise 2: live_files --------------------------------------------------------------------


def live_files(metadata, snapshot_id):
    by_id = {s["snapshot_id"]: s for s in metadata["snapshots"]}
    chain = []
    while snapshot_id is not None:
        chain.append(by_id[snapshot_id])
        snapshot_id = by_id[snapshot_id]["parent_id"]
    files = set()
    for snapshot in reversed(chain):
        files = (files - set(snapshot["removed_files"])) | set(snapshot["added_files"])
    return files


def live_files_recursive(metadata, snapshot_id):
    if snapshot_id is None:
        return []
    snapshot = next(s for s in metadata["snapshots"] if s["snapshot_id"] == snapshot_id)
    before = live_files_recursive(metadata, snapshot["parent_id"])
    return [f for f in before if f not in snapshot["removed_files"]] + snapshot["added_files"]


def live_files_in_list_order(metadata, snapshot_id):
    files = set()
    for snapshot in metadata["snapshots"]:
        files = (files - set(snapshot["removed_files"])) | set(snapshot["added_files"])
        if snapshot["snapshot_id"] == snapshot_id:
            return files
    return files


def live_files_keeping_removed(metadata, snapshot_id):
    by_id = {s["snapshot_id"]: s for s in metadata["snapshots"]}
    files = set()
    while snapshot_id is not None:
        files |= set(by_id[snapshot_id]["added_files"])
        snapshot_id = by_id[snapshot_id]["parent_id"]
    return files


def live_files_own_only(metadata, snapshot_id):
    return set(next(s for s in metadata["snapshots"] if s["snapshot_id"] == snapshot_id)["added_files"])


def test_live_files():
    assert_grader_proven(
        grade_live_files,
        solution=live_files,
        mistakes=[
            (live_files_in_list_order, "follow parent_id"),
            (live_files_keeping_removed, "subtract removed_files"),
            (live_files_own_only, "everything its ancestors added"),
        ],
        equivalents=[live_files_recursive],
    )


# --- exercise 3: reconcile_sql (DuckDB on the real classicmodels in MariaDB) -----------------------

RECONCILE_SQL = """
SELECT (SELECT COUNT(*) FROM orderdetails) AS source_lines,
       (SELECT COUNT(*) FROM fact_orders) AS fact_rows,
       (SELECT COUNT(*) FROM (SELECT DISTINCT orderNumber, orderLineNumber FROM fact_orders)) AS fact_lines,
       (SELECT ROUND(SUM(quantityOrdered * priceEach), 2) FROM orderdetails) AS source_revenue,
       (SELECT ROUND(SUM(orderAmount), 2) FROM fact_orders) AS fact_revenue
"""

WITH_CTES = """
WITH s AS (SELECT COUNT(*) AS n, SUM(quantityOrdered * priceEach) AS revenue FROM orderdetails),
     f AS (SELECT COUNT(*) AS n, COUNT(DISTINCT (orderNumber, orderLineNumber)) AS lines,
                  SUM(orderAmount) AS revenue FROM fact_orders)
SELECT s.n AS SOURCE_LINES, f.n AS fact_rows, f.lines AS fact_lines,
       s.revenue AS source_revenue, f.revenue AS fact_revenue
FROM s, f
"""

COUNTING_ROWS_TWICE = RECONCILE_SQL.replace(
    "(SELECT COUNT(*) FROM (SELECT DISTINCT orderNumber, orderLineNumber FROM fact_orders))",
    "(SELECT COUNT(*) FROM fact_orders)")
COUNTING_ORDERS = RECONCILE_SQL.replace(
    "(SELECT COUNT(*) FROM (SELECT DISTINCT orderNumber, orderLineNumber FROM fact_orders))",
    "(SELECT COUNT(DISTINCT orderNumber) FROM fact_orders)")
SOURCE_THROUGH_THE_FACT = RECONCILE_SQL.replace(
    "(SELECT ROUND(SUM(quantityOrdered * priceEach), 2) FROM orderdetails)",
    "(SELECT ROUND(SUM(d.quantityOrdered * d.priceEach), 2) FROM orderdetails d "
    "JOIN fact_orders f USING (orderNumber, orderLineNumber))")
PRICE_ONLY = RECONCILE_SQL.replace("SUM(quantityOrdered * priceEach)", "SUM(priceEach)")
ONE_ROW_PER_TABLE = """
SELECT 'source' AS side, COUNT(*) AS source_lines FROM orderdetails
UNION ALL SELECT 'fact', COUNT(*) FROM fact_orders
"""


def test_reconcile_sql():
    assert_grader_proven(
        grade_reconcile_sql,
        solution=RECONCILE_SQL,
        mistakes=[
            (COUNTING_ROWS_TWICE, "count distinct order lines"),
            (COUNTING_ORDERS, "the number of orders"),
            (SOURCE_THROUGH_THE_FACT, "from orderdetails alone"),
            (PRICE_ONLY, "priceeach alone"),
            (ONE_ROW_PER_TABLE, "exactly one row"),
            ("SELECT COUNT(*) AS source_lines FROM orderdetails", "has no column(s)"),
        ],
        equivalents=[WITH_CTES],
    )


# --- review (issue 13): adversarial and equivalent answers ------------------------------------


def tiered_cost_in_decimal(daily_gb, plan):
    from decimal import Decimal

    total, previous = Decimal(0), 0
    for storage_class, until_day in plan:
        spec = storage.S3_STORAGE_CLASSES[storage_class]
        days = max(until_day - previous, spec["minimum_days"])
        total += Decimal(str(daily_gb)) * days * Decimal(str(spec["usd_gb_month"]))
        previous = until_day
    return total.quantize(Decimal("0.01"))


def tiered_cost_with_min(daily_gb, plan):
    total, previous = 0.0, 0
    for storage_class, until_day in plan:
        spec = storage.S3_STORAGE_CLASSES[storage_class]
        total += daily_gb * min(until_day - previous, spec["minimum_days"]) * spec["usd_gb_month"]
        previous = until_day
    return round(total, 2)


def tiered_cost_times_thirty(daily_gb, plan):
    return round(tiered_monthly_cost(daily_gb, plan) * 30, 2)


def test_tiered_cost_review():
    assert_grader_proven(
        grade_tiered_cost,
        solution=tiered_monthly_cost,
        mistakes=[
            (tiered_cost_with_min, "the minimum storage duration is a floor"),
            (tiered_cost_times_thirty, "you multiplied by 30 again"),
            (lambda daily_gb, plan: 24.3, "expected $83.95"),
        ],
        equivalents=[tiered_cost_in_decimal],
    )


def live_files_growing_the_first_list(metadata, snapshot_id):
    by_id = {s["snapshot_id"]: s for s in metadata["snapshots"]}
    chain = []
    while snapshot_id is not None:
        chain.append(by_id[snapshot_id])
        snapshot_id = by_id[snapshot_id]["parent_id"]
    chain.reverse()
    files = chain[0]["added_files"]  # an alias of the metadata's own list, not a copy
    for snapshot in chain[1:]:
        for name in snapshot["removed_files"]:
            files.remove(name)
        files += snapshot["added_files"]
    return set(files)


def live_files_sorted_list_recursively(metadata, snapshot_id):
    def files(sid):
        if sid is None:
            return frozenset()
        snapshot = next(s for s in metadata["snapshots"] if s["snapshot_id"] == sid)
        return (files(snapshot["parent_id"]) - frozenset(snapshot["removed_files"])) | frozenset(
            snapshot["added_files"])

    return sorted(files(snapshot_id))


def test_live_files_review():
    assert_grader_proven(
        grade_live_files,
        solution=live_files,
        mistakes=[
            (live_files_growing_the_first_list, "changed the metadata it reads"),
            (live_files_own_only, "only the files this snapshot added"),
        ],
        equivalents=[live_files_sorted_list_recursively,
                     lambda metadata, sid: dict.fromkeys(live_files(metadata, sid)).keys()],  # a set view
    )


CONCATENATED_KEYS_UNROUNDED = """SELECT
  (SELECT count(*) FROM orderdetails) source_lines,
  (SELECT count(*) FROM fact_orders) fact_rows,
  (SELECT count(DISTINCT CAST(orderNumber AS VARCHAR) || '-' || CAST(orderLineNumber AS VARCHAR))
     FROM fact_orders) fact_lines,
  (SELECT sum(quantityOrdered * priceEach) FROM orderdetails) source_revenue,
  (SELECT sum(orderAmount) FROM fact_orders) fact_revenue"""
MYSQL_COUNT_DISTINCT = RECONCILE_SQL.replace(
    "(SELECT COUNT(*) FROM (SELECT DISTINCT orderNumber, orderLineNumber FROM fact_orders))",
    "(SELECT COUNT(DISTINCT orderNumber, orderLineNumber) FROM fact_orders)")
ONE_JOIN_FOR_EVERYTHING = """
SELECT COUNT(*) AS source_lines, COUNT(*) AS fact_rows,
       COUNT(DISTINCT (f.orderNumber, f.orderLineNumber)) AS fact_lines,
       ROUND(SUM(d.quantityOrdered * d.priceEach), 2) AS source_revenue,
       ROUND(SUM(f.orderAmount), 2) AS fact_revenue
FROM orderdetails d JOIN fact_orders f USING (orderNumber, orderLineNumber)
"""


def test_reconcile_sql_review():
    assert_grader_proven(
        grade_reconcile_sql,
        solution=RECONCILE_SQL,
        mistakes=[
            (MYSQL_COUNT_DISTINCT, "COUNT(DISTINCT a, b) is MySQL's syntax"),
            (ONE_JOIN_FOR_EVERYTHING, "from orderdetails alone"),
        ],
        equivalents=[CONCATENATED_KEYS_UNROUNDED, RECONCILE_SQL.lower()],
    )
