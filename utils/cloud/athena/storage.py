"""Reading a Glue table's data from the local S3, in process, with a decoded-column cache.

A table is its Glue definition (columns, SerDe, location) plus the objects under
its location (or under each partition's location). We read those objects from
moto's store directly (no HTTP), decode only the columns a query needs, cast
them to the table's declared types (Athena reads data *through* the table
schema, so a file that disagrees fails with HIVE_BAD_DATA as on AWS) and keep
the decoded columns in a memory-bounded LRU cache keyed by (bucket, key, ETag):
a changed object has a new ETag, so the cache never serves stale data.

Large objects (more than :attr:`TableReader.stream_threshold` bytes) are not read
whole nor cached: they are streamed, a row group or a block at a time, so reading
a table of any size holds one batch in memory, not the table.

``bytes_scanned`` is measured as Athena bills it: for Parquet the compressed
size of the column chunks read, for text formats the whole object.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from utils.cloud.athena.errors import AthenaQueryError, QueryCancelled
from utils.cloud.athena.objects import open_object
from utils.cloud.athena.types import family, hive_to_arrow
from utils.cloud.backends import NoSuchBucket, ObjectStore, StoredObject

# The objects a query reads from a table, each with its partition values.
Planned = list[tuple[StoredObject, dict[str, str]]]

DEFAULT_CACHE_MIB = 256
# Rows per batch when streaming a large object.
STREAM_BATCH_ROWS = 65_536
HIVE_NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"


@dataclass
class Column:
    """A table column: its name and the Arrow type of its Glue type."""

    name: str
    hive_type: str
    arrow_type: pa.DataType


def table_columns(table_def: dict[str, Any]) -> tuple[list[Column], list[Column]]:
    """(data columns, partition columns) of a Glue table definition."""

    def convert(items: Iterable[dict[str, Any]]) -> list[Column]:
        out = []
        for item in items:
            try:
                arrow_type = hive_to_arrow(item["Type"])
            except ValueError as err:
                raise AthenaQueryError("NOT_SUPPORTED", f"Column '{item['Name']}': {err}") from None
            out.append(Column(item["Name"].lower(), item["Type"], arrow_type))
        return out

    storage = table_def.get("StorageDescriptor") or {}
    return convert(storage.get("Columns") or []), convert(table_def.get("PartitionKeys") or [])


def table_format(table_def: dict[str, Any]) -> str:
    """``parquet``, ``csv``, ``json`` (or another name, unsupported) from the table's SerDe."""
    storage = table_def.get("StorageDescriptor") or {}
    serde = ((storage.get("SerdeInfo") or {}).get("SerializationLibrary") or "").lower()
    input_format = (storage.get("InputFormat") or "").lower()
    classification = ((table_def.get("Parameters") or {}).get("classification") or "").lower()
    if "parquet" in serde or "parquet" in input_format or classification == "parquet":
        return "parquet"
    if "json" in serde or classification == "json":
        return "json"
    if "orc" in serde or "orc" in input_format or classification == "orc":
        return "orc"
    if "avro" in serde or classification == "avro":
        return "avro"
    if "csv" in serde or "lazysimple" in serde or classification == "csv" or "text" in input_format:
        return "csv"
    return serde if serde else "parquet"


def is_data_object(obj: StoredObject, prefix: str) -> bool:
    """Hive/Athena skip hidden and marker files (``_SUCCESS``, ``.crc``, ``$folder$``)."""
    relative = obj.key[len(prefix):]
    parts = [p for p in relative.split("/") if p]
    if obj.size == 0 or obj.key.endswith("/") or obj.key.endswith("$folder$"):
        return False
    return not any(p.startswith(("_", ".")) for p in parts)


@dataclass
class _Entry:
    """Decoded columns of one object version."""

    num_rows: int
    file_columns: dict[str, str]  # lower-case name -> name in the file
    chunk_bytes: dict[str, int]  # lower-case name -> compressed bytes of its chunks
    columns: dict[tuple[str, str], pa.ChunkedArray] = field(default_factory=dict)
    nbytes: int = 0
    # lower-case name -> uncompressed bytes of its chunks (about its decoded size)
    plain_bytes: dict[str, int] = field(default_factory=dict)


class ColumnCache:
    """LRU cache of decoded columns per object version, bounded in bytes (thread-safe)."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_MIB * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[str, str, str], _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.nbytes = 0
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[str, str, str]) -> _Entry | None:
        """The entry for an object version, marking it recently used."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple[str, str, str], entry: _Entry) -> _Entry:
        """Store (or keep the already stored) entry for an object version."""
        with self._lock:
            existing = self._entries.get(key)
            if existing is not None:
                return existing
            self._entries[key] = entry
            self.nbytes += entry.nbytes
            return entry

    def add_column(self, entry: _Entry, name: tuple[str, str], column: pa.ChunkedArray) -> None:
        """Add a decoded column to an entry, evicting least recently used entries if over budget."""
        with self._lock:
            if name in entry.columns:
                return
            entry.columns[name] = column
            entry.nbytes += column.nbytes
            self.nbytes += column.nbytes
            while self.nbytes > self.max_bytes:
                # Evict least recently used entries, never the one being filled.
                victim = next((k for k, e in self._entries.items() if e is not entry), None)
                if victim is None:
                    break
                self.nbytes -= self._entries.pop(victim).nbytes

    def clear(self) -> None:
        """Drop every cached column."""
        with self._lock:
            self._entries.clear()
            self.nbytes = 0


@dataclass
class Scan:
    """What reading a table's objects cost (filled in while its batches are read)."""

    bytes_scanned: int = 0
    files_read: int = 0
    rows_read: int = 0
    nbytes: int = 0
    # Compressed bytes per column read (Parquet), or "*" for whole objects (text formats).
    column_bytes: dict[str, int] = field(default_factory=dict)


def choose_columns(table_def: dict[str, Any], wanted: set[str] | None) -> tuple[list[Column], list[Column]]:
    """(data columns, partition columns) a query needs from a table (None: all of them)."""
    data_cols, part_cols = table_columns(table_def)
    chosen = [c for c in data_cols if wanted is None or c.name in wanted]
    chosen_parts = [c for c in part_cols if wanted is None or c.name in wanted]
    if not chosen and not chosen_parts and data_cols:
        chosen = [data_cols[0]]  # COUNT(*) still needs the row count of each file
    return chosen, chosen_parts


class TableReader:
    """Reads Glue tables' data as Arrow batches: small objects through the column cache,
    large ones streamed."""

    def __init__(self, store: ObjectStore, cache: ColumnCache, stream_threshold: int | None = None) -> None:
        self.store = store
        self.cache = cache
        # An object larger than this is streamed instead of decoded whole and cached:
        # decoded data is typically 3-10x its Parquet size.
        self.stream_threshold = stream_threshold if stream_threshold is not None else cache.max_bytes // 16

    def plan(self, table_def: dict[str, Any], locations: list[tuple[dict[str, str], str]],
             partition_filter: dict[str, set[str]] | None = None) -> Planned:
        """The data objects to read, with their partition values (pruned partitions skipped)."""
        fmt = table_format(table_def)
        if fmt not in ("parquet", "csv", "json", "orc", "avro"):
            raise AthenaQueryError(
                "NOT_SUPPORTED", f"Table format '{fmt}' is not supported by the local Athena "
                "(it reads PARQUET, ORC, AVRO, CSV and JSON). Convert the data with a CTAS ... "
                "format='PARQUET'.")
        _, part_cols = table_columns(table_def)
        planned = []
        for values, location in locations:
            if not _partition_matches(values, part_cols, partition_filter or {}):
                continue
            try:
                objects = self.store.list_uri(location)
            except NoSuchBucket:
                raise AthenaQueryError(
                    "HIVE_UNKNOWN_ERROR", f"Unable to read {location}: the bucket does not exist. "
                    "Check the table's LOCATION.") from None
            prefix = location.split("://", 1)[1].partition("/")[2]
            prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
            planned += [(obj, values) for obj in objects if is_data_object(obj, prefix)]
        return planned

    def schema(self, table_def: dict[str, Any], wanted: set[str] | None) -> pa.Schema:
        """The Arrow schema of a scan of these columns: the table's types, timestamps in
        microseconds (files hold ms, us or ns; microseconds keep what Athena shows, and
        every batch of a scan must have one schema)."""
        chosen, chosen_parts = choose_columns(table_def, wanted)
        return pa.schema([pa.field(c.name, _scan_type(c.arrow_type)) for c in chosen + chosen_parts])

    def scan(self, table_def: dict[str, Any], planned: Planned, wanted: set[str] | None, stats: Scan,
             cancelled: Callable[[], bool] = lambda: False) -> Iterator[pa.RecordBatch]:
        """Batches of the planned objects' rows, restricted to the wanted columns (None: all).

        ``stats`` is filled in as the batches are read. Raises :class:`QueryCancelled`
        between objects and batches once ``cancelled()`` is true.
        """
        data_cols, part_cols = table_columns(table_def)
        fmt = table_format(table_def)
        chosen, chosen_parts = choose_columns(table_def, wanted)
        schema = self.schema(table_def, wanted)
        for obj, values in planned:
            if cancelled():
                raise QueryCancelled(obj.uri)
            if obj.size > self.stream_threshold:
                pieces, scanned = self._stream_object(obj, fmt, table_def, data_cols, chosen)
            else:
                pieces, scanned = self._read_object(obj, fmt, table_def, data_cols, chosen)
            for piece in pieces:
                if cancelled():
                    raise QueryCancelled(obj.uri)
                for col in chosen_parts:
                    piece = piece.append_column(col.name, self._partition_column(
                        obj, col, values.get(col.name), piece.num_rows))
                piece = _conform(piece.select(schema.names), schema)
                stats.rows_read += piece.num_rows
                stats.nbytes += piece.nbytes
                yield from piece.to_batches()
            for name, size in scanned.items():
                stats.column_bytes[name] = stats.column_bytes.get(name, 0) + size
            stats.files_read += 1
        stats.bytes_scanned = sum(stats.column_bytes.values())

    # ---------------------------------------------------------------- objects

    def _read_object(self, obj: StoredObject, fmt: str, table_def: dict[str, Any], data_cols: list[Column],
                     chosen: list[Column]) -> tuple[Iterator[pa.Table], dict[str, int]]:
        """One object's chosen columns, and the bytes read per column (``*``: the whole object).

        Decoded columns are cached, unless they would take more than a quarter of the
        cache (a small but highly compressed file): then they are streamed.
        """
        key = (obj.bucket, obj.key, obj.etag)
        entry = self.cache.get(key)
        raw: bytes | None = None
        if entry is None:
            self.cache.misses += 1
            raw = self.store.get(obj.bucket, obj.key)
            entry = self.cache.put(key, self._describe(raw, fmt, obj))
        else:
            self.cache.hits += 1
        missing = [c for c in chosen if (c.name, str(c.arrow_type)) not in entry.columns]
        if missing and fmt == "parquet" and \
                sum(entry.plain_bytes.get(c.name, 0) for c in missing) > self.cache.max_bytes // 4:
            if raw is None:
                raw = self.store.get(obj.bucket, obj.key)
            scanned = {c.name: entry.chunk_bytes.get(c.name, 0) for c in chosen}
            parquet = _open_parquet(pa.BufferReader(raw), obj)
            return self._parquet_batches(parquet, entry, chosen, obj), scanned
        if missing:
            if raw is None:
                raw = self.store.get(obj.bucket, obj.key)
            if fmt == "parquet":
                decoded = self._decode_parquet(raw, entry, missing, obj)
            else:
                decoded = self._decode_text(raw, fmt, table_def, data_cols, obj)
            for col in missing:
                self.cache.add_column(entry, (col.name, str(col.arrow_type)), decoded[col.name])
        arrays = [entry.columns[(c.name, str(c.arrow_type))] for c in chosen]
        table = pa.table(arrays, names=[c.name for c in chosen]) if chosen else \
            pa.table({"__rows": pa.nulls(entry.num_rows)}).drop_columns(["__rows"])
        if fmt == "parquet":
            return iter([table]), {c.name: entry.chunk_bytes.get(c.name, 0) for c in chosen}
        return iter([table]), {"*": obj.size}

    @staticmethod
    def _describe(raw: bytes, fmt: str, obj: StoredObject) -> _Entry:
        if fmt != "parquet":
            return _Entry(num_rows=-1, file_columns={}, chunk_bytes={})
        return _describe_parquet(_open_parquet(pa.BufferReader(raw), obj).metadata)

    # ----------------------------------------------------------- large objects

    def _stream_object(self, obj: StoredObject, fmt: str, table_def: dict[str, Any], data_cols: list[Column],
                       chosen: list[Column]) -> tuple[Iterator[pa.Table], dict[str, int]]:
        """A large object's chosen columns, a batch at a time (not cached)."""
        try:
            body = open_object(self.store, obj.bucket, obj.key)
        except KeyError:
            raise AthenaQueryError("HIVE_CANNOT_OPEN_SPLIT", f"Error opening Hive split {obj.uri}: the "
                                   "object was deleted while the query ran") from None
        if fmt == "parquet":
            parquet = _open_parquet(body, obj)
            entry = _describe_parquet(parquet.metadata)
            scanned = {c.name: entry.chunk_bytes.get(c.name, 0) for c in chosen}
            return self._parquet_batches(parquet, entry, chosen, obj), scanned
        return self._text_batches(body, fmt, table_def, data_cols, chosen, obj), {"*": obj.size}

    @staticmethod
    def _parquet_batches(parquet: pq.ParquetFile, entry: _Entry, chosen: list[Column],
                         obj: StoredObject) -> Iterator[pa.Table]:
        """Batches of a Parquet file's chosen columns, one row group at a time.

        (``iter_batches`` over the whole file buffers every row group's pages first:
        a whole file in memory; one row group at a time holds one row group's pages.)
        """
        present = [entry.file_columns[c.name] for c in chosen if c.name in entry.file_columns]
        names = [c.name for c in chosen]
        for group in range(parquet.metadata.num_row_groups):
            rows = parquet.metadata.row_group(group).num_rows
            if not present:  # COUNT(*), or columns missing from the file (NULL): only row counts
                for start in range(0, rows, STREAM_BATCH_ROWS):
                    size = min(STREAM_BATCH_ROWS, rows - start)
                    nulls = [pa.nulls(size, c.arrow_type) for c in chosen]
                    yield pa.table(nulls, names=names) if chosen else \
                        pa.table({"__rows": pa.nulls(size)}).drop_columns(["__rows"])
                continue
            for batch in parquet.iter_batches(batch_size=STREAM_BATCH_ROWS, row_groups=[group],
                                              columns=present, use_threads=True):
                arrays = []
                for col in chosen:
                    if col.name in entry.file_columns:
                        values = pa.chunked_array([batch.column(entry.file_columns[col.name])])
                        arrays.append(_coerce(values, col, obj, "parquet"))
                    else:  # Athena reads a column missing from a file as NULL
                        arrays.append(pa.chunked_array([pa.nulls(batch.num_rows, col.arrow_type)]))
                yield pa.table(arrays, names=names)

    @staticmethod
    def _text_batches(body: Any, fmt: str, table_def: dict[str, Any], data_cols: list[Column],
                      chosen: list[Column], obj: StoredObject) -> Iterator[pa.Table]:
        if fmt in ("orc", "avro"):
            yield from _binary_pieces(body, fmt, data_cols, chosen, obj)
            return
        stream = _decompressed(pa.PythonFile(body, mode="r"), obj)
        if fmt == "json":
            import pyarrow.json as pajson

            reader: Any = pajson.open_json(stream)
        else:
            reader = _open_csv(stream, table_def, data_cols)
        by_name = {c.name: c for c in data_cols}
        for batch in reader:
            table = pa.Table.from_batches([batch])
            if fmt == "json":
                table = table.rename_columns([n.lower() for n in table.column_names])
            arrays = []
            for col in chosen:
                values = table.column(col.name) if col.name in table.column_names else \
                    pa.chunked_array([pa.nulls(table.num_rows, by_name[col.name].arrow_type)])
                arrays.append(_coerce(values, col, obj, fmt))
            yield pa.table(arrays, names=[c.name for c in chosen]) if chosen else \
                pa.table({"__rows": pa.nulls(table.num_rows)}).drop_columns(["__rows"])

    # ------------------------------------------------------------------ helpers

    def _decode_parquet(self, raw: bytes, entry: _Entry, columns: list[Column],
                        obj: StoredObject) -> dict[str, pa.ChunkedArray]:
        present = [entry.file_columns[c.name] for c in columns if c.name in entry.file_columns]
        table = pq.ParquetFile(pa.BufferReader(raw)).read(columns=present, use_threads=True) \
            if present else None
        out = {}
        for col in columns:
            if col.name in entry.file_columns and table is not None:
                values = table.column(entry.file_columns[col.name])
                out[col.name] = _coerce(values, col, obj, "parquet")
            else:  # Athena reads a column missing from a file as NULL
                out[col.name] = pa.chunked_array([pa.nulls(entry.num_rows, col.arrow_type)])
        return out

    def _decode_text(self, raw: bytes, fmt: str, table_def: dict[str, Any], data_cols: list[Column],
                     obj: StoredObject) -> dict[str, pa.ChunkedArray]:
        if fmt in ("orc", "avro"):
            pieces = list(_binary_pieces(io.BytesIO(raw), fmt, data_cols, data_cols, obj))
            if not pieces:
                return {c.name: pa.chunked_array([], type=c.arrow_type) for c in data_cols}
            whole = pa.concat_tables(pieces, promote_options="permissive")
            return {c.name: whole.column(c.name) for c in data_cols}
        stream = _decompressed(pa.BufferReader(raw), obj)
        table = _read_json(stream) if fmt == "json" else _read_csv(stream, table_def, data_cols)
        out = {}
        for col in data_cols:
            values = table.column(col.name) if col.name in table.column_names else \
                pa.chunked_array([pa.nulls(table.num_rows, col.arrow_type)])
            out[col.name] = _coerce(values, col, obj, fmt)
        return out

    def _partition_column(self, obj: StoredObject, col: Column, value: str | None,
                          rows: int) -> pa.ChunkedArray:
        entry = self.cache.get((obj.bucket, obj.key, obj.etag))
        cache_key = (col.name, f"partition={value}:{col.arrow_type}")
        if entry is not None and cache_key in entry.columns:
            return entry.columns[cache_key]
        if value is None or value == HIVE_NULL_PARTITION:
            column = pa.chunked_array([pa.nulls(rows, col.arrow_type)])
        else:
            try:
                one = pa.array([value]).cast(col.arrow_type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise AthenaQueryError(
                    "HIVE_INVALID_PARTITION_VALUE", f"Invalid partition value '{value}' for "
                    f"{col.hive_type} partition key: {col.name}={value}") from None
            column = pa.chunked_array([one.take(pa.array(np.zeros(rows, dtype=np.int32)))])
        if entry is not None:
            self.cache.add_column(entry, cache_key, column)
        return column


def _scan_type(dtype: pa.DataType) -> pa.DataType:
    return pa.timestamp("us", dtype.tz) if pa.types.is_timestamp(dtype) else dtype


def _conform(piece: pa.Table, schema: pa.Schema) -> pa.Table:
    """A piece of a scan with exactly the scan's schema (timestamps to microseconds)."""
    if piece.schema.equals(schema):
        return piece
    columns = []
    for column, target in zip(piece.columns, schema, strict=True):
        if column.type != target.type:
            # ns -> us may drop nanoseconds, which Athena's millisecond timestamps never show.
            column = column.cast(target.type, safe=not pa.types.is_timestamp(target.type))
        columns.append(column)
    return pa.table(columns, schema=schema)


def _open_parquet(source: Any, obj: StoredObject) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(source)
    except (pa.ArrowInvalid, OSError) as err:
        raise AthenaQueryError(
            "HIVE_CANNOT_OPEN_SPLIT", f"Error opening Hive split {obj.uri}: not a valid Parquet "
            f"file ({err}). Remove the object or fix the table's format.") from None


def _describe_parquet(meta: Any) -> _Entry:
    """Column names (case-insensitive) and compressed bytes per column, from a Parquet footer."""
    file_columns: dict[str, str] = {}
    for name in meta.schema.to_arrow_schema().names:
        file_columns.setdefault(name.lower(), name)
    chunk_bytes: dict[str, int] = {}
    plain_bytes: dict[str, int] = {}
    for rg in range(meta.num_row_groups):
        group = meta.row_group(rg)
        for ci in range(group.num_columns):
            chunk = group.column(ci)
            top = chunk.path_in_schema.split(".", 1)[0].lower()
            chunk_bytes[top] = chunk_bytes.get(top, 0) + chunk.total_compressed_size
            plain_bytes[top] = plain_bytes.get(top, 0) + chunk.total_uncompressed_size
    return _Entry(num_rows=meta.num_rows, file_columns=file_columns, chunk_bytes=chunk_bytes,
                  plain_bytes=plain_bytes)


def _partition_matches(values: dict[str, str], part_cols: list[Column],
                       wanted: dict[str, set[str]]) -> bool:
    for col in part_cols:
        if col.name not in wanted:
            continue
        value = values.get(col.name)
        accepted = wanted[col.name]
        if value in accepted:
            continue
        if family(col.arrow_type) == "number":
            try:
                if float(value) in {float(v) for v in accepted}:  # '01' = 1
                    continue
            except (TypeError, ValueError):
                pass
        return False
    return True


def _coerce(values: pa.ChunkedArray, col: Column, obj: StoredObject, fmt: str) -> pa.ChunkedArray:
    """Read a file's column through the table's declared type (as Athena does)."""
    source, target = values.type, col.arrow_type
    if source == target:
        return values
    if pa.types.is_dictionary(source):
        values = values.cast(source.value_type)
        source = values.type
        if source == target:
            return values
    if pa.types.is_timestamp(source) and pa.types.is_timestamp(target) and source.tz == target.tz:
        return values  # keep the file's precision: no loss, no copy
    text = fmt in ("csv", "json")
    compatible = family(source) == family(target) or family(source) == "null" or text
    if family(source) == "number" and pa.types.is_floating(source) and pa.types.is_integer(target):
        compatible = False
    if compatible:
        try:
            if text and family(source) == "string" and family(target) != "string":
                # Text formats: an empty field is NULL for non-string columns.
                values = pc.if_else(pc.equal(values, ""), pa.scalar(None, source), values)
                if pa.types.is_timestamp(target):
                    return _text_timestamps(values, target)
            return values.cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    physical = str(source).upper()
    raise AthenaQueryError(
        "HIVE_BAD_DATA", f"Field {col.name}'s type {physical} in {fmt} file {obj.uri} is "
        f"incompatible with type {col.hive_type} defined in table schema. Fix the table's column "
        "type (e.g. re-run the crawler) or rewrite the file.")


def _binary_pieces(body: Any, fmt: str, data_cols: list[Column], chosen: list[Column],
                   obj: StoredObject) -> Iterator[pa.Table]:
    """An ORC or Avro object's chosen columns through the table's types, a stripe or a
    block of rows at a time (a column missing from the file is NULL)."""
    from utils.cloud.athena import formats

    names = [c.name for c in chosen]
    try:
        pieces = formats.orc_batches(body) if fmt == "orc" else \
            formats.avro_batches(body, [c.name for c in data_cols], STREAM_BATCH_ROWS)
        for piece in pieces:
            arrays = []
            for col in chosen:
                values = piece.column(col.name) if col.name in piece.column_names else \
                    pa.chunked_array([pa.nulls(piece.num_rows, col.arrow_type)])
                arrays.append(_coerce(values, col, obj, fmt))
            yield pa.table(arrays, names=names) if chosen else \
                pa.table({"__rows": pa.nulls(piece.num_rows)}).drop_columns(["__rows"])
    except (pa.ArrowInvalid, OSError, ValueError, EOFError) as err:
        raise AthenaQueryError(
            "HIVE_CANNOT_OPEN_SPLIT", f"Error opening Hive split {obj.uri}: not a valid {fmt.upper()} "
            f"file ({err}). Remove the object or fix the table's format.") from None


# Text objects are decompressed by their name's extension, as Hadoop's codecs are chosen.
TEXT_CODECS = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bz2", ".zst": "zstd"}


def _decompressed(stream: Any, obj: StoredObject) -> Any:
    """A text object's bytes, decompressed if its name says it is compressed."""
    for suffix, codec in TEXT_CODECS.items():
        if obj.key.lower().endswith(suffix):
            return pa.CompressedInputStream(stream, codec)
    return stream


def _text_timestamps(values: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    """Text timestamps as Hive's text SerDes read them: ``yyyy-MM-dd HH:mm:ss[.fffffffff]``
    (up to nanoseconds in the file), kept at the table's precision (Athena: milliseconds)."""
    digits = {"s": 0, "ms": 3, "us": 6, "ns": 9}[target.unit]
    # Arrow refuses more fractional digits than the unit holds: drop the excess (Athena
    # truncates to its precision), without a detour through nanoseconds (years 1677-2262 only).
    pattern, keep = (r"\.\d*$", "") if digits == 0 else (rf"(\.\d{{{digits}}})\d+$", r"\1")
    return pc.replace_substring_regex(values, pattern, keep).cast(target)


def _csv_options(table_def: dict[str, Any], data_cols: list[Column]) -> tuple[Any, Any, Any]:
    """pyarrow's (read, parse, convert) options for a text table's SerDe settings."""
    import pyarrow.csv as pacsv

    storage = table_def.get("StorageDescriptor") or {}
    serde = storage.get("SerdeInfo") or {}
    params = {**(serde.get("Parameters") or {}), **(table_def.get("Parameters") or {})}
    library = (serde.get("SerializationLibrary") or "").lower()
    if "opencsv" in library:
        delimiter = params.get("separatorChar", ",")
        quote: str | bool = params.get("quoteChar", '"')
    else:
        delimiter = params.get("field.delim", params.get("serialization.format", "\x01"))
        if delimiter == "1":  # serialization.format=1 means the default delimiter
            delimiter = "\x01"
        quote = '"' if params.get("classification") == "csv" else False
    skip = int(params.get("skip.header.line.count", "0") or 0)
    names = [c.name for c in data_cols]
    return (pacsv.ReadOptions(column_names=names, skip_rows=skip),
            pacsv.ParseOptions(delimiter=delimiter, quote_char=quote,
                               invalid_row_handler=lambda _row: "skip"),
            pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, null_values=["\\N"],
                                 strings_can_be_null=True))


def _read_csv(stream: Any, table_def: dict[str, Any], data_cols: list[Column]) -> pa.Table:
    import pyarrow.csv as pacsv

    read, parse, convert = _csv_options(table_def, data_cols)
    return pacsv.read_csv(io.BytesIO(stream.read()), read_options=read, parse_options=parse,
                          convert_options=convert)


def _open_csv(stream: Any, table_def: dict[str, Any], data_cols: list[Column]) -> Any:
    """A streaming reader of a large text object (a block at a time)."""
    import pyarrow.csv as pacsv

    read, parse, convert = _csv_options(table_def, data_cols)
    read.block_size = 8 * 2**20
    return pacsv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert)


def _read_json(stream: Any) -> pa.Table:
    import pyarrow.json as pajson

    table = pajson.read_json(stream)
    renamed = table.rename_columns([n.lower() for n in table.column_names])
    return renamed
