"""Athena's query execution: executions, their history, prepared statements (moto's ``models.py`` role).

A query execution lives as on AWS: StartQueryExecution queues it (QUEUED), a
worker thread runs it (RUNNING) through :class:`~utils.cloud.athena.engine.AthenaEngine`,
writes its results to S3 exactly where and how Athena writes them, and ends it
SUCCEEDED, FAILED (with Athena's StateChangeReason) or CANCELLED.

Files written to the query result location (``<out>`` = the OutputLocation):

- SELECT: ``<out>/<id>.csv`` and ``<out>/<id>.csv.metadata``
- DDL and utility statements (SHOW, DESCRIBE...): ``<out>/<id>.txt`` (+ ``.metadata``)
- CTAS, INSERT INTO, UNLOAD: ``<out>/<id>-manifest.csv`` (the data files written,
  one per line; ``DataManifestLocation``) and ``<out>/<id>.metadata``

Result files are written as the rows stream out of the engine, to a local file
that becomes the S3 object at the query's commit point; GetQueryResults reads one
page of that object at a time (its NextToken holds the byte offset). So no result,
however large, is held in memory, and a stopped query leaves no file behind.

StopQueryExecution ends a running query at once: its state becomes CANCELLED, its
DuckDB work is interrupted and the worker drops what it was writing. A query that
has reached its commit point (publishing its files) finishes instead.

Query history and prepared statements are durable through :mod:`utils.cloud.persistence`
(plain data; result files are S3 objects). Workgroups, named queries, tags and data
catalogs are moto's (:mod:`utils.cloud.athena.moto_athena`, saved with moto's backends);
a query reads its workgroup's settings from there when it starts.

One deliberate difference from AWS, for latency: GetQueryExecution on a query
still running waits up to :data:`STATUS_WAIT_S` for it to finish before
answering. Clients poll every second (awswrangler, PyAthena), so without this a
0.05 s query would take a full second to be seen as done. Longer queries still
show QUEUED/RUNNING.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import itertools
import os
import random
import shutil
import string
import sys
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from utils.cloud import persistence
from utils.cloud.athena import moto_athena, prepared, results
from utils.cloud.athena.engine import AthenaEngine, ParsedStatement, parse_at_start
from utils.cloud.athena.errors import SYSTEM_ERROR, AthenaQueryError, QueryCancelled
from utils.cloud.athena.objects import open_object, put_file, spool_file
from utils.cloud.athena.statement import HashingFile, QueryContext, StatementResult
from utils.cloud.backends import NoSuchBucket, ObjectStore, split_s3_uri
from utils.config import LOCAL_ACCOUNT_ID

STATUS_WAIT_S = float(os.environ.get("DELAB_ATHENA_STATUS_WAIT_S", "2.0"))
# History kept (newest): at most this many executions and this much query text.
MAX_HISTORY = 5000
MAX_HISTORY_TEXT_BYTES = 64 * 2**20
# Athena's limit on QueryString (bytes).
MAX_QUERY_BYTES = 262_144
ENGINE_VERSION = moto_athena.ENGINE_VERSION
FINAL_STATES = ("SUCCEEDED", "FAILED", "CANCELLED")
NAME_OK = prepared.NAME_PATTERN.fullmatch
# ResultConfiguration's members besides OutputLocation (echoed in GetQueryExecution).
RESULT_SETTINGS = moto_athena.RESULT_SETTINGS


class AthenaApiError(Exception):
    """A request Athena refuses (becomes the API error ``code``; ``athena_code`` its AthenaErrorCode)."""

    def __init__(self, code: str, message: str, athena_code: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.athena_code = athena_code


def _now() -> datetime:
    return datetime.now(UTC)


def _millis(start: float, end: float) -> int:
    return max(0, int(round((end - start) * 1000)))


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
    output_kind: str = "csv"  # csv, txt, or the kind of a statement that writes data (no result file)
    header_row: bool = True
    reused: bool = False
    # ResultConfiguration's settings besides OutputLocation (encryption...), echoed.
    result_settings: dict[str, Any] = field(default_factory=dict)
    # The workgroup's ManagedQueryResultsConfiguration: results kept by Athena, no OutputLocation.
    managed: dict[str, Any] | None = None
    reuse: dict[str, Any] | None = None  # ResultReuseConfiguration as requested
    cancel_requested: bool = False
    committing: bool = False
    cursor: Any = None
    # What the parse stage made of the query at StartQueryExecution (dropped once it has run).
    parsed: ParsedStatement | None = None
    done: threading.Event = field(default_factory=threading.Event)
    # A finished execution's durable form (it no longer changes).
    snapshot: dict[str, Any] | None = None

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

    def result_configuration(self) -> dict[str, Any]:
        """The ``ResultConfiguration`` document (no OutputLocation with managed results)."""
        doc: dict[str, Any] = {}
        if self.output_location and self.managed is None:
            doc["OutputLocation"] = self.output_location
        doc.update(self.result_settings)
        return doc

    def describe(self) -> dict[str, Any]:
        """The ``QueryExecution`` document."""
        status: dict[str, Any] = {"State": self.state, "SubmissionDateTime": self.submitted}
        if self.completed is not None:
            status["CompletionDateTime"] = self.completed
        if self.reason:
            status["StateChangeReason"] = self.reason
        if self.error is not None:
            status["AthenaError"] = {"ErrorCategory": self.error.category, "ErrorType": self.error.error_type,
                                     "Retryable": False, "ErrorMessage": self.error.reason}
        doc: dict[str, Any] = {
            "QueryExecutionId": self.id,
            "Query": self.query,
            "StatementType": self.statement_type,
            "ResultConfiguration": self.result_configuration(),
            "ResultReuseConfiguration": self.reuse or {"ResultReuseByAgeConfiguration": {"Enabled": False}},
            "QueryExecutionContext": {"Database": self.database, "Catalog": self.catalog},
            "Status": status,
            "Statistics": self.statistics(),
            "WorkGroup": self.workgroup,
            "EngineVersion": ENGINE_VERSION,
        }
        if self.managed is not None:
            doc["ManagedQueryResultsConfiguration"] = self.managed
        if self.substatement_type:
            doc["SubstatementType"] = self.substatement_type
        if self.parameters:
            doc["ExecutionParameters"] = self.parameters
        return doc


_TRANSIENT = ("cursor", "parsed", "done", "snapshot", "error", "cancel_requested", "committing",
              "submitted_clock", "started_clock", "engine_done_clock", "completed_clock")


def _execution_state(execution: QueryExecution) -> dict[str, Any]:
    """An execution as plain data (clocks become durations; the error its fields)."""
    state = {f.name: getattr(execution, f.name) for f in dataclasses.fields(execution)
             if f.name not in _TRANSIENT}
    stats = execution.statistics()
    state["timings_ms"] = (stats["TotalExecutionTimeInMillis"], stats["QueryQueueTimeInMillis"],
                           stats["ServiceProcessingTimeInMillis"])
    err = execution.error
    state["error"] = None if err is None else (err.name, err.message, err.line, err.column, err.category,
                                               err.error_type)
    return state


def _execution_from_state(state: dict[str, Any]) -> QueryExecution:
    """The inverse of :func:`_execution_state`; an execution that was running when the cloud
    stopped comes back FAILED (it cannot resume)."""
    known = {f.name for f in dataclasses.fields(QueryExecution)}
    execution = QueryExecution(**{k: v for k, v in state.items() if k in known and k not in _TRANSIENT})
    total, queued, service = state.get("timings_ms") or (0, 0, 0)
    execution.submitted_clock = 0.0
    execution.started_clock = queued / 1000
    execution.completed_clock = total / 1000
    execution.engine_done_clock = (total - service) / 1000
    if state.get("error"):
        name, message, line, column, category, error_type = state["error"]
        execution.error = AthenaQueryError(name, message, line, column, category, error_type)
    if execution.state not in FINAL_STATES:
        execution.error = AthenaQueryError(
            "INTERNAL_ERROR_QUERY_ENGINE", "The local cloud stopped while this query was running; run it "
            "again", category=SYSTEM_ERROR)
        execution.state, execution.reason = "FAILED", execution.error.reason
        execution.completed = execution.completed or execution.submitted
    execution.done.set()
    return execution


def _reuse_minutes(reuse: dict[str, Any] | None) -> int | None:
    """MaxAgeInMinutes of an enabled ResultReuseConfiguration (None: no reuse)."""
    by_age = (reuse or {}).get("ResultReuseByAgeConfiguration") or {}
    if not by_age.get("Enabled"):
        return None
    minutes = by_age.get("MaxAgeInMinutes", 60)
    if not isinstance(minutes, int) or not 0 <= minutes <= 10080:
        raise AthenaApiError("InvalidRequestException", f"1 validation error detected: Value '{minutes}' "
                             "at 'resultReuseConfiguration.resultReuseByAgeConfiguration.maxAgeInMinutes' "
                             "failed to satisfy constraint: Member must have value between 0 and 10080")
    return minutes


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
    """The local Athena's query execution: executions, their history, prepared statements.

    Workgroups, named queries, tags and data catalogs are moto's
    (:mod:`utils.cloud.athena.moto_athena`); a query reads its workgroup's settings there
    when it starts.
    """

    def __init__(self, region: str = "us-east-1", account_id: str = LOCAL_ACCOUNT_ID) -> None:
        self.region = region
        self.account_id = account_id
        self.engine = AthenaEngine(region)
        self.executions: OrderedDict[str, QueryExecution] = OrderedDict()
        self.tokens: dict[str, str] = {}
        # workgroup -> statement name -> PreparedStatement document
        self.prepared: dict[str, dict[str, dict[str, Any]]] = {}
        # workgroup -> the CreationTime of the workgroup its statements belong to (None: not known)
        self.prepared_for: dict[str, float | None] = {}
        self._lock = threading.RLock()
        self._sequence = itertools.count(1)
        self._history_text = 0
        workers = int(os.environ.get("DELAB_ATHENA_WORKERS", "4"))
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="athena-query")

    # ------------------------------------------------- workgroups (moto's)

    def workgroup(self, name: str | None) -> moto_athena.WorkGroupSettings:
        """A workgroup's settings as moto holds them (``primary`` when None)."""
        try:
            return moto_athena.workgroup(self.region, name, self.account_id)
        except moto_athena.InvalidRequest as err:
            raise AthenaApiError("InvalidRequestException", err.message) from None

    def named_query(self, query_id: str) -> dict[str, Any]:
        """A named query as GetNamedQuery describes it (moto keeps them)."""
        try:
            query = moto_athena.backend(self.region, self.account_id).get_named_query(query_id)
        except moto_athena.InvalidRequest as err:
            raise AthenaApiError("InvalidRequestException", err.message) from None
        return moto_athena.named_query_document(query)

    # ----------------------------------------------------------- executions

    def start_query_execution(self, query: str, database: str | None, catalog: str | None,
                              output_location: str | None, workgroup: str | None,
                              parameters: list[str] | None, token: str | None,
                              result_settings: dict[str, Any] | None = None,
                              reuse: dict[str, Any] | None = None) -> str:
        """Queue a query (or answer it with a previous result it may reuse); return its id."""
        if not query or not query.strip():
            raise AthenaApiError("InvalidRequestException", "QueryString must not be empty")
        if len(query.encode()) > MAX_QUERY_BYTES:
            raise AthenaApiError("InvalidRequestException",
                                 "1 validation error detected: Value at 'queryString' failed to satisfy "
                                 f"constraint: Member must have length less than or equal to "
                                 f"{MAX_QUERY_BYTES}")
        group = self.workgroup(workgroup)
        if group.state != "ENABLED":
            raise AthenaApiError("InvalidRequestException", f"WorkGroup {group.name} is disabled.")
        max_age = _reuse_minutes(reuse)
        with self._lock:
            if token and token in self.tokens:
                return self.tokens[token]
        client_settings = {k: v for k, v in (result_settings or {}).items() if k in RESULT_SETTINGS and v}
        settings = group.result_settings if group.enforce else {**group.result_settings, **client_settings}
        managed = group.managed
        if managed is not None:
            if output_location and not group.enforce:
                raise AthenaApiError(
                    "InvalidRequestException", f"WorkGroup {group.name} uses managed query results: do "
                    "not pass ResultConfiguration.OutputLocation (Athena keeps the results).")
            output_location = None
        else:
            if group.enforce and group.output_location:
                output_location = group.output_location
            output_location = output_location or group.output_location
            if not output_location:
                raise AthenaApiError(
                    "InvalidRequestException",
                    "No output location provided. An output location is required either through the "
                    "Workgroup result configuration setting or as an API input.")
            if not output_location.startswith("s3://"):
                raise AthenaApiError("InvalidRequestException",
                                     f"Invalid OutputLocation {output_location!r}: expected s3://bucket/prefix/")
        parsed = self._parse(query)  # a statement that does not parse is refused here, as on AWS
        statement_type, substatement = _statement_type(query)
        execution = QueryExecution(
            id=str(uuid.uuid4()), query=query, database=database or "default",
            catalog=catalog or "AwsDataCatalog", workgroup=group.name,
            result_base=output_location.rstrip("/") if output_location else None, parameters=parameters,
            engine_query_id=self._engine_query_id(), statement_type=statement_type,
            substatement_type=substatement, result_settings=settings, managed=managed, reuse=reuse,
            parsed=parsed)
        with self._lock:
            previous = self._reusable(execution, max_age) if max_age is not None else None
            if previous is not None:
                self._reuse(execution, previous)
            self._remember(execution, token)
        # Known after a crash too: a query cut by a kill -9 comes back FAILED, never "not found".
        persistence.changed(PERSISTENCE_NAME, wait=previous is not None)
        if previous is None:
            self._pool.submit(self._run, execution)
        return execution.id

    @staticmethod
    def _parse(query: str) -> ParsedStatement | None:
        """Athena's parse stage, at StartQueryExecution (:func:`~.engine.parse_at_start`): a
        statement that does not parse in Trino's grammar is refused with InvalidRequestException
        ``line L:C: ...`` (AthenaErrorCode MALFORMED_QUERY) and no query is made."""
        try:
            return parse_at_start(query)
        except AthenaQueryError as err:
            raise AthenaApiError("InvalidRequestException", f"line {err.line or 1}:{err.column or 1}: "
                                 f"{err.message}", athena_code="MALFORMED_QUERY") from None

    def _reusable(self, execution: QueryExecution, max_age_minutes: int) -> QueryExecution | None:
        """The newest earlier result this SELECT may reuse (Athena's query result reuse): the same
        query text, catalog, database and parameters, succeeded within ``max_age_minutes``, its
        result file still there. Called under the lock."""
        if execution.substatement_type != "SELECT" or execution.managed is not None:
            return None
        oldest = _now().timestamp() - max_age_minutes * 60
        for earlier in reversed(self.executions.values()):
            if earlier.completed is None or earlier.completed.timestamp() < oldest:
                continue
            if (earlier.state, earlier.output_kind, earlier.managed) != ("SUCCEEDED", "csv", None) or \
                    (earlier.query, earlier.catalog, earlier.database, earlier.parameters) != \
                    (execution.query, execution.catalog, execution.database, execution.parameters) or \
                    not earlier.output_location or not earlier.columns:
                continue
            bucket, key = split_s3_uri(earlier.output_location)
            try:
                open_object(ObjectStore(), bucket, key).close()
            except (KeyError, NoSuchBucket):
                continue  # its result file was deleted: run the query again
            return earlier
        return None

    @staticmethod
    def _reuse(execution: QueryExecution, previous: QueryExecution) -> None:
        """Finish ``execution`` at once with ``previous``'s result (nothing scanned, no new file)."""
        for name in ("statement_type", "substatement_type", "output_location", "columns", "output_kind",
                     "header_row", "output_rows", "output_bytes", "engine_query_id"):
            setattr(execution, name, getattr(previous, name))
        execution.reused = True
        execution.state = "SUCCEEDED"
        execution.completed = _now()
        now = time.perf_counter()
        execution.started_clock = execution.engine_done_clock = execution.completed_clock = now
        execution.snapshot = _execution_state(execution)
        execution.done.set()

    def _remember(self, execution: QueryExecution, token: str | None) -> None:
        """Add to the history, forgetting the oldest finished executions beyond its bounds."""
        self.executions[execution.id] = execution
        self._history_text += len(execution.query)
        if token:
            self.tokens[token] = execution.id
        while len(self.executions) > MAX_HISTORY or self._history_text > MAX_HISTORY_TEXT_BYTES:
            oldest = next(iter(self.executions.values()))
            if oldest is execution:
                break
            self._forget(oldest)

    def _forget(self, execution: QueryExecution) -> None:
        self.executions.pop(execution.id, None)
        self._history_text -= len(execution.query)
        for token in [t for t, query_id in self.tokens.items() if query_id == execution.id]:
            del self.tokens[token]

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
        """Cancel a queued or running query at once (a finished or committing one is left to finish).

        The state is CANCELLED when this returns; the worker, interrupted, drops what
        the query was writing (nothing of it was published yet).
        """
        execution = self.execution(query_id)
        with self._lock:
            if execution.state in FINAL_STATES or execution.committing:
                return
            execution.cancel_requested = True
            cursor = execution.cursor
        if cursor is not None:
            with contextlib.suppress(duckdb.Error, RuntimeError):
                cursor.interrupt()
        self._finish(execution, "CANCELLED", "Query cancelled by user")

    def list_query_executions(self, workgroup: str | None) -> list[str]:
        """Ids of the workgroup's executions, newest first."""
        name = self.workgroup(workgroup).name
        with self._lock:
            executions = list(self.executions.values())
        return [e.id for e in reversed(executions) if e.workgroup == name]

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

        def commit() -> None:
            with self._lock:
                if execution.cancel_requested:
                    raise QueryCancelled(execution.id)
                execution.committing = True

        ctx = QueryContext(query_id=execution.id, database=execution.database, catalog=execution.catalog,
                           output_location=execution.result_base, parameters=execution.parameters,
                           engine_query_id=execution.engine_query_id, on_cursor=remember_cursor,
                           cancelled=lambda: execution.cancel_requested, commit=commit)
        started = time.perf_counter()
        result: StatementResult | None = None
        try:
            store = ObjectStore()
            if execution.managed is None:
                self._check_output_bucket(store, execution.result_base or "")
            result = self._execute(execution, ctx)
            self._write_results(store, execution, result, ctx, started)
        except AthenaQueryError as err:
            self._finish(execution, "FAILED", err.reason, err)
            return
        except (QueryCancelled, duckdb.InterruptException):
            self._finish(execution, "CANCELLED", "Query cancelled by user")
            return
        except Exception as exc:  # a bug of ours: fail the query, say what happened
            if execution.cancel_requested:  # a failure caused by the interruption
                self._finish(execution, "CANCELLED", "Query cancelled by user")
                return
            err = AthenaQueryError("GENERIC_INTERNAL_ERROR", f"{type(exc).__name__}: {exc}",
                                   category=SYSTEM_ERROR)
            print(f"local Athena: query {execution.id} failed: {exc!r}", file=sys.stderr, flush=True)
            self._finish(execution, "FAILED", err.reason, err)
            return
        finally:
            execution.cursor = None
            if result is not None and result.stream is not None:
                result.stream.close()  # already closed unless writing the results failed early
        self._finish(execution, "SUCCEEDED", None)

    def _execute(self, execution: QueryExecution, ctx: QueryContext) -> StatementResult:
        """Run the query: PREPARE / DEALLOCATE PREPARE here, EXECUTE as its prepared statement
        with the USING values (or the ExecutionParameters), anything else in the engine."""
        statement = prepared.parse(execution.query)
        if statement is None:
            parsed, execution.parsed = execution.parsed, None
            return self.engine.execute(execution.query, ctx, parsed)
        if statement.kind == "EXECUTE":
            with self._lock:
                doc = self._find_prepared(execution.workgroup, statement.name)
            if doc is None:
                raise prepared.not_found(statement.name)
            if statement.using is not None:
                ctx.parameters = statement.using
            return self.engine.execute(doc["QueryStatement"], ctx)
        ctx.commit()
        if statement.kind == "PREPARE":
            try:
                self.put_prepared_statement(execution.workgroup, statement.name, statement.body, None,
                                            create=None)
            except AthenaApiError as err:
                raise AthenaQueryError("GENERIC_USER_ERROR", err.message, 1, 1) from None
        else:
            with self._lock:
                doc = self._find_prepared(execution.workgroup, statement.name)
            if doc is None:
                raise prepared.not_found(statement.name)
            self.delete_prepared_statement(execution.workgroup, doc["StatementName"])
        return StatementResult("UTILITY", statement.kind if statement.kind == "PREPARE" else "DEALLOCATE",
                               output="txt")

    def _statements(self, workgroup: str | None) -> tuple[str, dict[str, dict[str, Any]]]:
        """(name, prepared statements) of a workgroup. Statements belong to one workgroup: when it
        was deleted (in moto) and made again, they went with the old one, as on AWS."""
        group = self.workgroup(workgroup)
        with self._lock:
            known = self.prepared_for.get(group.name)
            if known is not None and known != group.created:
                self.prepared.pop(group.name, None)
            self.prepared_for[group.name] = group.created
            return group.name, self.prepared.setdefault(group.name, {})

    def _find_prepared(self, workgroup: str, name: str) -> dict[str, Any] | None:
        """A workgroup's prepared statement by its name in SQL (exact, else case-insensitive)."""
        statements = self._statements(workgroup)[1]
        if name in statements:
            return statements[name]
        matches = [doc for key, doc in statements.items() if key.lower() == name.lower()]
        return matches[0] if len(matches) == 1 else None

    @staticmethod
    def _check_output_bucket(store: ObjectStore, base: str) -> None:
        bucket, _ = split_s3_uri(base)
        if not store.bucket_exists(bucket):
            raise AthenaQueryError(
                "HIVE_PATH_NOT_FOUND", f"Unable to verify/create output bucket {bucket}. Create the bucket "
                "or set another query result location.")

    def _finish(self, execution: QueryExecution, state: str, reason: str | None,
                error: AthenaQueryError | None = None) -> None:
        with self._lock:
            if execution.state in FINAL_STATES:
                return  # e.g. stopped: the worker's own ending comes too late
            execution.state = state
            execution.reason = reason
            execution.error = error
            execution.completed = _now()
            execution.completed_clock = time.perf_counter()
            if execution.engine_done_clock is None:
                execution.engine_done_clock = execution.completed_clock
            execution.snapshot = _execution_state(execution)
        try:
            persistence.changed(PERSISTENCE_NAME)  # durable before anyone is told it ended
        finally:
            execution.done.set()

    def _write_results(self, store: ObjectStore, execution: QueryExecution, result: StatementResult,
                       ctx: QueryContext, started: float) -> None:
        """Write the result files where Athena writes them, and record what GetQueryExecution reports.

        A SELECT's rows stream into a local file (rendered batch by batch), which
        becomes the ``.csv`` object at the commit point.
        """
        put_path, put_bytes, location = self._result_sink(store, execution)
        execution.statement_type = result.statement_type
        execution.substatement_type = result.substatement_type
        execution.columns = result.columns
        execution.output_kind = result.output
        metadata = results.metadata_bytes(execution.engine_query_id, result.columns)
        if result.stream is not None:
            path, sink = self._spool_csv(execution, result)
            execution.engine_done_clock = time.perf_counter()
            execution.engine_ms = int((execution.engine_done_clock - started) * 1000)
            try:
                ctx.commit()
                put_path(".csv", path, sink.md5.hexdigest())
            finally:
                path.unlink(missing_ok=True)
            put_bytes(".csv.metadata", metadata)
            execution.output_location = location(".csv")
            execution.header_row = True
            execution.output_bytes = sink.size
            execution.output_rows = result.stream.rows
        else:
            execution.engine_done_clock = time.perf_counter()
            execution.engine_ms = result.engine_ms
            ctx.commit()
            if result.output == "txt":
                rows = [[str(v) if v is not None else "" for v in row.values()]
                        for row in result.table.to_pylist()] if result.table is not None else []
                data = results.text_bytes(rows)
                put_bytes(".txt", data)
                put_bytes(".txt.metadata", metadata)
                execution.output_location = location(".txt")
                execution.header_row = False
                execution.output_rows = len(rows)
            else:  # ctas, unload, insert: a data manifest lists the files written
                data = "".join(f"{uri}\n" for uri in result.data_files).encode()
                put_bytes("-manifest.csv", data)
                put_bytes(".metadata", metadata)
                execution.output_location = location("")
                if execution.managed is None:
                    execution.manifest_location = location("-manifest.csv")
                execution.header_row = False
                execution.update_count = result.table["rows"][0].as_py() if result.table is not None else 0
                execution.output_rows = 1 if result.table is not None else 0
            execution.output_bytes = len(data)
        execution.bytes_scanned = result.bytes_scanned
        execution.rows_read = result.rows_read
        execution.planning_ms = result.planning_ms

    def _result_sink(self, store: ObjectStore, execution: QueryExecution) -> tuple[
            Callable[[str, Path, str], None], Callable[[str, bytes], None], Callable[[str], str]]:
        """Where a query's result files go: (put a finished local file, put bytes, the location of
        a file), each by its suffix (``.csv``...). Under the OutputLocation, or, with managed
        query results, in Athena's own storage (local files no S3 request can see)."""
        if execution.managed is not None:
            folder = managed_results_dir(self.engine.work_dir)

            def put_managed(suffix: str, path: Path, _md5: str) -> None:
                target = folder / f"{execution.id}{suffix}"
                shutil.move(path, target.with_name(target.name + ".tmp"))
                os.replace(target.with_name(target.name + ".tmp"), target)

            def put_managed_bytes(suffix: str, data: bytes) -> None:
                target = folder / f"{execution.id}{suffix}"
                target.with_name(target.name + ".tmp").write_bytes(data)
                os.replace(target.with_name(target.name + ".tmp"), target)

            return put_managed, put_managed_bytes, lambda suffix: str(folder / f"{execution.id}{suffix}")
        bucket, prefix = split_s3_uri(execution.result_base or "")
        key_base = f"{prefix}/{execution.id}" if prefix else execution.id
        return (lambda suffix, path, md5: put_file(store, bucket, f"{key_base}{suffix}", path, md5),
                lambda suffix, data: store.put(bucket, f"{key_base}{suffix}", data),
                lambda suffix: f"s3://{bucket}/{key_base}{suffix}")

    def _spool_csv(self, execution: QueryExecution, result: StatementResult) -> tuple[Any, HashingFile]:
        """Render a SELECT's rows, batch by batch, into a local ``.csv`` file (removed on failure)."""
        stream = result.stream
        assert stream is not None
        path, handle = spool_file(self.engine.spool_dir, ".csv")
        sink = HashingFile(handle)
        try:
            with stream:
                sink.write(results.csv_header([c["Name"] for c in result.columns]))
                for batch in stream:
                    sink.write(results.csv_lines(results.render_table(batch)))
            sink.close()
        except BaseException:
            sink.close()
            path.unlink(missing_ok=True)
            raise
        return path, sink

    # ----------------------------------------------------------------- results

    def result_page(self, query_id: str, token: str | None,
                    max_rows: int) -> tuple[QueryExecution, list[list[str | None]], str | None]:
        """One page of a finished query's rows (GetQueryResults), read from its result file.

        The NextToken holds the byte offset where the next page starts, so a page
        costs the same at the start of a result as deep inside a large one.
        """
        execution = self.execution(query_id)
        if execution.state in ("QUEUED", "RUNNING"):
            raise AthenaApiError("InvalidRequestException",
                                 f"Query has not yet finished. Current state: {execution.state}")
        if execution.state != "SUCCEEDED":
            raise AthenaApiError("InvalidRequestException",
                                 f"Query did not finish successfully. Final query state: {execution.state}. "
                                 f"{execution.reason or ''}".strip())
        offset = decode_token(token, execution.id)
        if execution.output_kind not in ("csv", "txt"):
            # CTAS, INSERT, UNLOAD: no result file; the row count written, as one row.
            rows: list[list[str | None]] = [[str(execution.update_count)]] if execution.output_rows else []
            return execution, rows[offset:offset + max_rows], None
        if not execution.output_location or not execution.columns:
            return execution, [], None
        try:
            if execution.managed is not None:
                body: Any = open(execution.output_location, "rb")  # noqa: SIM115 - closed below
            else:
                bucket, key = split_s3_uri(execution.output_location)
                body = open_object(ObjectStore(), bucket, key)
        except (KeyError, NoSuchBucket, FileNotFoundError):
            where = "managed query results expire after 24 hours" if execution.managed is not None \
                else f"{execution.output_location} was deleted"
            raise AthenaApiError("InvalidRequestException", f"Unable to read the query result file: "
                                 f"{where}. Run the query again.") from None
        with body:
            page, next_offset = results.read_rows(body, offset, max_rows, execution.output_kind == "csv",
                                                  len(execution.columns))
        more = next_offset < execution.output_bytes
        return execution, page, encode_token(execution.id, next_offset) if more and page else None

    # ------------------------------------------------------- prepared statements

    def put_prepared_statement(self, workgroup: str, name: str, query: str, description: str | None,
                               create: bool | None) -> None:
        """Create (``create`` True), update (False: must exist) or set (None) a prepared statement."""
        group, statements = self._statements(workgroup)
        if not NAME_OK(name):
            raise AthenaApiError("InvalidRequestException", f"Invalid StatementName {name!r}: use 1-256 "
                                 "letters, digits, '_', '@' or ':'")
        if not query or not query.strip():
            raise AthenaApiError("InvalidRequestException", "QueryStatement must not be empty")
        with self._lock:
            if create and name in statements:
                raise AthenaApiError("InvalidRequestException",
                                     f"Prepared statement {name} already exists in WorkGroup {group}")
            if create is False and name not in statements:
                raise AthenaApiError("ResourceNotFoundException",
                                     f"Prepared statement {name} was not found in WorkGroup {group}")
            statements[name] = prepared.document(group, name, query, description)
        persistence.changed(PERSISTENCE_NAME)

    def prepared_statement(self, workgroup: str, name: str) -> dict[str, Any]:
        """A prepared statement (ResourceNotFoundException when the workgroup has none by that name)."""
        group, statements = self._statements(workgroup)
        with self._lock:
            doc = statements.get(name)
        if doc is None:
            raise AthenaApiError("ResourceNotFoundException",
                                 f"Prepared statement {name} was not found in WorkGroup {group}")
        return doc

    def delete_prepared_statement(self, workgroup: str, name: str) -> None:
        """Delete a prepared statement."""
        group = self.prepared_statement(workgroup, name)["WorkGroupName"]
        with self._lock:
            (self.prepared.get(group) or {}).pop(name, None)
        persistence.changed(PERSISTENCE_NAME)

    def prepared_statements(self, workgroup: str) -> list[dict[str, Any]]:
        """A workgroup's prepared statements, by name."""
        statements = self._statements(workgroup)[1]
        with self._lock:
            return [doc for _, doc in sorted(statements.items())]

    # ------------------------------------------------------------- durability

    def snapshot(self) -> dict[str, Any]:
        """Prepared statements and query history as plain data (workgroups and named queries
        are moto's, saved with its backends)."""
        with self._lock:
            executions = [e.snapshot or _execution_state(e) for e in self.executions.values()]
            return {"prepared": [dict(doc) for group in self.prepared.values() for doc in group.values()],
                    "prepared_for": dict(self.prepared_for), "executions": executions,
                    "tokens": dict(self.tokens)}

    def restore(self, state: dict[str, Any]) -> None:
        """Put back a :meth:`snapshot` (the history before what this process ran)."""
        self._adopt_legacy_resources(state)
        with self._lock:
            for item in state.get("prepared") or []:
                self.prepared.setdefault(item["WorkGroupName"], {})[item["StatementName"]] = dict(item)
            for group in self.prepared:  # an older snapshot does not say: they are the workgroup's
                self.prepared_for.setdefault(group, (state.get("prepared_for") or {}).get(group))
            current = list(self.executions.values())
            self.executions.clear()
            self._history_text = 0
            for item in state.get("executions") or []:
                execution = _execution_from_state(item)
                execution.snapshot = _execution_state(execution)
                self._remember(execution, None)
            for execution in current:
                self._remember(execution, None)
            for token, query_id in (state.get("tokens") or {}).items():
                if query_id in self.executions:
                    self.tokens.setdefault(token, query_id)


    def _adopt_legacy_resources(self, state: dict[str, Any]) -> None:
        """Hand the workgroups and named queries an older cloud kept here to moto (once: the
        next snapshot no longer has them). What moto already has is left as it is."""
        groups, queries = state.get("workgroups") or [], state.get("named_queries") or []
        if not groups and not queries:
            return
        moto = moto_athena.backend(self.region, self.account_id)
        for item in groups:
            configuration = dict(item.get("extra") or {})
            result = dict(configuration.get("ResultConfiguration") or {})
            result.pop("OutputLocation", None)
            if item.get("output_location"):
                result["OutputLocation"] = item["output_location"]
            configuration["ResultConfiguration"] = result
            configuration["EnforceWorkGroupConfiguration"] = bool(item.get("enforce", True))
            existing = moto.work_groups.get(item["name"])
            if existing is not None:
                # moto makes primary; an older cloud's output location for it is kept, unless
                # primary already has one of its own.
                if existing.name == moto_athena.PRIMARY and \
                        not existing.configuration["ResultConfiguration"].get("OutputLocation"):
                    existing.configuration.update(configuration)
                continue
            tags = [{"Key": k, "Value": v} for k, v in (item.get("tags") or {}).items()]
            with contextlib.suppress(moto_athena.InvalidRequest):
                group = moto.create_work_group(item["name"], configuration, item.get("description", ""), tags)
                if group is not None:
                    group.state = item.get("state", "ENABLED")
                    if item.get("created"):
                        group.creation_time = item["created"].timestamp()
        for item in queries:
            moto.adopt_named_query(item)
        persistence.changed(moto_athena.PERSISTENCE_NAME, wait=False)
        persistence.changed(PERSISTENCE_NAME, wait=False)


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


# Athena keeps managed query results for 24 hours.
MANAGED_RESULTS_TTL_S = 24 * 3600
_MANAGED_PRUNED = [0.0]


def managed_results_dir(work_dir: Path) -> Path:
    """Athena's own storage for managed query results: the durable state's blob folder (or this
    process's work folder when nothing is persisted). Results older than 24 hours are removed."""
    folder = persistence.blob_dir("athena-managed-results")
    if folder is None:
        folder = work_dir / "managed-results"
        folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    if now - _MANAGED_PRUNED[0] > 3600:
        _MANAGED_PRUNED[0] = now
        for path in folder.iterdir():
            with contextlib.suppress(OSError):
                if now - path.stat().st_mtime > MANAGED_RESULTS_TTL_S:
                    path.unlink()
    return folder


_BACKENDS: dict[str, AthenaBackend] = {}
_BACKENDS_LOCK = threading.Lock()
# State restored before a region's backend exists (it is created on first use).
_PENDING: dict[str, dict[str, Any]] = {}
PERSISTENCE_NAME = "athena"


def athena_backend(region: str | None = None) -> AthenaBackend:
    """The (process-wide) Athena backend of a region."""
    region = region or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    with _BACKENDS_LOCK:
        if region not in _BACKENDS:
            backend = AthenaBackend(region)
            if region in _PENDING:
                backend.restore(_PENDING.pop(region))
            _BACKENDS[region] = backend
        return _BACKENDS[region]


def snapshot_state() -> dict[str, Any]:
    """Every region's Athena state as plain, picklable data (for :mod:`utils.cloud.persistence`)."""
    with _BACKENDS_LOCK:
        backends = dict(_BACKENDS)
        pending = dict(_PENDING)
    regions = {region: backend.snapshot() for region, backend in backends.items()}
    return {"version": 1, "regions": {**pending, **regions}}


def restore_state(state: dict[str, Any]) -> None:
    """Put back :func:`snapshot_state`'s data (a region's backend gets it when first used)."""
    for region, region_state in (state.get("regions") or {}).items():
        with _BACKENDS_LOCK:
            backend = _BACKENDS.get(region)
            if backend is None:
                _PENDING[region] = region_state
                continue
        backend.restore(region_state)


persistence.register(PERSISTENCE_NAME, snapshot_state, restore_state)
