"""The operations the local cloud executes itself, declared as data (moto's ``urls.py`` role).

One table: service -> operation -> handler. A request naming an operation listed
here goes to its handler; every other request goes to moto unchanged. Handlers are
``"module:function"`` strings, imported on the first request that needs them, so
declaring a route costs nothing at start-up.

- ``JSON_ROUTES`` is keyed by the ``X-Amz-Target`` prefix (JSON protocols); a
  handler is called as ``handler(operation, body)`` and returns the response body.
  The operation ``"*"`` takes every operation of that service.
- ``QUERY_ROUTES`` is keyed by service and the form's ``Action`` (query protocol);
  a handler is called as ``handler(action, params)`` and returns a response, or
  None to let moto answer after all.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

ANY_OPERATION = "*"

_GLUE = "utils.cloud.glue.responses:handle"

JSON_ROUTES: dict[str, dict[str, str]] = {
    # Athena: every operation; the engine executes queries over the Glue catalog and S3.
    "AmazonAthena": {ANY_OPERATION: "utils.cloud.athena.responses:handle"},
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


def resolve(handler: str) -> Callable[..., Any]:
    """The function a ``"module:function"`` route names."""
    module, _, name = handler.partition(":")
    return getattr(importlib.import_module(module), name)
