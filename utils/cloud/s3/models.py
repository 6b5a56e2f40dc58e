"""moto's S3 objects with their bodies in durable files (models; no HTTP here).

moto keeps each body in a ``SpooledTemporaryFile`` (memory up to
``MOTO_S3_DEFAULT_KEY_BUFFER_SIZE``, then an anonymous temporary file) and reads it
whole into memory to answer a GET, copy an object or complete a multipart upload.
:class:`DurableKey` is moto's ``FakeKey`` whose body is a blob of the persistence
store instead (``.delab/cloud/state/blobs/s3/<id>``, written once, fsynced, renamed
into place), so bodies survive a restart and never sit in the process's memory:

- a body arrives either as bytes (small objects moto decoded) or as a file already
  streamed to disk by :mod:`utils.cloud.s3.responses` (:func:`pending_body`);
- ``value`` returns bytes, except inside a request that only streams (GET, copies):
  there it returns a :class:`BodyView`, a window on the file that moto can measure,
  slice and hand to werkzeug, and that a new key adopts by hard link or range copy;
- :class:`DurableMultipart` completes an upload by concatenating part files on disk.
"""

from __future__ import annotations

import binascii
import contextlib
import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moto.s3 import models as moto_s3

from utils.cloud import persistence

NAMESPACE = "s3"
CHUNK = 1 << 20  # bytes read or copied at a time

_local = threading.local()


# -- bodies streamed by the responses layer ---------------------------------------------


@dataclass
class PendingBody:
    """A request body already on disk (not yet published), waiting for its key."""

    writer: persistence.BlobWriter
    size: int
    md5: str


def set_pending_body(body: PendingBody | None) -> None:
    """The next key created in this thread with an empty value takes ``body``."""
    _local.pending = body


def take_pending_body() -> PendingBody | None:
    """The body not taken by any key (the request failed), to be discarded."""
    body = getattr(_local, "pending", None)
    _local.pending = None
    return body


@contextlib.contextmanager
def streaming_values() -> Iterator[None]:
    """Within the block, ``DurableKey.value`` is a :class:`BodyView` (no bytes read)."""
    previous = getattr(_local, "lazy", False)
    _local.lazy = True
    try:
        yield
    finally:
        _local.lazy = previous


class BodyView:
    """A read-only window ``[start, start + length)`` on an object's body file.

    Enough of ``bytes`` for moto's GET path (``len``, truth, slicing) and an iterable
    of chunks for werkzeug, which streams it to the client.
    """

    def __init__(self, key: DurableKey, start: int = 0, length: int | None = None) -> None:
        self.key = key  # keeps the key, hence its blob, alive while the view is used
        self.path = key.body_path
        self.start = start
        self.length = key.contentsize - start if length is None else length

    @property
    def is_whole(self) -> bool:
        """True when the view covers the whole body."""
        return self.start == 0 and self.length == self.key.contentsize

    def __len__(self) -> int:
        return self.length

    def __bool__(self) -> bool:
        return self.length > 0

    def __getitem__(self, item: slice) -> BodyView:
        if not isinstance(item, slice) or item.step not in (None, 1):
            raise TypeError("a body view only supports contiguous slices")
        begin, end, _ = item.indices(self.length)
        return BodyView(self.key, self.start + begin, max(0, end - begin))

    def __iter__(self) -> Iterator[bytes]:
        if not self.length or self.path is None:
            return
        with open(self.path, "rb") as body:
            body.seek(self.start)
            remaining = self.length
            while remaining:
                chunk = body.read(min(CHUNK, remaining))
                if not chunk:
                    raise OSError(f"{self.path} is shorter than its object's size")
                remaining -= len(chunk)
                yield chunk

    def tobytes(self) -> bytes:
        """The bytes (for the rare caller that needs them)."""
        return b"".join(self)


class _BodyReader:
    """What moto's ``FakeKey`` expects in ``_value_buffer`` (its ETag code reads it)."""

    def __init__(self, key: DurableKey) -> None:
        self.key = key
        self.position = 0

    def seek(self, position: int, whence: int = 0) -> int:
        self.position = position if whence == 0 else self.key.contentsize + position
        return self.position

    def tell(self) -> int:
        return self.position

    def read(self, size: int = -1) -> bytes:
        path = self.key.body_path
        if path is None:
            return b""
        with open(path, "rb") as body:
            body.seek(self.position)
            data = body.read() if size is None or size < 0 else body.read(size)
        self.position += len(data)
        return data

    def close(self) -> None:
        """Nothing to release: the file is opened per read."""


# -- checksums as moto computes them, but over a stream --------------------------------


class StreamingChecksum:
    """``moto.s3.utils.compute_checksum`` fed chunk by chunk (same algorithms and fallbacks)."""

    def __init__(self, algorithm: str) -> None:
        self.algorithm = algorithm.upper()
        self._crc = 0
        self._hash: Any = None
        self._kind = "crc32"
        if self.algorithm == "SHA1":
            self._kind, self._hash = "hash", hashlib.sha1(usedforsecurity=False)
        elif self.algorithm == "CRC32C":
            with contextlib.suppress(ImportError):
                import crc32c  # noqa: F401 - optional, as in moto

                self._kind = "crc32c"
        elif self.algorithm == "CRC64NVME":
            from moto.core.compat import HAS_CRT

            if HAS_CRT:
                self._kind = "crc64nvme"
        elif self.algorithm != "CRC32":
            self._kind, self._hash = "hash", hashlib.sha256(usedforsecurity=False)

    @property
    def exact(self) -> bool:
        """False when moto would fall back to CRC32 (optional library missing)."""
        return self.algorithm in ("SHA1", "SHA256", "CRC32") or self._kind != "crc32"

    def update(self, data: bytes | memoryview) -> None:
        """Add bytes."""
        if self._kind == "hash":
            self._hash.update(data)
        elif self._kind == "crc32c":
            import crc32c

            self._crc = crc32c.crc32c(data, value=self._crc)
        elif self._kind == "crc64nvme":
            from awscrt import checksums

            self._crc = checksums.crc64nvme(data, self._crc)
        else:
            self._crc = binascii.crc32(data, self._crc)

    def digest(self) -> bytes:
        """The raw checksum."""
        if self._kind == "hash":
            return self._hash.digest()
        return self._crc.to_bytes(8 if self._kind == "crc64nvme" else 4, "big")

    def b64(self) -> str:
        """The checksum as S3 headers carry it (base64)."""
        return binascii.b2a_base64(self.digest(), newline=False).decode()


# -- keys ----------------------------------------------------------------------------


class DurableKey(moto_s3.FakeKey):
    """moto's S3 object (one version) whose body is a durable blob file."""

    _blob: str | None = None
    _md5: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._blob = None
        self._md5 = None
        super().__init__(*args, **kwargs)  # calls the ``value`` setter below
        self._value_buffer.close()  # moto's (empty) spooled buffer: the body is our file
        self._value_buffer = _BodyReader(self)
        composite = self.__dict__.pop("_composite_of", None)
        if composite is not None:
            self.checksum_type, self.checksum_parts = composite

    @property
    def body_path(self) -> Path | None:
        """The file holding the body (None for an empty body)."""
        return persistence.blob_path(NAMESPACE, self._blob) if self._blob else None

    @property
    def value(self) -> Any:
        """The body: bytes, or a :class:`BodyView` inside :func:`streaming_values`."""
        if self._blob is None:
            return b""
        if getattr(_local, "lazy", False):
            return BodyView(self)
        with open(self.body_path, "rb") as body:  # type: ignore[arg-type]
            return body.read()

    @value.setter
    def value(self, new_value: Any) -> None:
        pending = getattr(_local, "pending", None)
        if isinstance(new_value, BodyView):
            self._adopt_view(new_value)
        elif pending is not None and not new_value:
            _local.pending = None
            self._set_blob(pending.writer.blob_id, pending.size, pending.md5)
            pending.writer.publish()
        else:
            if isinstance(new_value, str):
                new_value = new_value.encode("utf-8")
            self._write(bytes(new_value) if isinstance(new_value, bytearray | memoryview)
                        else new_value)

    def _set_blob(self, blob_id: str | None, size: int, md5: str) -> None:
        if self._blob and self._blob != blob_id:
            persistence.untrack_live_blob(NAMESPACE, self._blob, self)
        self._blob = blob_id
        if blob_id:
            persistence.track_live_blob(NAMESPACE, blob_id, self)
        self.contentsize = size
        self._md5 = md5
        if self._etag is None:
            self._etag = md5

    def _write(self, data: bytes) -> None:
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        if not data:
            self._set_blob(None, 0, md5)
            return
        writer = persistence.new_blob(NAMESPACE)
        try:
            writer.write(data)
            writer.finish()
            self._set_blob(writer.blob_id, len(data), md5)
            writer.publish()
        except BaseException:
            writer.discard()
            raise

    def _adopt_view(self, view: BodyView) -> None:
        """Take another key's body (CopyObject) or a range of it (UploadPartCopy)."""
        if not view.length:
            self._write(b"")
        elif view.is_whole and view.key._blob:
            blob_id = persistence.link_blob(NAMESPACE, view.key._blob)
            self._set_blob(blob_id, view.length, view.key.content_md5())
            if view.key.checksum_type == "COMPOSITE":
                # moto's CopyObject copies the value of a multipart object's checksum but not
                # its type, so GET would present a per-part checksum as the whole object's
                # and SDKs reject the body. The copy keeps its source's composite form
                # (applied in __init__, after moto's own assignments).
                self._composite_of = (view.key.checksum_type, view.key.checksum_parts)
        else:
            writer = persistence.new_blob(NAMESPACE)
            md5 = hashlib.md5(usedforsecurity=False)
            try:
                for chunk in view:
                    writer.write(chunk)
                    md5.update(chunk)
                writer.finish()
                self._set_blob(writer.blob_id, view.length, md5.hexdigest())
                writer.publish()
            except BaseException:
                writer.discard()
                raise

    def content_md5(self) -> str:
        """MD5 of the body (hex), computed from the file when unknown."""
        if self._md5 is None:
            md5 = hashlib.md5(usedforsecurity=False)
            for chunk in BodyView(self):
                md5.update(chunk)
            self._md5 = md5.hexdigest()
        return self._md5

    def release_body(self) -> None:
        """Drop the body but keep size and ETag (multipart parts once the object is whole)."""
        if self._blob:
            persistence.untrack_live_blob(NAMESPACE, self._blob, self)
        self._blob = None

    def dispose(self, garbage: bool = False) -> None:
        """moto calls this when it drops the key: the blob is deleted once no state uses it."""
        self.disposed = True

    def __del__(self) -> None:
        """No warning: an unused blob is found and deleted by the store's sweep."""

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_value_buffer", None)
        state.pop("lock", None)
        if self._blob:
            persistence.reference_blob(NAMESPACE, self._blob)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.lock = threading.Lock()
        self._value_buffer = _BodyReader(self)
        if self._blob:
            persistence.track_live_blob(NAMESPACE, self._blob, self)


class DurableMultipart(moto_s3.FakeMultipart):
    """moto's multipart upload, completed on disk: parts are concatenated file to file."""

    def complete(self, body: Iterator[tuple[int, str]]) -> tuple[bytes, str, tuple[str, str, int] | None]:
        """Validate the part list as moto does, then build the object's file without memory copies.

        Returns moto's ``(value, etag, checksum)`` with an empty value: the new object's
        key takes the concatenated file (:func:`set_pending_body`).
        """
        from moto.s3.exceptions import EntityTooSmall, InvalidPart, MalformedXML

        min_size = moto_s3.S3_UPLOAD_PART_MIN_SIZE  # read at call time: tests lower it
        parts: list[DurableKey] = []
        md5s = bytearray()
        last = None
        for number, etag in body:
            part = self.parts.get(number)
            if part is None or part.etag.replace('"', "") != etag.replace('"', ""):
                raise InvalidPart()
            if last is not None and last.contentsize < min_size:
                raise EntityTooSmall()
            md5s.extend(binascii.unhexlify(part.etag.replace('"', "")))
            parts.append(part)
            last = part
        if not parts:
            raise MalformedXML

        algorithm = self.metadata.get("x-amz-checksum-algorithm") or "CRC64NVME"
        checksum_type = self.metadata.get("x-amz-checksum-type") or (
            "FULL_OBJECT" if algorithm == "CRC64NVME" else "COMPOSITE")
        whole = StreamingChecksum(algorithm)
        composite = bytearray()
        md5 = hashlib.md5(usedforsecurity=False)
        writer = persistence.new_blob(NAMESPACE)
        try:
            for part in parts:
                part_sum = StreamingChecksum(algorithm)
                for chunk in BodyView(part):
                    writer.write(chunk)
                    md5.update(chunk)
                    (part_sum if checksum_type == "COMPOSITE" else whole).update(chunk)
                composite.extend(part_sum.digest())
            writer.finish()
        except BaseException:
            writer.discard()
            raise
        if checksum_type == "COMPOSITE":
            combined = StreamingChecksum(algorithm)
            combined.update(bytes(composite))
            checksum = (checksum_type, combined.b64(), len(parts))
        else:
            checksum = (checksum_type, whole.b64(), 1)
        set_pending_body(PendingBody(writer, writer.size, md5.hexdigest()))
        for part in self.parts.values():  # the object has the bytes now; parts keep size and ETag
            part.release_body()
        etag = hashlib.md5(bytes(md5s), usedforsecurity=False).hexdigest()
        return b"", f"{etag}-{len(parts)}", checksum

    def dispose(self) -> None:
        """Nothing to close (part bodies are files deleted once unused)."""


# -- installation ---------------------------------------------------------------------


def install() -> None:
    """Make moto's S3 create :class:`DurableKey` and :class:`DurableMultipart` objects."""
    persistence.manage_blobs(NAMESPACE)
    moto_s3.FakeKey = DurableKey  # type: ignore[misc]
    moto_s3.FakeMultipart = DurableMultipart  # type: ignore[misc]
