"""Streamed access to S3 object bodies: read a large object in pieces, store a file as an object.

:class:`~utils.cloud.backends.ObjectStore` reads and writes whole bodies as ``bytes``;
for a result of millions of rows or a table of gigabytes that would hold it all in
memory at once. The engine needs two streamed operations instead:

- :func:`open_object`: a seekable binary file over an object's body (Parquet footers,
  row groups, one page of a result file);
- :func:`put_file`: store a finished local file as an object without reading it
  into memory.

On the durable cloud (bodies are files, :mod:`utils.cloud.s3`) they use
``ObjectStore.open`` and ``ObjectStore.put_stream``. Without persistence (in-process
tests, ``--ephemeral``), moto's own ``FakeKey`` is used directly: its body is a
``SpooledTemporaryFile`` that we read under the key's lock, or replace by our (already
written, unlinked) file.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

from utils.cloud.backends import NoSuchBucket, ObjectStore

# moto keeps bodies up to this size in memory anyway (MOTO_S3_DEFAULT_KEY_BUFFER_SIZE):
# smaller files go through the ordinary put.
SMALL_OBJECT_BYTES = 5 * 2**20 - 1024


def _moto_key(bucket: str, key: str) -> Any:
    from moto.s3.models import s3_backends

    from utils.config import LOCAL_ACCOUNT_ID

    return s3_backends[LOCAL_ACCOUNT_ID]["aws"].get_object(bucket, key)


def _plain_fake_key(obj: Any) -> bool:
    """True for moto's own FakeKey (whose body buffer we know), not a subclass of it."""
    from moto.s3.models import FakeKey

    return type(obj) is FakeKey and hasattr(obj, "_value_buffer") and hasattr(obj, "lock")


class _FakeKeyReader(io.RawIOBase):
    """A seekable reader over a moto FakeKey's body (each read under the key's lock)."""

    def __init__(self, fake_key: Any, uri: str) -> None:
        super().__init__()
        self._key = fake_key
        self._uri = uri
        self._pos = 0
        self._size = int(fake_key.size)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), self._size - self._pos)
        if want <= 0:
            return 0
        with self._key.lock:
            body = self._key._value_buffer
            try:
                body.seek(self._pos)
                data = body.read(want)
            except ValueError:  # the body was closed: the object was replaced or deleted
                raise OSError(f"{self._uri} changed while it was being read") from None
        buffer[:len(data)] = data
        self._pos += len(data)
        return len(data)


def open_object(store: ObjectStore, bucket: str, key: str) -> BinaryIO:
    """A seekable binary file over an object's body (KeyError when the object is absent)."""
    if not store.bucket_exists(bucket):
        raise KeyError(f"s3://{bucket}/{key}")
    obj = _moto_key(bucket, key)
    if obj is None:
        raise KeyError(f"s3://{bucket}/{key}")
    if getattr(obj, "body_path", None) is not None:  # the durable store: the body's own file
        return store.open(bucket, key)
    if _plain_fake_key(obj):
        return io.BufferedReader(_FakeKeyReader(obj, f"s3://{bucket}/{key}"), buffer_size=256 * 1024)
    return io.BytesIO(store.get(bucket, key))


def put_file(store: ObjectStore, bucket: str, key: str, path: Path, md5_hex: str | None = None) -> None:
    """Store a finished local file as the object ``s3://bucket/key``; the file is consumed.

    ``md5_hex`` (computed while the file was written) saves moto re-reading the body
    for the ETag.
    """
    if not store.bucket_exists(bucket):
        path.unlink(missing_ok=True)
        raise NoSuchBucket(bucket)
    from utils.cloud import moto_state, persistence

    if persistence.enabled() and moto_state.installed():  # the durable store streams it to a blob
        with open(path, "rb") as source:
            store.put_stream(bucket, key, source)
        path.unlink(missing_ok=True)
        return
    size = path.stat().st_size
    if size <= SMALL_OBJECT_BYTES:
        data = path.read_bytes()
        path.unlink(missing_ok=True)
        store.put(bucket, key, data)
        return
    # Large: create the object empty, then give it our file as its body (no copy). The
    # file is unlinked at once, so it lives exactly as long as the object holds it.
    body = open(path, "r+b")  # noqa: SIM115 - handed over to the object, which closes it
    os.unlink(path)
    store.put(bucket, key, b"")
    obj = _moto_key(bucket, key)
    if obj is None or not _plain_fake_key(obj):
        # Unknown body storage: fall back to a whole-body put (correct, not streamed).
        body.seek(0)
        store.put(bucket, key, body.read())
        body.close()
        return
    with obj.lock:
        previous = obj._value_buffer
        obj._value_buffer = body
        obj.contentsize = size
        obj._etag = md5_hex
    previous.close()


def spool_file(folder: Path, suffix: str) -> tuple[Path, BinaryIO]:
    """A new file in ``folder`` for a result or data file being written."""
    handle, name = tempfile.mkstemp(dir=folder, suffix=suffix)
    return Path(name), os.fdopen(handle, "wb")
