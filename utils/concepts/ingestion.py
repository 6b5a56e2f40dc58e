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


# --- schema drift between two snapshots ----------------------------------------------------------


def customer_snapshots() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Two daily snapshots of a customers extract, Monday's and Tuesday's (the lesson's example).

    Overnight the source renamed ``customerName`` to ``customer_name``, started sending some
    credit limits as text, and added an ``email`` field that only some rows carry (not the
    first). Tuesday's rows also have no ``state``, which is NULL and so says nothing about
    the column's type.
    """
    monday = [
        {"customerNumber": 103, "customerName": "Atelier graphique", "state": None, "creditLimit": 21000.0},
        {"customerNumber": 112, "customerName": "Signal Gift Stores", "state": "NV", "creditLimit": 71800.0},
        {"customerNumber": 114, "customerName": "Australian Collectors, Co.", "state": "Victoria",
         "creditLimit": 117300.0},
    ]  # fmt: skip
    tuesday = [
        {"customerNumber": 103, "customer_name": "Atelier graphique", "state": None, "creditLimit": 21000.0},
        {"customerNumber": 112, "customer_name": "Signal Gift Stores", "state": None,
         "creditLimit": "71800.00"},
        {"customerNumber": 119, "customer_name": "La Rochelle Gifts", "state": None, "creditLimit": 118200.0,
         "email": "contact@example.com"},
    ]  # fmt: skip
    return monday, tuesday


def column_types(rows: Sequence[Row]) -> dict[str, str]:
    """The schema a snapshot really has: every column seen in ANY row -> the type(s) of its values.

    A column's type is the name of its values' Python type (``"int"``); when its non-NULL
    values have several types, the names joined by ``|`` in alphabetical order
    (``"float|str"``); ``""`` when every value is NULL (no type can be told).
    """
    seen: dict[str, set[str]] = {}
    for row in rows:
        for column, value in row.items():
            names = seen.setdefault(column, set())
            if value is not None:
                names.add(type(value).__name__)
    return {column: "|".join(sorted(names)) for column, names in seen.items()}


def schema_changes(before: Sequence[Row], after: Sequence[Row]) -> dict[str, Any]:
    """How the schema changed from snapshot ``before`` to snapshot ``after``.

    Returns ``{"added": [...], "removed": [...], "retyped": {column: (old, new)}}`` with the
    lists sorted. A renamed column shows as one removed and one added. A column is retyped
    only when both snapshots tell its type (NULLs alone change nothing) and they differ.
    """
    old, new = column_types(before), column_types(after)
    both = sorted(old.keys() & new.keys())
    retyped = {c: (old[c], new[c]) for c in both if old[c] and new[c] and old[c] != new[c]}
    return {"added": sorted(new.keys() - old.keys()), "removed": sorted(old.keys() - new.keys()),
            "retyped": retyped}


# --- an incremental pull that also catches updates and deletes ----------------------------------


class SourceConnection:
    """A read-only view of a source database that counts what each query transfers.

    ``execute(sql, params)`` runs the query and returns its rows (a list of tuples, with
    ``fetchall()``/``fetchone()`` too, like a DB-API cursor). ``rows_read`` counts every row
    returned; ``wide_rows_read`` those with more than one column (full rows, as opposed to
    a key-only listing), which is what an incremental pull tries to keep small.
    """

    def __init__(self, db: Any) -> None:
        self._db = db
        self.rows_read = 0
        self.wide_rows_read = 0

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Rows:
        """Run a SELECT on the source and return its rows."""
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            raise PermissionError("this connection to the source is read-only: run SELECT queries only")
        rows = _Rows(self._db.execute(sql, tuple(params)).fetchall())
        self.rows_read += len(rows)
        if rows and len(rows[0]) > 1:
            self.wide_rows_read += len(rows)
        return rows

    def cursor(self) -> _Cursor:
        """A DB-API cursor on this connection (``execute``, then ``fetchall``/``fetchone``), for
        code written the way pymysql or sqlite3 code usually is."""
        return _Cursor(self)


class _Cursor:
    """``conn.cursor()``: execute a query, then fetch its rows; a context manager like pymysql's."""

    def __init__(self, conn: SourceConnection) -> None:
        self._conn = conn
        self._rows: list[Any] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Cursor:
        self._rows = list(self._conn.execute(sql, params))
        return self

    def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    def __iter__(self) -> Any:
        return iter(self.fetchall())

    def close(self) -> None:
        self._rows = []

    def __enter__(self) -> _Cursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Rows(list):  # type: ignore[type-arg]
    """Query results that also answer ``fetchall()`` and ``fetchone()``."""

    def fetchall(self) -> list[Any]:
        return list(self)

    def fetchone(self) -> Any:
        return self[0] if self else None


class ChangingSource:
    """A small ``customers`` table in an in-memory SQLite database, changed between pulls.

    Every insert or update stamps the row's ``updated_at`` with the next tick of a clock,
    as an application (or a database trigger) does; a delete removes the row, leaving
    nothing to stamp. :meth:`connect` hands out a :class:`SourceConnection`.
    """

    def __init__(self, rows: Sequence[tuple[int, str]] = ()) -> None:
        import sqlite3

        self._db = sqlite3.connect(":memory:")
        self._db.execute("CREATE TABLE customers (customerNumber INTEGER PRIMARY KEY, city TEXT NOT NULL, "
                         "updated_at INTEGER NOT NULL)")  # fmt: skip
        self.clock = 0
        for number, city in rows:
            self.insert(number, city)

    def _tick(self) -> int:
        self.clock += 1
        return self.clock

    def insert(self, number: int, city: str) -> None:
        """A new customer."""
        self._db.execute("INSERT INTO customers VALUES (?, ?, ?)", (number, city, self._tick()))

    def update(self, number: int, city: str) -> None:
        """A customer moves: the row changes and gets a new ``updated_at``."""
        self._db.execute("UPDATE customers SET city = ?, updated_at = ? WHERE customerNumber = ?",
                         (city, self._tick(), number))  # fmt: skip

    def delete(self, number: int) -> None:
        """A customer is removed: the row is gone (no ``updated_at`` left to see)."""
        self._db.execute("DELETE FROM customers WHERE customerNumber = ?", (number,))

    def connect(self) -> SourceConnection:
        """A read-only, counting connection for a pull."""
        return SourceConnection(self._db)

    def snapshot(self) -> dict[int, dict[str, Any]]:
        """The table as a replica should hold it: customerNumber -> {city, updated_at}."""
        rows = self._db.execute("SELECT customerNumber, city, updated_at FROM customers").fetchall()
        return {n: {"city": city, "updated_at": at} for n, city, at in rows}


def incremental_sync(conn: SourceConnection, replica: dict[int, dict[str, Any]], watermark: int) -> int:
    """Bring ``replica`` in line with the source; return the new watermark.

    Changed rows (inserts and updates) come from an incremental pull on ``updated_at``;
    deletes, which leave no row to pull, from comparing keys with a key-only listing of
    the source (cheap: one narrow column). Log-based CDC gets both from the database's log.
    """
    changed = conn.execute(
        "SELECT customerNumber, city, updated_at FROM customers WHERE updated_at > ? ORDER BY updated_at",
        (watermark,),
    )
    for number, city, updated_at in changed:
        replica[number] = {"city": city, "updated_at": updated_at}
        watermark = max(watermark, updated_at)
    live = {number for (number,) in conn.execute("SELECT customerNumber FROM customers")}
    for number in set(replica) - live:
        del replica[number]
    return watermark


# --- push or pull: the work moves, it does not vanish --------------------------------------------


def source_work(
    change_minutes: Sequence[float], *, pattern: str, every_minutes: float = 60,
    receiver_down: tuple[float, float] | None = None, horizon_minutes: float = 24 * 60,
) -> dict[str, int]:
    """What the SOURCE system does in a day to deliver its changes, under pull or push.

    - ``"pull"``: the receiver runs a query on the source every ``every_minutes``, whether
      anything changed or not, and the source returns the changed rows;
    - ``"push"``: the source sends one message per change the moment it happens; a send
      while the receiver is down (``receiver_down = (start, end)`` minutes) fails and the
      source must keep it and send it again when the receiver is back.

    Returns ``{"queries answered": ..., "rows returned": ..., "messages sent": ..., "resends": ...}``.
    """
    if pattern not in ("pull", "push"):
        raise ValueError("pattern must be 'pull' or 'push'.")
    work = {"queries answered": 0, "rows returned": 0, "messages sent": 0, "resends": 0}
    if pattern == "pull":
        work["queries answered"] = int(horizon_minutes // every_minutes)
        work["rows returned"] = len(change_minutes)
        return work
    work["messages sent"] = len(change_minutes)
    if receiver_down is not None:
        start, end = receiver_down
        work["resends"] = sum(start <= t < end for t in change_minutes)
    return work
