"""Source systems and ingestion: schema drift, change data capture, batch vs streaming.

- :func:`schema_drift` compares a record with the schema you expect, the first
  defence against a source system that changed without telling you.
- :func:`diff_snapshots` is change data capture the simple way: compare two
  full snapshots of a table and emit inserts, updates and deletes.
- :func:`pull_since` is incremental pulling with a watermark column.
- :func:`data_age_minutes` shows how old data is when it lands, for batch
  intervals from a day down to streaming.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Drift:
    """How a record differs from the expected schema."""

    missing: list[str]
    unexpected: list[str]
    wrong_type: dict[str, str]

    @property
    def ok(self) -> bool:
        """True when the record matches the schema."""
        return not (self.missing or self.unexpected or self.wrong_type)


def schema_drift(record: Row, expected: Mapping[str, type]) -> Drift:
    """Compare one record with ``expected`` (column -> Python type); None counts as any type."""
    missing = [c for c in expected if c not in record]
    unexpected = [c for c in record if c not in expected]
    wrong = {
        c: f"expected {expected[c].__name__}, got {type(record[c]).__name__}"
        for c in expected
        if c in record and record[c] is not None and not isinstance(record[c], expected[c])
    }
    return Drift(missing, unexpected, wrong)


@dataclass(frozen=True)
class Change:
    """One change-data-capture event."""

    op: str  # "insert", "update" or "delete"
    key: Any
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def diff_snapshots(old: Sequence[Row], new: Sequence[Row], key: str) -> list[Change]:
    """Changes that turn snapshot ``old`` into snapshot ``new``, ordered by key.

    Real CDC tools read the database's change log instead of comparing copies,
    which is cheaper and also catches changes that happen between snapshots.
    """
    before = {r[key]: dict(r) for r in old}
    after = {r[key]: dict(r) for r in new}
    if len(before) != len(old) or len(after) != len(new):
        raise ValueError(f"{key!r} is not unique in a snapshot; CDC needs a real primary key.")
    changes = []
    for k in sorted(before.keys() | after.keys()):
        if k not in before:
            changes.append(Change("insert", k, None, after[k]))
        elif k not in after:
            changes.append(Change("delete", k, before[k], None))
        elif before[k] != after[k]:
            changes.append(Change("update", k, before[k], after[k]))
    return changes


def apply_changes(rows: Sequence[Row], changes: Sequence[Change], key: str) -> list[dict[str, Any]]:
    """Replay CDC events on a copy of ``rows``; the result matches the new snapshot."""
    table = {r[key]: dict(r) for r in rows}
    for change in changes:
        if change.op == "delete":
            table.pop(change.key, None)
        else:
            table[change.key] = dict(change.after or {})
    return [table[k] for k in sorted(table)]


def pull_since(
    rows: Sequence[Row], watermark: Any, column: str = "updated_at"
) -> tuple[list[dict[str, Any]], Any]:
    """Incremental pull: rows changed after ``watermark``, and the new watermark.

    Deleted rows are invisible to this method: one reason log-based CDC exists.
    """
    fresh = sorted((dict(r) for r in rows if r[column] > watermark), key=lambda r: r[column])
    new_mark = fresh[-1][column] if fresh else watermark
    return fresh, new_mark


def event_minutes(n: int = 500, *, seed: int = 42, horizon_minutes: int = 24 * 60) -> list[float]:
    """Times (minutes after midnight) at which ``n`` events happen during one day."""
    rng = random.Random(seed)
    return sorted(rng.uniform(0, horizon_minutes) for _ in range(n))


def data_age_minutes(
    events: Sequence[float], interval_minutes: float, *, latency_minutes: float = 0.0
) -> list[float]:
    """How old each event is when it becomes available downstream.

    A batch job that runs every ``interval_minutes`` delivers an event at the
    next run; ``interval_minutes=0`` means streaming, where only the processing
    ``latency_minutes`` remains.
    """
    if interval_minutes < 0:
        raise ValueError("interval_minutes cannot be negative.")
    ages = []
    for t in events:
        ready = t if interval_minutes == 0 else (int(t // interval_minutes) + 1) * interval_minutes
        ages.append(ready - t + latency_minutes)
    return ages
