"""S3 request and response bodies streamed between the socket and disk (wire side).

moto reads a request's whole body into memory (twice, with aws-chunked decoding) and
answers a GET with the whole body in memory. Before moto sees a PutObject or
UploadPart request, :func:`receive_body` streams its body into a blob file (decoding
aws-chunked framing, checking Content-MD5 and ``x-amz-checksum-*``), then hands moto
the same request with an empty body: the key moto creates adopts the file
(:func:`utils.cloud.s3.models.set_pending_body`). GETs and copies run with
:func:`utils.cloud.s3.models.streaming_values`, so moto's response body is a view on
the file that werkzeug streams in 1 MiB chunks.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

from werkzeug.exceptions import ClientDisconnected
from werkzeug.wrappers import Response
from werkzeug.wsgi import get_input_stream

from utils.cloud import persistence
from utils.cloud.s3.models import CHUNK, NAMESPACE, PendingBody, StreamingChecksum, set_pending_body

CHECKSUM_ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")
# Query parameters of PUT requests on a key that carry no object body.
_NON_BODY_SUBRESOURCES = {"acl", "tagging", "retention", "legal-hold", "restore", "attributes",
                          "select", "uploads", "renameObject"}
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


def _object_path(environ: dict[str, Any]) -> bool:
    """True for path-style requests on a key (``/bucket/key``) addressed to this host."""
    host = environ.get("HTTP_HOST", "").rsplit(":", 1)[0]
    if host not in _LOOPBACK_HOSTS:
        return False
    bucket, _, key = environ.get("PATH_INFO", "").lstrip("/").partition("/")
    return bool(bucket and key)


def _query(environ: dict[str, Any]) -> dict[str, list[str]]:
    return parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)


def carries_object_body(environ: dict[str, Any]) -> bool:
    """PutObject or UploadPart with a body: the body should go to disk, not to moto."""
    if environ.get("REQUEST_METHOD") != "PUT" or not _object_path(environ):
        return False
    if "HTTP_X_AMZ_COPY_SOURCE" in environ:
        return False
    if _NON_BODY_SUBRESOURCES & set(_query(environ)):
        return False
    length = environ.get("CONTENT_LENGTH") or "0"
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    return chunked or (length.isdigit() and int(length) > 0)


def streams_object_body(environ: dict[str, Any]) -> bool:
    """GetObject, CopyObject or UploadPartCopy: moto may work on a view of the body file."""
    method = environ.get("REQUEST_METHOD")
    if not _object_path(environ):
        return False
    if method == "GET":
        query = _query(environ)
        return not ({"uploadId", "acl", "tagging", "legal-hold", "attributes", "retention",
                     "torrent"} & set(query))
    # A copy with a new checksum algorithm needs the bytes (moto checksums them in memory).
    return method == "PUT" and "HTTP_X_AMZ_COPY_SOURCE" in environ \
        and "HTTP_X_AMZ_CHECKSUM_ALGORITHM" not in environ


class BodyRejected(Exception):
    """The body does not match what the request says about it (S3's BadDigest...)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def receive_body(environ: dict[str, Any]) -> Response | None:
    """Stream a PutObject/UploadPart body to a blob and pass moto an empty body.

    Returns an S3 error response when the body is rejected (digest mismatch, client gone),
    None when moto should now handle the request.
    """
    writer = persistence.new_blob(NAMESPACE)
    try:
        pending = _stream_to(writer, environ)
    except BodyRejected as exc:
        writer.discard()
        return s3_error(exc.code, exc.message, exc.status)
    except ClientDisconnected:
        writer.discard()
        return s3_error("IncompleteBody", "The request body ended before Content-Length bytes "
                        "arrived; nothing was stored.", 400)
    except BaseException:
        writer.discard()
        raise
    set_pending_body(pending)
    return None


def _stream_to(writer: persistence.BlobWriter, environ: dict[str, Any]) -> PendingBody:
    algorithm = (environ.get("HTTP_X_AMZ_SDK_CHECKSUM_ALGORITHM") or "").upper()
    if not algorithm:
        algorithm = next((a for a in CHECKSUM_ALGORITHMS
                          if f"HTTP_X_AMZ_CHECKSUM_{a}" in environ), "")
    checksum = StreamingChecksum(algorithm) if algorithm else None
    md5 = hashlib.md5(usedforsecurity=False)
    trailers: dict[str, str] = {}
    for chunk in _decoded_body(environ, trailers):
        writer.write(chunk)
        md5.update(chunk)
        if checksum is not None:
            checksum.update(chunk)
    writer.finish()

    expected_md5 = environ.get("HTTP_CONTENT_MD5")
    if expected_md5:
        try:
            wanted = base64.b64decode(expected_md5, validate=True)
        except ValueError:
            raise BodyRejected("InvalidDigest", "The Content-MD5 you specified was invalid.") from None
        if wanted != md5.digest():
            raise BodyRejected("BadDigest", "The Content-MD5 you specified did not match what "
                               "we received.")
    if checksum is not None:
        header = f"HTTP_X_AMZ_CHECKSUM_{algorithm}"
        given = environ.get(header) or trailers.get(f"x-amz-checksum-{algorithm.lower()}")
        if given and checksum.exact and given != checksum.b64():
            raise BodyRejected("BadDigest", f"The {algorithm} you specified did not match the "
                               "calculated checksum.")
        environ[header] = given or checksum.b64()  # moto would checksum the (now empty) body
    _hand_moto_an_empty_body(environ)
    return PendingBody(writer, writer.size, md5.hexdigest())


def _decoded_body(environ: dict[str, Any], trailers: dict[str, str]) -> Iterator[bytes]:
    """The body's bytes, without aws-chunked framing (whose trailers go to ``trailers``)."""
    stream = get_input_stream(environ, safe_fallback=False)
    content_sha = environ.get("HTTP_X_AMZ_CONTENT_SHA256", "")
    encoding = environ.get("HTTP_CONTENT_ENCODING", "")
    if not (content_sha.startswith("STREAMING-") or "aws-chunked" in encoding):
        while chunk := stream.read(CHUNK):
            yield chunk
        return
    while True:  # <hex size>[;chunk-signature=...]\r\n <data> \r\n ... 0\r\n <trailers> \r\n
        line = stream.readline(4096)
        if not line:
            raise BodyRejected("IncompleteBody", "The aws-chunked body ended before its last chunk.")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise BodyRejected("InvalidRequest", "Malformed aws-chunked body.") from None
        if size == 0:
            break
        remaining = size
        while remaining:
            chunk = stream.read(min(CHUNK, remaining))
            if not chunk:
                raise BodyRejected("IncompleteBody", "The aws-chunked body ended inside a chunk.")
            remaining -= len(chunk)
            yield chunk
        stream.readline(16)  # the chunk's closing CRLF
    while line := stream.readline(4096).strip():
        name, _, value = line.decode("latin-1").partition(":")
        trailers[name.strip().lower()] = value.strip()


def _hand_moto_an_empty_body(environ: dict[str, Any]) -> None:
    environ["wsgi.input"] = io.BytesIO(b"")
    environ["CONTENT_LENGTH"] = "0"
    environ["wsgi.input_terminated"] = False
    environ["HTTP_X_AMZ_CONTENT_SHA256"] = "UNSIGNED-PAYLOAD"
    for name in ("HTTP_X_AMZ_DECODED_CONTENT_LENGTH", "HTTP_TRANSFER_ENCODING", "HTTP_X_AMZ_TRAILER"):
        environ.pop(name, None)
    encoding = [e.strip() for e in environ.get("HTTP_CONTENT_ENCODING", "").split(",")
                if e.strip() and e.strip() != "aws-chunked"]
    if encoding:
        environ["HTTP_CONTENT_ENCODING"] = ",".join(encoding)
    else:
        environ.pop("HTTP_CONTENT_ENCODING", None)


def s3_error(code: str, message: str, status: int = 400) -> Response:
    """An S3 (REST-XML) error response."""
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>' + _xml(code)
            + "</Code><Message>" + _xml(message) + "</Message><RequestId>local</RequestId></Error>")
    return Response(body, status=status, content_type="application/xml")


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
