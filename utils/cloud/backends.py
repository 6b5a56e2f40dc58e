"""In-process access to moto's stores: S3 objects and the Glue Data Catalog.

The engines that make the local cloud execute (Athena, Glue crawlers, Glue
jobs) live in the same process as moto, so they read and write the stores here
directly instead of going through HTTP (design.md section 4: reading a stored
Parquet object through moto's HTTP server is ~10x slower than reading it here).

Nothing here knows about HTTP. Both classes are thin adapters with the few
operations the engines need, so an engine can be tested with in-process moto
(``moto.mock_aws``) as well as inside the server.
"""

from __future__ import annotations

import fnmatch
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from utils.cloud import persistence
from utils.config import LOCAL_ACCOUNT_ID


class NoSuchBucket(LookupError):
    """The bucket does not exist in the local S3."""


@dataclass(frozen=True)
class StoredObject:
    """An S3 object's listing entry."""

    bucket: str
    key: str
    size: int
    etag: str
    last_modified: Any

    @property
    def uri(self) -> str:
        """The object's s3:// URI."""
        return f"s3://{self.bucket}/{self.key}"


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> ``("bucket", "some/prefix")``."""
    if not uri.startswith(("s3://", "s3a://", "s3n://")):
        raise ValueError(f"Not an S3 URI: {uri!r} (expected s3://bucket/prefix)")
    rest = uri.split("://", 1)[1]
    bucket, _, prefix = rest.partition("/")
    return bucket, prefix


class ObjectStore:
    """The local S3 (moto's S3 backend) seen as a simple object store."""

    def __init__(self, account_id: str = LOCAL_ACCOUNT_ID) -> None:
        from moto.s3.models import s3_backends

        self._backend = s3_backends[account_id]["aws"]

    def bucket_exists(self, bucket: str) -> bool:
        """True when the bucket exists."""
        return bucket in self._backend.buckets

    def create_bucket(self, bucket: str, region: str = "us-east-1") -> None:
        """Create the bucket unless it exists."""
        if not self.bucket_exists(bucket):
            self._backend.create_bucket(bucket, region)
            _s3_changed(bucket)

    def list(self, bucket: str, prefix: str = "") -> list[StoredObject]:
        """Every object (latest version) whose key starts with prefix, sorted by key."""
        try:
            fake_bucket = self._backend.buckets[bucket]
        except KeyError:
            raise NoSuchBucket(bucket) from None
        out = []
        for key in list(fake_bucket.keys.keys()):
            if not key.startswith(prefix):
                continue
            obj = fake_bucket.keys.get(key)
            if obj is None or getattr(obj, "is_delete_marker", False) or not hasattr(obj, "size"):
                continue
            out.append(StoredObject(bucket, key, obj.size, obj.etag.strip('"'), obj.last_modified))
        return sorted(out, key=lambda o: o.key)

    def list_uri(self, uri: str) -> list[StoredObject]:
        """Objects under an s3:// prefix (a "folder" URI gets a trailing slash)."""
        bucket, prefix = split_s3_uri(uri)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return self.list(bucket, prefix)

    def get(self, bucket: str, key: str) -> bytes:
        """The object's bytes (KeyError when absent)."""
        obj = self._backend.get_object(bucket, key)
        if obj is None:
            raise KeyError(f"s3://{bucket}/{key}")
        return obj.value

    def open(self, bucket: str, key: str) -> IO[bytes]:
        """The object's bytes as a readable binary file (KeyError when absent).

        On the persisting cloud this is the body's own file on disk (seekable, no copy
        in memory): read large objects this way rather than with :meth:`get`.
        """
        obj = self._backend.get_object(bucket, key)
        if obj is None:
            raise KeyError(f"s3://{bucket}/{key}")
        path = getattr(obj, "body_path", None)
        if path is not None:
            return open(path, "rb")  # noqa: SIM115 - the caller closes it
        return io.BytesIO(obj.value)

    def put(self, bucket: str, key: str, data: bytes) -> None:
        """Write an object (the bucket must exist)."""
        if not self.bucket_exists(bucket):
            raise NoSuchBucket(bucket)
        self._backend.put_object(bucket, key, data)
        _s3_changed(bucket, key)

    def put_stream(self, bucket: str, key: str, source: IO[bytes]) -> None:
        """Write an object from a binary file, without holding it in memory when persisting."""
        if not self.bucket_exists(bucket):
            raise NoSuchBucket(bucket)
        from utils.cloud import moto_state

        if not (persistence.enabled() and moto_state.installed()):  # bodies are moto's own
            self.put(bucket, key, source.read())
            return
        import hashlib

        from utils.cloud.s3 import models as s3_models

        writer = persistence.new_blob(s3_models.NAMESPACE)
        try:
            md5 = hashlib.md5(usedforsecurity=False)
            while chunk := source.read(s3_models.CHUNK):
                writer.write(chunk)
                md5.update(chunk)
            writer.finish()
            s3_models.set_pending_body(s3_models.PendingBody(writer, writer.size, md5.hexdigest()))
            self._backend.put_object(bucket, key, b"")
        finally:
            leftover = s3_models.take_pending_body()
            if leftover is not None:
                leftover.writer.discard()
        _s3_changed(bucket, key)

    def delete(self, bucket: str, key: str) -> None:
        """Delete an object if present."""
        self._backend.delete_object(bucket, key)
        _s3_changed(bucket, key)

    def delete_prefix(self, uri: str) -> int:
        """Delete every object under an s3:// prefix; return how many."""
        objs = self.list_uri(uri)
        for obj in objs:
            self.delete(obj.bucket, obj.key)
        return len(objs)


def _s3_changed(bucket: str, key: str | None = None) -> None:
    """Schedule the save of what an in-process writer changed (the request's end waits for it)."""
    if persistence.enabled():
        from utils.cloud.moto_state import part_name

        parts = [part_name("bucket", bucket)] + ([part_name("key", bucket, key)] if key else [])
        persistence.changed("s3", *parts, wait=False)


def _glue_changed() -> None:
    persistence.changed("glue", wait=False)


class GlueCatalog:
    """The local Glue Data Catalog (moto's Glue backend): databases, tables, partitions."""

    def __init__(self, region: str = "us-east-1", account_id: str = LOCAL_ACCOUNT_ID) -> None:
        from moto.glue.models import glue_backends

        self._backend = glue_backends[account_id][region]

    @property
    def backend(self) -> Any:
        """The underlying moto Glue backend (jobs, crawlers)."""
        return self._backend

    def databases(self) -> list[str]:
        """Names of every database."""
        return list(self._backend.databases)

    def database_exists(self, name: str) -> bool:
        """True when the database exists."""
        return name in self._backend.databases

    def create_database(self, name: str, description: str = "") -> None:
        """Create a database unless it exists."""
        if not self.database_exists(name):
            self._backend.create_database(name, {"Name": name, "Description": description})
            _glue_changed()

    def tables(self, database: str, pattern: str | None = None) -> list[dict[str, Any]]:
        """Table definitions (Glue ``Table`` dicts) of a database, optionally glob-filtered."""
        db = self._backend.get_database(database)
        out = []
        for name, table in db.tables.items():
            if pattern and not fnmatch.fnmatch(name, pattern):
                continue
            out.append(table.as_dict())
        return out

    def get_table(self, database: str, name: str) -> dict[str, Any] | None:
        """A table's definition, or None when the database or table does not exist."""
        db = self._backend.databases.get(database)
        if db is None:
            return None
        table = db.tables.get(name) or db.tables.get(name.lower())
        return table.as_dict() if table else None

    def put_table(self, database: str, table_input: dict[str, Any]) -> None:
        """Create the table, or replace its definition (a new version) when it exists."""
        name = table_input["Name"]
        db = self._backend.get_database(database)
        if name in db.tables:
            self._backend.update_table(database, name, table_input)
        else:
            self._backend.create_table(database, name, table_input)
        _glue_changed()

    def delete_table(self, database: str, name: str) -> None:
        """Drop a table definition (its data is not touched, as in Glue)."""
        self._backend.delete_table(database, name)
        _glue_changed()

    def partitions(self, database: str, name: str) -> list[dict[str, Any]]:
        """Partition definitions of a table."""
        table = self._backend.get_table(database, name)
        return [p.as_dict() for p in table.partitions.values()]

    def put_partition(self, database: str, name: str, partition_input: dict[str, Any]) -> None:
        """Create a partition unless one with the same values exists."""
        table = self._backend.get_table(database, name)
        if str(partition_input["Values"]) not in table.partitions:
            table.create_partition(partition_input)
            _glue_changed()

    def delete_partition(self, database: str, name: str, values: list[str]) -> None:
        """Drop a partition definition."""
        table = self._backend.get_table(database, name)
        table.delete_partition(values)
        _glue_changed()

    def iter_locations(self, database: str, name: str) -> Iterator[tuple[dict[str, str], str]]:
        """(partition values by key, S3 location) of a table: one pair per partition,
        or one pair with no values for an unpartitioned table."""
        table = self.get_table(database, name)
        if table is None:
            return
        keys = [k["Name"] for k in table.get("PartitionKeys") or []]
        if not keys:
            yield {}, table["StorageDescriptor"]["Location"]
            return
        for part in self.partitions(database, name):
            yield dict(zip(keys, part["Values"], strict=False)), part["StorageDescriptor"]["Location"]
