"""Athena's state: query executions, workgroups, named queries (moto's ``models.py`` role).

A query execution lives as on AWS: StartQueryExecution queues it (QUEUED), a
worker thread runs it (RUNNING) through :class:`~utils.cloud.athena.engine.AthenaEngine`,
writes its results to S3 exactly where and how Athena writes them, and ends it
SUCCEEDED, FAILED (with Athena's StateChangeReason) or CANCELLED.

Files written to the query result location (``<out>`` = the OutputLocation):

- SELECT: ``<out>/<id>.csv`` and ``<out>/<id>.csv.metadata``
- DDL and utility statements (SHOW, DESCRIBE...): ``<out>/<id>.txt`` (+ ``.metadata``)
- CTAS, INSERT INTO, UNLOAD: ``<out>/<id>-manifest.csv`` (the data files written,
  one per line; ``DataManifestLocation``) and ``<out>/<id>.metadata``

One deliberate difference from AWS, for latency: GetQueryExecution on a query
still running waits up to :data:`STATUS_WAIT_S` for it to finish before
answering. Clients poll every second (awswrangler, PyAthena), so without this a
0.05 s query would take a full second to be seen as done. Longer queries still
show QUEUED/RUNNING.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import os
import random
import string
import threading
import time
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from utils.cloud.athena import results
from utils.cloud.athena.engine import AthenaEngine, QueryContext, StatementResult
from utils.cloud.athena.errors import SYSTEM_ERROR, AthenaQueryError, QueryCancelled
from utils.cloud.backends import ObjectStore, split_s3_uri
from utils.config import LOCAL_ACCOUNT_ID

STATUS_WAIT_S = float(os.environ.get("DELAB_ATHENA_STATUS_WAIT_S", "2.0"))
MAX_HISTORY = 5000
# Rendered results kept in memory for GetQueryResults; older ones are re-read from their S3 file.
MAX_RESULT_BYTES = int(os.environ.get("DELAB_ATHENA_RESULT_CACHE_MIB", "256")) * 2**20
ENGINE_VERSION = {"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"}
FINAL_STATES = ("SUCCEEDED", "FAILED", "CANCELLED")


class AthenaApiError(Exception):
    """A request Athena refuses (becomes the API error ``code``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _now() -> datetime:
    return datetime.now(UTC)


def _millis(start: float, end: float) -> int:
    return max(0, int(round((end - start) * 1000)))


@dataclass
class WorkGroup:
    """An Athena workgroup: its result location and settings."""

    name: str
    description: str = ""
    state: str = "ENABLED"
    output_location: str | None = None
    enforce: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    created: datetime = field(default_factory=_now)

    def configuration(self) -> dict[str, Any]:
        """The ``Configuration`` document GetWorkGroup returns."""
        result_configuration: dict[str, Any] = {}
        if self.output_location:
            result_configuration["OutputLocation"] = self.output_location
        return {
            "ResultConfiguration": result_configuration,
            "EnforceWorkGroupConfiguration": self.enforce,
            "PublishCloudWatchMetricsEnabled": bool(self.extra.get("PublishCloudWatchMetricsEnabled", False)),
            "RequesterPaysEnabled": bool(self.extra.get("RequesterPaysEnabled", False)),
            "EngineVersion": ENGINE_VERSION,
            "EnableMinimumEncryptionConfiguration": False,
        }

    def describe(self) -> dict[str, Any]:
        """The ``WorkGroup`` document."""
        return {"Name": self.name, "State": self.state, "Description": self.description,
                "Configuration": self.configuration(), "CreationTime": self.created}

    def summary(self) -> dict[str, Any]:
        """The ListWorkGroups entry."""
        return {"Name": self.name, "State": self.state, "Description": self.description,
                "CreationTime": self.created, "EngineVersion": ENGINE_VERSION}


@dataclass
class QueryExecution:
    """One query execution and everything GetQueryExecution reports about it."""

    id: str
    query: str
    database: str
    catalog: str
    workgroup: str
    result_base: str | None
    parameters: list[str] | None = None
    engine_query_id: str = ""
    state: str = "QUEUED"
    reason: str | None = None
    error: AthenaQueryError | None = None
    submitted: datetime = field(default_factory=_now)
    completed: datetime | None = None
    submitted_clock: float = field(default_factory=time.perf_counter)
    started_clock: float | None = None
    engine_done_clock: float | None = None
    completed_clock: float | None = None
    statement_type: str = "DML"
    substatement_type: str | None = None
    output_location: str | None = None
    manifest_location: str | None = None
    bytes_scanned: int = 0
    rows_read: int = 0
    planning_ms: int = 0
    engine_ms: int = 0
    output_rows: int = 0
    output_bytes: int = 0
    update_count: int = 0
    columns: list[dict[str, Any]] = field(default_factory=list)
    rendered: list[pa.Array] | None = None
    header_row: bool = True
    reused: bool = False
    cancel_requested: bool = False
    cursor: Any = None
    done: threading.Event = field(default_factory=threading.Event)

    def statistics(self) -> dict[str, Any]:
        """The ``Statistics`` document."""
        end = self.completed_clock or time.perf_counter()
        queue_end = self.started_clock or end
        stats: dict[str, Any] = {
            "EngineExecutionTimeInMillis": self.engine_ms,
            "DataScannedInBytes": self.bytes_scanned,
            "TotalExecutionTimeInMillis": _millis(self.submitted_clock, end),
            "QueryQueueTimeInMillis": _millis(self.submitted_clock, queue_end),
            "QueryPlanningTimeInMillis": self.planning_ms,
            "ServicePreProcessingTimeInMillis": 0,
            "ServiceProcessingTimeInMillis": _millis(self.engine_done_clock, end)
            if self.engine_done_clock else 0,
            "ResultReuseInformation": {"ReusedPreviousResult": self.reused},
        }
        if self.manifest_location:
            stats["DataManifestLocation"] = self.manifest_location
        return stats

    def describe(self) -> dict[str, Any]:
        """The ``QueryExecution`` document."""
        status: dict[str, Any] = {"State": self.state, "SubmissionDateTime": self.submitted}
        if self.completed is not None:
            status["CompletionDateTime"] = self.completed
        if self.reason:
            status["StateChangeReason"] = self.reason
        if self.error is not None:
            status["AthenaError"] = {"ErrorCategory": self.error.category, "ErrorType": 1000,
                                     "Retryable": False, "ErrorMessage": self.error.reason}
        doc: dict[str, Any] = {
            "QueryExecutionId": self.id,
            "Query": self.query,
            "StatementType": self.statement_type,
            "ResultConfiguration": {"OutputLocation": self.output_location} if self.output_location else {},
            "ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": False}},
            "QueryExecutionContext": {"Database": self.database, "Catalog": self.catalog},
            "Status": status,
            "Statistics": self.statistics(),
            "WorkGroup": self.workgroup,
            "EngineVersion": ENGINE_VERSION,
        }
        if self.substatement_type:
            doc["SubstatementType"] = self.substatement_type
        if self.parameters:
            doc["ExecutionParameters"] = self.parameters
        return doc


def _statement_type(sql: str) -> tuple[str, str | None]:
    """Athena's (StatementType, SubstatementType) guessed from the text before running."""
    from utils.cloud.athena.sql import leading_keywords

    words = leading_keywords(sql).split()
    first = words[0] if words else ""
    if first in ("SELECT", "WITH", "VALUES", "TABLE") or first.startswith("("):
        return "DML", "SELECT"
    if first == "INSERT":
        return "DML", "INSERT"
    if first.startswith("UNLOAD"):
        return "DML", "UNLOAD"
    if first in ("SHOW", "DESCRIBE", "DESC", "EXPLAIN"):
        return "UTILITY", None
    if first in ("CREATE", "DROP", "ALTER", "MSCK"):
        return "DDL", None
    return "DML", None


class AthenaBackend:
    """The local Athena service: workgroups, query executions, named queries."""

    def __init__(self, region: str = "us-east-1", account_id: str = LOCAL_ACCOUNT_ID) -> None:
        self.region = region
        self.account_id = account_id
        self.engine = AthenaEngine(region)
        self.workgroups: dict[str, WorkGroup] = {"primary": WorkGroup("primary")}
        self.executions: OrderedDict[str, QueryExecution] = OrderedDict()
        self.tokens: dict[str, str] = {}
        self.named_queries: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()
        self._sequence = itertools.count(1)
        workers = int(os.environ.get("DELAB_ATHENA_WORKERS", "4"))
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="athena-query")

    # ----------------------------------------------------------- workgroups

    def workgroup(self, name: str | None) -> WorkGroup:
        """A workgroup by name (``primary`` when None)."""
        name = name or "primary"
        try:
            return self.workgroups[name]
        except KeyError:
            raise AthenaApiError("InvalidRequestException", f"WorkGroup {name} is not found.") from None

    def create_workgroup(self, name: str, configuration: dict[str, Any], description: str,
                         tags: list[dict[str, str]]) -> None:
        """Create a workgroup (its OutputLocation may be unset)."""
        if name in self.workgroups:
            raise AthenaApiError("InvalidRequestException", f"WorkGroup {name} is already created")
        result_config = configuration.get("ResultConfiguration") or {}
        self.workgroups[name] = WorkGroup(
            name, description, output_location=result_config.get("OutputLocation"),
            enforce=bool(configuration.get("EnforceWorkGroupConfiguration", True)),
            extra=configuration, tags={t["Key"]: t.get("Value", "") for t in tags})

    def update_workgroup(self, name: str, updates: dict[str, Any], description: str | None,
                         state: str | None) -> None:
        """Apply UpdateWorkGroup's ConfigurationUpdates."""
        group = self.workgroup(name)
        result_updates = updates.get("ResultConfigurationUpdates") or {}
        if "OutputLocation" in result_updates:
            group.output_location = result_updates["OutputLocation"]
        if result_updates.get("RemoveOutputLocation"):
            group.output_location = None
        if "EnforceWorkGroupConfiguration" in updates:
            group.enforce = bool(updates["EnforceWorkGroupConfiguration"])
        if description is not None:
            group.description = description
        if state:
            group.state = state

    def delete_workgroup(self, name: str) -> None:
        """Delete a workgroup (``primary`` cannot be deleted, as on AWS)."""
        if name == "primary":
            raise AthenaApiError("InvalidRequestException", "Cannot delete the primary workgroup")
        self.workgroup(name)
        del self.workgroups[name]

    # ----------------------------------------------------------- executions

    def start_query_execution(self, query: str, database: str | None, catalog: str | None,
                              output_location: str | None, workgroup: str | None,
                              parameters: list[str] | None, token: str | None) -> str:
        """Queue a query; return its QueryExecutionId."""
        if not query or not query.strip():
            raise AthenaApiError("InvalidRequestException", "QueryString must not be empty")
        group = self.workgroup(workgroup)
        if group.state != "ENABLED":
            raise AthenaApiError("InvalidRequestException", f"WorkGroup {group.name} is disabled.")
        with self._lock:
            if token and token in self.tokens:
                return self.tokens[token]
        if group.enforce and group.output_location:
            output_location = group.output_location
        output_location = output_location or group.output_location
        if not output_location:
            raise AthenaApiError(
                "InvalidRequestException",
                "No output location provided. An output location is required either through the Workgroup "
                "result configuration setting or as an API input.")
        if not output_location.startswith("s3://"):
            raise AthenaApiError("InvalidRequestException", f"Invalid OutputLocation {output_location!r}: "
                                 "expected s3://bucket/prefix/")
        statement_type, substatement = _statement_type(query)
        execution = QueryExecution(
            id=str(uuid.uuid4()), query=query, database=database or "default",
            catalog=catalog or "AwsDataCatalog", workgroup=group.name,
            result_base=output_location.rstrip("/"), parameters=parameters,
            engine_query_id=self._engine_query_id(), statement_type=statement_type,
            substatement_type=substatement)
        with self._lock:
            self.executions[execution.id] = execution
            if token:
                self.tokens[token] = execution.id
            while len(self.executions) > MAX_HISTORY:
                self.executions.popitem(last=False)
        self._pool.submit(self._run, execution)
        return execution.id

    def _engine_query_id(self) -> str:
        """An id in Trino's shape (``20240131_120000_00001_abcde``), used inside result files."""
        suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=5))
        return f"{_now():%Y%m%d_%H%M%S}_{next(self._sequence):05d}_{suffix}"

    def execution(self, query_id: str) -> QueryExecution:
        """An execution by id."""
        execution = self.executions.get(query_id)
        if execution is None:
            raise AthenaApiError("InvalidRequestException", f"QueryExecution {query_id} was not found")
        return execution

    def get_query_execution(self, query_id: str, wait_s: float = STATUS_WAIT_S) -> QueryExecution:
        """An execution, after waiting (briefly) for it to finish if still running."""
        execution = self.execution(query_id)
        if wait_s > 0 and execution.state not in FINAL_STATES:
            execution.done.wait(wait_s)
        return execution

    def stop_query_execution(self, query_id: str) -> None:
        """Cancel a queued or running query (a finished one is left as it is)."""
        execution = self.execution(query_id)
        with self._lock:
            if execution.state in FINAL_STATES:
                return
            execution.cancel_requested = True
            if execution.state == "QUEUED":
                self._finish(execution, "CANCELLED", "Query cancelled by user")
                return
            cursor = execution.cursor
        if cursor is not None:
            with contextlib.suppress(duckdb.Error):
                cursor.interrupt()

    def list_query_executions(self, workgroup: str | None) -> list[str]:
        """Ids of the workgroup's executions, newest first."""
        name = self.workgroup(workgroup).name
        return [e.id for e in reversed(list(self.executions.values())) if e.workgroup == name]

    # ---------------------------------------------------------------- running

    def _run(self, execution: QueryExecution) -> None:
        with self._lock:
            if execution.state != "QUEUED":
                return
            execution.state = "RUNNING"
            execution.started_clock = time.perf_counter()

        def remember_cursor(cursor: Any) -> None:
            with self._lock:
                execution.cursor = cursor
                cancelled = execution.cancel_requested
            if cancelled:
                cursor.interrupt()

        ctx = QueryContext(query_id=execution.id, database=execution.database, catalog=execution.catalog,
                           output_location=execution.result_base, parameters=execution.parameters,
                           engine_query_id=execution.engine_query_id, on_cursor=remember_cursor,
                           cancelled=lambda: execution.cancel_requested)
        try:
            store = ObjectStore()
            self._check_output_bucket(store, execution.result_base or "")
            result = self.engine.execute(execution.query, ctx)
            execution.engine_done_clock = time.perf_counter()
            self._write_results(store, execution, result)
        except AthenaQueryError as err:
            execution.error = err
            self._finish(execution, "FAILED", err.reason)
            return
        except (QueryCancelled, duckdb.InterruptException):
            self._finish(execution, "CANCELLED", "Query cancelled by user")
            return
        except Exception as exc:  # a bug of ours: fail the query, say what happened
            err = AthenaQueryError("GENERIC_INTERNAL_ERROR", f"{type(exc).__name__}: {exc}",
                                   category=SYSTEM_ERROR)
            execution.error = err
            self._finish(execution, "FAILED", err.reason)
            return
        finally:
            execution.cursor = None
        if execution.cancel_requested:
            self._finish(execution, "CANCELLED", "Query cancelled by user")
        else:
            self._finish(execution, "SUCCEEDED", None)

    @staticmethod
    def _check_output_bucket(store: ObjectStore, base: str) -> None:
        bucket, _ = split_s3_uri(base)
        if not store.bucket_exists(bucket):
            raise AthenaQueryError(
                "HIVE_PATH_NOT_FOUND", f"Unable to verify/create output bucket {bucket}. Create the bucket "
                "or set another query result location.")

    def _finish(self, execution: QueryExecution, state: str, reason: str | None) -> None:
        with self._lock:
            if execution.state in FINAL_STATES:
                return
            execution.state = state
            execution.reason = reason
            execution.completed = _now()
            execution.completed_clock = time.perf_counter()
            if execution.engine_done_clock is None:
                execution.engine_done_clock = execution.completed_clock
        execution.done.set()

    def _write_results(self, store: ObjectStore, execution: QueryExecution, result: StatementResult) -> None:
        """Write the result files where Athena writes them, and record what GetQueryExecution reports."""
        base = execution.result_base or ""
        bucket, prefix = split_s3_uri(base)
        key_base = f"{prefix}/{execution.id}" if prefix else execution.id
        execution.statement_type = result.statement_type
        execution.substatement_type = result.substatement_type
        execution.bytes_scanned = result.bytes_scanned
        execution.rows_read = result.rows_read
        execution.planning_ms = result.planning_ms
        execution.engine_ms = result.engine_ms
        execution.columns = result.columns
        metadata = results.metadata_bytes(execution.engine_query_id, result.columns)
        names = [c["Name"] for c in result.columns]
        rendered = results.render_table(result.table) if result.table is not None else []
        execution.output_rows = result.table.num_rows if result.table is not None else 0
        if result.output == "csv":
            data = results.csv_bytes(names, rendered)
            store.put(bucket, f"{key_base}.csv", data)
            store.put(bucket, f"{key_base}.csv.metadata", metadata)
            execution.output_location = f"s3://{bucket}/{key_base}.csv"
            execution.header_row = True
        elif result.output == "txt":
            rows = [[str(v) if v is not None else "" for v in row]
                    for row in zip(*[col.to_pylist() for col in rendered], strict=True)] if rendered else []
            data = results.text_bytes(rows)
            store.put(bucket, f"{key_base}.txt", data)
            store.put(bucket, f"{key_base}.txt.metadata", metadata)
            execution.output_location = f"s3://{bucket}/{key_base}.txt"
            execution.header_row = False
        else:  # ctas, unload, insert: a data manifest lists the files written
            manifest = "".join(f"{uri}\n" for uri in result.data_files).encode()
            store.put(bucket, f"{key_base}-manifest.csv", manifest)
            store.put(bucket, f"{key_base}.metadata", metadata)
            execution.output_location = f"s3://{bucket}/{key_base}"
            execution.manifest_location = f"s3://{bucket}/{key_base}-manifest.csv"
            execution.header_row = False
            execution.update_count = result.table["rows"][0].as_py() if result.table is not None else 0
            data = b""
        execution.output_bytes = len(data)
        execution.rendered = rendered
        with self._lock:
            kept = [e for e in self.executions.values() if e.rendered is not None]
            total = sum(col.nbytes for e in kept for col in e.rendered or [])
            for old in kept[:-1]:  # oldest first; the newest result always stays
                if total <= MAX_RESULT_BYTES:
                    break
                total -= sum(col.nbytes for col in old.rendered or [])
                old.rendered = None  # re-read from S3 on demand (see result_rows)

    # ----------------------------------------------------------------- results

    def result_rows(self, query_id: str) -> tuple[QueryExecution, list[pa.Array]]:
        """A finished query's columns and rendered values (for GetQueryResults)."""
        execution = self.execution(query_id)
        if execution.state in ("QUEUED", "RUNNING"):
            raise AthenaApiError("InvalidRequestException",
                                 f"Query has not yet finished. Current state: {execution.state}")
        if execution.state != "SUCCEEDED":
            raise AthenaApiError("InvalidRequestException",
                                 f"Query did not finish successfully. Final query state: {execution.state}. "
                                 f"{execution.reason or ''}".strip())
        rendered = execution.rendered
        if rendered is None:
            rendered = self._reload(execution)
        return execution, rendered

    def _reload(self, execution: QueryExecution) -> list[pa.Array]:
        """Read a result back from its S3 file (results no longer held in memory)."""
        import io

        import pyarrow.csv as pacsv

        names = [c["Name"] for c in execution.columns]
        if not execution.output_location or not names:
            return []
        bucket, key = split_s3_uri(execution.output_location)
        try:
            data = ObjectStore().get(bucket, key)
        except KeyError:
            raise AthenaApiError("InvalidRequestException", f"Unable to read the query result file "
                                 f"{execution.output_location}: it was deleted") from None
        if execution.output_location.endswith(".csv"):
            table = pacsv.read_csv(io.BytesIO(data), read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=1), convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, quoted_strings_can_be_null=False,
                strings_can_be_null=True, null_values=[""]))
            return [col.combine_chunks() for col in table.columns]
        rows = [line.split("\t") for line in data.decode().splitlines()]
        return [pa.array([r[i] if i < len(r) else None for r in rows], pa.string())
                for i in range(len(names))]

    # ------------------------------------------------------------ named queries

    def create_named_query(self, body: dict[str, Any]) -> str:
        """Save a named query; return its id."""
        query_id = str(uuid.uuid4())
        self.named_queries[query_id] = {
            "Name": body["Name"], "Description": body.get("Description", ""), "Database": body["Database"],
            "QueryString": body["QueryString"], "NamedQueryId": query_id,
            "WorkGroup": body.get("WorkGroup", "primary")}
        return query_id

    def named_query(self, query_id: str) -> dict[str, Any]:
        """A saved named query."""
        try:
            return self.named_queries[query_id]
        except KeyError:
            raise AthenaApiError("InvalidRequestException", f"NamedQuery {query_id} was not found") from None


def encode_token(kind: str, offset: int) -> str:
    """An opaque NextToken."""
    return base64.urlsafe_b64encode(f"{kind}:{offset}".encode()).decode()


def decode_token(token: str | None, kind: str) -> int:
    """The offset inside a NextToken (0 when absent)."""
    if not token:
        return 0
    try:
        got_kind, offset = base64.urlsafe_b64decode(token.encode()).decode().rsplit(":", 1)
        if got_kind != kind:
            raise ValueError(kind)
        return int(offset)
    except (ValueError, UnicodeDecodeError):
        raise AthenaApiError("InvalidRequestException", "The NextToken is not valid") from None


_BACKENDS: dict[str, AthenaBackend] = {}
_BACKENDS_LOCK = threading.Lock()


def athena_backend(region: str | None = None) -> AthenaBackend:
    """The (process-wide) Athena backend of a region."""
    region = region or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    with _BACKENDS_LOCK:
        if region not in _BACKENDS:
            _BACKENDS[region] = AthenaBackend(region)
        return _BACKENDS[region]
