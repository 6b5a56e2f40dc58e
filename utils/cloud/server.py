"""The local cloud's single HTTP endpoint: moto, plus the calls we make real.

Routing only (moto's ``urls.py`` role). A request whose ``X-Amz-Target`` (JSON
protocols: Athena, Glue) or ``Action`` (query protocol: RDS, STS, IAM) names an
operation registered here goes to our handler; everything else goes to moto
unchanged. Handlers receive the decoded request and return a dict (JSON
protocols) or raise :class:`ServiceError`; they never see WSGI.

Services register themselves in :func:`build_app` by calling
:func:`register_json` / :func:`register_query`.
"""

from __future__ import annotations

import io
import json
import sys
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from werkzeug.wrappers import Request, Response

JsonHandler = Callable[[str, dict[str, Any]], dict[str, Any]]
QueryHandler = Callable[[str, dict[str, str]], Response | None]

_JSON_HANDLERS: dict[str, JsonHandler] = {}
_JSON_PREFIX_HANDLERS: dict[str, JsonHandler] = {}
_QUERY_HANDLERS: dict[str, QueryHandler] = {}


class ServiceError(Exception):
    """An AWS-style error: ``code`` becomes ``__type``, ``message`` the text."""

    def __init__(self, code: str, message: str, status: int = 400, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra


def register_json(target: str, handler: JsonHandler) -> None:
    """Route a JSON-protocol operation to ``handler(action, body)``.

    ``target`` is a full ``X-Amz-Target`` such as ``"AWSGlue.StartJobRun"``, or a
    service prefix ending in a dot (``"AmazonAthena."``) to take every operation.
    """
    if target.endswith("."):
        _JSON_PREFIX_HANDLERS[target] = handler
    else:
        _JSON_HANDLERS[target] = handler


def register_query(action: str, handler: QueryHandler) -> None:
    """Route a query-protocol ``Action`` to ``handler(action, params)``.

    The handler may return None to let moto answer after all.
    """
    _QUERY_HANDLERS[action] = handler


def json_response(body: dict[str, Any], status: int = 200) -> Response:
    """A JSON 1.1 response."""
    return Response(json.dumps(body, default=_json_default), status=status,
                    content_type="application/x-amz-json-1.1")


def _json_default(value: Any) -> Any:
    from datetime import date, datetime

    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def error_response(err: ServiceError) -> Response:
    """The JSON error shape botocore parses into ``ClientError``."""
    body = {"__type": err.code, "message": err.message, "Message": err.message, **err.extra}
    resp = json_response(body, status=err.status)
    resp.headers["x-amzn-ErrorType"] = err.code
    return resp


class LocalCloudApp:
    """WSGI app: our handlers first, moto for the rest."""

    def __init__(self, moto_app: Callable[..., Any]) -> None:
        self.moto_app = moto_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        response = self._dispatch(request, environ)
        if response is None:
            return self.moto_app(environ, start_response)
        return response(environ, start_response)

    def _dispatch(self, request: Request, environ: dict[str, Any]) -> Response | None:
        # --- which checkout this cloud belongs to (utils/cloud/identity.py, issue #12) ---
        from utils.cloud import identity

        if request.path == identity.PATH:
            return identity.handle(request, environ)
        # --- end identity ---
        target = request.headers.get("X-Amz-Target", "")
        if target:
            handler = _JSON_HANDLERS.get(target)
            if handler is None:
                prefix = target.split(".", 1)[0] + "."
                handler = _JSON_PREFIX_HANDLERS.get(prefix)
            if handler is None:
                return None
            body_bytes = request.get_data(cache=True)
            action = target.split(".", 1)[1]
            try:
                body = json.loads(body_bytes or b"{}")
                return json_response(handler(action, body))
            except ServiceError as err:
                return error_response(err)
            except Exception as exc:  # a bug of ours: say so, keep serving
                print(f"local cloud: {target} failed: {exc!r}", file=sys.stderr, flush=True)
                return error_response(ServiceError("InternalServerException", str(exc), 500))
        if _QUERY_HANDLERS and request.method == "POST" and request.mimetype == \
                "application/x-www-form-urlencoded":
            body_bytes = request.get_data(cache=True)
            environ["wsgi.input"] = io.BytesIO(body_bytes)  # moto reads it again
            params = {k: v[0] for k, v in parse_qs(body_bytes.decode()).items()}
            handler = _QUERY_HANDLERS.get(params.get("Action", ""))
            if handler is not None:
                return handler(params["Action"], params)
        return None


def build_app() -> LocalCloudApp:
    """The full local cloud: moto's dispatcher wrapped by our executing services."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from utils.cloud import services

    services.register_all()
    return LocalCloudApp(DomainDispatcherApplication(create_backend_app))


def serve(port: int, host: str = "127.0.0.1", ready: threading.Event | None = None) -> None:
    """Serve the local cloud on host:port until interrupted (loopback only)."""
    from werkzeug.serving import make_server

    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("The local cloud binds to loopback only (127.0.0.1).")
    import logging

    from moto.moto_server.werkzeug_app import MotoRequestHandler

    # One line per request drowns the useful lines (job runs, errors) in the log.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server(host, port, build_app(), threaded=True,
                         request_handler=MotoRequestHandler)
    # Handlers that start work of their own (Glue job scripts) point it back at THIS endpoint.
    import os

    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{server.server_port}"
    os.environ["DELAB_CLOUD_PORT"] = str(server.server_port)
    if ready is not None:
        ready.set()
    server.serve_forever()


def start_in_thread(port: int = 0, timeout: float = 60.0) -> str:
    """Serve the local cloud from a daemon thread of THIS process; return its endpoint.

    For tests and benchmarks: the caller can use the stores in-process and over HTTP.
    Points this process's AWS clients at it (endpoint, region, the local test key).
    ``port=0`` picks a free loopback port.
    """
    import os
    import socket

    if not port:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
    ready = threading.Event()
    threading.Thread(target=serve, args=(port,), kwargs={"ready": ready}, daemon=True).start()
    if not ready.wait(timeout):
        raise RuntimeError(f"the local cloud did not start on 127.0.0.1:{port}")
    from utils.config import ensure_aws_config_file

    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - the local cloud's fixed test key
        AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1",
        AWS_CONFIG_FILE=str(ensure_aws_config_file()), DELAB_TARGET="local",
        DELAB_CLOUD_PORT=str(port))
    os.environ.pop("AWS_PROFILE", None)
    return endpoint
