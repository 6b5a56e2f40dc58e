"""Helpers for the week-2 lab notebooks (``solutions/C1W2_*.ipynb``).

The notebooks stay short: each step is one call into this module, and every
call goes through the ordinary AWS APIs (boto3) or the MySQL protocol
(pymysql). Nothing here knows about the local cloud: ``AWS_ENDPOINT_URL`` in
the environment decides where boto3 goes, so the same code runs on real AWS.

Steps, in lab order:

- the source system: :func:`db_endpoint` (``describe-db-instances``),
  :func:`db_credentials` (Secrets Manager), :func:`connect_to_source`,
  :func:`run_sql`, :func:`table_columns`, :func:`foreign_keys`,
  :func:`draw_relational_model`;
- the resources: :func:`resource_status`, :func:`create_missing_resources`;
- the pipeline: :func:`start_job_run`, :func:`wait_for_job_run`,
  :func:`latest_successful_job_run`, :func:`job_log`, :func:`run_crawler`, :func:`wait_for_crawler`,
  :func:`catalog_tables`, :func:`catalog_columns`, :func:`ensure_star_schema`;
- a transform of your own: :func:`transform_uri`, :func:`upload_transform`, :func:`run_transform`,
  :func:`transform_runs`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import boto3
import pandas as pd
import pymysql
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from utils.config import DB_SECRET_NAME, GLUE_CRAWLER, GLUE_DATABASE, GLUE_JOB, RDS_INSTANCE_ID

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# CloudWatch log groups where AWS Glue writes a job run's stdout and stderr.
JOB_OUTPUT_LOG_GROUP = "/aws-glue/jobs/output"
JOB_ERROR_LOG_GROUP = "/aws-glue/jobs/error"

# The star schema the ETL job publishes (one folder, hence one catalog table, each).
STAR_SCHEMA_TABLES = ("fact_orders", "dim_customers", "dim_products", "dim_locations")

JOB_FINAL_STATES = ("SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR", "EXPIRED")


class LabError(RuntimeError):
    """A lab step failed; the message says what failed, why it probably did, and what to do."""


F = TypeVar("F", bound=Callable[..., Any])

# --------------------------------------------------------------------------------------
# Errors a learner can act on: the cloud or the database not answering
# --------------------------------------------------------------------------------------

# Client-side MySQL error codes meaning "no usable connection": 2002/2003 can't connect,
# 2006 server has gone away, 2013 lost connection during a query, 2055 lost connection
# at a system call. pymysql raises InterfaceError(0, '') on a connection that is closed.
CONNECTION_ERROR_CODES = frozenset({2002, 2003, 2006, 2013, 2055})
ACCESS_DENIED_CODE = 1045  # wrong user or password
DATABASE_DENIED_CODE = 1044  # the user may not use that database
UNKNOWN_DATABASE_CODE = 1049

CLOUD_CONNECTION_ERRORS = (BotoConnectionError, HTTPClientError)


def _is_loopback(host: str | None) -> bool:
    return (host or "").lower() in ("127.0.0.1", "localhost", "::1", "[::1]")


def cloud_unreachable_message(error: BaseException) -> str:
    """What to say when boto3 could not reach the endpoint (local cloud stopped, no network)."""
    kwargs = getattr(error, "kwargs", None) or {}
    url = kwargs.get("endpoint_url") or ""
    parts = urlsplit(url)
    where = parts.netloc or url.rstrip("/") or "the AWS endpoint"
    if _is_loopback(parts.hostname):
        return (f"The local cloud at {where} is not answering: run `make up` in a terminal (its state "
                "starts empty again, so re-run this notebook from the top).")
    return (f"AWS at {where} is not answering ({type(error).__name__}): check your network connection "
            "and the region (AWS_DEFAULT_REGION), then re-run this cell.")


class _Explained:
    """A ``with`` block whose matching errors become a :class:`LabError` (a class, not a generator,
    so that the learner's traceback is the cell and one short frame)."""

    def __init__(self, errors: tuple[type[BaseException], ...], explain: Callable[[Any], LabError | None]
                 ) -> None:
        self.errors, self.explain = errors, explain

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: BaseException | None, _tb: Any) -> bool:
        if error is not None and isinstance(error, self.errors):
            explained = self.explain(error)
            if explained is not None:
                raise explained from None
        return False


def explain_cloud_errors() -> _Explained:
    """Turn "cannot reach the endpoint" errors of boto3 calls in the block into a :class:`LabError`."""
    return _Explained(CLOUD_CONNECTION_ERRORS, lambda err: LabError(cloud_unreachable_message(err)))


_NESTING = threading.local()


def _cloud_call(function: F) -> F:
    """Decorate a helper that calls AWS so that an unreachable endpoint raises a :class:`LabError`.

    Only the outermost helper converts the error, so the learner's traceback stops there
    instead of listing every helper it went through.
    """

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        depth = getattr(_NESTING, "depth", 0)
        _NESTING.depth = depth + 1
        try:
            if depth:
                return function(*args, **kwargs)
            with explain_cloud_errors():
                return function(*args, **kwargs)
        finally:
            _NESTING.depth = depth

    return call  # type: ignore[return-value]


def is_connection_error(error: BaseException) -> bool:
    """True when a pymysql error means the connection is closed, lost or impossible (not bad SQL)."""
    if isinstance(error, pymysql.err.InterfaceError):
        return True
    if isinstance(error, pymysql.err.OperationalError):
        return bool(error.args) and error.args[0] in CONNECTION_ERROR_CODES
    return isinstance(error, ConnectionError | TimeoutError)


def _server_name(host: str | None, port: Any) -> str:
    what = "MariaDB" if _is_loopback(host) else "The database"
    return f"{what} at {host}:{port}" if host else what


def connection_lost_error(conn: Any, error: BaseException | None = None) -> LabError:
    """The :class:`LabError` for a query on a connection that is closed or was lost."""
    reason = error.args[-1] if error is not None and error.args and error.args[-1] else ""
    host = getattr(conn, "host", None)
    server = "MariaDB" if _is_loopback(host) or host is None else "the database"
    restart = "`make up` if the server stopped" if server == "MariaDB" else "check that the database is up"
    return LabError(f"The connection to {server} is closed or was lost{f' ({reason})' if reason else ''}: "
                    f"re-run the cell that connects ({restart}), then this cell.")


def database_connect_error(error: BaseException, host: str, port: Any, user: str) -> LabError:
    """The :class:`LabError` for a failed ``pymysql.connect``: what failed and what to do."""
    code = error.args[0] if error.args else None
    local = _is_loopback(host)
    server = _server_name(host, port)
    if code == ACCESS_DENIED_CODE:
        if local:
            return LabError(f"{server} refused the user {user!r} (access denied): the password in the "
                            f"secret {DB_SECRET_NAME!r} does not match the server's. If you changed .env, "
                            "run `make up` again, then re-run this notebook from the top.")
        return LabError(f"{server} refused the user {user!r} (access denied): check the user name and "
                        f"password stored in the secret {DB_SECRET_NAME!r}.")
    if code in (UNKNOWN_DATABASE_CODE, DATABASE_DENIED_CODE):
        fix = ("run `make up` (it creates the database and its users), then re-run this notebook from the "
               "top" if local else f"check the database name (dbname) in the secret {DB_SECRET_NAME!r}")
        return LabError(f"{server} cannot open the database for {user!r} ({error.args[-1]}): {fix}.")
    if code in CONNECTION_ERROR_CODES or isinstance(error, ConnectionError | TimeoutError):
        if local:
            return LabError(f"{server} is not answering: start it with `make up` in a terminal, then "
                            "re-run this cell.")
        return LabError(f"{server} is not answering: check that the RDS instance is available and that "
                        f"its security group allows your address on port {port}, then re-run this cell.")
    return LabError(f"Could not connect to {server} as {user!r}: {error.args[-1] if error.args else error}.")


def explain_db_errors(host: str, port: Any, user: str) -> _Explained:
    """Turn a failed ``pymysql.connect`` in the block into a :class:`LabError` saying what to do."""
    return _Explained((pymysql.err.MySQLError,), lambda err: database_connect_error(err, host, port, user))


def connection_checked(conn: Any) -> _Explained:
    """A ``with`` block for queries on ``conn``: a closed or lost connection becomes a
    :class:`LabError` (reconnect); an error in the SQL itself stays as pymysql reports it."""
    if getattr(conn, "open", True) is False:
        raise connection_lost_error(conn)
    return _Explained((pymysql.err.MySQLError,),
                      lambda err: connection_lost_error(conn, err) if is_connection_error(err) else None)


# --------------------------------------------------------------------------------------
# The source system
# --------------------------------------------------------------------------------------

@_cloud_call
def db_endpoint(instance_id: str = RDS_INSTANCE_ID, rds: Any = None) -> tuple[str, int]:
    """Address and port of the lab's RDS instance, as ``aws rds describe-db-instances`` reports them."""
    rds = rds or boto3.client("rds")
    try:
        instances = rds.describe_db_instances(DBInstanceIdentifier=instance_id)["DBInstances"]
    except ClientError as err:
        if err.response["Error"]["Code"] in ("DBInstanceNotFound", "DBInstanceNotFoundFault"):
            raise LabError(
                f"There is no RDS instance named {instance_id!r} in this account and region. "
                "Locally, `make up` creates it; on AWS, check the region (AWS_DEFAULT_REGION) "
                "and that the course's database exists.") from err
        raise
    endpoint = instances[0].get("Endpoint") or {}
    if "Address" not in endpoint:
        raise LabError(f"RDS instance {instance_id!r} has no endpoint yet (status "
                       f"{instances[0].get('DBInstanceStatus')!r}); wait a minute and try again.")
    return endpoint["Address"], int(endpoint["Port"])


@_cloud_call
def db_credentials(secret_id: str = DB_SECRET_NAME, secretsmanager: Any = None) -> dict[str, Any]:
    """The database credentials stored in Secrets Manager (a JSON secret).

    Keys: ``username``, ``password``, ``dbname`` (and ``host``/``port``). The
    password is only ever held in memory: never print it or write it down.
    """
    client = secretsmanager or boto3.client("secretsmanager")
    try:
        value = client.get_secret_value(SecretId=secret_id)["SecretString"]
    except ClientError as err:
        raise LabError(f"Could not read the secret {secret_id!r}: "
                       f"{err.response['Error']['Message']}. Locally, `make up` creates it.") from err
    return json.loads(value)


def connect_to_source(instance_id: str = RDS_INSTANCE_ID, secret_id: str = DB_SECRET_NAME,
                      **kwargs: Any) -> pymysql.connections.Connection:
    """Open a pymysql connection to the source database.

    Host and port come from RDS (:func:`db_endpoint`), user, password and
    database name from the Secrets Manager secret (:func:`db_credentials`):
    nothing secret appears in the notebook.
    """
    host, port = db_endpoint(instance_id)
    creds = db_credentials(secret_id)
    kwargs.setdefault("connect_timeout", 10)
    with explain_db_errors(host, port, creds["username"]):
        return pymysql.connect(host=host, port=port, user=creds["username"], password=creds["password"],
                               database=creds.get("dbname"), charset="utf8mb4", **kwargs)


def run_sql(conn: pymysql.connections.Connection, sql: str, params: Sequence[Any] | None = None
            ) -> pd.DataFrame:
    """Run one SQL statement and return its rows as a DataFrame (column names from the cursor).

    A closed or lost connection raises a :class:`LabError` (reconnect); an error in the SQL
    itself is raised as pymysql reports it.
    """
    with connection_checked(conn), conn.cursor() as cur:
        cur.execute(sql, params)
        if cur.description is None:
            return pd.DataFrame()
        columns = [d[0] for d in cur.description]
        return pd.DataFrame(list(cur.fetchall()), columns=columns)


def preview_sql(conn: pymysql.connections.Connection, sql: str | None, rows: int = 5) -> Any:
    """The first rows of a SELECT written as a string, or a note when it is not written yet."""
    if not sql:
        return "Not written yet: the SQL is still None."
    return run_sql(conn, f"SELECT * FROM ({sql.strip().rstrip(';')}) AS preview LIMIT {int(rows)}")


def show_tables(conn: pymysql.connections.Connection) -> list[str]:
    """Names of the tables of the connection's database (``SHOW TABLES``)."""
    with connection_checked(conn), conn.cursor() as cur:
        cur.execute("SHOW TABLES")
        return [row[0] for row in cur.fetchall()]


TABLE_COLUMNS_SQL = """
SELECT TABLE_NAME AS table_name, COLUMN_NAME AS column_name, COLUMN_TYPE AS column_type,
       IS_NULLABLE = 'YES' AS nullable, COLUMN_KEY = 'PRI' AS primary_key,
       ORDINAL_POSITION AS position
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, ORDINAL_POSITION
"""

FOREIGN_KEYS_SQL = """
SELECT TABLE_NAME AS table_name, COLUMN_NAME AS column_name,
       REFERENCED_TABLE_NAME AS referenced_table, REFERENCED_COLUMN_NAME AS referenced_column,
       CONSTRAINT_NAME AS constraint_name
FROM information_schema.KEY_COLUMN_USAGE
WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL
ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION
"""


def table_columns(conn: pymysql.connections.Connection) -> pd.DataFrame:
    """Every column of every table (name, type, nullable, primary key), from information_schema."""
    df = run_sql(conn, TABLE_COLUMNS_SQL)
    for col in ("nullable", "primary_key"):
        df[col] = df[col].astype(bool)
    return df


def foreign_keys(conn: pymysql.connections.Connection) -> pd.DataFrame:
    """Every foreign key column and the table/column it references, from information_schema."""
    return run_sql(conn, FOREIGN_KEYS_SQL)


# Where each classicmodels table sits in the diagram (column, row). Tables not listed
# (a different schema) are placed on a grid after these.
CLASSICMODELS_LAYOUT: dict[str, tuple[int, int]] = {
    "productlines": (0, 0), "products": (1, 0), "orderdetails": (2, 0), "orders": (3, 0),
    "offices": (0, 1), "employees": (1, 1), "customers": (2, 1), "payments": (3, 1),
}


def _layout(tables: Iterable[str]) -> dict[str, tuple[int, int]]:
    tables = list(tables)
    known = {t: CLASSICMODELS_LAYOUT[t] for t in tables if t in CLASSICMODELS_LAYOUT}
    others = [t for t in tables if t not in known]
    width = 4 if known else max(1, math.ceil(math.sqrt(len(others))))
    first_row = (max((r for _, r in known.values()), default=-1) + 1)
    for i, table in enumerate(others):
        known[table] = (i % width, first_row + i // width)
    return known


def draw_relational_model(columns: pd.DataFrame, fks: pd.DataFrame, title: str = "classicmodels") -> Figure:
    """Draw tables (boxes listing their columns) and foreign keys (arrows) with matplotlib.

    ``columns`` and ``fks`` are the frames of :func:`table_columns` and :func:`foreign_keys`.
    An arrow goes from the referencing table to the referenced one and is labelled with
    the foreign key column. Returns the figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    tables = list(dict.fromkeys(columns["table_name"]))
    positions = _layout(tables)
    fk_columns = set(zip(fks["table_name"], fks["column_name"], strict=True)) if len(fks) else set()
    line_h, col_w, row_gap = 0.32, 3.3, 1.4
    heights = {t: (1 + (columns["table_name"] == t).sum()) * line_h + 0.15 for t in tables}
    n_rows = max(r for _, r in positions.values()) + 1
    row_height = [max([heights[t] for t, (_, r) in positions.items() if r == row] or [0])
                  for row in range(n_rows)]
    row_top = [-(sum(row_height[:row]) + row * row_gap) for row in range(n_rows)]
    n_cols = max(c for c, _ in positions.values()) + 1
    col_x = [c * (col_w + 2.0) for c in range(n_cols)]

    fig_h = (sum(row_height) + row_gap * n_rows) * 0.62 + 0.6
    fig, ax = plt.subplots(figsize=(n_cols * 3.8, fig_h))
    boxes = {}
    for table in tables:
        c, r = positions[table]
        x, top, h = col_x[c], row_top[r], heights[table]
        box = FancyBboxPatch((x, top - h), col_w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                             facecolor="#f7f9fc", edgecolor="#36507a", linewidth=1.4, zorder=2)
        ax.add_patch(box)
        boxes[table] = box
        ax.add_patch(FancyBboxPatch((x, top - line_h - 0.05), col_w, line_h + 0.05,
                                    boxstyle="round,pad=0.02,rounding_size=0.08", facecolor="#36507a",
                                    edgecolor="#36507a", zorder=3))
        ax.text(x + col_w / 2, top - line_h / 2 - 0.03, table, ha="center", va="center", color="white",
                fontsize=10, fontweight="bold", zorder=4)
        rows = columns[columns["table_name"] == table].sort_values("position")
        for i, row in enumerate(rows.itertuples()):
            y = top - line_h * (i + 1.5) - 0.08
            is_fk = (table, row.column_name) in fk_columns
            tags = ("PK " if row.primary_key else "") + ("FK" if is_fk else "")
            weight = "bold" if row.primary_key else "normal"
            ax.text(x + 0.1, y, row.column_name, fontsize=7.5, va="center", fontweight=weight, zorder=4)
            ax.text(x + col_w - 0.1, y, tags.strip(), fontsize=6.5, va="center", ha="right",
                    color="#b5452b", zorder=4)

    drawn = set()
    for fk in fks.itertuples():
        key = (fk.table_name, fk.referenced_table, fk.column_name)
        if key in drawn or fk.table_name not in boxes or fk.referenced_table not in boxes:
            continue
        drawn.add(key)
        src, dst = boxes[fk.table_name], boxes[fk.referenced_table]
        if src is dst:  # a self-reference (employees.reportsTo): a loop under the box
            x0, w, y = src.get_x(), src.get_width(), src.get_y()
            ax.annotate("", xy=(x0 + 0.35 * w, y), xytext=(x0 + 0.65 * w, y), zorder=5,
                        arrowprops={"arrowstyle": "-|>", "connectionstyle": "arc3,rad=-0.9",
                                    "color": "#b5452b", "lw": 1.2, "shrinkA": 1, "shrinkB": 1})
            ax.text(x0 + 0.5 * w, y - 0.55, fk.column_name, fontsize=7, color="#b5452b",
                    ha="center", va="center")
            continue
        ax.annotate("", xy=(0.5, 0.5), xycoords=dst, xytext=(0.5, 0.5), textcoords=src, zorder=1,
                    arrowprops={"arrowstyle": "-|>", "patchA": src, "patchB": dst, "color": "#b5452b",
                                "lw": 1.2, "shrinkA": 2, "shrinkB": 2, "connectionstyle": "arc3,rad=0.08"})
        (sx, sy), (dx, dy) = _centre(src), _centre(dst)
        ax.text((sx + dx) / 2, (sy + dy) / 2 + 0.12, fk.column_name, fontsize=7, color="#b5452b",
                ha="center", va="bottom", zorder=6,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.9})

    ax.set_xlim(-0.3, col_x[-1] + col_w + 0.9)
    ax.set_ylim(row_top[-1] - row_height[-1] - 0.3, 0.3)
    ax.set_aspect("auto")
    ax.axis("off")
    ax.set_title(f"{title}: {len(tables)} tables, {len(drawn)} foreign keys (arrow: references)",
                 fontsize=11)
    fig.tight_layout()
    return fig


def _centre(patch: Any) -> tuple[float, float]:
    return patch.get_x() + patch.get_width() / 2, patch.get_y() + patch.get_height() / 2


# --------------------------------------------------------------------------------------
# The lab's resources
# --------------------------------------------------------------------------------------

@_cloud_call
def resource_status(settings: Any = None) -> pd.DataFrame:
    """Every lab resource with whether it exists already (what an apply would create)."""
    from utils.cloud import provision
    from utils.config import get_settings

    s = settings or get_settings()
    rows = []
    for resource in provision.resources(s):
        if not s.is_local and resource.kind == "rds db instance":
            continue  # on AWS the course's database exists already; Terraform does not create it
        rows.append({"kind": resource.kind, "name": resource.name,
                     "status": "exists" if resource.exists() else "to create"})
    return pd.DataFrame(rows)


@_cloud_call
def create_missing_resources(settings: Any = None) -> list[str]:
    """Create the lab resources that are missing (locally); on AWS, explain how to use Terraform.

    Returns the names of what was created.
    """
    from utils.cloud import provision
    from utils.config import get_settings

    s = settings or get_settings()
    if not s.is_local:
        print("Target is real AWS: create the resources with Terraform, from a terminal:\n"
              "  cd infra/terraform && source setup.sh\n"
              "  terraform init && terraform plan && terraform apply\n"
              "Then run this notebook again.")
        return []
    if os.environ.get("DELAB_GRADING") == "1":  # graded: the cloud is read-only for kernels (#15)
        missing = provision.plan(s)
        print(f"grading run: nothing created; {len(missing)} resource(s) missing"
              + "".join(f"\n  - {r}" for r in missing))
        return []
    created = provision.apply(s, verbose=True)
    print(f"{len(created)} resource(s) created; the others already existed.")
    return [r.name for r in created]


# --------------------------------------------------------------------------------------
# The Glue job
# --------------------------------------------------------------------------------------

@_cloud_call
def start_job_run(job_name: str = GLUE_JOB, arguments: dict[str, str] | None = None, glue: Any = None
                  ) -> str:
    """Start a run of the Glue job (``aws glue start-job-run``); return its run id."""
    glue = glue or boto3.client("glue")
    kwargs: dict[str, Any] = {"JobName": job_name}
    if arguments:
        kwargs["Arguments"] = arguments
    try:
        return glue.start_job_run(**kwargs)["JobRunId"]
    except ClientError as err:
        code = err.response["Error"]["Code"]
        if code == "EntityNotFoundException":
            raise LabError(f"There is no Glue job {job_name!r}: create the lab's resources first.") from err
        if code == "ConcurrentRunsExceededException":
            raise LabError(f"A run of {job_name!r} is already in progress; wait for it to finish "
                           "(or stop it) and start again.") from err
        raise


@_cloud_call
def wait_for_job_run(run_id: str, job_name: str = GLUE_JOB, poll_seconds: float = 2.0,
                     timeout_seconds: float = 900.0, glue: Any = None,
                     echo: Callable[[str], None] = print, clock: Callable[[], float] = time.monotonic,
                     sleep: Callable[[float], None] = time.sleep, check: bool = True) -> dict[str, Any]:
    """Poll ``get-job-run`` until the run ends, printing one line per state change.

    Each line shows the seconds elapsed since polling began and the new state. Returns
    the final ``JobRun``; raises :class:`LabError` when the run does not succeed (with
    Glue's error message) or does not finish within ``timeout_seconds``. With
    ``check=False`` a run that ends FAILED (or STOPPED...) is printed and returned instead.
    """
    glue = glue or boto3.client("glue")
    started = clock()
    last_state = None
    while True:
        run = glue.get_job_run(JobName=job_name, RunId=run_id)["JobRun"]
        state = run["JobRunState"]
        elapsed = clock() - started
        if state != last_state:
            echo(f"[{elapsed:6.1f}s] {job_name}: {state}")
            last_state = state
        if state in JOB_FINAL_STATES:
            break
        if elapsed > timeout_seconds:
            raise LabError(f"Run {run_id} is still {state} after {timeout_seconds:.0f}s. "
                           "Look at its log (job_log) and stop it if it is stuck.")
        sleep(poll_seconds)
    if state != "SUCCEEDED":
        message = (f"The job run ended {state}: {run.get('ErrorMessage', 'no error message')}. "
                   f"Its log says why: job_log({run_id!r}, errors=True).")
        if check:
            raise LabError(message)
        echo(message)
        return run
    seconds = run.get("ExecutionTime")
    echo(f"Run {run_id} succeeded" + (f" (Glue reports {seconds}s of execution time)." if seconds else "."))
    return run


@_cloud_call
def latest_successful_job_run(job_name: str = GLUE_JOB, glue: Any = None) -> str:
    """The id of the newest run of the job that SUCCEEDED (``get-job-runs``, newest first).

    Failed, stopped or still-running runs are skipped: their star schema was never published.
    Raises :class:`LabError` when no run succeeded, saying how the last one ended.
    """
    glue = glue or boto3.client("glue")
    newest = None
    try:
        for page in glue.get_paginator("get_job_runs").paginate(JobName=job_name):
            for run in page["JobRuns"]:
                newest = newest or run
                if run.get("JobRunState") == "SUCCEEDED":
                    return run["Id"]
    except ClientError as err:
        if err.response["Error"]["Code"] == "EntityNotFoundException":
            raise LabError(f"There is no Glue job {job_name!r}: create the lab's resources first "
                           "(Step 1).") from None
        raise
    if newest is None:
        raise LabError(f"{job_name!r} has never run, so there is no star schema to reuse: set "
                       "RUN_ETL = True and run this notebook again.")
    reason = newest.get("ErrorMessage") or "no error message"
    raise LabError(f"No run of {job_name!r} succeeded, so there is no star schema to reuse (the latest, "
                   f"{newest['Id']}, ended {newest.get('JobRunState')}: {reason}). Set RUN_ETL = True and "
                   "run this notebook again.")


@_cloud_call
def job_log(run_id: str, errors: bool = False, logs: Any = None, limit: int | None = None) -> list[str]:
    """Lines the job run printed, read from CloudWatch Logs (stream = the run id).

    ``errors=True`` reads the error stream (stderr) instead of the output stream.
    ``limit`` keeps the last lines only.
    """
    logs = logs or boto3.client("logs")
    group = JOB_ERROR_LOG_GROUP if errors else JOB_OUTPUT_LOG_GROUP
    lines: list[str] = []
    kwargs: dict[str, Any] = {"logGroupName": group, "logStreamName": run_id, "startFromHead": True}
    try:
        while True:
            page = logs.get_log_events(**kwargs)
            lines += [e["message"].rstrip("\n") for e in page["events"]]
            token = page.get("nextForwardToken")
            if not page["events"] or token is None or token == kwargs.get("nextToken"):
                break
            kwargs["nextToken"] = token
    except ClientError as err:
        if err.response["Error"]["Code"] == "ResourceNotFoundException":
            return []
        raise
    return lines[-limit:] if limit else lines


# --------------------------------------------------------------------------------------
# A transform of your own: SQL the job runs instead of its built-in SQL for one table
# --------------------------------------------------------------------------------------

# Where transforms are uploaded: a prefix of the data lake, outside gold/ (never crawled).
# Each file is named after its content's SHA-256, so an upload never replaces different SQL
# and a run's argument says exactly which SQL it ran.
TRANSFORMS_PREFIX = "transforms"


def transform_uri(table: str, sql: str, bucket: str | None = None) -> str:
    """``s3://<data lake>/transforms/<table>-<sha256[:16]>.sql``: where ``sql`` for ``table`` is stored."""
    from utils.config import get_settings

    if not isinstance(sql, str):
        raise LabError(f"The SQL for {table} should be a string (a SELECT in triple quotes), "
                       f"not {type(sql).__name__}.")
    digest = hashlib.sha256(sql.encode("utf-8")).hexdigest()[:16]
    return f"s3://{bucket or get_settings().data_lake_bucket}/{TRANSFORMS_PREFIX}/{table}-{digest}.sql"


@_cloud_call
def upload_transform(table: str, sql: str, s3: Any = None, bucket: str | None = None) -> str:
    """Upload ``sql`` for ``table`` to S3 (``aws s3 cp``); return its ``s3://`` URI."""
    uri = transform_uri(table, sql, bucket)
    target_bucket, _, key = uri.removeprefix("s3://").partition("/")
    (s3 or boto3.client("s3")).put_object(Bucket=target_bucket, Key=key, Body=sql.encode("utf-8"),
                                          ContentType="application/sql")
    return uri


@_cloud_call
def run_transform(table: str, sql: str | None, job_name: str = GLUE_JOB,
                  arguments: dict[str, str] | None = None, glue: Any = None, s3: Any = None,
                  echo: Callable[[str], None] = print) -> str:
    """Start a run of the job that uses ``sql`` instead of its built-in SQL for ``table``.

    Uploads the SQL (:func:`upload_transform`), then calls StartJobRun with
    ``Arguments={"--<table>_sql_uri": <uri>}`` (plus ``arguments``). With ``sql=None`` (not
    written yet) the run uses the job's built-in SQL, so the lab can go on. Returns the run id.
    """
    arguments = dict(arguments or {})
    if sql is None:
        echo(f"No SQL for {table} yet (None): this run uses the job's built-in SQL.")
    else:
        uri = upload_transform(table, sql, s3=s3)
        arguments[f"--{table}_sql_uri"] = uri
        echo(f"Uploaded your SQL to {uri}")
        echo(f"Starting {job_name} with --{table}_sql_uri {uri}")
    return start_job_run(job_name, arguments or None, glue=glue)


@_cloud_call
def transform_runs(table: str, sql: str, job_name: str = GLUE_JOB, glue: Any = None) -> list[dict[str, Any]]:
    """The runs of the job that were given ``sql`` for ``table`` (``get-job-runs``), newest first."""
    glue = glue or boto3.client("glue")
    uri = transform_uri(table, sql)
    argument = f"--{table}_sql_uri"
    runs = []
    for page in glue.get_paginator("get_job_runs").paginate(JobName=job_name):
        runs += [run for run in page["JobRuns"] if (run.get("Arguments") or {}).get(argument) == uri]
    return sorted(runs, key=lambda run: run["StartedOn"].timestamp() if run.get("StartedOn") else 0.0,
                  reverse=True)


# --------------------------------------------------------------------------------------
# The crawler and the catalog
# --------------------------------------------------------------------------------------

def _last_crawl_start(crawler: dict[str, Any]) -> datetime | None:
    return (crawler.get("LastCrawl") or {}).get("StartTime")


@_cloud_call
def run_crawler(name: str = GLUE_CRAWLER, glue: Any = None, **wait_kwargs: Any) -> dict[str, Any]:
    """Start the crawler and wait until it is READY again; return its last crawl."""
    glue = glue or boto3.client("glue")
    before = _last_crawl_start(glue.get_crawler(Name=name)["Crawler"])
    try:
        glue.start_crawler(Name=name)
    except ClientError as err:
        if err.response["Error"]["Code"] != "CrawlerRunningException":
            raise
        print(f"{name} is already running: waiting for that crawl instead.")
    return wait_for_crawler(name, previous_crawl_start=before, glue=glue, **wait_kwargs)


@_cloud_call
def wait_for_crawler(name: str = GLUE_CRAWLER, previous_crawl_start: datetime | None = None,
                     poll_seconds: float = 2.0, timeout_seconds: float = 600.0, glue: Any = None,
                     echo: Callable[[str], None] = print, clock: Callable[[], float] = time.monotonic,
                     sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Poll ``get-crawler`` until it is READY with a new completed crawl; return ``LastCrawl``.

    A crawl can finish between two polls, so "done" means READY *and* a last crawl
    that started after ``previous_crawl_start``. Raises :class:`LabError` when the
    crawl failed or did not finish within ``timeout_seconds``.
    """
    glue = glue or boto3.client("glue")
    started = clock()
    last_state = None
    while True:
        crawler = glue.get_crawler(Name=name)["Crawler"]
        state = crawler["State"]
        elapsed = clock() - started
        if state != last_state:
            echo(f"[{elapsed:6.1f}s] {name}: {state}")
            last_state = state
        last = crawler.get("LastCrawl") or {}
        fresh = last.get("StartTime") is not None and last.get("StartTime") != previous_crawl_start
        if state == "READY" and fresh and last.get("Status") not in (None, "RUNNING"):
            break
        if elapsed > timeout_seconds:
            raise LabError(f"Crawler {name} is still {state} after {timeout_seconds:.0f}s.")
        sleep(poll_seconds)
    if last["Status"] != "SUCCEEDED":
        raise LabError(f"The crawl ended {last['Status']}: {last.get('ErrorMessage', 'no message')}. "
                       f"Its log is in CloudWatch group {last.get('LogGroup', '/aws-glue/crawlers')}.")
    echo(f"Last crawl: {last['Status']}.")
    return last


@_cloud_call
def catalog_tables(database: str = GLUE_DATABASE, glue: Any = None) -> pd.DataFrame:
    """The tables of a Glue database: name, S3 location, number of columns, partition keys."""
    glue = glue or boto3.client("glue")
    rows = []
    for page in glue.get_paginator("get_tables").paginate(DatabaseName=database):
        for table in page["TableList"]:
            sd = table.get("StorageDescriptor", {})
            rows.append({
                "table": table["Name"],
                "location": sd.get("Location"),
                "columns": len(sd.get("Columns", [])),
                "partition_keys": ", ".join(k["Name"] for k in table.get("PartitionKeys", [])) or "-",
                "classification": (table.get("Parameters") or {}).get("classification", "-"),
            })
    return pd.DataFrame(rows, columns=["table", "location", "columns", "partition_keys", "classification"])


@_cloud_call
def catalog_columns(table: str, database: str = GLUE_DATABASE, glue: Any = None) -> pd.DataFrame:
    """The columns (name, type) of one catalog table, partition keys last."""
    glue = glue or boto3.client("glue")
    found = glue.get_table(DatabaseName=database, Name=table)["Table"]
    cols = found.get("StorageDescriptor", {}).get("Columns", []) + found.get("PartitionKeys", [])
    return pd.DataFrame([{"column": c["Name"], "type": c["Type"]} for c in cols])


@_cloud_call
def star_schema_in_catalog(database: str = GLUE_DATABASE, glue: Any = None) -> bool:
    """True when every star schema table is in the Glue catalog."""
    try:
        names = set(catalog_tables(database, glue)["table"])
    except ClientError:
        return False
    return set(STAR_SCHEMA_TABLES) <= names


@_cloud_call
def star_schema_rows(database: str = GLUE_DATABASE, table: str = "fact_orders") -> int:
    """How many rows a star schema table holds, counted by Athena (0: the star schema is empty)."""
    import warnings

    import awswrangler as wr

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No `s3_output` was provided")
        counted = wr.athena.read_sql_query(f"SELECT COUNT(*) AS n FROM {table}", database=database)
    return int(counted.iloc[0, 0])


@_cloud_call
def ensure_star_schema(database: str = GLUE_DATABASE, glue: Any = None) -> bool:
    """Run the ETL job and the crawler when the star schema is not catalogued yet.

    For notebooks that come after the pipeline notebook but must also run on their own.
    Returns True when it had to run the pipeline.
    """
    glue = glue or boto3.client("glue")
    if star_schema_in_catalog(database, glue):
        return False
    print("The star schema is not in the catalog yet: running the ETL job and the crawler first.")
    run_id = start_job_run(glue=glue)
    wait_for_job_run(run_id, glue=glue)
    run_crawler(glue=glue)
    return True
