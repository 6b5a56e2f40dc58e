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
