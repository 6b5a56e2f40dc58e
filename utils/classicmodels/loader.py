"""Load classicmodels data into MariaDB: generated tables or a MySQL dump file.

Nothing is ever half-loaded, and the data a load replaces is kept. Every load follows
the same steps:

1. take a server-side lock (``GET_LOCK``) so two loads cannot interleave;
2. build the eight tables in a fresh staging database ``<db>_staging``
   (the admin user may create ``classicmodels_*`` databases, nothing else);
3. validate the staging copy (all eight tables, the required columns, types the ETL
   can use, row counts as expected; for a dump also that it is complete and that no
   order line points at a missing product or order, unless forced);
4. swap: ONE ``RENAME TABLE`` statement moves the previous rollback copy aside, the live
   tables to ``<db>_previous`` and the staging tables into ``<db>``. MariaDB executes a
   multi-table rename atomically, and InnoDB foreign keys follow their tables, so readers
   see either the old eight tables or the new eight, never a mix;
5. drop the staging database (in a ``finally``: also after a failure).

``<db>_previous`` is a one-step rollback: :func:`rollback` (``make seed ROLLBACK=1``)
swaps it back in (and running it again undoes the rollback).

A failure before step 4 leaves the live tables untouched. Server trouble ends in one
line saying what happened and what to do (:class:`ServerGoneError` when MariaDB went
away, :class:`DiskFullError` when it ran out of space), never in a driver traceback;
leftovers of a killed run are dropped by the next load.

Generated tables are bulk-loaded with ``LOAD DATA LOCAL INFILE`` from
temporary tab-separated files (``\\N`` for NULL, backslash escapes), written
with vectorised Arrow string kernels. Dumps are split into statements by
:mod:`utils.classicmodels.sqlscript` and run one by one inside the staging
database (``CREATE DATABASE``/``USE``/``DROP TABLE`` lines are skipped, so a
dump can never touch the live tables directly).
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pymysql

from utils.classicmodels import schema
from utils.classicmodels.sqlscript import (
    SqlScriptError,
    TableDef,
    parse_create_table,
    redirect_statement,
    split_statements,
    statement_kind,
    table_name,
    type_family,
    unwrap,
)

CHUNK_ROWS = 250_000  # rows per LOAD DATA file: bounds memory and drives the progress bar
PROGRESS_MIN_ROWS = 100_000  # show a progress bar from this many rows on
LOCK_TIMEOUT_S = 600

# Type families a column may have in a compatible dump, per family in our DDL.
_COMPATIBLE_FAMILIES = {
    "integer": {"integer"},
    "decimal": {"decimal", "float", "integer"},
    "date": {"date", "datetime"},
    "string": {"string"},
    "binary": {"binary", "string"},
}


class LoadError(RuntimeError):
    """A load failed; the live tables were left as they were."""


class IncompatibleDumpError(LoadError):
    """A dump does not define the classicmodels tables and columns we need."""


class IncompleteDumpError(IncompatibleDumpError):
    """A dump that was cut short (no ``-- Dump completed`` trailer, a table without its rows...)."""


class IntegrityError(LoadError):
    """Rows that point at nothing (order lines whose product is missing...); ``force`` loads them."""


class ServerGoneError(LoadError):
    """MariaDB went away (killed, restarted, connection lost) during a load."""


class DiskFullError(LoadError):
    """MariaDB ran out of space (error 1114 "table is full", errno 28) during a load."""


@dataclass
class LoadReport:
    """What a load did: where, from what, rows per table, time taken, notes."""

    database: str
    source: str
    rows: dict[str, int]
    seconds: float
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        width = max(len(t) for t in self.rows)
        lines = [f"Loaded {self.source} into `{self.database}` in {self.seconds:.2f} s:"]
        lines += [f"  {t:<{width}}  {n:>12,}" for t, n in self.rows.items()]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


# ------------------------------------------------------------------ connection

def _connect(database: str | None) -> pymysql.connections.Connection:
    """Admin connection with LOCAL INFILE enabled (client side; the server allows it)."""
    from utils.services.mariadb import connect

    return connect("admin", database=database, local_infile=True, autocommit=True)


def _default_database() -> str:
    from utils.config import get_settings

    return get_settings().db_name


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _execute(cur: pymysql.cursors.Cursor, sql: str, args: object = None) -> int:
    """Run one statement of a load. Every statement goes through here: the one place where
    server errors surface (and where tests inject them)."""
    return cur.execute(sql, args)


@dataclass
class _Progress:
    """How far a load got: decides what an error message may promise."""

    database: str
    stage: str = ""
    step: str = "connecting"  # connecting -> staging -> swapping -> done
    datadir: str = ""
    staging_left: bool = False


_LOST_CODES = {2006, 2013, 2055}  # server gone away, lost connection during query / reading
_FULL_CODES = {1114, 1021}  # the table is full; disk full
_NO_SPACE = re.compile(r"(errno|Errcode|error)[:\s]*28\b|No space left on device", re.IGNORECASE)


def _is_connection_lost(exc: BaseException) -> bool:
    if isinstance(exc, pymysql.err.InterfaceError):
        return True  # pymysql's "(0, '')": the connection is already closed
    if isinstance(exc, pymysql.err.OperationalError) and exc.args and exc.args[0] in _LOST_CODES:
        return True
    return isinstance(exc, (ConnectionError, BrokenPipeError))


def _is_disk_full(exc: BaseException) -> bool:
    if not isinstance(exc, pymysql.MySQLError) or not exc.args:
        return False
    return exc.args[0] in _FULL_CODES or bool(_NO_SPACE.search(str(exc.args[-1])))


def _server_message(exc: BaseException) -> str:
    if isinstance(exc, pymysql.MySQLError) and len(exc.args) >= 2 and exc.args[1]:
        return f"{exc.args[0]} {exc.args[1]}"
    return "the connection was closed"


@contextmanager
def _server_errors(progress: _Progress) -> Iterator[None]:
    """Turn server trouble during a load into one line that says what happened and what to do."""
    db = f"`{progress.database}`"
    try:
        yield
    except (pymysql.MySQLError, ConnectionError) as exc:
        left = (f" Its staging copy `{progress.stage}` is dropped by the next load."
                if progress.staging_left else "")
        if progress.step == "swapping":
            kept = (f"the swap is a single atomic rename, so {db} holds either its previous data "
                    "or the new data, never a mix: `python -m utils.classicmodels truth` shows which")
        elif progress.step == "done":
            kept = f"the new data was already in place in {db}"
        else:
            kept = f"{db} keeps its previous data"
        if _is_disk_full(exc):
            where = f" ({progress.datadir})" if progress.datadir else ""
            raise DiskFullError(
                f"MariaDB ran out of space during the load ({_server_message(exc)}); {kept}. "
                f"Free space on the disk holding its data{where}, or load a smaller scale factor, "
                f"then load again.{left}") from None
        if _is_connection_lost(exc):
            raise ServerGoneError(
                f"MariaDB went away during the load ({_server_message(exc)}); {kept}. Check it with "
                f"`make status`, start it with `make up`, then load again.{left}") from None
        if isinstance(exc, pymysql.err.OperationalError) and exc.args and exc.args[0] == 2003:
            raise ServerGoneError(f"MariaDB does not answer ({_server_message(exc)}); {kept}. Start "
                                  "it with `make up`, then load again.") from None
        raise LoadError(f"MariaDB refused the load ({_server_message(exc)}); {kept}.{left}") from None


@contextmanager
def _staging(database: str, progress: _Progress | None = None, unique_checks: bool = False,
             ) -> Iterator[tuple[pymysql.connections.Connection, str]]:
    """Lock, give a clean staging database, and always drop it afterwards (``finally``).

    ``unique_checks=False`` is for data known to be unique (generated): MariaDB then bulk-loads
    an empty InnoDB table, and a duplicate key makes it drop the WHOLE statement's rows without
    an error. Dumps keep the checks on (most turn them off again themselves, with
    ``SET UNIQUE_CHECKS=0``: the count of rows that arrived against the rows the dump carries
    catches that loss).
    """
    progress = progress or _Progress(database)
    conn = _connect(None)
    stage = f"{database}_staging"
    progress.stage = stage
    lock = f"delab-load-{database}"
    try:
        with conn.cursor() as cur:
            _execute(cur, "SELECT GET_LOCK(%s, %s)", (lock, LOCK_TIMEOUT_S))
            if cur.fetchone()[0] != 1:
                raise LoadError(f"Another load into `{database}` has held the lock for "
                                f"{LOCK_TIMEOUT_S} s; try again when it has finished.")
            _execute(cur, "SELECT @@datadir")
            progress.datadir = str(cur.fetchone()[0] or "")
            for leftover in (stage, f"{database}_old", f"{database}_swap"):  # from a killed run
                _execute(cur, f"DROP DATABASE IF EXISTS {_q(leftover)}")
            _execute(cur, f"CREATE DATABASE IF NOT EXISTS {_q(database)} CHARACTER SET utf8mb4")
            progress.staging_left = True
            _execute(cur, f"CREATE DATABASE {_q(stage)} CHARACTER SET utf8mb4")
            _execute(cur, f"USE {_q(stage)}")
            # Loading order need not follow foreign keys; integrity is validated
            # (generated data) or checked after the load (dumps), not row by row.
            _execute(cur, f"SET SESSION foreign_key_checks = 0, unique_checks = {int(unique_checks)}")
        progress.step = "staging"
        yield conn, stage
    finally:
        progress.staging_left = not _drop_staging(conn, stage, lock)


def _drop_staging(conn: pymysql.connections.Connection, stage: str, lock: str) -> bool:
    """Drop the staging database, on a fresh connection if the load's one died; True when gone.

    Never raises: the error that ended the load is the one worth reporting.
    """
    for attempt in range(2):
        try:
            if attempt:
                conn = _connect(None)
            with conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS {_q(stage)}")
                cur.execute("SELECT RELEASE_LOCK(%s)", (lock,))
            return True
        except Exception:  # noqa: BLE001, S112 - the server may be gone; the next load cleans up
            continue
        finally:
            with suppress(Exception):
                conn.close()
    return False


def _validate_staging(conn: pymysql.connections.Connection, stage: str) -> list[str]:
    """Check the staging copy against our schema; return notes, raise when incompatible."""
    with conn.cursor() as cur:
        _execute(
            cur, "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = %s", (stage,))
        found: dict[str, dict[str, str]] = {}
        for table, column, data_type in cur.fetchall():
            found.setdefault(table.lower(), {})[column.lower()] = data_type
    families = {t: {c: type_family(d) for c, d in cols.items()} for t, cols in found.items()}
    problems = _compare_columns(families)
    if problems:
        raise IncompatibleDumpError("The data is not classicmodels-compatible:\n  " + "\n  ".join(problems))
    extra = sorted(set(found) - set(schema.TABLES))
    return [f"table `{t}` is not part of classicmodels: left out" for t in extra]


def _compare_columns(found: dict[str, dict[str, str]]) -> list[str]:
    """Problems of a {table: {column: family}} mapping (lower-case names) against our schema."""
    problems = []
    for table in schema.TABLES:
        if table not in found:
            problems.append(f"missing table `{table}`")
            continue
        columns = found[table]
        missing = [c for c in schema.required_columns(table) if c.lower() not in columns]
        if missing:
            problems.append(f"table `{table}` lacks column(s): {', '.join(missing)}")
        for col in schema.table_defs()[table].columns:
            have = columns.get(col.name.lower())
            if have and have not in _COMPATIBLE_FAMILIES.get(col.family, {col.family}):
                problems.append(f"column `{table}`.`{col.name}` is {have}, expected {col.family}")
    return problems


def _swap(conn: pymysql.connections.Connection, stage: str, database: str,
          progress: _Progress | None = None) -> None:
    """Atomically replace the live tables with the staging ones, keeping the live ones as
    ``<db>_previous`` (the one-step rollback; the rollback copy before it is dropped)."""
    previous, aside = f"{database}_previous", f"{database}_swap"
    with conn.cursor() as cur:
        live = _tables_of(cur, database)
        staged = {t.lower(): t for t in _tables_of(cur, stage)}
        kept = _tables_of(cur, previous)
        moves = []
        if live:  # keep the live data as the rollback; the older rollback copy goes aside
            _execute(cur, f"CREATE DATABASE IF NOT EXISTS {_q(previous)} CHARACTER SET utf8mb4")
            _execute(cur, f"CREATE DATABASE IF NOT EXISTS {_q(aside)} CHARACTER SET utf8mb4")
            moves += [f"{_q(previous)}.{_q(t)} TO {_q(aside)}.{_q(t)}" for t in sorted(kept)]
            moves += [f"{_q(database)}.{_q(t)} TO {_q(previous)}.{_q(t)}" for t in schema.TABLES if t in live]
        moves += [f"{_q(stage)}.{_q(staged[t])} TO {_q(database)}.{_q(t)}" for t in schema.TABLES]
        if progress is not None:
            progress.step = "swapping"
        _execute(cur, "RENAME TABLE " + ", ".join(moves))
        if progress is not None:
            progress.step = "done"
        _execute(cur, f"DROP DATABASE IF EXISTS {_q(aside)}")


def _tables_of(cur: pymysql.cursors.Cursor, database: str) -> set[str]:
    _execute(cur, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (database,))
    return {row[0] for row in cur.fetchall()}


def rollback(database: str | None = None) -> LoadReport:
    """Put back the data the last load replaced (``<db>_previous``), atomically.

    The data it replaces becomes the new rollback copy, so a second rollback undoes the
    first. Refuses (live data untouched) when no complete previous copy is kept.
    """
    database = database or _default_database()
    previous, aside = f"{database}_previous", f"{database}_swap"
    started = time.perf_counter()
    progress = _Progress(database, step="staging")
    with _server_errors(progress):
        conn = _connect(None)
        lock = f"delab-load-{database}"
        try:
            with conn.cursor() as cur:
                _execute(cur, "SELECT GET_LOCK(%s, %s)", (lock, LOCK_TIMEOUT_S))
                if cur.fetchone()[0] != 1:
                    raise LoadError(f"A load into `{database}` is running; roll back when it has finished.")
                kept = _tables_of(cur, previous)
                if not kept:
                    raise LoadError(f"No previous data of `{database}` is kept (`{previous}` does not "
                                    "exist: nothing was loaded over it yet, or it was rolled back and "
                                    "dropped). Nothing was changed.")
                _validate_staging(conn, previous)
                live = _tables_of(cur, database)
                _execute(cur, f"DROP DATABASE IF EXISTS {_q(aside)}")
                _execute(cur, f"CREATE DATABASE {_q(aside)} CHARACTER SET utf8mb4")
                present = [t for t in schema.TABLES if t in live]
                moves = [f"{_q(database)}.{_q(t)} TO {_q(aside)}.{_q(t)}" for t in present]
                moves += [f"{_q(previous)}.{_q(t)} TO {_q(database)}.{_q(t)}" for t in schema.TABLES]
                moves += [f"{_q(aside)}.{_q(t)} TO {_q(previous)}.{_q(t)}" for t in present]
                progress.step = "swapping"
                _execute(cur, "RENAME TABLE " + ", ".join(moves))
                progress.step = "done"
                _execute(cur, f"DROP DATABASE IF EXISTS {_q(aside)}")
                if not live:
                    _execute(cur, f"DROP DATABASE IF EXISTS {_q(previous)}")
                _execute(cur, "SELECT RELEASE_LOCK(%s)", (lock,))
            rows = _count_rows(conn, database)
        finally:
            with suppress(Exception):
                conn.close()
    notes = [f"the data it replaced is now `{previous}`: roll back again to undo"] if live else []
    return LoadReport(database, f"the data before the last load (`{previous}`)", rows,
                      time.perf_counter() - started, notes)


def _count_rows(conn: pymysql.connections.Connection, database: str) -> dict[str, int]:
    counts = {}
    with conn.cursor() as cur:
        for table in schema.TABLES:
            _execute(cur, f"SELECT COUNT(*) FROM {_q(database)}.{_q(table)}")
            counts[table] = int(cur.fetchone()[0])
    return counts


# ------------------------------------------------------------ generated data

def _escape_column(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """One column as LOAD DATA text: backslash escapes, ``\\N`` for NULL."""
    if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
        # Arbitrary bytes are sent as hex and decoded by UNHEX() on the server.
        text = pa.array([None if v is None else v.hex() for v in column.to_pylist()], pa.string())
    else:
        text = pc.cast(column, pa.string())
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            for raw, escaped in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r")):
                text = pc.replace_substring(text, raw, escaped)
    return pc.fill_null(text, "\\N")


def tsv_bytes(table: pa.Table) -> bytes:
    """Render a table in MySQL's default LOAD DATA format (tab-separated, ``\\N`` = NULL)."""
    columns = [_escape_column(table.column(i)) for i in range(table.num_columns)]
    if not columns or table.num_rows == 0:
        return b""
    lines = pc.binary_join_element_wise(*columns, "\t") if len(columns) > 1 else columns[0]
    lines = pc.binary_join_element_wise(lines, "", "\n")  # each row ends with a newline
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    lines = lines.cast(pa.large_string())
    # The values buffer of a null-free string array is the rows back to back.
    offsets = memoryview(lines.buffers()[1]).cast("q")
    start, end = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return lines.buffers()[2].to_pybytes()[start:end]


def _load_data_sql(stage: str, table: str, columns: list[tuple[str, pa.DataType]]) -> str:
    names, sets = [], []
    for name, dtype in columns:
        if pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype):
            names.append(f"@{name}")
            sets.append(f"{_q(name)} = UNHEX(@{name})")
        else:
            names.append(_q(name))
    sql = (f"LOAD DATA LOCAL INFILE %s INTO TABLE {_q(stage)}.{_q(table)} CHARACTER SET utf8mb4 "
           "FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' "
           f"({', '.join(names)})")
    return sql + (" SET " + ", ".join(sets) if sets else "")


def load_tables(
    tables: dict[str, pa.Table],
    database: str | None = None,
    source: str = "generated tables",
    progress: bool | None = None,
) -> LoadReport:
    """Replace the classicmodels tables of ``database`` with ``tables`` (all eight).

    Bulk-loads with LOAD DATA LOCAL INFILE into a staging database, checks
    every row arrived without warnings, then swaps atomically. ``progress``:
    True/False forces the tqdm bar on/off; None shows it for large loads.
    """
    database = database or _default_database()
    missing = set(schema.TABLES) - set(tables)
    if missing:
        raise LoadError(f"load_tables needs all eight tables; missing: {sorted(missing)}")
    total = sum(tables[t].num_rows for t in schema.TABLES)
    show = progress if progress is not None else total >= PROGRESS_MIN_ROWS
    started = time.perf_counter()
    progress = _Progress(database)
    with _server_errors(progress), _staging(database, progress) as (conn, stage):
        with conn.cursor() as cur:
            for table in schema.TABLES:
                _execute(cur, schema.create_statements()[table])
        bar = _progress_bar(total, show)
        try:
            for table in schema.TABLES:
                data = tables[table].select([f.name for f in schema.arrow_schema(table)])
                _load_table(conn, stage, table, data, bar)
        finally:
            bar.close()
        rows = {t: tables[t].num_rows for t in schema.TABLES}
        loaded = _count_rows(conn, stage)
        if loaded != rows:
            raise LoadError(f"row counts differ after loading: expected {rows}, got {loaded}")
        notes = _validate_staging(conn, stage)
        _swap(conn, stage, database, progress)
    return LoadReport(database, source, rows, time.perf_counter() - started, notes)


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(total: int, show: bool) -> _NoBar:
    if not show:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="rows", unit_scale=True, desc="loading classicmodels")


def _load_table(
    conn: pymysql.connections.Connection, stage: str, table: str, data: pa.Table, bar: _NoBar
) -> None:
    sql = _load_data_sql(stage, table, [(f.name, f.type) for f in data.schema])
    bar.set_postfix_str(table)
    fd, path = tempfile.mkstemp(prefix=f"delab-{table}-", suffix=".tsv")
    try:
        for offset in range(0, max(data.num_rows, 1), CHUNK_ROWS):
            chunk = data.slice(offset, CHUNK_ROWS)
            if chunk.num_rows == 0:
                break
            with open(path, "wb") as fh:
                fh.write(tsv_bytes(chunk))
            with conn.cursor() as cur:
                _execute(cur, sql, (path,))
                # With LOCAL, data errors are downgraded to warnings: treat any as fatal.
                _execute(cur, "SHOW WARNINGS LIMIT 3")
                warnings = cur.fetchall()
            if warnings:
                raise LoadError(f"loading `{table}` produced warnings: {warnings}")
            bar.update(chunk.num_rows)
    finally:
        os.close(fd)
        os.unlink(path)


def seed(sf: float = 1, seed: int | None = None, database: str | None = None,
         progress: bool | None = None) -> LoadReport:
    """Generate classicmodels at scale factor ``sf`` and load it (replacing what is there)."""
    from utils.classicmodels.generator import DEFAULT_SEED, generate

    seed = DEFAULT_SEED if seed is None else seed
    started = time.perf_counter()
    tables = generate(sf, seed)
    generated = time.perf_counter() - started
    report = load_tables(tables, database, f"generated SF{sf:g} (seed {seed})", progress)
    report.notes.insert(0, f"generated in {generated:.2f} s, loaded in {report.seconds:.2f} s")
    report.seconds = time.perf_counter() - started
    return report


# ------------------------------------------------------------------ dump files

_SKIPPED_KINDS = {
    "CREATE DATABASE", "CREATE SCHEMA", "DROP DATABASE", "DROP SCHEMA", "USE",
    "LOCK TABLES", "UNLOCK TABLES",
    "DROP TABLE",  # the staging database starts empty
}
_SKIPPED_SET = re.compile(
    r"^SET\s+(?:NAMES\b|CHARACTER\s+SET\b|GLOBAL\b|@@GLOBAL\b|character_set_client\b|"
    r"@@SESSION\.SQL_LOG_BIN|SQL_LOG_BIN|@@GLOBAL\.GTID_PURGED)",
    re.IGNORECASE,
)
_OTHER_OBJECTS = re.compile(
    r"^CREATE\s+(?:OR\s+REPLACE\s+)?(?:ALGORITHM\s*=\s*\w+\s+)?(?:DEFINER\s*=\s*\S+\s+)?"
    r"(?:SQL\s+SECURITY\s+\w+\s+)?(VIEW|PROCEDURE|FUNCTION|TRIGGER|EVENT)\b",
    re.IGNORECASE,
)


def _read_text(path: str | Path) -> str:
    raw = Path(path).read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def read_dump(path: str | Path) -> list[str]:
    """Read a dump file (UTF-8, or Latin-1 when it is not valid UTF-8) into statements."""
    return _split(_read_text(path), path)


def _split(text: str, path: str | Path) -> list[str]:
    try:
        return list(split_statements(text))
    except SqlScriptError as exc:
        raise IncompleteDumpError(f"{path}: cannot be read as a MySQL script: {exc}. Is the file "
                                  "complete (a cut-off download or copy)? Nothing was loaded.") from exc


_DUMP_HEADER = re.compile(r"^-- (?:MySQL|MariaDB) dump \d", re.MULTILINE)
_DUMP_TRAILER = "-- Dump completed"
_SAVED = re.compile(r"@(OLD_\w+)\s*=\s*@@", re.IGNORECASE)
_RESTORED = re.compile(r"=\s*@(OLD_\w+)", re.IGNORECASE)
_KEYS = re.compile(r"^ALTER\s+TABLE\s+(\S+)\s+(DISABLE|ENABLE)\s+KEYS", re.IGNORECASE)
_STRING = re.compile(r"'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.|\"\")*\"", re.DOTALL)
_VALUES = re.compile(r"\bVALUES?\b", re.IGNORECASE)


def rows_in_insert(statement: str) -> int:
    """How many rows an ``INSERT ... VALUES (...), (...)`` statement carries (0 for other forms)."""
    text = _STRING.sub("''", unwrap(statement))
    match = _VALUES.search(text)
    if not match:
        return 0
    tail = text[match.end():]
    upto = re.search(r"\bON\s+DUPLICATE\s+KEY\b", tail, re.IGNORECASE)
    depth = rows = 0
    for paren in re.findall(r"[()]", tail[: upto.start()] if upto else tail):
        if paren == "(":
            rows += depth == 0
            depth += 1
        else:
            depth -= 1
    return rows


def dump_completeness(text: str, statements: list[str],
                      created: set[str]) -> tuple[list[str], dict[str, int]]:
    """Signs that a dump was cut short, and the rows it carries per classicmodels table.

    - a mysqldump file (``-- MySQL dump`` header) without its ``-- Dump completed`` trailer;
    - session settings saved at the start (``SET @OLD_SQL_MODE=@@SQL_MODE``) never restored;
    - ``LOCK TABLES`` without ``UNLOCK TABLES``, ``DISABLE KEYS`` without ``ENABLE KEYS``;
    - a table the DDL creates that gets no rows while others do (cut at a statement boundary).
    """
    problems = []
    if _DUMP_HEADER.search(text[:2000]) and _DUMP_TRAILER not in text[-2000:]:
        problems.append("it starts as a mysqldump file but lacks mysqldump's last line "
                        "(`-- Dump completed on ...`)")
    saved: set[str] = set()
    restored: set[str] = set()
    locked = False
    disabled: set[str] = set()
    carried = dict.fromkeys(sorted(created), 0)
    for statement in statements:
        kind = statement_kind(statement)
        body = unwrap(statement)
        if kind == "SET":
            saved.update(name.upper() for name in _SAVED.findall(body))
            restored.update(name.upper() for name in _RESTORED.findall(body))
        elif kind == "LOCK TABLES":
            locked = True
        elif kind == "UNLOCK TABLES":
            locked = False
        elif kind in ("INSERT", "REPLACE"):
            table = (table_name(statement) or "").lower()
            if table in carried:
                carried[table] += rows_in_insert(statement)
        keys = _KEYS.match(body)
        if keys:
            name = keys.group(1).strip("`").lower()
            (disabled.add if keys.group(2).upper() == "DISABLE" else disabled.discard)(name)
    if saved - restored:
        problems.append("it saves session settings at its start (" + ", ".join(
            f"@{n}" for n in sorted(saved - restored)[:3]) + ") but never restores them: its end is missing")
    if locked:
        problems.append("its last LOCK TABLES has no UNLOCK TABLES: a table's rows are cut off")
    if disabled:
        problems.append(f"keys of {', '.join(sorted(disabled))} are disabled and never enabled again: "
                        "a table's rows are cut off")
    empty = [t for t in schema.TABLES if t in carried and carried[t] == 0]
    if empty and len(empty) < len(carried):
        problems.append(", ".join(f"`{t}`" for t in empty) + " created but given no rows (the statements "
                        "after the last complete one are missing?)")
    return problems, carried


def validate_dump(statements: list[str], path: str | Path = "dump") -> dict[str, TableDef]:
    """Check, before loading, that a dump defines the eight tables with the required columns.

    Raises :class:`IncompatibleDumpError` naming every missing table or column.
    """
    defs: dict[str, TableDef] = {}
    for statement in statements:
        if statement_kind(statement) == "CREATE TABLE":
            try:
                table = parse_create_table(statement)
            except SqlScriptError:
                continue
            defs[table.name.lower()] = table
    found = {name: {c.name.lower(): c.family for c in t.columns} for name, t in defs.items()}
    problems = _compare_columns(found)
    if problems:
        raise IncompatibleDumpError(
            f"{path} is not a classicmodels-compatible dump; nothing was loaded.\n  "
            + "\n  ".join(problems)
            + "\nA compatible dump defines customers, employees, offices, orderdetails, orders, "
            "payments, productlines and products with the columns of the public sample "
            "(utils/classicmodels/schema.sql)."
        )
    return defs


def load_dump(path: str | Path, database: str | None = None, force: bool = False) -> LoadReport:
    """Load a classicmodels-compatible MySQL dump (e.g. the public ``mysqlsampledatabase.sql``).

    The dump is validated first (compatible, complete), run inside a staging database (its
    ``CREATE DATABASE``/``USE`` lines are skipped), validated again (every table got the
    rows the dump carries; no order line points at a missing product or order), and only
    then swapped in; the data it replaces is kept for :func:`rollback`. On any error the
    live tables are untouched. ``force`` loads an incomplete dump or one with integrity
    breaks anyway (noted in the report).
    """
    database = database or _default_database()
    started = time.perf_counter()
    text = _read_text(path)
    statements = _split(text, path)
    defs = validate_dump(statements, path)
    rename = {name: t.name for name, t in defs.items()}  # same names; drops db qualifiers
    notes: list[str] = []
    problems, carried = dump_completeness(text, statements, set(defs) & set(schema.TABLES))
    if problems and any(carried.values()):
        message = (f"{path} looks cut short: " + "; ".join(problems) + f". Nothing was loaded; "
                   f"`{database}` keeps its data. Use the complete file, or load it anyway with --force.")
        if not force:
            raise IncompleteDumpError(message)
        notes.append("loaded anyway (--force): " + "; ".join(problems))
    skipped: dict[str, int] = {}
    progress = _Progress(database)
    with _server_errors(progress), _staging(database, progress, unique_checks=True) as (conn, stage):
        with conn.cursor() as cur:
            for number, statement in enumerate(statements, 1):
                kind = statement_kind(statement)
                body = unwrap(statement)
                if kind in _SKIPPED_KINDS or _SKIPPED_SET.match(body) or _OTHER_OBJECTS.match(body):
                    label = _OTHER_OBJECTS.match(body)
                    key = label.group(1).upper() if label else kind
                    skipped[key] = skipped.get(key, 0) + 1
                    continue
                statement = redirect_statement(statement, rename)
                _refuse_live_reference(statement, database)
                try:
                    _execute(cur, statement)
                except pymysql.MySQLError as exc:
                    if _is_connection_lost(exc) or _is_disk_full(exc):
                        raise  # server trouble, not the dump's: one line from _server_errors
                    if kind == "SET":  # session settings of another server version: not data
                        notes.append(f"statement {number} ignored: {body[:60]} ({exc.args[-1]})")
                        continue
                    target = table_name(statement) or ""
                    raise LoadError(
                        f"{path}: statement {number} ({kind} {target}) failed: {exc.args[-1]}. "
                        f"Nothing was changed in `{database}`.\n  {body[:200]}"
                    ) from exc
        notes += _validate_staging(conn, stage)
        rows = _count_rows(conn, stage)
        if not rows.get("orderdetails") and not carried.get("orderdetails"):
            raise IncompatibleDumpError(
                f"{path} has no order lines (orderdetails is empty: a schema-only dump?). Nothing was "
                f"loaded; `{database}` keeps its data. The lab needs a dump with data.")
        refusals = [f"`{t}`: the dump carries {carried[t]:,} rows but {rows[t]:,} arrived (duplicate "
                    "keys? INSERT IGNORE skips them, and with UNIQUE_CHECKS=0 MariaDB drops the whole "
                    "statement's rows; or a later statement removed rows)"
                    for t in schema.TABLES if carried.get(t) and rows.get(t) != carried[t]]
        refusals += _dangling_references(conn, stage)
        if refusals and not force:
            raise IntegrityError(
                f"{path} breaks the data's integrity: " + "; ".join(refusals) + f". Nothing was "
                f"loaded; `{database}` keeps its data. Fix the dump, or load it anyway with --force "
                "(the ETL job then refuses to publish until the source is fixed).")
        notes += [f"loaded anyway (--force): {r}" for r in refusals]
        _swap(conn, stage, database, progress)
    if skipped:
        notes.append("skipped: " + ", ".join(f"{n} {k}" for k, n in sorted(skipped.items())))
    return LoadReport(database, str(path), rows, time.perf_counter() - started, notes)


# Rows that point at nothing (a dump loaded with foreign key checks off): the ETL
# job's reconciliation refuses them, so a load refuses them too (unless forced).
_DANGLING = {
    "order line(s) whose product is missing from products":
        "SELECT COUNT(*), MIN(d.productCode) FROM `{db}`.orderdetails AS d WHERE NOT EXISTS "
        "(SELECT 1 FROM `{db}`.products AS p WHERE p.productCode = d.productCode)",
    "order line(s) whose order is missing from orders":
        "SELECT COUNT(*), MIN(d.orderNumber) FROM `{db}`.orderdetails AS d WHERE NOT EXISTS "
        "(SELECT 1 FROM `{db}`.orders AS o WHERE o.orderNumber = d.orderNumber)",
    "order(s) whose customer is missing from customers":
        "SELECT COUNT(*), MIN(o.customerNumber) FROM `{db}`.orders AS o WHERE NOT EXISTS "
        "(SELECT 1 FROM `{db}`.customers AS c WHERE c.customerNumber = o.customerNumber)",
    "product(s) whose product line is missing from productlines":
        "SELECT COUNT(*), MIN(p.productLine) FROM `{db}`.products AS p WHERE NOT EXISTS "
        "(SELECT 1 FROM `{db}`.productlines AS l WHERE l.productLine = p.productLine)",
}


def _dangling_references(conn: pymysql.connections.Connection, stage: str) -> list[str]:
    """One phrase per kind of row that points at nothing, with an example key."""
    found = []
    with conn.cursor() as cur:
        for what, sql in _DANGLING.items():
            _execute(cur, sql.format(db=stage))
            count, example = cur.fetchone()
            if count:
                found.append(f"{count} {what} (e.g. {example})")
    return found


def _refuse_live_reference(statement: str, database: str) -> None:
    """Refuse statements that still name the live database explicitly."""
    head = unwrap(statement)
    head = head[: head.find("(")] if "(" in head else head[:200]
    if re.search(rf"(`{re.escape(database)}`|\b{re.escape(database)})\s*\.", head, re.IGNORECASE):
        raise LoadError(f"dump statement names the live database `{database}` directly; "
                        f"refusing to run it: {head[:120]}")

