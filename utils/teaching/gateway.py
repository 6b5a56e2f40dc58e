"""What a sandboxed kernel may reach while it is graded: the source DB and the local cloud, filtered.

A graded kernel has no network of its own (:mod:`utils.teaching.sandbox`): inside its
namespace, ``127.0.0.1:<DB port>`` and ``127.0.0.1:<cloud port>`` lead to unix sockets in the
job's folder, served by a :class:`Gateway` in the grading worker (outside the sandbox):

- **Database** (:class:`MySQLGate`): the MySQL protocol is relayed to the real server after
  two checks. The client's login must be the read-only ETL user (the one the lab's Secrets
  Manager secret names); any other user, ``COM_CHANGE_USER`` later in the session, and TLS
  (which would hide the login) are refused. The unix socket of MariaDB, and so its ``root``
  account, is not in the sandbox at all.
- **Local cloud** (:class:`CloudGate`): HTTP requests are relayed after
  :meth:`CloudPolicy.refusal` looks at the AWS action: reads pass; changes to what the lab
  and the classmates depend on are refused (``glue:CreateJob``/``UpdateJob``/..., the scripts
  bucket, the data lake outside Athena's results, secret, IAM and RDS changes, Athena DDL)
  except what the labs need: part 2's transforms (``PUT transforms/<table>-<sha256[:16]>.sql``,
  the name checked against the content); ``StartJobRun`` of the lab's job with no arguments
  but those transforms' ``--<table>_sql_uri``, only while its script is the shipped one
  (SHA-256), and always rewritten to publish to the submission's scratch ``--target_path``
  (:attr:`CloudPolicy.scratch_target`), so ``gold/`` never changes while grading; its crawler;
  Athena SELECTs and awswrangler's temporary CTAS tables. A statement that does not parse is
  relayed too: the cloud refuses it at StartQueryExecution as Athena does (HTTP 400
  InvalidRequestException ``line L:C: ...``), nothing runs, and the learner sees Athena's answer,
  not a grading refusal. The lessons' own scratch resources (other S3 buckets, SQS, DynamoDB...)
  may be created and changed.

Refusals are answered the way AWS or MySQL would (``AccessDenied`` / error 1045) and kept in
:attr:`Gateway.refused` for the report.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import http.client
import json
import re
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

MAX_BODY = 64 * 1024 * 1024
JOB_QUEUE_S = 600.0
"""How long a graded kernel's StartJobRun waits while another submission's run of the job is going on."""

# --- the database ----------------------------------------------------------------------------

_CLIENT_COMPRESS, _CLIENT_SSL = 0x20, 0x800
_COM_CHANGE_USER = 0x11


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        data = sock.recv(size - len(chunks))
        if not data:
            raise ConnectionError("closed")
        chunks += data
    return bytes(chunks)


def _read_packet(sock: socket.socket) -> tuple[int, bytes]:
    header = _recv_exact(sock, 4)
    length = header[0] | header[1] << 8 | header[2] << 16
    return header[3], _recv_exact(sock, length)


def _packet(seq: int, payload: bytes) -> bytes:
    return struct.pack("<I", len(payload))[:3] + bytes([seq & 0xFF]) + payload


def _error_packet(seq: int, message: str, code: int = 1045, state: str = "28000") -> bytes:
    return _packet(seq, b"\xff" + struct.pack("<H", code) + b"#" + state.encode() + message.encode()[:400])


class MySQLGate:
    """Relays MySQL connections to ``(host, port)`` for ``allowed_user`` only."""

    def __init__(self, host: str, port: int, allowed_user: str, refused: list[str]) -> None:
        self.host, self.port, self.allowed_user, self.refused = host, port, allowed_user, refused

    def handle(self, client: socket.socket) -> None:
        """Serve one client connection (blocking, in its own thread)."""
        try:
            upstream = socket.create_connection((self.host, self.port), timeout=30)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        try:
            seq, greeting = _read_packet(upstream)
            if greeting[:1] == b"\x0a":  # HandshakeV10: hide TLS and compression from the client
                at = greeting.index(b"\x00", 1) + 1 + 4 + 8 + 1
                flags = struct.unpack_from("<H", greeting, at)[0] & ~(_CLIENT_SSL | _CLIENT_COMPRESS)
                greeting = greeting[:at] + struct.pack("<H", flags) + greeting[at + 2:]
            client.sendall(_packet(seq, greeting))
            seq, response = _read_packet(client)
            user = response[32:].split(b"\x00", 1)[0].decode("utf-8", "replace") if len(response) > 32 else ""
            caps = struct.unpack_from("<I", response, 0)[0] if len(response) >= 4 else 0
            if len(response) <= 32 or caps & _CLIENT_SSL:
                self._refuse(client, seq + 1, "TLS is not available while grading")
                return
            if user != self.allowed_user:
                self._refuse(client, seq + 1, f"only the read-only user '{self.allowed_user}' may connect "
                                              f"while grading, not '{user}'")
                return
            upstream.sendall(_packet(seq, response))
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()
            while True:  # client -> server, one packet at a time: a command is a packet with seq 0
                seq, payload = _read_packet(client)
                if seq == 0 and payload[:1] == bytes([_COM_CHANGE_USER]):
                    self._refuse(client, 1, "changing the user is not allowed while grading")
                    return
                upstream.sendall(_packet(seq, payload))
        except (OSError, ConnectionError, ValueError, struct.error):
            pass
        finally:
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.close()

    def _refuse(self, client: socket.socket, seq: int, why: str) -> None:
        self.refused.append(f"database: {why}")
        with contextlib.suppress(OSError):
            client.sendall(_error_packet(seq, f"Access denied: {why}"))

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_RDWR)


# --- the local cloud -------------------------------------------------------------------------

_READ_ACTIONS = ("Get", "List", "Describe", "Search", "BatchGet", "Filter", "Lookup")
SCRATCH_SERVICES = frozenset({"sqs", "dynamodb", "sns", "kinesis", "firehose"})
"""Services where the labs keep nothing: the lessons' exercises create and change their own resources."""
_TARGET_SERVICES = {"AWSGlue": "glue", "AmazonAthena": "athena", "secretsmanager": "secretsmanager",
                    "Logs_20140328": "logs", "AmazonSQS": "sqs", "DynamoDB_20120810": "dynamodb",
                    "Kinesis_20131202": "kinesis", "Firehose_20150804": "firehose"}
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d+/[^/]+/([^/]+)/")
_SQL_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_READ_SQL = {"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "VALUES"}
_WRANGLER_CTAS = re.compile(r'^CREATE\s+TABLE\s+("?[\w-]+"?\s*\.\s*)?"?temp_table_[0-9a-f]+"?\s',
                            re.IGNORECASE)
STAR_TABLES = ("dim_customers", "dim_products", "dim_locations", "dim_dates", "fact_orders")
"""The star tables whose SELECT a lab may give the ETL job (``--<table>_sql_uri``, see utils/etl/job.py)."""
_TRANSFORM_KEY = re.compile(rf"^transforms/({'|'.join(STAR_TABLES)})-([0-9a-f]{{16}})\.sql$")


def _aws_chunked(body: bytes) -> bytes:
    """The payload of an ``aws-chunked`` body (``<hex size>[;chunk-signature=...]\\r\\n<data>\\r\\n``...)."""
    payload, rest = bytearray(), body
    while rest:
        line, _, rest = rest.partition(b"\r\n")
        size = int(line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            break
        payload += rest[:size]
        rest = rest[size + 2:]
    return bytes(payload)


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass
class CloudPolicy:
    """Which AWS requests a graded kernel may make on the local cloud."""

    job_name: str
    crawler_name: str
    glue_database: str
    data_lake_bucket: str
    scripts_bucket: str
    shipped_script_sha256: str | None = None
    endpoint_url: str | None = None
    """The local cloud, where the grader itself reads the job's script to check it."""
    region: str = "us-east-1"
    scratch_target: str | None = None
    """Where the ETL job publishes when a graded kernel starts it (``s3://<lake>/grading/<id>/gold``):
    set per submission by the :class:`Gateway`, so the shared ``gold/`` never changes while grading."""

    def _session(self) -> Any:
        import boto3

        return boto3.session.Session(aws_access_key_id="testing",
                                     aws_secret_access_key="testing",  # noqa: S106 - local test key
                                     region_name=self.region)

    def running_script(self) -> bytes | None:
        """The script the lab's job would run now, read by the grader (not the kernel) from the cloud."""
        session = self._session()
        glue = session.client("glue", endpoint_url=self.endpoint_url)
        location = glue.get_job(JobName=self.job_name)["Job"]["Command"]["ScriptLocation"]
        bucket, _, key = location.removeprefix("s3://").partition("/")
        s3 = session.client("s3", endpoint_url=self.endpoint_url)
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    def refusal(self, method: str, path: str, headers: Any, body: bytes) -> str | None:
        """Why the request is refused while grading, or None when it may pass."""
        target = headers.get("X-Amz-Target", "")
        scope = _CREDENTIAL_SCOPE.search(headers.get("Authorization", ""))
        service = scope.group(1) if scope else "s3"
        if target:
            prefix, _, action = target.partition(".")
            service = _TARGET_SERVICES.get(prefix, service)
            try:
                params = json.loads(body or b"{}")
            except ValueError:
                params = {}
            return self._action(service, action, params if isinstance(params, dict) else {})
        if "x-www-form-urlencoded" in headers.get("Content-Type", "") and b"Action=" in body:
            form = parse_qs(body.decode("utf-8", "replace"))
            action = form.get("Action", [""])[0]
            return self._action(service, action, {k: v[0] for k, v in form.items()})
        if service == "s3":
            return self._s3(method, path, body)
        if method in ("GET", "HEAD"):
            return None
        return f"{service} {method} {urlsplit(path).path} changes the cloud"

    def _action(self, service: str, action: str, params: dict[str, Any]) -> str | None:
        if action.startswith(_READ_ACTIONS):
            return None
        if service == "glue" and action == "StartJobRun":
            if params.get("JobName") != self.job_name:
                return (f"glue:StartJobRun of {params.get('JobName')!r}: only the lab's job "
                        f"{self.job_name!r} may run")
            for name, value in (params.get("Arguments") or {}).items():
                table = name.removeprefix("--").removesuffix("_sql_uri")
                expected = rf"s3://{re.escape(self.data_lake_bucket)}/transforms/{table}-[0-9a-f]{{16}}\.sql"
                if (table not in STAR_TABLES or not name.endswith("_sql_uri")
                        or not re.fullmatch(expected, str(value))):
                    return (f"glue:StartJobRun with the argument {name}: only --<star table>_sql_uri of an "
                            "uploaded transform may be given; the lab's job keeps its other arguments")
            return self._script_problem()
        if service == "glue" and action == "StartCrawler":
            name = params.get("Name")
            return None if name == self.crawler_name else f"glue:StartCrawler of {name!r}: not the lab's"
        if service == "glue" and action == "DeleteTable":  # awswrangler removes its temporary CTAS table
            name = str(params.get("Name", ""))
            if name.startswith("temp_table_") and params.get("DatabaseName") == self.glue_database:
                return None
            return f"glue:DeleteTable of {name!r}"
        if service == "athena" and action == "StartQueryExecution":
            return self._athena_sql(str(params.get("QueryString", "")))
        if service == "athena" and action == "StopQueryExecution":
            return None
        if service in SCRATCH_SERVICES:  # lessons make their own queues and tables; no lab resource there
            return None
        return f"{service}:{action} changes the lab's resources"

    def rewritten(self, headers: Any, body: bytes) -> bytes:
        """The request as relayed: a StartJobRun of the lab's job publishes to :attr:`scratch_target`."""
        if not self.scratch_target or headers.get("X-Amz-Target", "") != "AWSGlue.StartJobRun":
            return body
        params = json.loads(body or b"{}")
        params["Arguments"] = {**(params.get("Arguments") or {}), "--target_path": self.scratch_target}
        return json.dumps(params).encode()

    def remove_scratch(self) -> None:
        """Delete what the submission's job runs published under :attr:`scratch_target` (and staged)."""
        if not self.scratch_target or not self.endpoint_url:
            return
        bucket, _, prefix = self.scratch_target.removeprefix("s3://").partition("/")
        root = prefix.rsplit("/", 1)[0] + "/"  # grading/<id>/: the target and its staging folder
        s3 = self._session().client("s3", endpoint_url=self.endpoint_url)
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=root):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys})

    def _script_problem(self) -> str | None:
        if not self.shipped_script_sha256 or not self.endpoint_url:
            return None
        try:
            script = self.running_script()
        except Exception as error:  # the cloud could not say: refuse rather than guess
            return f"glue:StartJobRun: the job's script could not be checked ({error})"
        if script is None or hashlib.sha256(script).hexdigest() != self.shipped_script_sha256:
            return ("glue:StartJobRun: the job's script is not the shipped ETL script (its SHA-256 differs); "
                    "run `make up` to restore it")
        return None

    def _athena_sql(self, sql: str) -> str | None:
        text = _SQL_COMMENTS.sub(" ", sql).strip().rstrip(";").strip()
        while text.startswith("("):
            text = text[1:].lstrip()
        if ";" in text:
            return "athena: one statement per query while grading"
        head = text.split(None, 1)[0].upper() if text else ""
        if head in _READ_SQL or _WRANGLER_CTAS.match(text) or _athena_refuses(sql):
            return None
        return f"athena: {head or 'an empty'} statement changes the catalog or the data lake"

    def _s3(self, method: str, path: str, body: bytes) -> str | None:
        if method in ("GET", "HEAD"):
            return None
        parts = urlsplit(path)
        bucket, _, key = unquote(parts.path).lstrip("/").partition("/")
        keys = [key]
        if method == "POST" and "delete" in parse_qs(parts.query, keep_blank_values=True):
            keys = [k.decode("utf-8", "replace") for k in re.findall(rb"<Key>(.*?)</Key>", body or b"")]
        if bucket == self.scripts_bucket:
            return f"s3 {method} on the scripts bucket {bucket!r}: the ETL script cannot change while grading"
        transform = _TRANSFORM_KEY.match(key)
        if bucket == self.data_lake_bucket and method == "PUT" and transform and not parts.query:
            # A lab's transform: named after its content's SHA-256, so it can never replace other SQL.
            if hashlib.sha256(body).hexdigest()[:16] != transform.group(2):
                return f"s3 PUT s3://{bucket}/{key}: the file's name must be the SHA-256 of its content"
            return None
        results_only = keys and all(k.startswith("athena-results/") for k in keys)
        if bucket == self.data_lake_bucket and not results_only:
            return (f"s3 {method} s3://{bucket}/{keys[0] if keys else ''}: in the lab's data lake only "
                    "Athena results may be written")
        return None  # Athena's results, or a bucket of a lesson's own


_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
               "transfer-encoding", "upgrade", "content-length"}


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def _athena_refuses(sql: str) -> bool:
    """Whether Athena refuses the statement itself, at StartQueryExecution, because it does not
    parse (a typo such as ``SELEC``): nothing runs, and the learner should see Athena's
    ``line L:C: ...`` rather than a grading refusal. The local cloud's own parse stage decides."""
    from utils.cloud.athena.engine import parse_at_start
    from utils.cloud.athena.errors import AthenaQueryError

    try:
        parse_at_start(sql)
    except AthenaQueryError:
        return True
    return False


class CloudGate:
    """An HTTP/1.1 relay to the local cloud that applies a :class:`CloudPolicy`."""

    def __init__(self, host: str, port: int, policy: CloudPolicy, refused: list[str]) -> None:
        self.host, self.port, self.policy, self.refused = host, port, policy, refused

    def handler(self) -> type[BaseHTTPRequestHandler]:
        """The request handler class bound to this gate."""
        gate = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            upstream: http.client.HTTPConnection | None = None

            def log_message(self, *args: Any) -> None:  # the report lists refusals; no access log
                return

            def address_string(self) -> str:
                return "sandbox"

            def _body(self) -> bytes:
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    data = bytearray()
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return bytes(data)
                        data += self.rfile.read(size)
                        self.rfile.readline()
                        if len(data) > MAX_BODY:
                            raise ValueError("request body too large")
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    raise ValueError("request body too large")
                return self.rfile.read(length) if length else b""

            def _relay(self) -> None:
                try:
                    body = self._body()
                except ValueError as error:
                    self._deny(str(error), 413)
                    return
                if "aws-chunked" in self.headers.get("Content-Encoding", ""):
                    body = _aws_chunked(body)  # the object itself, as the policy must see it
                    encodings = [e for e in self.headers["Content-Encoding"].split(",")
                                 if e.strip() and e.strip() != "aws-chunked"]
                    for name in ("Content-Encoding", "x-amz-decoded-content-length", "x-amz-trailer"):
                        del self.headers[name]
                    if encodings:
                        self.headers["Content-Encoding"] = ",".join(encodings)
                    if self.headers.get("x-amz-content-sha256", "").startswith("STREAMING-"):
                        self.headers.replace_header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
                why = gate.policy.refusal(self.command, self.path, self.headers, body)
                if why:
                    gate.refused.append(f"cloud: {why}")
                    self._deny(why)
                    return
                body = gate.policy.rewritten(self.headers, body)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                queued_until = time.monotonic() + JOB_QUEUE_S
                while True:
                    for attempt in range(2):
                        if self.upstream is None:
                            self.upstream = http.client.HTTPConnection(gate.host, gate.port, timeout=600)
                        try:
                            self.upstream.request(self.command, self.path, body=body, headers=headers)
                            response = self.upstream.getresponse()
                            data = response.read()
                            break
                        except (OSError, http.client.HTTPException):
                            self.upstream.close()
                            self.upstream = None
                            if attempt:
                                self._deny("the local cloud does not answer", 502)
                                return
                    # Submissions graded in parallel share the lab's job (one run at a time): a
                    # StartJobRun waits for the other submission's run instead of failing.
                    busy = response.status >= 400 and b"ConcurrentRunsExceeded" in data
                    if not (busy and self.headers.get("X-Amz-Target") == "AWSGlue.StartJobRun"
                            and time.monotonic() < queued_until):
                        break
                    time.sleep(1.0)
                self.send_response(response.status, response.reason)
                for name, value in response.getheaders():
                    if name.lower() not in _HOP_BY_HOP:
                        self.send_header(name, value)
                # A HEAD answer has no body but tells the object's size: keep the cloud's figure.
                length = response.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _deny(self, why: str, status: int = 403) -> None:
                message = f"Refused while grading: {why}"
                if self.headers.get("X-Amz-Target"):
                    payload = json.dumps({"__type": "AccessDeniedException", "message": message}).encode()
                    kind = "application/x-amz-json-1.1"
                else:
                    escaped = message.replace("&", "&amp;").replace("<", "&lt;")
                    payload = ("<?xml version='1.0' encoding='UTF-8'?><ErrorResponse><Error>"
                               f"<Type>Sender</Type><Code>AccessDenied</Code><Message>{escaped}</Message>"
                               "</Error></ErrorResponse>").encode()
                    kind = "application/xml"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("x-amzn-ErrorType", "AccessDeniedException")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = _relay

        return Handler


class Gateway:
    """The job's gateway: unix sockets in ``folder`` for the database and the local cloud."""

    def __init__(self, folder: Path, *, db: tuple[str, int] | None = None, db_user: str = "",
                 cloud: tuple[str, int] | None = None, policy: CloudPolicy | None = None,
                 scratch: str | None = None) -> None:
        """``scratch``: a name unique to the submission; the ETL job runs it starts publish to
        ``s3://<data lake>/grading/<scratch>/gold`` (see :attr:`CloudPolicy.scratch_target`)."""
        self.folder = Path(folder)
        if policy is not None and scratch:
            policy = dataclasses.replace(
                policy, scratch_target=f"s3://{policy.data_lake_bucket}/grading/{scratch}/gold")
        self.policy = policy
        self.refused: list[str] = []
        self._servers: list[Any] = []
        self._sockets: list[socket.socket] = []
        self.forwards: dict[int, str] = {}
        if db is not None:
            gate = MySQLGate(db[0], db[1], db_user, self.refused)
            path = self._listen("db.sock", gate.handle)
            self.forwards[db[1]] = path
        if cloud is not None and policy is not None:
            path = str(self.folder / "cloud.sock")
            server = _UnixHTTPServer(path, CloudGate(cloud[0], cloud[1], policy, self.refused).handler())
            Path(path).chmod(0o777)  # noqa: S103 - the job's uid connects; the folder is the grader's
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
            self._servers.append(server)
            self.forwards[cloud[1]] = path

    def _listen(self, name: str, handle: Callable[[socket.socket], None]) -> str:
        path = str(self.folder / name)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)
        Path(path).chmod(0o777)  # noqa: S103 - see above
        server.listen(64)
        self._sockets.append(server)

        def accept() -> None:
            while True:
                try:
                    client, _ = server.accept()
                except OSError:
                    return
                threading.Thread(target=handle, args=(client,), daemon=True).start()

        threading.Thread(target=accept, daemon=True).start()
        return path

    def close(self) -> None:
        """Stop accepting; connections in flight end with the sandbox."""
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
