"""The operations the local cloud executes itself, declared as data (moto's ``urls.py`` role).

One table: service -> operation -> handler. A request naming an operation listed
here goes to its handler; every other request goes to moto unchanged. Handlers are
``"module:function"`` strings, imported on the first request that needs them, so
declaring a route costs nothing at start-up.

- ``JSON_ROUTES`` is keyed by the ``X-Amz-Target`` prefix (JSON protocols); a
  handler is called as ``handler(operation, body)`` and returns the response body.
  The operation ``"*"`` takes every operation of that service not listed; an
  operation routed to :data:`MOTO` is answered by moto (so a service can keep a
  ``"*"`` of ours and still leave some operations to moto).
- ``QUERY_ROUTES`` is keyed by service and the form's ``Action`` (query protocol);
  a handler is called as ``handler(action, params)`` and returns a response, or
  None to let moto answer after all.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

ANY_OPERATION = "*"
# The route of an operation moto answers (never called: the server hands the request to moto).
MOTO = "utils.cloud.urls:answered_by_moto"

_GLUE = "utils.cloud.glue.responses:handle"

# Athena's resources are moto's (utils/cloud/athena/moto_athena.py extends it where it lacks
# what AWS has); query execution, prepared statements (EXECUTE runs them) and the Glue
# catalog's metadata are ours (utils/cloud/athena/responses.py), as is the clear error for
# any other operation.
ATHENA_MOTO_OPERATIONS = (
    "CreateWorkGroup", "GetWorkGroup", "ListWorkGroups", "UpdateWorkGroup", "DeleteWorkGroup",
    "CreateNamedQuery", "GetNamedQuery", "ListNamedQueries", "BatchGetNamedQuery", "DeleteNamedQuery",
    "TagResource", "UntagResource", "ListTagsForResource",
    "CreateDataCatalog", "GetDataCatalog", "ListDataCatalogs", "UpdateDataCatalog", "DeleteDataCatalog",
)

JSON_ROUTES: dict[str, dict[str, str]] = {
    "AmazonAthena": {**{operation: MOTO for operation in ATHENA_MOTO_OPERATIONS},
                     ANY_OPERATION: "utils.cloud.athena.responses:handle"},
    # Glue: job runs and crawler runs really execute; the catalog search sees every table.
    "AWSGlue": {operation: _GLUE for operation in (
        "StartJobRun", "GetJobRun", "GetJobRuns", "BatchStopJobRun", "UpdateJob",
        "SearchTables", "UpdateTable",
        "StartCrawler", "StopCrawler", "GetCrawler", "GetCrawlers", "BatchGetCrawlers",
        "GetCrawlerMetrics",
    )},
}

QUERY_ROUTES: dict[str, dict[str, str]] = {
    # RDS: the lab's database instance is described as the MariaDB this checkout runs.
    "rds": {"DescribeDBInstances": "utils.cloud.rds:describe_db_instances"},
}


def json_handler(service: str, operation: str) -> str | None:
    """The route of a JSON operation: a ``"module:function"``, or None when moto answers it."""
    routes = JSON_ROUTES.get(service)
    if routes is None:
        return None
    handler = routes[operation] if operation in routes else routes.get(ANY_OPERATION)
    return None if handler == MOTO else handler


def moto_operations(service: str) -> list[str]:
    """The operations of a JSON service routed to moto explicitly (:data:`MOTO`)."""
    return [op for op, handler in JSON_ROUTES.get(service, {}).items() if handler == MOTO]


def answered_by_moto(operation: str, body: dict[str, Any]) -> None:
    """:data:`MOTO`'s function: a marker, never called (the server lets moto answer)."""
    raise AssertionError(f"{operation} is moto's: the server should have let moto answer it")


def resolve(handler: str) -> Callable[..., Any]:
    """The function a ``"module:function"`` route names."""
    module, _, name = handler.partition(":")
    return getattr(importlib.import_module(module), name)
