"""The routes table (utils/cloud/urls.py) and the neutral exceptions (issue 16)."""

from __future__ import annotations

import ast
from pathlib import Path

from utils.cloud import urls

CLOUD = Path(__file__).resolve().parents[2] / "utils" / "cloud"


def test_every_declared_route_names_a_function() -> None:
    for table in (urls.JSON_ROUTES, urls.QUERY_ROUTES):
        for service, routes in table.items():
            for operation, handler in routes.items():
                assert callable(urls.resolve(handler)), f"{service}.{operation} -> {handler}"


def test_glue_routes_are_the_operations_glue_responses_answers() -> None:
    from utils.cloud.glue import responses

    assert set(urls.JSON_ROUTES["AWSGlue"]) == set(responses._HANDLERS)


def test_no_model_imports_the_server() -> None:
    offenders = []
    for package in ("athena", "glue"):
        for path in (CLOUD / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                elif isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                if "utils.cloud.server" in names:
                    offenders.append(str(path.relative_to(CLOUD)))
    assert offenders == []
