"""Graders of lesson 09 (``09_storage_queries_and_transformation``).

1. ``tiered_monthly_cost``: the storage bill of a tiered S3 design, against
   :func:`utils.concepts.storage.tiered_monthly_cost`;
2. ``live_files``: which Parquet files make up a snapshot of a lakehouse table, against
   :func:`utils.concepts.lakehouse.files_in_snapshot`, on histories with deletes and a rollback;
3. ``reconcile_sql``: the reconcile query, run in DuckDB on the real classicmodels (read from
   MariaDB) against fact tables with planted defects: the original design's explosion, the
   dashboard's inner join, a net-zero mix of duplicates and losses, and a wrong amount.
"""

from __future__ import annotations

import copy
import functools
import math
import numbers
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from decimal import Decimal
from typing import Any

import duckdb
import pandas as pd

from utils.concepts import grain, lakehouse, storage
from utils.teaching.grading import grader
from utils.teaching.registry import declare

# --- exercise 1: the bill of a tiered design -----------------------------------------------------

LESSON_PLAN = [("STANDARD", 30), ("STANDARD_IA", 90), ("GLACIER", 365)]
COST_CASES: tuple[tuple[str, float, list[tuple[str, int]]], ...] = (
    ("the lesson's plan (30 days Standard, IA to day 90, Glacier to day 365), 10 GB a day", 10, LESSON_PLAN),
    ("everything in Standard for a year, 10 GB a day", 10, [("STANDARD", 365)]),
    ("2.5 GB a day: Standard 7 days, Glacier Instant Retrieval to day 60", 2.5,
     [("STANDARD", 7), ("GLACIER_IR", 60)]),
    ("40 GB a day: Standard 30 days, then Deep Archive until day 120", 40,
     [("STANDARD", 30), ("DEEP_ARCHIVE", 120)]),
    ("Standard 45 days, IA for 20 days (to day 65), then deleted", 100,
     [("STANDARD", 45), ("STANDARD_IA", 65)]),
)  # fmt: skip


def _variant_cost(daily_gb: float, plan: list[tuple[str, int]], mistake: str) -> float:
    """What a learner gets with one known mistake."""
    total, start = 0.0, 0
    for storage_class, until_day in plan:
        spec = storage.S3_STORAGE_CLASSES[storage_class]
        days = until_day - start
        if mistake == "cumulative days":
            days = until_day
        if mistake == "min not max":
            days = min(days, spec["minimum_days"])
        elif mistake != "no minimum":
            days = max(days, spec["minimum_days"])
        if mistake == "one month of data":
            days = 30
        total += daily_gb * days * spec["usd_gb_month"] * (30 if mistake == "price per day" else 1)
        start = until_day
    if mistake == "all standard":
        total = daily_gb * plan[-1][1] * storage.S3_STORAGE_CLASSES["STANDARD"]["usd_gb_month"]
    return round(total, 2)


COST_MISTAKES = {
    "no minimum": (
        "you billed each class only for the days data spends in it, but an object that leaves a class early "
        "is billed for the class's minimum storage duration (minimum_days: 30 for STANDARD_IA, 90 for "
        "GLACIER and GLACIER_IR, 180 for DEEP_ARCHIVE); use max(days, minimum_days)"
    ),
    "min not max": (
        "you used min(days, minimum_days): the minimum storage duration is a floor, so a class is billed for "
        "max(days, minimum_days) days' worth of data"
    ),
    "price per day": (
        "you multiplied by 30 again: usd_gb_month is already the price of one GB for a month, and the GB a "
        "class holds in the steady state (daily_gb x days) is what you pay that monthly price on"
    ),
    "cumulative days": (
        "you counted each class from day 0: data reaches the second class only after the first until_day, "
        "so a class holds daily_gb x (until_day - previous until_day) GB"
    ),
    "one month of data": (
        "you priced one month of new data per class (daily_gb x 30); in the steady state a class holds "
        "every day's data for as long as it stays there: daily_gb x days in the class"
    ),
    "all standard": "you priced everything at the STANDARD rate: each class has its own price (usd_gb_month)",
}


@grader("l09_ex1_tiered_cost", max_score=1)
def grade_tiered_cost(tiered_monthly_cost: Callable[[float, list[tuple[str, int]]], float]) -> str:
    """``tiered_monthly_cost(daily_gb, plan)`` must match :func:`storage.tiered_monthly_cost`."""
    assert callable(tiered_monthly_cost), (
        "tiered_monthly_cost should be a function (def tiered_monthly_cost(daily_gb, plan): ...), "
        f"not {type(tiered_monthly_cost).__name__}."
    )
    for label, daily_gb, plan in COST_CASES:
        expected = storage.tiered_monthly_cost(daily_gb, plan)
        got = tiered_monthly_cost(daily_gb, list(plan))
        assert isinstance(got, numbers.Real | Decimal) and not isinstance(got, bool), (
            f"tiered_monthly_cost should return a number of dollars, not {type(got).__name__}."
        )
        got = float(got)
        if math.isclose(got, expected, abs_tol=0.011):
            continue
        for mistake, message in COST_MISTAKES.items():
            variant = _variant_cost(daily_gb, plan, mistake)
            differs = not math.isclose(variant, expected, abs_tol=0.011)
            if differs and math.isclose(got, variant, abs_tol=0.011):
                raise AssertionError(
                    f"On {label} you returned ${got:,.2f}, expected ${expected:,.2f}: {message}."
                )
        raise AssertionError(f"On {label} you returned ${got:,.2f}, expected ${expected:,.2f}.")
    return (
        f"tiered_monthly_cost agrees with the reference on {len(COST_CASES)} designs, minimum storage "
        "durations "
        "included."
    )


# --- exercise 2: the files of a snapshot ---------------------------------------------------------


def _snapshot(sid: int, parent: int | None, added: list[str], removed: list[str] = ()) -> dict[str, Any]:
    return {"snapshot_id": sid, "parent_id": parent, "operation": "delete" if removed else "append",
            "added_files": list(added), "removed_files": list(removed)}  # fmt: skip


def _histories() -> list[tuple[str, dict[str, Any]]]:
    rolled_back = {"current_snapshot_id": 5, "snapshots": [
        _snapshot(1, None, ["data/00001.parquet"]),
        _snapshot(2, 1, ["data/00002.parquet"]),
        _snapshot(3, 2, ["data/00003.parquet"], ["data/00001.parquet"]),  # a delete: 00001 rewritten
        _snapshot(4, 3, ["data/00004.parquet"]),
        _snapshot(5, 2, ["data/00005.parquet"]),  # after a rollback to 2: 3 and 4 are not ancestors
    ]}  # fmt: skip
    emptied = {"current_snapshot_id": 3, "snapshots": [
        _snapshot(1, None, ["data/a.parquet", "data/b.parquet"]),
        _snapshot(2, 1, [], ["data/a.parquet"]),  # every row of a.parquet deleted: nothing rewritten
        _snapshot(3, 2, ["data/c.parquet"]),
    ]}  # fmt: skip
    return [("a history with a delete and a rollback", rolled_back),
            ("a history where a delete emptied a file", emptied)]


def _variant_files(metadata: Mapping[str, Any], snapshot_id: int, mistake: str) -> set[str]:
    if mistake == "list order":
        files: set[str] = set()
        for snapshot in metadata["snapshots"]:
            files = (files - set(snapshot["removed_files"])) | set(snapshot["added_files"])
            if snapshot["snapshot_id"] == snapshot_id:
                return files
    if mistake == "ignores removals":
        chain_files: set[str] = set()
        by_id = {s["snapshot_id"]: s for s in metadata["snapshots"]}
        current: int | None = snapshot_id
        while current is not None:
            chain_files |= set(by_id[current]["added_files"])
            current = by_id[current]["parent_id"]
        return chain_files
    if mistake == "own files only":
        return {f for s in metadata["snapshots"] if s["snapshot_id"] == snapshot_id for f in s["added_files"]}
    return set()


FILE_MISTAKES = {
    "list order": (
        "you replayed the snapshots in list order, but after a rollback the list holds snapshots that are "
        "not ancestors of this one. Follow parent_id from the snapshot back to the first one, and apply "
        "only that chain"
    ),
    "ignores removals": (
        "you kept files that a later snapshot removed (a delete rewrites the files it touches and drops the "
        "old ones): subtract removed_files as you walk from the oldest ancestor forwards"
    ),
    "own files only": (
        "you returned only the files this snapshot added; a snapshot is everything its ancestors added and "
        "did not remove"
    ),
}


@grader("l09_ex2_live_files", max_score=1)
def grade_live_files(live_files: Callable[[Mapping[str, Any], int], set[str]]) -> str:
    """``live_files(metadata, snapshot_id)`` must name the files :func:`lakehouse.files_in_snapshot` names."""
    assert callable(live_files), (
        "live_files should be a function (def live_files(metadata, snapshot_id): ...), "
        f"not {type(live_files).__name__}."
    )
    for label, metadata in _histories():
        for snapshot in metadata["snapshots"]:
            sid = snapshot["snapshot_id"]
            expected = lakehouse.files_in_snapshot(metadata, sid)
            given = copy.deepcopy(metadata)
            got = live_files(given, sid)
            assert given == metadata, (
                f"On {label}, live_files(metadata, {sid}) changed the metadata it reads (a snapshot's "
                "added_files or removed_files, or the list of snapshots): the table's history must stay as "
                "it is, or the next time travel reads a different table. Build your own set, e.g. "
                "files = set(snapshot['added_files']), instead of growing or shrinking the snapshot's lists."
            )
            assert isinstance(got, AbstractSet | list | tuple), (  # dict.keys() is a set too
                f"live_files should return a set of file names, not {type(got).__name__}."
            )
            if set(got) == expected:
                continue
            for mistake, message in FILE_MISTAKES.items():
                if set(got) == _variant_files(metadata, sid, mistake) != expected:
                    raise AssertionError(f"On {label}, snapshot {sid}: {message}.")
            raise AssertionError(
                f"On {label}, snapshot {sid}: you returned {sorted(got)}, expected {sorted(expected)}."
            )
    return ("live_files rebuilds every snapshot from its own history, deletes and rollbacks included: "
            "time travel.")


# --- exercise 3: the reconcile query on the real classicmodels -----------------------------------

FIGURES = ("source_lines", "fact_rows", "fact_lines", "source_revenue", "fact_revenue")
COUNTS = ("source_lines", "fact_rows", "fact_lines")


@functools.lru_cache(maxsize=1)
def _classicmodels() -> dict[str, pd.DataFrame]:
    """The source tables, read once per process from the lab's MariaDB (read-only user)."""
    from utils.services.mariadb import connect

    conn = connect("etl")
    try:
        return grain.load_classicmodels(conn)
    finally:
        conn.close()


def _planted_facts(tables: dict[str, pd.DataFrame]) -> list[tuple[str, pd.DataFrame]]:
    good = grain.run_sql(grain.FACT_JOINED_ON_CUSTOMER, tables)
    lines = good.sort_values(["orderNumber", "orderLineNumber"]).reset_index(drop=True)
    # lines 0-9 twice and lines 10-19 lost: as many rows as the source, but not the same lines
    netted = pd.concat([lines.iloc[20:], lines.iloc[:10], lines.iloc[:10]], ignore_index=True)
    wrong_amount = lines.copy()
    wrong_amount.loc[0, "orderAmount"] = wrong_amount.loc[0, "orderAmount"] * 100  # cents taken for dollars
    return [
        ("the correct fact (joined on customerNumber)", good),
        ("the original design's fact (joined on postal code)",
         grain.run_sql(grain.FACT_JOINED_ON_POSTAL_CODE, tables)),
        ("the dashboard's inner join on postal code",
         grain.run_sql(grain.FACT_INNER_JOINED_ON_POSTAL_CODE, tables)),
        ("a fact where duplicated and lost lines cancel out in the row count", netted),
        ("a fact with one amount a hundred times too big", wrong_amount),
    ]  # fmt: skip


def run_reconcile(sql: str, fact: pd.DataFrame, orderdetails: pd.DataFrame) -> dict[str, float]:
    """Run a reconcile query in DuckDB over ``fact_orders`` and ``orderdetails``; its one row as a dict."""
    con = duckdb.connect()
    try:
        con.register("fact_orders", fact)
        con.register("orderdetails", orderdetails)
        frame = con.execute(sql).fetchdf()
    finally:
        con.close()
    assert len(frame) == 1, (
        f"Your query returned {len(frame)} rows; it must return exactly one row of figures (use aggregates, "
        "or one scalar subquery per figure)."
    )
    names = {c.lower(): c for c in frame.columns}
    missing = [f for f in FIGURES if f.lower() not in names]
    assert not missing, f"Your query has no column(s) {missing}; name them with AS: {', '.join(FIGURES)}."
    figures = {f: float(frame[names[f.lower()]].iloc[0]) for f in FIGURES}
    return {f: int(v) if f in COUNTS and v.is_integer() else v for f, v in figures.items()}


def _diagnose(label: str, got: dict[str, float], expected: dict[str, float], fact: pd.DataFrame) -> str:
    if got["fact_lines"] != expected["fact_lines"]:
        if got["fact_lines"] == fact["orderNumber"].nunique():
            return (f"On {label} fact_lines is {got['fact_lines']:g}: that is the number of orders. An order "
                    "has several lines; count distinct (orderNumber, orderLineNumber) pairs.")  # fmt: skip
        if got["fact_lines"] == len(fact):
            return (f"On {label} fact_lines is {got['fact_lines']:g}, the row count again; expected "
                    f"{expected['fact_lines']:g}. Count DISTINCT order lines, so that a duplicated line "
                    "counts once: "
                    "SELECT COUNT(*) FROM (SELECT DISTINCT orderNumber, orderLineNumber FROM "
                    "fact_orders).")  # fmt: skip
    if not math.isclose(got["source_revenue"], expected["source_revenue"], abs_tol=0.011):
        bare = round(float(_classicmodels()["orderdetails"]["priceEach"].sum()), 2)
        if math.isclose(got["source_revenue"], bare, abs_tol=0.011):
            return (f"On {label} source_revenue is {got['source_revenue']:,.2f}: the sum of priceEach alone. "
                    "A line's revenue is quantityOrdered * priceEach.")  # fmt: skip
        return (f"On {label} source_revenue is {got['source_revenue']:,.2f}, expected "
                f"{expected['source_revenue']:,.2f}: compute it from orderdetails alone. Joining the source "
                "to the fact table multiplies rows, so the 'truth' changes with the very defect you want to "
                "catch.")
    for figure in FIGURES:
        if not math.isclose(got[figure], expected[figure], abs_tol=0.011):
            return f"On {label} {figure} is {got[figure]:,.2f}, expected {expected[figure]:,.2f}."
    return f"On {label} your figures differ from the expected ones."


@grader("l09_ex3_reconcile_sql", max_score=1)
def grade_reconcile_sql(reconcile_sql: str) -> str:
    """Run the learner's SQL on real classicmodels data against planted facts; compare the figures."""
    assert isinstance(reconcile_sql, str) and reconcile_sql.strip(), (
        "reconcile_sql should be a SQL query in a string (reconcile_sql = \"\"\"SELECT ...\"\"\")."
    )
    tables = _classicmodels()
    orderdetails = tables["orderdetails"]
    caught = 0
    for label, fact in _planted_facts(tables):
        expected = grain.reconcile_figures(fact, orderdetails)
        try:
            got = run_reconcile(reconcile_sql, fact, orderdetails)
        except duckdb.Error as error:
            first_line = str(error).splitlines()[0]
            hint = (" COUNT(DISTINCT a, b) is MySQL's syntax; in DuckDB count distinct pairs with "
                    "COUNT(DISTINCT (orderNumber, orderLineNumber)) or SELECT COUNT(*) FROM (SELECT DISTINCT "
                    "orderNumber, orderLineNumber FROM fact_orders)."
                    if "count(" in first_line.lower() and "," in first_line else "")
            raise AssertionError(f"Your query failed in DuckDB on {label}: {first_line}{hint}") from None
        if not all(math.isclose(got[f], expected[f], abs_tol=0.011) for f in FIGURES):
            raise AssertionError(_diagnose(label, got, expected, fact))
        caught += any(not math.isclose(expected[f], expected["source_lines" if "lines" in f or "rows" in f
                                                           else "source_revenue"], abs_tol=0.011)
                      for f in ("fact_rows", "fact_lines", "fact_revenue"))  # fmt: skip
    return (
        "Your reconcile query gives the right figures on the real classicmodels for all 5 fact tables, and "
        "they "
        f"flag the {caught} broken ones, including the one whose row count matches."
    )


declare("09_storage_queries_and_transformation", grade_tiered_cost, grade_live_files, grade_reconcile_sql)
