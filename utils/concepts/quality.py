"""Data-quality checks that catch bad rows before anyone downstream sees them.

A check is a name, a dimension (completeness, accuracy, validity, uniqueness,
timeliness) and a rule applied to each row. :func:`run_checks` returns every
failing (row, check) pair with a reason, so a pipeline can stop, quarantine
the rows, or alert someone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Check:
    """A rule applied row by row; ``test`` returns None when the row passes, else a reason."""

    name: str
    dimension: str
    test: Callable[[Row], str | None]


@dataclass(frozen=True)
class Failure:
    """One row that failed one check."""

    row: int
    check: str
    dimension: str
    reason: str


def not_null(column: str) -> Check:
    """The column must have a value (completeness)."""
    return Check(
        f"{column} not null",
        "completeness",
        lambda r: None if r.get(column) not in (None, "") else f"{column} is missing",
    )


def in_range(column: str, low: float, high: float) -> Check:
    """The column must lie between ``low`` and ``high`` inclusive (validity).

    A range check tells you a value is *possible*, not that it is *right*: a credit
    limit of 21,000 passes even if the customer's true limit is 12,000. Accuracy
    needs a comparison with the truth, such as reconciling with the system of record.
    """

    def test(r: Row) -> str | None:
        value = r.get(column)
        if value is None:
            return None  # missing values are not_null's business
        return None if low <= value <= high else f"{column}={value} outside [{low}, {high}]"

    return Check(f"{column} in [{low}, {high}]", "validity", test)


def one_of(column: str, allowed: Sequence[Any]) -> Check:
    """The column must be one of ``allowed`` (validity)."""
    return Check(
        f"{column} in allowed values",
        "validity",
        lambda r: (
            None
            if r.get(column) is None or r.get(column) in allowed
            else f"{column}={r.get(column)!r} not in {list(allowed)}"
        ),
    )


def matches(column: str, pattern: str) -> Check:
    """The column must match a regular expression (validity), e.g. an email shape."""
    compiled = re.compile(pattern)
    return Check(
        f"{column} matches {pattern}",
        "validity",
        lambda r: (
            None
            if r.get(column) is None or compiled.fullmatch(str(r.get(column)))
            else f"{column}={r.get(column)!r} has the wrong format"
        ),
    )


def not_older_than(column: str, now: float, max_age: float) -> Check:
    """``now - column`` must be at most ``max_age`` (timeliness); times are plain numbers."""
    return Check(
        f"{column} fresh within {max_age}",
        "timeliness",
        lambda r: (
            None
            if r.get(column) is None or now - r[column] <= max_age
            else f"{column} is {now - r[column]:g} old (limit {max_age:g})"
        ),
    )


def run_checks(rows: Sequence[Row], checks: Sequence[Check], *, unique: Sequence[str] = ()) -> list[Failure]:
    """Apply ``checks`` to every row, plus uniqueness of each column in ``unique``."""
    failures = [
        Failure(i, check.name, check.dimension, reason)
        for i, row in enumerate(rows)
        for check in checks
        if (reason := check.test(row)) is not None
    ]
    for column in unique:
        seen: dict[Any, int] = {}
        for i, row in enumerate(rows):
            value = row.get(column)
            if value in seen:
                failures.append(
                    Failure(
                        i, f"{column} unique", "uniqueness", f"{column}={value!r} repeats row {seen[value]}"
                    )
                )
            else:
                seen[value] = i
    return sorted(failures, key=lambda f: (f.row, f.check))


def split_good_bad(rows: Sequence[Row], failures: Sequence[Failure]) -> tuple[list[Row], list[Row]]:
    """Separate passing rows from quarantined ones, keeping the original order."""
    bad = {f.row for f in failures}
    return [r for i, r in enumerate(rows) if i not in bad], [r for i, r in enumerate(rows) if i in bad]


def score_by_dimension(rows: Sequence[Row], failures: Sequence[Failure]) -> dict[str, float]:
    """Share of rows passing every check of each dimension (1.0 = every row passes).

    Only dimensions with at least one failure are listed. With 8 rows and one of them
    failing a completeness check, completeness scores 7 / 8 = 0.875.
    """
    if not rows:
        return {}
    dimensions = sorted({f.dimension for f in failures})
    return {
        d: round(1 - len({f.row for f in failures if f.dimension == d}) / len(rows), 3) for d in dimensions
    }


def sample_customers() -> list[dict[str, Any]]:
    """Customer rows with typical defects, for practice (hours are 'now minus hours ago')."""
    return [
        {
            "customerNumber": 103,
            "email": "carine@atelier.fr",
            "country": "France",
            "creditLimit": 21000,
            "updated_h": 2,
        },
        {
            "customerNumber": 112,
            "email": "jean@signal.com",
            "country": "USA",
            "creditLimit": 71800,
            "updated_h": 5,
        },
        {"customerNumber": 114, "email": None, "country": "Australia", "creditLimit": 117300, "updated_h": 1},
        {
            "customerNumber": 119,
            "email": "janine@lavoie",
            "country": "France",
            "creditLimit": 118200,
            "updated_h": 3,
        },
        {
            "customerNumber": 112,
            "email": "sue@king.com",
            "country": "USA",
            "creditLimit": 85000,
            "updated_h": 4,
        },
        {
            "customerNumber": 124,
            "email": "susan@minigifts.com",
            "country": "Untied States",
            "creditLimit": 210500,
            "updated_h": 6,
        },
        {
            "customerNumber": 125,
            "email": "zbyszek@havel.pl",
            "country": "Poland",
            "creditLimit": -5,
            "updated_h": 2,
        },
        {
            "customerNumber": 128,
            "email": "roland@blauer.de",
            "country": "Germany",
            "creditLimit": 59700,
            "updated_h": 80,
        },
    ]


# --- a check suite for the lesson's exercise: completeness, uniqueness, timeliness ------------

REQUIRED_COLUMNS: tuple[str, ...] = ("email", "country")
"""Columns every customer row must fill (completeness)."""
MAX_AGE_HOURS = 24
"""A row updated more than this many hours before ``now`` is stale (timeliness, or freshness)."""


def customer_suite(now: float, max_age: float = MAX_AGE_HOURS) -> list[Check]:
    """The lesson's suite: every required column filled, and ``updated_at`` at most ``max_age`` old."""
    return [*(not_null(column) for column in REQUIRED_COLUMNS), not_older_than("updated_at", now, max_age)]


def flagged(rows: Sequence[Row], now: float, max_age: float = MAX_AGE_HOURS) -> set[tuple[int, str]]:
    """``(row index, dimension)`` of every failure of :func:`customer_suite` plus a unique customerNumber.

    A repeated key flags each *repeat* (the second, third... row with that number), not the
    first one: the first is the row a pipeline would keep.
    """
    failures = run_checks(rows, customer_suite(now, max_age), unique=["customerNumber"])
    return {(f.row, f.dimension) for f in failures}


def planted_customers(seed: int, n: int = 24, now: float = 1000.0) -> tuple[list[dict[str, Any]], float, set]:
    """``(rows, now, planted)``: ``n`` customer rows with known defects, for grading a check suite.

    ``updated_at`` is a time in hours on a clock whose present is ``now``. ``planted`` is the
    set of ``(row index, dimension)`` pairs a correct suite must flag, and nothing else: a
    missing email (``None``), an empty email (``""``), a missing country, a key repeated twice
    and one repeated three times, a stale row, a stale row with no email, and a row exactly
    ``MAX_AGE_HOURS`` old (still fresh: the limit is inclusive).
    """
    import random

    rng = random.Random(seed)
    countries = ["France", "USA", "Australia", "Poland", "Germany", "Japan", "Spain"]
    numbers = rng.sample(range(100, 500), n)
    rows: list[dict[str, Any]] = [
        {
            "customerNumber": number,
            "email": f"buyer{number}@shop{rng.randint(1, 9)}.com",
            "country": rng.choice(countries),
            "creditLimit": rng.randrange(0, 200_000, 100),
            "updated_at": round(now - rng.uniform(0, MAX_AGE_HOURS - 1), 1),
        }
        for number in numbers
    ]
    # Defects go to distinct rows; a repeat always comes after the row it copies.
    spots = rng.sample(range(3, n), 9)
    missing_email, empty_email, missing_country, repeat, stale, stale_no_email, boundary = spots[:7]
    triple_a, triple_b = sorted(spots[7:])
    planted: set[tuple[int, str]] = set()
    rows[missing_email]["email"] = None
    rows[empty_email]["email"] = ""
    rows[missing_country]["country"] = None
    planted |= {(missing_email, "completeness"), (empty_email, "completeness"),
                (missing_country, "completeness")}
    copied, tripled = rng.sample(range(3), 2)  # two of the first three rows get repeats
    rows[repeat]["customerNumber"] = rows[copied]["customerNumber"]
    planted.add((repeat, "uniqueness"))
    rows[triple_a]["customerNumber"] = rows[triple_b]["customerNumber"] = rows[tripled]["customerNumber"]
    planted |= {(triple_a, "uniqueness"), (triple_b, "uniqueness")}
    rows[stale]["updated_at"] = now - MAX_AGE_HOURS - rng.choice([0.5, 3, 50])
    planted.add((stale, "timeliness"))
    rows[stale_no_email]["updated_at"] = now - 72
    rows[stale_no_email]["email"] = None
    planted |= {(stale_no_email, "timeliness"), (stale_no_email, "completeness")}
    rows[boundary]["updated_at"] = now - MAX_AGE_HOURS
    return rows, now, planted


# --- data management: DAMA-DMBOK's map, and a profile from the server's own metadata -------------

DAMA_KNOWLEDGE_AREAS: dict[str, str] = {
    "Data governance": "who decides: owners, policies and who may use which data (the hub of the wheel)",
    "Data architecture": "the blueprint: RDS -> Glue -> S3 -> Athena, and why (lessons 12-13)",
    "Data modeling and design": "the star schema and its grain (lesson 09)",
    "Data storage and operations": "running the databases and buckets: backups, capacity, restores",
    "Data security": "least privilege, the read-only ETL user, masking (this lesson)",
    "Data integration and interoperability": "moving data between systems: the Glue job, CDC (lesson 08)",
    "Document and content management": "unstructured data: contracts, PDFs, images",
    "Reference and master data": "one agreed list of countries, products, customers",
    "Data warehousing and business intelligence": "the analytics tables and the dashboard",
    "Metadata management": "data about data: the Glue Data Catalog, column types, owners, lineage",
    "Data quality": "checks that data is accurate, complete and timely (this lesson)",
}
"""The eleven knowledge areas of DAMA-DMBOK (2nd edition), each with where this course meets it."""


def profile_table(conn: Any, table: str) -> list[dict[str, Any]]:
    """A column profile from the server's metadata and one scan: type, nullable, share missing, distinct.

    Reads ``information_schema.columns`` (metadata the server keeps about every table) and
    counts NULLs and distinct values per column: the first thing a data catalog or a
    data-quality tool records about a table. Works as the read-only user.
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", table):
        raise ValueError(f"{table!r} is not a plain table name.")
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = DATABASE() AND table_name = %s ORDER BY ordinal_position",
            (table,),
        )
        columns = [tuple(row) for row in cursor.fetchall()]
        if not columns:
            raise ValueError(f"No table {table!r} in this database (or no privilege to see it).")
        counts = ", ".join(f"COUNT(`{name}`), COUNT(DISTINCT `{name}`)" for name, _, _ in columns)
        cursor.execute(f"SELECT COUNT(*), {counts} FROM `{table}`")  # noqa: S608 - names from the server's metadata
        total, *stats = cursor.fetchone()
    return [
        {
            "column": name,
            "type": data_type,
            "nullable": nullable == "YES",
            "missing": round(1 - stats[2 * i] / total, 3) if total else 0.0,
            "distinct": stats[2 * i + 1],
        }
        for i, (name, data_type, nullable) in enumerate(columns)
    ]
