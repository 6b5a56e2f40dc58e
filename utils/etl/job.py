"""de-c1w2-etl-job: classicmodels (MySQL) -> star schema (Parquet on S3), reconciled.

THE job script. It runs unchanged as the lab's local Glue job and as an AWS
Glue 5.0 job (Python 3.11, ``--additional-python-modules`` pinned in
infra/terraform/glue.tf, see utils/etl/aws_runtime.py), so it imports only third-party libraries: pymysql,
connectorx, duckdb, pyarrow, boto3. The rest of ``utils/etl`` imports from
here; nothing is defined twice.

    python job.py --JOB_NAME de-c1w2-etl-job --target_path s3://<data-lake>/gold \\
        --glue_database de-c1w2-analytics-db --db_secret de-c1w2/etl-db-credentials

Glue-style ``--key value`` arguments; unknown ones are ignored.

Steps (each prints a progress line with row counts and seconds):

1. **extract** the five source tables the star needs with connectorx
   (Arrow-native, the server's speed) as the read-only ETL user, each on its
   own connection, all at once. pymysql first opens one connection to turn a
   wrong password or a stopped server into a message a learner can act on,
   in milliseconds.
2. **check the source schema** (drift policy): a column added in the source
   is tolerated (dropped and logged); a missing, renamed or retyped column
   the transform needs fails the run, naming table and column.
3. **transform** in plain SQL (DuckDB over the Arrow tables; the SQL avoids
   engine-specific features, so it reads the same in Athena or Spark). A run may
   be given the SELECT of one star table instead (``--fact_orders_sql_uri
   s3://...``, the lab's exercise): it runs sandboxed and must give the built-in
   table's columns (see "transforms given as job arguments" below).
4. **reconcile** before publishing: the source is not empty; fact rows ==
   source order lines; total and per-country revenue == the same figures
   computed by MySQL; dimension keys unique and not NULL; every fact key
   found in its dimension.
5. **load** Parquet (snappy) to ``<target_path>/<table>/<table>.parquet``.

Work overlaps: MySQL computes the control totals (one statement, a thread
waiting on its own connection) from the start of the run, while this process
extracts and DuckDB transforms; then the Parquet files are encoded and
uploaded to a staging prefix while the star is reconciled. Staged files are
invisible to readers and are published only once the star reconciles. The
last log line is the process's peak memory (RSS).

The location key
----------------
The course's original design keyed ``dim_locations`` by postal code. Postal
code is not a key: one code is shared by several cities (and countries), and
some are NULL. Joining facts on it multiplies order lines and drops others.
Here a location is a distinct (country, state, city, postalCode) after
trimming stray spaces, and its key is ``md5`` of those four values joined by
``|`` with NULL spelled ``~``. A hash key is stable across runs and sources
(no sequence to keep in step), NULL-safe, and computable in any engine
(Athena: ``lower(to_hex(md5(to_utf8(...))))``). Facts get the key of their
customer's address, so each order line points at exactly one location.

Atomic publishing
-----------------
S3 has no multi-object transaction, but a single PUT or COPY replaces one
object atomically: readers see the old object or the new one, never a part.
So each table is exactly ONE object at a fixed key (a Parquet file holds many
row groups; one file is right for the lab's sizes, up to SF1000's ~40 MB),
and a run:

a. transforms in memory: a run that fails here writes nothing;
b. uploads every table to ``<staging_path>/<run_id>/<table>.parquet``
   (outside the crawled ``gold/`` prefix), invisible to readers, while the
   star is reconciled; a star that does not reconcile is never published
   (its staging files are deleted);
c. publishes: server-side CopyObject from staging onto each fixed gold key,
   dimensions first, fact last, skipping objects whose content is unchanged;
d. deletes any other object under ``gold/<table>/`` (leftovers of an older
   layout, which readers would otherwise union in), then the staging files.

A run killed before (c) leaves the previous tables untouched and queryable
(at worst a few files under the staging prefix, outside ``gold/``).
The honest remaining window: during (c), a few milliseconds of copies, a
reader may join a new dimension with the previous fact table. Because keys
are natural or hash keys, old facts still find their dimension rows (unless a
customer or product was deleted in the source). No table is ever partial or
duplicated, and a re-run converges (identical input gives byte-identical
objects, so re-running is idempotent).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import queue
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq

JOB_NAME = "de-c1w2-etl-job"
STAR_TABLES = ("dim_customers", "dim_products", "dim_locations", "dim_dates", "fact_orders")
CENT = Decimal("0.01")

# ----------------------------------------------------------------- source contract

# The columns the transform reads, by table, with the type family it needs.
# Anything else in the source is ignored (and logged); anything missing fails.
SOURCE_COLUMNS: dict[str, dict[str, str]] = {
    "customers": {
        "customerNumber": "integer", "customerName": "string", "contactLastName": "string",
        "contactFirstName": "string", "phone": "string", "addressLine1": "string",
        "addressLine2": "string", "city": "string", "state": "string", "postalCode": "string",
        "country": "string", "creditLimit": "number",
    },
    "products": {
        "productCode": "string", "productName": "string", "productLine": "string",
        "productScale": "string", "productVendor": "string", "productDescription": "string",
        "buyPrice": "number", "MSRP": "number",
    },
    "productlines": {"productLine": "string", "textDescription": "string"},
    "orders": {
        "orderNumber": "integer", "orderDate": "date", "requiredDate": "date", "shippedDate": "date",
        "status": "string", "comments": "string", "customerNumber": "integer",
    },
    "orderdetails": {
        "orderNumber": "integer", "productCode": "string", "quantityOrdered": "integer",
        "priceEach": "number", "orderLineNumber": "integer",
    },
}

# classicmodels columns the star does not use: not drift, so not logged.
KNOWN_UNUSED_COLUMNS: dict[str, set[str]] = {
    "customers": {"salesRepEmployeeNumber"},
    "products": {"quantityInStock"},
    "productlines": {"htmlDescription", "image"},
}

# Control totals computed by MySQL itself (the same statement as
# utils/classicmodels/truth.py, which a test keeps identical).
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


# ------------------------------------------------------------------- the transform

# A cleaned view of customers shared by dim_locations and fact_orders, so the
# location key is computed by one expression only.
STAGING_SQL: dict[str, str] = {
    "stg_customers": """
WITH cleaned AS (
    SELECT
        customerNumber,
        NULLIF(TRIM(city), '')       AS city,
        NULLIF(TRIM(state), '')      AS state,
        NULLIF(TRIM(postalCode), '') AS postalCode,
        NULLIF(TRIM(country), '')    AS country
    FROM customers
)
SELECT
    customerNumber, city, state, postalCode, country,
    -- One key per distinct address; NULL spelled '~' so NULLs never collide with values.
    md5(concat_ws('|', coalesce(country, '~'), coalesce(state, '~'),
                       coalesce(city, '~'), coalesce(postalCode, '~'))) AS locationKey
FROM cleaned
""",
}

STAR_SQL: dict[str, str] = {
    "dim_customers": """
SELECT
    customerNumber, customerName, contactLastName, contactFirstName, phone,
    addressLine1, addressLine2,
    CAST(creditLimit AS DECIMAL(10, 2)) AS creditLimit
FROM customers
ORDER BY customerNumber
""",
    "dim_products": """
SELECT
    p.productCode, p.productName, p.productLine, p.productScale, p.productVendor,
    p.productDescription,
    pl.textDescription AS productLineDescription
FROM products AS p
LEFT JOIN productlines AS pl ON pl.productLine = p.productLine
ORDER BY p.productCode
""",
    "dim_locations": """
SELECT DISTINCT locationKey, postalCode, city, state, country
FROM stg_customers
ORDER BY country, state, city, postalCode, locationKey
""",
    # Every calendar day of the years the orders touch: a role-playing
    # dimension for order, required and shipped dates.
    "dim_dates": """
WITH bounds AS (
    SELECT
        CAST(date_trunc('year', MIN(orderDate)) AS DATE) AS first_day,
        CAST(date_trunc('year', MAX(GREATEST(orderDate, requiredDate, COALESCE(shippedDate, orderDate))))
             + INTERVAL 1 YEAR - INTERVAL 1 DAY AS DATE) AS last_day
    FROM orders
),
days AS (
    SELECT CAST(unnest(generate_series(first_day, last_day, INTERVAL 1 DAY)) AS DATE) AS calendarDate
    FROM bounds
)
SELECT
    calendarDate,
    CAST(year(calendarDate) AS INTEGER)     AS year,
    CAST(quarter(calendarDate) AS INTEGER)  AS quarter,
    CAST(month(calendarDate) AS INTEGER)    AS month,
    monthname(calendarDate)                 AS monthName,
    CAST(day(calendarDate) AS INTEGER)      AS dayOfMonth,
    CAST(isodow(calendarDate) AS INTEGER)   AS dayOfWeek,
    dayname(calendarDate)                   AS dayName,
    isodow(calendarDate) >= 6               AS isWeekend
FROM days
ORDER BY calendarDate
""",
    # Grain: one row per order line. Every join goes to a unique key (orders,
    # customers, products are looked up by primary key), so no join can
    # multiply lines; LEFT JOINs keep every line even when a reference is
    # broken, and reconciliation then reports the NULL key instead of
    # silently losing revenue.
    "fact_orders": """
SELECT
    od.orderNumber,
    CAST(od.orderLineNumber AS INTEGER)         AS orderLineNumber,
    o.customerNumber,
    c.locationKey,
    od.productCode,
    CAST(o.orderDate AS DATE)                   AS orderDate,
    CAST(o.requiredDate AS DATE)                AS requiredDate,
    CAST(o.shippedDate AS DATE)                 AS shippedDate,
    o.status,
    o.comments,
    od.quantityOrdered,
    CAST(od.priceEach AS DECIMAL(10, 2))        AS priceEach,
    CAST(od.quantityOrdered * od.priceEach AS DECIMAL(18, 2)) AS orderAmount,
    CAST(p.buyPrice AS DECIMAL(10, 2))          AS buyPrice,
    CAST(p.MSRP AS DECIMAL(10, 2))              AS MSRP
FROM orderdetails AS od
LEFT JOIN orders AS o ON o.orderNumber = od.orderNumber
LEFT JOIN stg_customers AS c ON c.customerNumber = o.customerNumber
LEFT JOIN products AS p ON p.productCode = od.productCode
ORDER BY od.orderNumber, od.productCode  -- the source's primary key: one order, every run
""",
}


@dataclass(frozen=True)
class StarKeys:
    """How the star's tables connect: dimension keys and the fact's foreign keys."""

    dimension_keys: dict[str, str] = field(default_factory=lambda: {
        "dim_customers": "customerNumber", "dim_products": "productCode",
        "dim_locations": "locationKey", "dim_dates": "calendarDate",
    })
    # fact column -> (dimension, dimension column)
    fact_keys: dict[str, tuple[str, str]] = field(default_factory=lambda: {
        "customerNumber": ("dim_customers", "customerNumber"),
        "productCode": ("dim_products", "productCode"),
        "locationKey": ("dim_locations", "locationKey"),
        "orderDate": ("dim_dates", "calendarDate"),
    })
    fact: str = "fact_orders"
    amount: str = "orderAmount"
    # The fact column that leads to the country, and the dimension holding it.
    location_key: str = "locationKey"
    location_dimension: str = "dim_locations"


STAR_KEYS = StarKeys()

# --------------------------------------------------------------------------- errors


class EtlError(RuntimeError):
    """A failure the job reports as one clear message (and a FAILED run)."""


class SourceConnectionError(EtlError):
    """The source database could not be reached or refused the credentials."""


class SchemaDriftError(EtlError):
    """The source no longer has a column (or type) the transform needs."""


class ReconciliationError(EtlError):
    """The star schema does not match the source's control totals."""


class TransformError(EtlError):
    """SQL given for a star table (``--<table>_sql_uri``) is unusable or does not fit the star."""


# ------------------------------------------------------------------------- logging

def log(step: str, message: str) -> None:
    """One progress line, e.g. ``[extract] orderdetails: 2,996 rows in 0.01 s``."""
    # One write per line: print() writes the text and the newline separately, so lines
    # logged by two threads at once (extract, load) could run together in the log.
    sys.stdout.write(f"[{step}] {message}\n")
    sys.stdout.flush()


# ------------------------------------------------------------------- credentials

@dataclass(frozen=True)
class DbConfig:
    """Where and as whom to read the source."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    database: str = "classicmodels"
    origin: str = "arguments"  # where the credentials came from, for error messages

    def url(self) -> str:
        """connectorx URL (user and password percent-encoded).

        ``prefer_socket=false``: the Rust MySQL driver otherwise switches a loopback
        TCP connection to the server's unix socket, silently bypassing host and port.
        """
        return (f"mysql://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
                f"@{self.host}:{self.port}/{quote(self.database, safe='')}?prefer_socket=false")


def db_config_from_secret(secret_name: str, region: str | None = None) -> DbConfig:
    """Read ``{host, port, username, password, dbname}`` from a Secrets Manager secret."""
    import boto3

    client = boto3.client("secretsmanager", region_name=region or _region())
    value = json.loads(client.get_secret_value(SecretId=secret_name)["SecretString"])
    return DbConfig(
        host=str(value["host"]), port=int(value.get("port", 3306)),
        user=str(value.get("username") or value["user"]), password=str(value["password"]),
        database=str(value.get("dbname") or value.get("database") or "classicmodels"),
        origin=f"the secret {secret_name}",
    )


def db_config_from_env(env: dict[str, str] | None = None) -> DbConfig:
    """The lab's ``DELAB_DB_*`` environment variables (ETL user)."""
    env = dict(os.environ if env is None else env)
    return DbConfig(
        host=env.get("DELAB_DB_HOST", "127.0.0.1"), port=int(env.get("DELAB_DB_PORT", "3306")),
        user=env.get("DELAB_DB_ETL_USER", "etl_reader"), password=env.get("DELAB_DB_ETL_PASSWORD", ""),
        database=env.get("DELAB_DB_NAME", "classicmodels"),
        origin="DELAB_DB_ETL_PASSWORD / DELAB_DB_* environment variables",
    )


def resolve_db_config(secret_name: str | None, region: str | None = None) -> DbConfig:
    """Credentials from the secret when it can be read, else from the environment."""
    if secret_name:
        try:
            return db_config_from_secret(secret_name, region)
        except Exception as exc:  # any failure means: try the fallback
            if not os.environ.get("DELAB_DB_ETL_PASSWORD"):
                raise SourceConnectionError(
                    f"Could not read the database secret {secret_name!r}: {exc}. Create it (the lab's "
                    "provisioning does) or set DELAB_DB_ETL_PASSWORD and the other DELAB_DB_* variables."
                ) from exc
            log("config", f"secret {secret_name!r} unavailable ({type(exc).__name__}); "
                          "using DELAB_DB_* environment variables")
    return db_config_from_env()


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


# ---------------------------------------------------------------------- extract

def _connection_error(db: DbConfig, exc: Exception) -> SourceConnectionError:
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    where = f"Could not connect to MariaDB at {db.host}:{db.port} as {db.user}"
    if code == 1045:
        reason = f"access denied: check {db.origin} (wrong user or password)"
    elif code in (1044, 1049):
        reason = (f"no access to database {db.database!r}: check that it exists (make seed) and that "
                  f"{db.user} may read it")
    elif code in (2003, 2005, 2006, 2013):
        reason = "the server is not reachable: is MariaDB running (make up) and the host/port right?"
    else:
        reason = str(exc)
    return SourceConnectionError(f"{where}: {reason}")


def open_source(db: DbConfig, timeout: int = 10) -> Any:
    """A pymysql connection to the source, or a :class:`SourceConnectionError` that says why not."""
    import pymysql

    try:
        return pymysql.connect(host=db.host, port=db.port, user=db.user, password=db.password,
                               database=db.database, charset="utf8mb4", connect_timeout=timeout)
    except pymysql.MySQLError as exc:
        raise _connection_error(db, exc) from exc


def read_table(db: DbConfig, sql: str) -> pa.Table:
    """Run one query and return Arrow: connectorx when installed, else pymysql (slower)."""
    # connectorx's connection pool logs every retry to stderr; the job reports the outcome.
    os.environ.setdefault("RUST_LOG", "off")
    try:
        import connectorx as cx
    except ImportError:  # e.g. a Glue job without --additional-python-modules
        cx = None
    if cx is not None:
        return cx.read_sql(db.url(), sql, return_type="arrow")
    conn = open_source(db)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            names = [d[0] for d in cur.description]
            rows = cur.fetchall()
        return pa.table({n: pa.array([r[i] for r in rows]) for i, n in enumerate(names)})
    finally:
        conn.close()


def extract(db: DbConfig, tables: list[str] | None = None) -> dict[str, pa.Table]:
    """Read the source tables the star needs (``SELECT *``; the drift check trims them).

    Each table is read on its own connection, all at once (connectorx releases
    the GIL), so the small tables are read while the big ``orderdetails`` streams.
    The first failure is raised at once: the reads run on daemon threads, so a
    read still waiting on connectorx's pool (it retries a lost server for 30 s)
    neither delays the error nor keeps the process alive.
    """
    conn = open_source(db)  # fail fast and clearly before connectorx's retrying pool
    conn.close()
    names = list(tables or SOURCE_COLUMNS)
    outcomes: queue.Queue[tuple[str, pa.Table | None, BaseException | None]] = queue.Queue()

    def read(table: str) -> None:
        try:
            outcomes.put((table, _extract_table(db, table), None))
        except BaseException as exc:  # handed to the waiting thread
            outcomes.put((table, None, exc))

    for table in names:
        threading.Thread(target=read, args=(table,), name=f"extract-{table}", daemon=True).start()
    read_tables: dict[str, pa.Table] = {}
    failed_probes = 0
    while len(read_tables) < len(names):
        try:
            table, data, error = outcomes.get(timeout=PROBE_SECONDS)
        except queue.Empty:  # a read is taking a while: is the server still there?
            failed_probes = 0 if _reachable(db) else failed_probes + 1
            if failed_probes >= 2:
                raise SourceConnectionError(
                    f"MariaDB at {db.host}:{db.port} stopped accepting connections while "
                    f"{db.database} was being read. Is the server still running (make up)? Nothing "
                    "was published: the previous tables are untouched; run the job again.") from None
            continue
        if error is not None:
            raise error
        read_tables[table] = data
    return {table: read_tables[table] for table in names}


# While reads run, the server is probed this often; two failed probes in a row
# end the run (connectorx alone would retry a refused connection for 30 s).
PROBE_SECONDS = 2.0


def _reachable(db: DbConfig) -> bool:
    """True when the server accepts a TCP connection (nothing is sent)."""
    try:
        socket.create_connection((db.host, db.port), timeout=PROBE_SECONDS).close()
    except OSError:
        return False
    return True


def _extract_table(db: DbConfig, table: str) -> pa.Table:
    started = time.perf_counter()
    try:
        data = read_table(db, f"SELECT * FROM `{table}`")
    except RuntimeError as exc:
        if "doesn't exist" in str(exc):
            raise SchemaDriftError(f"Source table {db.database}.{table} does not exist; "
                                   "the star schema needs it (seed the source: make seed).") from exc
        lost = ("io error", "ioerror", "bytes remaining", "disconnected", "connection reset",
                "broken pipe", "connection refused", "timed out", "lost connection")
        if any(s in str(exc).lower() for s in lost):
            raise SourceConnectionError(
                f"Lost the connection to MariaDB at {db.host}:{db.port} while reading "
                f"{db.database}.{table} ({exc}). Is the server still running (make up)? Nothing "
                "was published: the previous tables are untouched; run the job again.") from exc
        raise EtlError(f"Reading {db.database}.{table} failed: {exc}") from exc
    log("extract", f"{table}: {data.num_rows:,} rows in {time.perf_counter() - started:.2f} s")
    return data


# --------------------------------------------------------------- schema drift

def type_family(dtype: pa.DataType) -> str:
    """The family of an Arrow type: integer, number, string, date or other."""
    if pa.types.is_integer(dtype):
        return "integer"
    if pa.types.is_decimal(dtype) or pa.types.is_floating(dtype):
        return "number"
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return "string"
    if pa.types.is_date(dtype) or pa.types.is_timestamp(dtype):
        return "date"
    return str(dtype)


_ACCEPTS = {"integer": {"integer"}, "number": {"number", "integer"}, "string": {"string"},
            "date": {"date"}}


def check_source_schema(tables: dict[str, pa.Table]) -> tuple[dict[str, pa.Table], list[str]]:
    """Apply the drift policy; return the tables trimmed to the needed columns, and notes.

    Added columns are tolerated (dropped, noted). A needed column that is
    missing (deleted or renamed) or whose type family changed raises
    :class:`SchemaDriftError` naming every such table.column. Column names
    match case-insensitively, as in MySQL.
    """
    problems, notes, trimmed = [], [], {}
    for table, needed in SOURCE_COLUMNS.items():
        if table not in tables:
            problems.append(f"table {table} is missing")
            continue
        data = tables[table]
        by_lower = {name.lower(): name for name in data.column_names}
        known = {c.lower() for c in needed} | {c.lower() for c in KNOWN_UNUSED_COLUMNS.get(table, ())}
        extra = [n for n in data.column_names if n.lower() not in known]
        missing = [c for c in needed if c.lower() not in by_lower]
        for column in missing:
            hint = f" (new column(s) {', '.join(extra)}: renamed?)" if extra else ""
            problems.append(f"{table}.{column} is missing{hint}")
        for column, family in needed.items():
            actual = by_lower.get(column.lower())
            if actual is None:
                continue
            have = type_family(data.schema.field(actual).type)
            if have not in _ACCEPTS[family]:
                problems.append(f"{table}.{column} is now {data.schema.field(actual).type} "
                                f"(the transform needs {family})")
        if extra:
            notes.append(f"{table}: new source column(s) {', '.join(extra)} ignored (not in the star schema)")
        if not missing:
            columns = [_narrow(data.column(by_lower[c.lower()])) for c in needed]
            trimmed[table] = pa.Table.from_arrays(columns, names=list(needed))
    if problems:
        raise SchemaDriftError("Source schema drift; the star schema cannot be built:\n  "
                               + "\n  ".join(problems)
                               + "\nUpdate SOURCE_COLUMNS and the transform SQL in utils/etl/job.py "
                                 "together, or restore the source columns.")
    return trimmed, notes


def _narrow(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """decimal(38,10) (how connectorx returns MySQL DECIMAL) -> decimal(18,2) when lossless.

    Wide decimals make DuckDB's arithmetic about twice as slow. The cast is
    "safe": it fails on any value with more than two decimals or too many
    digits, and then the column stays as it was, so exactness never suffers.
    """
    narrow = pa.decimal128(18, 2)
    if not pa.types.is_decimal(column.type) or column.type == narrow:
        return column
    try:
        return column.cast(narrow, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return column


# ----------------------------------------------------------------- transform

def transform(
    tables: dict[str, pa.Table],
    star_sql: dict[str, str] | None = None,
    staging_sql: dict[str, str] | None = None,
    given: dict[str, str] | None = None,
) -> dict[str, pa.Table]:
    """Run the star-schema SQL in DuckDB over the source tables; return Arrow tables.

    ``star_sql``/``staging_sql`` default to this job's SQL; lessons pass the
    course's original SQL to show its defect. ``given`` maps star tables to SQL
    given to the job (``--<table>_sql_uri``, see :func:`given_transforms`): it
    replaces their built-in SQL and runs last, sandboxed (:func:`_run_given`).
    """
    import duckdb

    star_sql = STAR_SQL if star_sql is None else star_sql
    staging_sql = STAGING_SQL if staging_sql is None else staging_sql
    given = given or {}
    unknown = sorted(set(given) - set(star_sql))
    if unknown:
        raise TransformError(f"SQL was given for {', '.join(unknown)}, which is not a table of the star "
                             f"schema ({', '.join(star_sql)})")
    con = duckdb.connect()
    try:
        for name, table in tables.items():
            # Scanned in place (zero copy). Copying into DuckDB's storage first
            # cost ~0.5 s at SF1000 and made the fact query no faster.
            con.register(name, table)
        for name, sql in staging_sql.items():
            con.execute(f"CREATE TABLE {name} AS {sql}")  # a table: computed once, not per join
        star = {}
        for name, sql in star_sql.items():
            if name in given:
                continue
            started = time.perf_counter()
            # Kept in DuckDB's chunks: concatenating them cost ~1 s at SF1000,
            # and the Parquet bytes do not depend on the chunking.
            star[name] = _arrow(con.sql(sql))
            log("transform", f"{name}: {star[name].num_rows:,} rows in {time.perf_counter() - started:.2f} s")
        if given:
            row_limit = GIVEN_ROWS_PER_SOURCE_ROW * sum(t.num_rows for t in tables.values()) + 10_000
            star.update(_run_given(con, given, {name: star_sql[name] for name in given}, row_limit))
        return {name: star[name] for name in star_sql}
    finally:
        con.close()


# ------------------------------------------------ transforms given as job arguments
#
# A run can replace the built-in SQL of a star table with a SELECT of its own (the
# lab's exercise: the learner writes one transform):
#
#     --fact_orders_sql_uri s3://<bucket>/transforms/fact_orders-<sha256>.sql
#
# The SQL is untrusted, so the job (1) accepts exactly ONE SELECT statement, parsed by
# DuckDB's own parser; (2) runs it after the source tables are in memory, with DuckDB's
# external access disabled and its configuration locked: no file, URL, ATTACH, COPY,
# INSTALL or LOAD, no Python variable read as a table, and no SET to undo that; (3) stops
# it after GIVEN_SQL_SECONDS and
# refuses more than GIVEN_ROWS_PER_SOURCE_ROW rows per source row; (4) requires the
# built-in table's columns (names case-insensitive; integer widths and decimal precisions
# are cast, other types must match) and (5) then reconciles the star as for any run:
# a wrong transform fails the run and nothing is published. The resulting table is
# logged with per-column checksums (:func:`column_checksums`) so that a run's output can
# be compared with another table without reading it back from S3.

TRANSFORM_URI_SUFFIX = "_sql_uri"
MAX_GIVEN_SQL_BYTES = 64 * 1024
GIVEN_SQL_SECONDS = 120.0
GIVEN_ROWS_PER_SOURCE_ROW = 4

_DQ = chr(34)  # the double quote that quotes identifiers (and DuckDB's NULL type name)
_INTEGER_TYPES = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
                            "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"})


def transform_argument(table: str) -> str:
    """The job argument (without ``--``) that gives the SQL of ``table``: ``fact_orders_sql_uri``."""
    return f"{table}{TRANSFORM_URI_SUFFIX}"


def given_transforms(args: dict[str, str], s3: Any = None) -> dict[str, str]:
    """Read and check the SQL given by ``--<table>_sql_uri`` arguments: ``{table: one SELECT}``.

    Raises :class:`TransformError` for an argument naming no star table, an object that
    cannot be read, or SQL that is not exactly one SELECT statement.
    """
    wanted = {key[:-len(TRANSFORM_URI_SUFFIX)]: value for key, value in args.items()
              if key.endswith(TRANSFORM_URI_SUFFIX) and value}
    unknown = sorted(set(wanted) - set(STAR_TABLES))
    if unknown:
        raise TransformError(
            f"Unknown argument --{transform_argument(unknown[0])}: SQL can be given for the star "
            f"tables only: {', '.join('--' + transform_argument(t) for t in STAR_TABLES)}")
    if not wanted:
        return {}
    if s3 is None:
        import boto3

        s3 = boto3.client("s3", region_name=_region())
    return {table: read_given_sql(table, wanted[table], s3) for table in STAR_TABLES if table in wanted}


def read_given_sql(table: str, uri: str, s3: Any) -> str:
    """The SELECT stored at ``uri`` (S3) for ``table``, checked by :func:`single_select`."""
    import hashlib

    where = f"--{transform_argument(table)} {uri}"
    bucket, key = split_s3(uri)
    if not key:
        raise TransformError(f"{where} names a bucket, not an object: give the s3:// path of a .sql file")
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read(MAX_GIVEN_SQL_BYTES + 1)
    except Exception as exc:  # NoSuchKey, NoSuchBucket, AccessDenied, no network...
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
        raise TransformError(f"Could not read the SQL for {table} ({where}): {code}. Upload the file "
                             "first, or fix the argument.") from exc
    if len(body) > MAX_GIVEN_SQL_BYTES:
        raise TransformError(f"The SQL for {table} ({where}) is larger than "
                             f"{MAX_GIVEN_SQL_BYTES // 1024} KiB; a transform is one SELECT statement.")
    try:
        sql = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TransformError(f"The SQL for {table} ({where}) is not UTF-8 text.") from exc
    query = single_select(table, sql)
    log("transform", f"{table}: SQL given by {where} (sha256 {hashlib.sha256(body).hexdigest()})")
    return query


def single_select(table: str, sql: str) -> str:
    """``sql`` when it is exactly one SELECT statement (DuckDB's parser decides), else TransformError."""
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise TransformError(f"The SQL for {table} does not parse: {_first_line(exc)}") from None
    if not statements:
        raise TransformError(f"The SQL for {table} is empty: write one SELECT statement.")
    if len(statements) > 1:
        raise TransformError(f"The SQL for {table} has {len(statements)} statements; the job runs exactly "
                             "one SELECT (remove everything after the first `;`).")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        article = "an" if kind.name[:1] in "AEIOU" else "a"
        raise TransformError(f"The SQL for {table} is {article} {kind.name} statement; the job runs only a "
                             "SELECT (no COPY, ATTACH, INSTALL, SET, CREATE...).")
    return statements[0].query.strip().rstrip(";").strip()


def _indented(exc: BaseException) -> str:
    """DuckDB's message on one line per line, every line after the first indented.

    Glue (and the local runner) report a failed run's last unindented error line with the
    indented lines under it, so a multi-line message must stay under its headline.
    """
    return "\n  ".join(line.rstrip() for line in str(exc).splitlines() if line.strip())


def _first_line(exc: BaseException) -> str:
    return next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _run_given(con: Any, given: dict[str, str], builtin_sql: dict[str, str],
               row_limit: int) -> dict[str, pa.Table]:
    """Run given SQL in a locked-down DuckDB: only in-memory tables, conformed, time- and row-limited."""
    import duckdb

    # The built-in SQL's result columns are the contract (bound, not executed).
    contracts = {}
    for name, sql in builtin_sql.items():
        relation = con.sql(sql)
        contracts[name] = list(zip(relation.columns, [str(t) for t in relation.types], strict=True))
    con.execute("SET enable_external_access = false")
    # DuckDB's Python client resolves an unknown table name to a Python variable of the
    # calling code (a DataFrame, an Arrow table, a relation). DuckDB 2.0 already stops that
    # without external access; said explicitly so that it does not depend on that coupling.
    con.execute("SET python_enable_replacements = false")
    con.execute("SET lock_configuration = true")
    log("transform", "sandbox: given SQL runs without file, network or extension access")
    star = {}
    for name, sql in given.items():
        started = time.perf_counter()
        try:
            relation = con.sql(sql)
        except duckdb.Error as exc:
            raise TransformError(f"The SQL given for {name} failed in DuckDB: {_indented(exc)}") from None
        if relation is None:  # not a query after all
            raise TransformError(f"The SQL given for {name} returns no rows: it must be a SELECT.")
        select = conform(name, relation.columns, [str(t) for t in relation.types], contracts[name])
        timer = threading.Timer(GIVEN_SQL_SECONDS, con.interrupt)
        timer.start()
        try:
            # ORDER BY ALL: the same rows give the same Parquet bytes, whatever order the SQL chose.
            table = _arrow(relation.project(select).order("ALL").limit(row_limit + 1))
        except duckdb.InterruptException:
            raise TransformError(f"The SQL given for {name} ran longer than {GIVEN_SQL_SECONDS:.0f} s and "
                                 "was stopped: does a join miss its condition?") from None
        except duckdb.Error as exc:
            raise TransformError(f"The SQL given for {name} failed in DuckDB: {_indented(exc)}") from None
        finally:
            timer.cancel()
        if table.num_rows > row_limit:
            raise TransformError(
                f"The SQL given for {name} returns more than {row_limit:,} rows, many times the source's: a "
                "join multiplies rows (a join without its condition, or on a column that is not a key).")
        star[name] = table
        log("transform", f"{name}: {table.num_rows:,} rows in {time.perf_counter() - started:.2f} s "
                         "(given SQL)")
        sums = " ".join(f"{column}={value}" for column, value in column_checksums(table).items())
        log("transform", f"{name} checksums: {sums}")
    return star


def conform(table: str, columns: list[str], types: list[str], contract: list[tuple[str, str]]) -> str:
    """The select list that turns a result with ``columns``/``types`` into ``contract``'s columns.

    Names match case-insensitively and come out spelt as in the contract, in its order.
    An integer of another width, or a DECIMAL of another precision or scale, is cast to
    the contract's type (a value that does not fit fails the cast); any other type
    difference, a missing, extra or repeated column raises :class:`TransformError`
    naming every problem.
    """
    by_lower: dict[str, list[int]] = {}
    for index, column in enumerate(columns):
        by_lower.setdefault(column.lower(), []).append(index)
    wanted = {column.lower() for column, _ in contract}
    problems = [f"column {columns[indexes[0]]} appears {len(indexes)} times" for indexes in by_lower.values()
                if len(indexes) > 1]
    problems += [f"missing column {column} ({kind})" for column, kind in contract
                 if column.lower() not in by_lower]
    problems += [f"extra column {column}: not a column of {table}" for column in columns
                 if column.lower() not in wanted]
    select = []
    for column, kind in contract:
        indexes = by_lower.get(column.lower())
        if not indexes:
            continue
        have, got = columns[indexes[0]], types[indexes[0]]
        if got == kind:
            select.append(f"{_quote(have)} AS {_quote(column)}")
        elif _castable(got, kind):
            select.append(f"CAST({_quote(have)} AS {kind}) AS {_quote(column)}")
        else:
            problems.append(f"column {column} is {got.strip(_DQ)}; {table} needs {kind}"
                            f"{_type_hint(got, kind)}")
    if problems:
        expected = ", ".join(f"{column} {kind}" for column, kind in contract)
        raise TransformError(f"The SQL given for {table} does not give the columns of {table}; nothing was "
                             "published:\n  " + "\n  ".join(problems) + f"\n  ({table} has: {expected})")
    return ", ".join(select)


def _castable(got: str, want: str) -> bool:
    if got in _INTEGER_TYPES and want in _INTEGER_TYPES:
        return True
    return got.startswith("DECIMAL") and want.startswith("DECIMAL")


def _type_hint(got: str, want: str) -> str:
    if want.startswith("DECIMAL") and got in ("DOUBLE", "FLOAT", "REAL"):
        return " (money is exact: keep DECIMAL arithmetic, no floating point)"
    if got == '"NULL"':
        return " (the column is NULL on every row)"
    return f" (CAST it AS {want})"


def column_checksums(table: pa.Table) -> dict[str, str]:
    """An order-independent checksum of each column's values (8 hex digits, DuckDB's ``hash``).

    Two tables with the same columns, types and rows (in any order) have the same
    checksums; a column whose values differ almost surely does not.
    """
    import duckdb

    if not table.column_names:
        return {}
    con = duckdb.connect()
    try:
        con.execute("SET enable_external_access = false")
        con.register("checked", table)
        sums = ", ".join(f"sum(hash({_quote(c)}))" for c in table.column_names)
        values = con.execute(f"SELECT {sums} FROM checked").fetchone()
    finally:
        con.close()
    return {column: f"{int(value or 0) % 2 ** 32:08x}" for column, value in zip(table.column_names, values,
                                                                               strict=True)}


def _arrow(result: Any) -> pa.Table:
    """The Arrow table of a DuckDB relation, on DuckDB 1.x (Glue) and 2.x alike."""
    for method in ("to_arrow_table", "fetch_arrow_table", "arrow"):
        fetch = getattr(result, method, None)
        if fetch is not None:
            return fetch()
    raise EtlError("this DuckDB version cannot return Arrow tables")


# ---------------------------------------------------------------- reconcile

@dataclass(frozen=True)
class ControlTotals:
    """Figures computed by the source database (see utils/classicmodels/truth.py)."""

    order_lines: int
    total_revenue: Decimal
    revenue_by_country: dict[str, Decimal]


def control_totals(db: DbConfig) -> ControlTotals:
    """Order lines, total revenue and revenue per (trimmed) country, computed by MySQL."""
    import pymysql

    conn = open_source(db)
    try:
        with conn.cursor() as cur:
            cur.execute(CONTROL_TOTALS_SQL)
            rows = cur.fetchall()
    except (pymysql.err.OperationalError, pymysql.err.InterfaceError) as exc:
        raise SourceConnectionError(
            f"Lost the connection to MariaDB at {db.host}:{db.port} while computing the control "
            f"totals ({exc}). Is the server still running (make up)? Nothing was published: the "
            "previous tables are untouched; run the job again.") from exc
    finally:
        with contextlib.suppress(Exception):  # closing a dropped connection may fail too
            conn.close()
    lines, total, by_country = 0, Decimal(0), {}
    for has_customer, country, order_lines, revenue in rows:  # see CONTROL_TOTALS_SQL
        revenue = Decimal(revenue if revenue is not None else 0)
        lines += int(order_lines)
        total += revenue
        if has_customer:
            by_country[country] = revenue
    return ControlTotals(lines, total, by_country)


@dataclass
class Reconciliation:
    """The outcome of every check: (name, passed, detail)."""

    checks: list[tuple[str, bool, str]]

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return all(passed for _, passed, _ in self.checks)

    def failures(self) -> list[str]:
        """Details of the failed checks."""
        return [f"{name}: {detail}" for name, passed, detail in self.checks if not passed]


def reconcile(star: dict[str, pa.Table], truth: Any, keys: StarKeys = STAR_KEYS,
              raise_on_failure: bool = True) -> Reconciliation:
    """Check the star schema against the source's control totals (see module docstring).

    ``truth`` is anything with ``order_lines``, ``total_revenue`` and
    ``revenue_by_country`` (:class:`ControlTotals` or classicmodels' ``Truth``).
    Raises :class:`ReconciliationError` listing every failed check.
    """
    import duckdb

    con = duckdb.connect()
    try:
        for name, table in star.items():
            con.register(name, table)

        def one(sql: str) -> Any:
            return con.execute(sql).fetchone()[0]

        checks: list[tuple[str, bool, str]] = []
        fact, amount = keys.fact, keys.amount
        # An empty source would reconcile (0 == 0) and replace good tables with empty ones.
        checks.append(("the source has order lines", truth.order_lines > 0,
                       f"{truth.order_lines:,} order lines" if truth.order_lines > 0 else
                       "none: the source's orderdetails table is empty, so the star schema would be "
                       "empty. Load the source first (make seed SF=1); the previous tables are kept"))
        rows = one(f"SELECT COUNT(*) FROM {fact}")
        checks.append(("fact rows == source order lines", rows == truth.order_lines,
                       f"{rows:,} fact rows vs {truth.order_lines:,} order lines in the source"))
        total = _cents(one(f"SELECT COALESCE(SUM({amount}), 0) FROM {fact}"))
        expected_total = _cents(truth.total_revenue)
        checks.append(("total revenue", total == expected_total,
                       f"{total:,} vs {expected_total:,} in the source"))

        by_country = dict(con.execute(
            f"SELECT l.country, SUM(f.{amount}) FROM {fact} AS f "
            f"JOIN {keys.location_dimension} AS l ON l.{keys.dimension_keys[keys.location_dimension]} "
            f"= f.{keys.location_key} GROUP BY l.country").fetchall())
        expected = _by_country_cents(truth.revenue_by_country)
        actual = _by_country_cents(by_country)
        wrong = [f"{c}: {actual.get(c, 'missing')} vs {expected.get(c, 'absent')}"
                 for c in sorted(set(expected) | set(actual), key=str) if actual.get(c) != expected.get(c)]
        checks.append(("revenue per customer country", not wrong,
                       "all countries match" if not wrong else "star vs source: " + "; ".join(wrong[:8])))

        for dim, key in keys.dimension_keys.items():
            bad = one(f"SELECT COUNT(*) - COUNT(DISTINCT {key}) + COUNT(*) FILTER (WHERE {key} IS NULL) "
                      f"FROM {dim}")
            checks.append((f"{dim}.{key} unique and not null", bad == 0,
                           f"{bad} duplicate or NULL key value(s)" if bad else "ok"))
        for column, (dim, key) in keys.fact_keys.items():
            orphans = one(f"SELECT COUNT(*) FROM {fact} AS f WHERE f.{column} IS NULL OR NOT EXISTS "
                          f"(SELECT 1 FROM {dim} AS d WHERE d.{key} = f.{column})")
            checks.append((f"{fact}.{column} found in {dim}", orphans == 0,
                           f"{orphans:,} fact row(s) without a match" if orphans else "ok"))
    finally:
        con.close()
    result = Reconciliation(checks)
    for name, passed, detail in checks:
        log("reconcile", f"{'ok  ' if passed else 'FAIL'} {name}: {detail}")
    if raise_on_failure and not result.ok:
        raise ReconciliationError("The star schema does not reconcile with the source; nothing was "
                                  "published:\n  " + "\n  ".join(result.failures()))
    return result


def _cents(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT) if value is not None else Decimal("0.00")


# ----------------------------------------------------------------------- load

def split_s3(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix/`` -> (``bucket``, ``some/prefix``)."""
    if not uri.startswith("s3://"):
        raise EtlError(f"Not an S3 path: {uri!r} (expected s3://bucket/prefix)")
    bucket, _, prefix = uri[5:].partition("/")
    return bucket, prefix.strip("/")


# Columns with about one value per row: a dictionary is wasted work there
# (pyarrow builds one, finds it too big and falls back to plain encoding).
PLAIN_ENCODED_COLUMNS = frozenset({"orderNumber", "orderAmount"})


def parquet_bytes(table: pa.Table) -> bytes:
    """Serialise a table as one snappy Parquet file, deterministically (same rows, same bytes).

    The bytes depend on the rows only, not on how the table is chunked in
    memory. DECIMAL columns are stored as INT32/INT64 (the Parquet spec's
    compact form for up to 18 digits, read by Athena, Spark and DuckDB):
    smaller and faster to write than fixed-length byte arrays.
    """
    options: dict[str, Any] = {
        "compression": "snappy",
        "use_dictionary": [c for c in table.column_names if c not in PLAIN_ENCODED_COLUMNS],
    }
    buffer = io.BytesIO()
    try:
        pq.write_table(table, buffer, store_decimal_as_integer=True, **options)
    except TypeError:  # pyarrow < 18 has no such option
        buffer = io.BytesIO()
        pq.write_table(table, buffer, **options)
    return buffer.getvalue()


def table_key(prefix: str, table: str) -> str:
    """The single object that holds ``table`` under a gold prefix."""
    return f"{prefix}/{table}/{table}.parquet" if prefix else f"{table}/{table}.parquet"


def default_staging_path(target_path: str) -> str:
    """Staging prefix next to the target, outside it: ``s3://b/gold`` -> ``s3://b/etl-staging``."""
    bucket, prefix = split_s3(target_path)
    parent = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
    return f"s3://{bucket}/{parent + '/' if parent else ''}etl-staging"


@dataclass(frozen=True)
class _Layout:
    """Where a run stages its files and where it publishes them."""

    bucket: str
    prefix: str
    stage_bucket: str
    run_prefix: str

    @classmethod
    def of(cls, target_path: str, run_id: str, staging_path: str | None) -> _Layout:
        bucket, prefix = split_s3(target_path)
        stage_bucket, stage_prefix = split_s3(staging_path or default_staging_path(target_path))
        if stage_bucket == bucket and (stage_prefix + "/").startswith(prefix + "/" if prefix else ""):
            raise EtlError(f"The staging path must lie outside the target path {target_path}")
        return cls(bucket, prefix, stage_bucket, f"{stage_prefix}/{run_id}" if stage_prefix else run_id)


def _publish_order(tables: Any) -> list[str]:
    """Dimensions first, the fact last: new facts never point at missing keys."""
    return [t for t in tables if t != STAR_KEYS.fact] + [t for t in tables if t == STAR_KEYS.fact]


def publish(star: dict[str, pa.Table], target_path: str, run_id: str,
            staging_path: str | None = None, s3: Any = None,
            before_publish: Callable[[], None] | None = None) -> dict[str, str]:
    """Stage every table, then swap each into ``<target>/<table>/<table>.parquet``.

    See the module docstring for why this never exposes a partial table.
    ``before_publish`` is a test hook called between staging and publishing.
    Returns the published S3 URI per table.
    """
    import boto3

    s3 = s3 or boto3.client("s3", region_name=_region())
    layout = _Layout.of(target_path, run_id, staging_path)
    staged: dict[str, tuple[str, str]] = {}
    try:
        for table in _publish_order(star):
            staged[table] = _stage(s3, layout, table, star[table])
        if before_publish is not None:
            before_publish()
        return _swap(s3, layout, staged)
    finally:
        _unstage(s3, layout, staged.values())


def _stage(s3: Any, layout: _Layout, table: str, data: pa.Table) -> tuple[str, str]:
    """Encode one table and upload it to the run's staging prefix: (key, ETag)."""
    started = time.perf_counter()
    body = parquet_bytes(data)
    key = f"{layout.run_prefix}/{table}.parquet"
    etag = s3.put_object(Bucket=layout.stage_bucket, Key=key, Body=body)["ETag"]
    log("load", f"staged {table}: {data.num_rows:,} rows, {len(body):,} bytes "
                f"in {time.perf_counter() - started:.2f} s")
    return key, etag


def _swap(s3: Any, layout: _Layout, staged: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Copy each staged file onto its fixed gold key (unless unchanged); remove strays."""
    bucket, published = layout.bucket, {}
    for table in _publish_order(staged):
        key, etag = staged[table]
        target_key = table_key(layout.prefix, table)
        if _etag(s3, bucket, target_key) == etag:
            log("load", f"{table}: unchanged, kept s3://{bucket}/{target_key}")
        else:
            s3.copy_object(Bucket=bucket, Key=target_key,
                           CopySource={"Bucket": layout.stage_bucket, "Key": key})
            log("load", f"published s3://{bucket}/{target_key}")
        for stray in _keys(s3, bucket, f"{target_key.rsplit('/', 1)[0]}/"):
            if stray != target_key:
                s3.delete_object(Bucket=bucket, Key=stray)
                log("load", f"removed stray object s3://{bucket}/{stray}")
        published[table] = f"s3://{bucket}/{target_key}"
    return published


def _unstage(s3: Any, layout: _Layout, staged: Any) -> None:
    for key, _ in staged:
        s3.delete_object(Bucket=layout.stage_bucket, Key=key)


def _by_country_cents(revenue: dict) -> dict:
    """Revenue per country in cents; a blank country and no country are the same (NULL).

    The star stores a blank country as NULL (``NULLIF(TRIM(country), '')``) while MySQL
    groups it as ''; both mean "unknown" for the comparison.
    """
    out: dict = {}
    for country, value in revenue.items():
        key = None if country is None or not str(country).strip() else country
        out[key] = out.get(key, 0) + _cents(value)
    return out


def _etag(s3: Any, bucket: str, key: str) -> str | None:
    try:
        return s3.head_object(Bucket=bucket, Key=key)["ETag"]
    except Exception:  # missing (404) or not readable: just copy
        return None


def _keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [obj["Key"] for obj in page.get("Contents", [])]
    return keys


# ------------------------------------------------------------------------ job

def build_star(db: DbConfig, given: dict[str, str] | None = None
               ) -> tuple[dict[str, pa.Table], Reconciliation, list[str]]:
    """Extract, check drift, transform and reconcile; nothing is written (``given``: :func:`transform`)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        totals = pool.submit(control_totals, db)
        star, notes = _star(db, totals, given)
        truth = _totals(totals)
    return star, reconcile(star, truth), notes


def _star(db: DbConfig, totals: Future[Any], given: dict[str, str] | None = None
          ) -> tuple[dict[str, pa.Table], list[str]]:
    """Extract, check drift and transform (while MySQL computes ``totals``)."""
    try:
        tables, notes = check_source_schema(extract(db))
        for note in notes:
            log("schema", note)
        return transform(tables, given=given), notes
    except BaseException:
        totals.cancel()
        raise


def _totals(totals: Future[Any]) -> Any:
    started = time.perf_counter()
    truth = totals.result()
    log("reconcile", f"control totals from MySQL ready (waited {time.perf_counter() - started:.2f} s)")
    return truth


def run(db: DbConfig, target_path: str, run_id: str | None = None,
        staging_path: str | None = None, s3: Any = None,
        given: dict[str, str] | None = None) -> dict[str, str]:
    """The whole job: build the star, stage it while it is reconciled, then publish it.

    ``given`` replaces the built-in SQL of some tables (see :func:`transform`).
    """
    import boto3

    run_id = run_id or time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + uuid.uuid4().hex[:8]
    started = time.perf_counter()
    log("job", f"run {run_id}: {db.user}@{db.host}:{db.port}/{db.database} -> {target_path}")
    s3 = s3 or boto3.client("s3", region_name=_region())
    layout = _Layout.of(target_path, run_id, staging_path)
    # Three things at once: MySQL computes the control totals (a thread waiting
    # on its own connection) from the start; once the star is built, its
    # Parquet files are encoded and uploaded to staging (pyarrow and the
    # upload release the GIL) while DuckDB reconciles it. Staged files are
    # invisible to readers; only a reconciled star is published.
    with ThreadPoolExecutor(max_workers=3) as pool:
        totals = pool.submit(control_totals, db)
        star, _ = _star(db, totals, given)
        staging = {table: pool.submit(_stage, s3, layout, table, star[table])
                   for table in sorted(star, key=lambda t: t != STAR_KEYS.fact)}  # the biggest first
        try:
            reconcile(star, _totals(totals))
            staged = {table: staging[table].result() for table in star}
        except BaseException:
            for upload in staging.values():
                upload.cancel()
            _unstage(s3, layout, [u.result() for u in staging.values()
                                  if not u.cancelled() and u.exception() is None])
            raise
    try:
        published = _swap(s3, layout, staged)
    finally:
        _unstage(s3, layout, staged.values())
    log("job", f"run {run_id} succeeded in {time.perf_counter() - started:.2f} s")
    rss = peak_rss_mib()
    if rss is not None:
        log("job", f"peak RSS {rss:,.0f} MiB, CPU {cpu_seconds():.2f} s (user + system)")
    return published


def peak_rss_mib() -> float | None:
    """This process's peak resident memory (native DuckDB/connectorx memory included).

    Linux: ``VmHWM``, the high-water mark of this program's own memory. (``ru_maxrss``
    would also count the parent's memory when the process was forked from a big one,
    as a Glue runner may be, because it survives ``exec``.)
    """
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    try:
        import resource
    except ImportError:  # not on Unix
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)  # KiB on Linux, bytes on macOS


def cpu_seconds() -> float:
    """CPU time this process has used so far (all threads, native code included)."""
    times = os.times()
    return times.user + times.system


def parse_args(argv: list[str]) -> dict[str, str]:
    """Glue-style ``--key value`` (or ``--key=value``) pairs; unknown keys are kept, not errors."""
    args: dict[str, str] = {}
    i = 0
    while i < len(argv):
        item = argv[i]
        if item.startswith("--"):
            key, eq, value = item[2:].partition("=")
            if not eq:
                nxt = argv[i + 1] if i + 1 < len(argv) else ""
                if nxt.startswith("--") or i + 1 >= len(argv):
                    value = "true"
                else:
                    value, i = nxt, i + 1
            args[key] = value
        i += 1
    return args


def main(argv: list[str] | None = None) -> int:
    """Entry point for Glue and the command line; returns the exit code."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    target = args.get("target_path") or os.environ.get("DELAB_TARGET_PATH")
    if not target:
        print("error: --target_path s3://<data-lake-bucket>/gold is required", file=sys.stderr)
        return 2
    try:
        given = given_transforms(args)  # before anything is read: a bad argument fails in milliseconds
        db = resolve_db_config(args.get("db_secret"), args.get("region"))
        if args.get("glue_database"):
            log("job", f"tables for Glue database {args['glue_database']} are catalogued by its crawler")
        run(db, target, args.get("JOB_RUN_ID"), args.get("staging_path"), given=given)
    except EtlError as exc:
        print(f"ERROR: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
