"""The local cloud's single HTTP endpoint: moto, plus the calls we make real.

Routing only. The operations we execute are declared as data in
:mod:`utils.cloud.urls` (moto's ``urls.py`` role): a request whose
``X-Amz-Target`` (JSON protocols: Athena, Glue) or ``Action`` (query protocol:
RDS) names one of them goes to its handler; everything else goes to moto
unchanged. Handlers receive the decoded request and return a dict (JSON
protocols) or raise :class:`~utils.cloud.exceptions.ServiceError`; they never
see WSGI, and no model imports this module.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from werkzeug.wrappers import Request, Response

from utils.cloud import persistence
from utils.cloud.exceptions import ServiceError

__all__ = ["ServiceError", "build_app", "protocol_error", "serve", "start_in_thread"]

JsonHandler = Callable[[str, dict[str, Any]], dict[str, Any]]
QueryHandler = Callable[[str, dict[str, str]], Response | None]


def _json_handler(target: str) -> JsonHandler | None:
    """The handler :mod:`utils.cloud.urls` declares for an ``X-Amz-Target``, if any."""
    from utils.cloud import urls

    service, _, operation = target.partition(".")
    handler = urls.json_handler(service, operation)
    return urls.resolve(handler) if handler else None


def _query_handler(environ: dict[str, Any], action: str) -> QueryHandler | None:
    """The handler :mod:`utils.cloud.urls` declares for a query-protocol ``Action``, if any."""
    from utils.cloud import urls
    from utils.cloud.moto_state import credential_scope

    service, _ = credential_scope(environ)
    for name, routes in urls.QUERY_ROUTES.items():
        if action in routes and service in ("", name):
            return urls.resolve(routes[action])
    return None


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
        if persistence.enabled() and _moto_state_installed():
            return self._answer_durably(request, environ, start_response)
        return self._answer(request, environ, start_response)

    def _answer(self, request: Request, environ: dict[str, Any],
                start_response: Callable[..., Any]) -> Any:
        response = self._dispatch(request, environ)
        if response is None:
            return self._call_moto(environ, start_response)
        return response(environ, start_response)

    def _dispatch(self, request: Request, environ: dict[str, Any]) -> Response | None:
        # --- which checkout this cloud belongs to (utils/cloud/identity.py, issue #12) ---
        from utils.cloud import identity

        if request.path == identity.PATH:
            return identity.handle(request, environ)
        # --- end identity ---
        target = request.headers.get("X-Amz-Target", "")
        if target:
            handler = _json_handler(target)
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
        if request.method == "POST" and request.mimetype == \
                "application/x-www-form-urlencoded":
            body_bytes = request.get_data(cache=True)
            environ["wsgi.input"] = io.BytesIO(body_bytes)  # moto reads it again
            params = {k: v[0] for k, v in parse_qs(body_bytes.decode()).items()}
            environ["delab.action"] = params.get("Action", "")  # named in errors
            handler = _query_handler(environ, params.get("Action", ""))
            if handler is not None:
                return handler(params["Action"], params)
        return None

    # -- durable state and AWS-style errors (issue #12) -----------------------------------
    # A request that changes state is answered only once the change is on disk
    # (utils.cloud.persistence); S3 bodies are streamed between the socket and disk
    # (utils.cloud.s3.responses); what neither we nor moto implement answers an AWS-style
    # 400 error in the request's protocol instead of werkzeug's HTML 500 page.

    def _answer_durably(self, request: Request, environ: dict[str, Any],
                        start_response: Callable[..., Any]) -> Any:
        from utils.cloud import moto_state
        from utils.cloud.s3 import models as s3_models
        from utils.cloud.s3 import responses as s3_responses

        action, body = _operation(request, environ)
        backend = self._backend_name(environ)
        moto_state.component_for(backend)  # its stored state is restored before moto answers
        changes = moto_state.request_changes(environ, backend, action, body)
        if s3_responses.carries_object_body(environ):
            rejected = s3_responses.receive_body(environ)
            if rejected is not None:
                return rejected(environ, start_response)
        captured: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured[:] = [status, headers, exc_info]
            return lambda data: captured.append(data)  # WSGI's legacy write(); unused by Flask

        streams = s3_responses.streams_object_body(environ)
        try:
            with s3_models.streaming_values() if streams else contextlib.nullcontext():
                result = self._answer(request, environ, capture)
        finally:
            leftover = s3_models.take_pending_body()
            if leftover is not None:  # moto refused the request: its body is not an object
                leftover.writer.discard()
        try:
            for change in changes:
                persistence.changed(change.component, *(change.parts or ()), wait=False)
            if changes:  # a read waits for no one's commit
                persistence.sync()
        except persistence.PersistenceError as exc:
            if hasattr(result, "close"):
                result.close()
            response = protocol_error(environ, "ServiceUnavailable", "The local cloud could not "
                                      f"save this change: {exc}", 503)
            return response(environ, start_response)
        status, headers, exc_info = captured[:3]
        write = start_response(status, headers, exc_info)
        for data in captured[3:]:
            write(data)
        return result

    def _backend_name(self, environ: dict[str, Any]) -> str | None:
        """moto's name for the service a request is for (as its dispatcher infers it)."""
        try:
            host = self.moto_app.infer_service_region_host(environ, environ.get("PATH_INFO", ""))
            return self.moto_app.get_backend_for_host(host) if host else "s3"
        except Exception:  # an unknown or malformed request: nothing to save for it
            return None

    def _call_moto(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        captured: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured[:] = [status, headers, exc_info]
            return start_response(status, headers, exc_info) if exc_info else _unused_write

        try:
            result = self.moto_app(environ, capture)
        except NotImplementedError as exc:
            response = unknown_operation(environ, _operation_name(environ, exc))
        except Exception as exc:  # a bug of moto's or ours: a clean AWS error, the cloud lives on
            import traceback

            print(f"local cloud: {_operation_name(environ, None)} failed:\n"
                  f"{traceback.format_exc()}", file=sys.stderr, flush=True)
            response = protocol_error(environ, "InternalFailure", f"The local cloud failed on this "
                                      f"request ({type(exc).__name__}: {exc}); see "
                                      ".delab/cloud/cloud.log.", 500)
        else:
            status, headers, exc_info = captured
            content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
            page = b""
            if status[:3] in ("404", "405") and content_type.startswith("text/html"):
                page = b"".join(result)  # small: an error page or moto's empty answer
                if hasattr(result, "close"):
                    result.close()
                result = [page]
            if b"<!doctype html>" in page[:100].lower():
                # Flask's page for a URL no moto route matches: an operation moto lacks.
                response = unknown_operation(environ, _operation_name(environ, None))
            else:
                start_response(status, headers, exc_info)
                return result
        return response(environ, start_response)


def _operation(request: Request, environ: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    """The request's operation name (JSON target or query Action) and, for Logs, its JSON body."""
    target = request.headers.get("X-Amz-Target", "")
    if target:
        body = None
        if target.startswith("Logs_") and (request.content_length or 0) < (1 << 20):
            data = request.get_data(cache=True)
            environ["wsgi.input"] = io.BytesIO(data)  # moto reads it again
            with contextlib.suppress(ValueError):
                body = json.loads(data or b"{}")
        return target.split(".", 1)[-1], body
    if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        data = request.get_data(cache=True)
        environ["wsgi.input"] = io.BytesIO(data)
        action = parse_qs(data.decode("utf-8", "replace")).get("Action")
        return (action[0] if action else None), None
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    return (action[0] if action else None), None


def _protocol(environ: dict[str, Any]) -> str:
    """The AWS protocol a request speaks, so an error comes back in a shape its SDK parses."""
    if environ.get("HTTP_X_AMZ_TARGET"):
        return "json"
    from utils.cloud.moto_state import credential_scope

    service, _ = credential_scope(environ)
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query or environ.get("CONTENT_TYPE", "").startswith(
            "application/x-www-form-urlencoded"):
        return "ec2" if service == "ec2" else "query"
    if service in ("", "s3", "s3control", "route53", "cloudfront"):
        return "rest-xml"
    return "rest-json"


def _moto_state_installed() -> bool:
    from utils.cloud import moto_state

    return moto_state.installed()


def _unused_write(data: bytes) -> None:
    raise RuntimeError("moto's apps return their body; WSGI write() is not supported here")


def unknown_operation(environ: dict[str, Any], operation: str) -> Response:
    """AWS's answer to an operation the service does not know: 400, never an HTML page."""
    print(f"local cloud: {operation} is not implemented (answered 400)", file=sys.stderr, flush=True)
    return protocol_error(
        environ, _UNKNOWN_CODES.get(_protocol(environ), "InvalidAction"),
        f"The local cloud does not implement {operation}. It works on a real AWS account "
        "(DELAB_TARGET=aws); locally, use another operation.", 400)


_UNKNOWN_CODES = {"json": "UnknownOperationException", "rest-json": "UnknownOperationException",
                  "query": "InvalidAction", "ec2": "InvalidAction", "rest-xml": "NotImplemented"}


def _operation_name(environ: dict[str, Any], exc: BaseException | None) -> str:
    """``glue UpdateJob``: the service and operation a request was for, as far as known."""
    from utils.cloud.moto_state import credential_scope

    service, _ = credential_scope(environ)
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    found = re.search(r"The (\w+) action has not been implemented", str(exc or ""))
    if environ.get("HTTP_X_AMZ_TARGET"):
        name = environ["HTTP_X_AMZ_TARGET"].split(".", 1)[-1]
    elif action or environ.get("delab.action"):
        name = action[0] if action else environ["delab.action"]
    elif found:
        name = "".join(word.capitalize() for word in found.group(1).split("_"))
    else:
        name = f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"
    return f"{service} {name}".strip() if service else name


def protocol_error(environ: dict[str, Any], code: str, message: str, status: int) -> Response:
    """An AWS error in the request's protocol (JSON ``__type``, query/EC2/S3 XML)."""
    from xml.sax.saxutils import escape

    protocol = _protocol(environ)
    if protocol in ("json", "rest-json"):
        return error_response(ServiceError(code, message, status))
    if protocol == "rest-xml":
        from utils.cloud.s3.responses import s3_error

        return s3_error(code, message, status)
    if protocol == "ec2":
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>"
                f"{escape(code)}</Code><Message>{escape(message)}</Message></Error></Errors>"
                "<RequestID>local</RequestID></Response>")
    else:
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse><Error><Type>"
                f"{'Sender' if status < 500 else 'Receiver'}</Type><Code>{escape(code)}</Code>"
                f"<Message>{escape(message)}</Message></Error><RequestId>local</RequestId>"
                "</ErrorResponse>")
    return Response(body, status=status, content_type="text/xml")


def build_app() -> LocalCloudApp:
    """The full local cloud: moto's dispatcher wrapped by our executing services."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from utils.cloud.athena import moto_athena

    moto_athena.install()  # moto's Athena with what AWS has and moto lacks (before any backend exists)
    if persistence.enabled():
        from utils.cloud import moto_state

        moto_state.install()  # before any request: restores moto's stored backends
    return LocalCloudApp(DomainDispatcherApplication(create_backend_app))


def serve(port: int, host: str = "127.0.0.1", ready: threading.Event | None = None,
          on_ready: Callable[[], None] | None = None) -> None:
    """Serve the local cloud on host:port until interrupted (loopback only).

    With persistence enabled (``persistence.enable``, as ``python -m utils.cloud serve``
    does) the stored state is restored before the first request is served.
    """
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
    if on_ready is not None:
        on_ready()
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
