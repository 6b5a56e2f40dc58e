"""Athena's JSON wire protocol over :mod:`utils.cloud.athena.models` (moto's ``responses.py`` role).

:func:`handle` receives an operation name (``StartQueryExecution``...) and the
decoded request body and returns the response body; failures become
``ServiceError`` so the server answers in AWS's error shape.

Only what executes is answered here: query executions, prepared statements (EXECUTE
runs them) and the Glue catalog's metadata (ListDatabases, GetTableMetadata... read
the catalog queries run over). Workgroups, named queries, tags and data catalogs are
moto's (``utils/cloud/urls.py`` sends them there; :mod:`utils.cloud.athena.moto_athena`).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

from utils.cloud.athena.models import (
    AthenaApiError,
    AthenaBackend,
    athena_backend,
    decode_token,
    encode_token,
)
from utils.cloud.backends import GlueCatalog
from utils.cloud.exceptions import ServiceError

DATA_CATALOG = "AwsDataCatalog"


def _int(body: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = body.get(key, default)
    if not isinstance(value, int) or not low <= value <= high:
        raise AthenaApiError("InvalidRequestException",
                             f"1 validation error detected: Value '{value}' at '{key[0].lower() + key[1:]}' "
                             f"failed to satisfy constraint: Member must have value between {low} and {high}")
    return value


def _page(items: list[Any], body: dict[str, Any], kind: str, default: int,
          high: int) -> tuple[list[Any], str | None]:
    size = _int(body, "MaxResults", default, 1, high)
    start = decode_token(body.get("NextToken"), kind)
    chunk = items[start:start + size]
    token = encode_token(kind, start + size) if start + size < len(items) else None
    return chunk, token


def _with_token(doc: dict[str, Any], token: str | None) -> dict[str, Any]:
    if token:
        doc["NextToken"] = token
    return doc


# ---------------------------------------------------------------- executions


def start_query_execution(backend: AthenaBackend, body: dict[str, Any]) -> dict[str, Any]:
    """StartQueryExecution."""
    context = body.get("QueryExecutionContext") or {}
    result_config = body.get("ResultConfiguration") or {}
    query_id = backend.start_query_execution(
        query=body.get("QueryString", ""), database=context.get("Database"), catalog=context.get("Catalog"),
        output_location=result_config.get("OutputLocation"), workgroup=body.get("WorkGroup"),
        parameters=body.get("ExecutionParameters"), token=body.get("ClientRequestToken"),
        result_settings=result_config, reuse=body.get("ResultReuseConfiguration"))
    return {"QueryExecutionId": query_id}


def get_query_execution(backend: AthenaBackend, body: dict[str, Any]) -> dict[str, Any]:
    """GetQueryExecution."""
    return {"QueryExecution": backend.get_query_execution(body["QueryExecutionId"]).describe()}


def batch_get_query_execution(backend: AthenaBackend, body: dict[str, Any]) -> dict[str, Any]:
    """BatchGetQueryExecution."""
    found, missing = [], []
    for query_id in body.get("QueryExecutionIds") or []:
        try:
            found.append(backend.get_query_execution(query_id, wait_s=0).describe())
        except AthenaApiError as err:
            missing.append({"QueryExecutionId": query_id, "ErrorCode": err.code, "ErrorMessage": err.message})
    return {"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing}


def list_query_executions(backend: AthenaBackend, body: dict[str, Any]) -> dict[str, Any]:
    """ListQueryExecutions (newest first)."""
    ids, token = _page(backend.list_query_executions(body.get("WorkGroup")), body, "executions", 50, 50)
    return _with_token({"QueryExecutionIds": ids}, token)


def stop_query_execution(backend: AthenaBackend, body: dict[str, Any]) -> dict[str, Any]:
    """StopQueryExecution."""
    backend.stop_query_execution(body["QueryExecutionId"])
    return {}


def get_query_results(backend: AthenaBackend, body: dict[str, Any]) -> dict[str, Any]:
    """GetQueryResults: the header row first (SELECT), then up to MaxResults rows a page."""
    size = _int(body, "MaxResults", 1000, 1, 1000)
    execution, rows, token = backend.result_page(body["QueryExecutionId"], body.get("NextToken"), size)
    doc: dict[str, Any] = {
        "UpdateCount": execution.update_count,
        "ResultSet": {"Rows": [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]}
                               for row in rows],
                      "ResultSetMetadata": {"ColumnInfo": execution.columns}},
    }
    return _with_token(doc, token)


def get_query_runtime_statistics(backend: AthenaBackend, body: dict[str, Any]) -> dict[str, Any]:
    """GetQueryRuntimeStatistics: the timeline and row/byte counts."""
    execution = backend.get_query_execution(body["QueryExecutionId"], wait_s=0)
    stats = execution.statistics()
    timeline = {k: stats[k] for k in ("QueryQueueTimeInMillis", "QueryPlanningTimeInMillis",
                                      "EngineExecutionTimeInMillis", "ServiceProcessingTimeInMillis",
                                      "TotalExecutionTimeInMillis", "ServicePreProcessingTimeInMillis")}
    rows = {"InputRows": execution.rows_read, "InputBytes": execution.bytes_scanned,
            "OutputBytes": execution.output_bytes, "OutputRows": execution.output_rows}
    return {"QueryRuntimeStatistics": {"Timeline": timeline, "Rows": rows}}


# ------------------------------------------------- the Glue catalog's metadata


def _catalog_name(body: dict[str, Any], key: str = "CatalogName") -> str:
    name = body.get(key) or DATA_CATALOG
    if name.lower() != DATA_CATALOG.lower():
        raise AthenaApiError("MetadataException", f"Catalog {name} is not found. The local cloud has one "
                             f"data catalog: {DATA_CATALOG}.")
    return DATA_CATALOG


def _database_doc(glue: GlueCatalog, name: str) -> dict[str, Any]:
    db = glue.backend.get_database(name)
    info = db.as_dict() if hasattr(db, "as_dict") else {}
    return {"Name": name, "Description": info.get("Description", ""),
            "Parameters": info.get("Parameters") or {}}


def list_databases(backend: AthenaBackend, body: dict[str, Any]) -> dict[str, Any]:
    """ListDatabases of the Glue catalog."""
    _catalog_name(body)
    glue = GlueCatalog(backend.region)
    docs = [_database_doc(glue, n) for n in sorted(glue.databases())]
    chunk, token = _page(docs, body, "databases", 50, 50)
    return _with_token({"DatabaseList": chunk}, token)


def _glue_database(backend: AthenaBackend, body: dict[str, Any]) -> tuple[GlueCatalog, str]:
    _catalog_name(body)
    glue = GlueCatalog(backend.region)
    name = body["DatabaseName"]
    if not glue.database_exists(name):
        raise AthenaApiError("MetadataException", f"Database {name} is not found.")
    return glue, name


def get_database(backend: AthenaBackend, body: dict[str, Any]) -> dict[str, Any]:
    """GetDatabase."""
    glue, name = _glue_database(backend, body)
    return {"Database": _database_doc(glue, name)}


def _table_metadata(table: dict[str, Any]) -> dict[str, Any]:
    storage = table.get("StorageDescriptor") or {}

    def columns(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        keys = ("Name", "Type", "Comment")
        return [{k: c[k] for k in keys if c.get(k) is not None} for c in items]

    parameters = dict(table.get("Parameters") or {})
    if storage.get("Location"):
        parameters.setdefault("location", storage["Location"])
    if storage.get("InputFormat"):
        parameters.setdefault("inputformat", storage["InputFormat"])
    serde = (storage.get("SerdeInfo") or {}).get("SerializationLibrary")
    if serde:
        parameters.setdefault("serde.serialization.lib", serde)
    doc = {"Name": table["Name"], "TableType": table.get("TableType", "EXTERNAL_TABLE"),
           "Columns": columns(storage.get("Columns") or []),
           "PartitionKeys": columns(table.get("PartitionKeys") or []), "Parameters": parameters}
    if table.get("CreateTime"):
        doc["CreateTime"] = table["CreateTime"]
    return doc


def list_table_metadata(backend: AthenaBackend, body: dict[str, Any]) -> dict[str, Any]:
    """ListTableMetadata (``Expression`` filters names with * wildcards)."""
    glue, name = _glue_database(backend, body)
    pattern = body.get("Expression")
    tables = sorted(glue.tables(name), key=lambda t: t["Name"])
    if pattern:
        tables = [t for t in tables if fnmatch.fnmatch(t["Name"], pattern.replace(".*", "*"))]
    chunk, token = _page([_table_metadata(t) for t in tables], body, "tables", 50, 50)
    return _with_token({"TableMetadataList": chunk}, token)


def get_table_metadata(backend: AthenaBackend, body: dict[str, Any]) -> dict[str, Any]:
    """GetTableMetadata."""
    glue, database = _glue_database(backend, body)
    table = glue.get_table(database, body["TableName"])
    if table is None:
        raise AthenaApiError("MetadataException",
                             f"Table {body['TableName']} not found in database {database}.")
    return {"TableMetadata": _table_metadata(table)}


# ------------------------------------------------------- prepared statements


def _prepared_workgroup(body: dict[str, Any]) -> str:
    return body.get("WorkGroup") or "primary"


def create_prepared_statement(backend: AthenaBackend, body: dict[str, Any]) -> dict[str, Any]:
    """CreatePreparedStatement."""
    backend.put_prepared_statement(_prepared_workgroup(body), body["StatementName"], body["QueryStatement"],
                                   body.get("Description"), create=True)
    return {}


def update_prepared_statement(backend: AthenaBackend, body: dict[str, Any]) -> dict[str, Any]:
    """UpdatePreparedStatement (the statement must exist)."""
    backend.put_prepared_statement(_prepared_workgroup(body), body["StatementName"], body["QueryStatement"],
                                   body.get("Description"), create=False)
    return {}


def get_prepared_statement(backend: AthenaBackend, body: dict[str, Any]) -> dict[str, Any]:
    """GetPreparedStatement."""
    return {"PreparedStatement": backend.prepared_statement(_prepared_workgroup(body), body["StatementName"])}


def batch_get_prepared_statement(backend: AthenaBackend, body: dict[str, Any]) -> dict[str, Any]:
    """BatchGetPreparedStatement."""
    found, missing = [], []
    for name in body.get("PreparedStatementNames") or []:
        try:
            found.append(backend.prepared_statement(_prepared_workgroup(body), name))
        except AthenaApiError as err:
            missing.append({"StatementName": name, "ErrorCode": err.code, "ErrorMessage": err.message})
    return {"PreparedStatements": found, "UnprocessedPreparedStatementNames": missing}


def delete_prepared_statement(backend: AthenaBackend, body: dict[str, Any]) -> dict[str, Any]:
    """DeletePreparedStatement."""
    backend.delete_prepared_statement(_prepared_workgroup(body), body["StatementName"])
    return {}


def list_prepared_statements(backend: AthenaBackend, body: dict[str, Any]) -> dict[str, Any]:
    """ListPreparedStatements (up to 50 a page)."""
    summaries = [{"StatementName": d["StatementName"], "LastModifiedTime": d["LastModifiedTime"]}
                 for d in backend.prepared_statements(_prepared_workgroup(body))]
    chunk, token = _page(summaries, body, "prepared", 50, 50)
    return _with_token({"PreparedStatements": chunk}, token)


OPERATIONS: dict[str, Callable[[AthenaBackend, dict[str, Any]], dict[str, Any]]] = {
    "StartQueryExecution": start_query_execution,
    "GetQueryExecution": get_query_execution,
    "BatchGetQueryExecution": batch_get_query_execution,
    "ListQueryExecutions": list_query_executions,
    "StopQueryExecution": stop_query_execution,
    "GetQueryResults": get_query_results,
    "GetQueryRuntimeStatistics": get_query_runtime_statistics,
    "ListDatabases": list_databases,
    "GetDatabase": get_database,
    "ListTableMetadata": list_table_metadata,
    "GetTableMetadata": get_table_metadata,
    "CreatePreparedStatement": create_prepared_statement,
    "UpdatePreparedStatement": update_prepared_statement,
    "GetPreparedStatement": get_prepared_statement,
    "BatchGetPreparedStatement": batch_get_prepared_statement,
    "DeletePreparedStatement": delete_prepared_statement,
    "ListPreparedStatements": list_prepared_statements,
}


def handle(action: str, body: dict[str, Any]) -> dict[str, Any]:
    """Answer one Athena operation (the server's JSON handler for ``AmazonAthena.*``)."""
    operation = OPERATIONS.get(action)
    if operation is None:
        from utils.cloud import urls

        implemented = sorted({*OPERATIONS, *urls.moto_operations("AmazonAthena")})
        raise ServiceError("InvalidRequestException",
                           f"The local Athena does not implement {action}. It implements: "
                           f"{', '.join(implemented)}.")
    try:
        return operation(athena_backend(), body)
    except AthenaApiError as err:
        extra = {"AthenaErrorCode": err.athena_code} if err.athena_code else {}
        raise ServiceError(err.code, err.message, **extra) from None
    except KeyError as err:
        raise ServiceError("InvalidRequestException", f"Missing required parameter {err}") from None
