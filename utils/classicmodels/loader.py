"""Load classicmodels data into MariaDB: generated tables or a MySQL dump file.

Nothing is ever half-loaded. Every load follows the same steps:

1. take a server-side lock (``GET_LOCK``) so two loads cannot interleave;
2. build the eight tables in a fresh staging database ``<db>_staging``
   (the admin user may create ``classicmodels_*`` databases, nothing else);
3. validate the staging copy (all eight tables, the required columns, types
   the ETL can use, row counts as expected);
4. swap: ONE ``RENAME TABLE`` statement moves the live tables to ``<db>_old``
   and the staging tables into ``<db>``. MariaDB executes a multi-table
   rename atomically, and InnoDB foreign keys follow their tables, so readers
   see either the old eight tables or the new eight, never a mix;
5. drop ``<db>_old`` and the staging database.

A failure (bad dump, killed process, server error) before step 4 leaves the
live tables untouched; leftovers of a killed run are dropped by the next load.

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
from contextlib import contextmanager
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


@contextmanager
def _staging(database: str) -> Iterator[tuple[pymysql.connections.Connection, str]]:
    """Lock, give a clean staging database, and always clean up afterwards."""
    conn = _connect(None)
    stage, old = f"{database}_staging", f"{database}_old"
    lock = f"delab-load-{database}"
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT GET_LOCK(%s, %s)", (lock, LOCK_TIMEOUT_S))
            if cur.fetchone()[0] != 1:
                raise LoadError(f"Another load into `{database}` has held the lock for "
                                f"{LOCK_TIMEOUT_S} s; try again when it has finished.")
            for leftover in (stage, old):  # from a killed run
                cur.execute(f"DROP DATABASE IF EXISTS {_q(leftover)}")
            cur.execute(f"CREATE DATABASE IF NOT EXISTS {_q(database)} CHARACTER SET utf8mb4")
            cur.execute(f"CREATE DATABASE {_q(stage)} CHARACTER SET utf8mb4")
            cur.execute(f"USE {_q(stage)}")
            # Loading order need not follow foreign keys; integrity is validated
            # (generated data) or is the dump's own business, as with mysql < dump.
            cur.execute("SET SESSION foreign_key_checks = 0, unique_checks = 0")
        yield conn, stage
    finally:
        try:
            with conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS {_q(stage)}")
                cur.execute("SELECT RELEASE_LOCK(%s)", (lock,))
        finally:
            conn.close()


def _validate_staging(conn: pymysql.connections.Connection, stage: str) -> list[str]:
    """Check the staging copy against our schema; return notes, raise when incompatible."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS "
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


def _swap(conn: pymysql.connections.Connection, stage: str, database: str) -> None:
    """Atomically replace the live tables with the staging ones (see module docstring)."""
    old = f"{database}_old"
    with conn.cursor() as cur:
        cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (database,))
        live = {row[0] for row in cur.fetchall()}
        cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (stage,))
        staged = {row[0].lower(): row[0] for row in cur.fetchall()}
        cur.execute(f"CREATE DATABASE {_q(old)}")
        moves = [f"{_q(database)}.{_q(t)} TO {_q(old)}.{_q(t)}" for t in schema.TABLES if t in live]
        moves += [f"{_q(stage)}.{_q(staged[t])} TO {_q(database)}.{_q(t)}" for t in schema.TABLES]
        cur.execute("RENAME TABLE " + ", ".join(moves))
        cur.execute(f"DROP DATABASE {_q(old)}")


def _count_rows(conn: pymysql.connections.Connection, database: str) -> dict[str, int]:
    counts = {}
    with conn.cursor() as cur:
        for table in schema.TABLES:
            cur.execute(f"SELECT COUNT(*) FROM {_q(database)}.{_q(table)}")
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
    with _staging(database) as (conn, stage):
        with conn.cursor() as cur:
            for table in schema.TABLES:
                cur.execute(schema.create_statements()[table])
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
        _swap(conn, stage, database)
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
                cur.execute(sql, (path,))
                # With LOCAL, data errors are downgraded to warnings: treat any as fatal.
                cur.execute("SHOW WARNINGS LIMIT 3")
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


def read_dump(path: str | Path) -> list[str]:
    """Read a dump file (UTF-8, or Latin-1 when it is not valid UTF-8) into statements."""
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    try:
        return list(split_statements(text))
    except SqlScriptError as exc:
        raise IncompatibleDumpError(f"{path}: cannot be read as a MySQL script: {exc}. Is the file "
                                    "complete (a cut-off download or copy)? Nothing was loaded.") from exc


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


def load_dump(path: str | Path, database: str | None = None) -> LoadReport:
    """Load a classicmodels-compatible MySQL dump (e.g. the public ``mysqlsampledatabase.sql``).

    The dump is validated first, run inside a staging database (its
    ``CREATE DATABASE``/``USE`` lines are skipped), validated again, and only
    then swapped in. On any error the live tables are untouched.
    """
    database = database or _default_database()
    started = time.perf_counter()
    statements = read_dump(path)
    defs = validate_dump(statements, path)
    rename = {name: t.name for name, t in defs.items()}  # same names; drops db qualifiers
    notes: list[str] = []
    skipped: dict[str, int] = {}
    with _staging(database) as (conn, stage):
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
                    cur.execute(statement)
                except pymysql.MySQLError as exc:
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
        if not rows.get("orderdetails"):
            raise IncompatibleDumpError(
                f"{path} has no order lines (orderdetails is empty: a schema-only dump?). Nothing was "
                f"loaded; `{database}` keeps its data. The lab needs a dump with data.")
        notes += _dangling_references(conn, stage)
        _swap(conn, stage, database)
    if skipped:
        notes.append("skipped: " + ", ".join(f"{n} {k}" for k, n in sorted(skipped.items())))
    return LoadReport(database, str(path), rows, time.perf_counter() - started, notes)


# Rows that point at nothing (a dump loaded with foreign key checks off): the ETL
# job's reconciliation refuses them, so say so at load time.
_DANGLING = {
    "order line(s) whose product is missing from products":
        "SELECT COUNT(*) FROM `{db}`.orderdetails AS d WHERE NOT EXISTS "
        "(SELECT 1 FROM `{db}`.products AS p WHERE p.productCode = d.productCode)",
    "order line(s) whose order is missing from orders":
        "SELECT COUNT(*) FROM `{db}`.orderdetails AS d WHERE NOT EXISTS "
        "(SELECT 1 FROM `{db}`.orders AS o WHERE o.orderNumber = d.orderNumber)",
    "order(s) whose customer is missing from customers":
        "SELECT COUNT(*) FROM `{db}`.orders AS o WHERE NOT EXISTS "
        "(SELECT 1 FROM `{db}`.customers AS c WHERE c.customerNumber = o.customerNumber)",
}


def _dangling_references(conn: pymysql.connections.Connection, stage: str) -> list[str]:
    notes = []
    with conn.cursor() as cur:
        for what, sql in _DANGLING.items():
            cur.execute(sql.format(db=stage))
            count = cur.fetchone()[0]
            if count:
                notes.append(f"{count} {what}: the ETL job will refuse to publish until they are "
                             "fixed in the source (its reconciliation names them)")
    return notes


def _refuse_live_reference(statement: str, database: str) -> None:
    """Refuse statements that still name the live database explicitly."""
    head = unwrap(statement)
    head = head[: head.find("(")] if "(" in head else head[:200]
    if re.search(rf"(`{re.escape(database)}`|\b{re.escape(database)})\s*\.", head, re.IGNORECASE):
        raise LoadError(f"dump statement names the live database `{database}` directly; "
                        f"refusing to run it: {head[:120]}")

