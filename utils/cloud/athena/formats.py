"""The file formats a CTAS or UNLOAD writes, and the ORC/Avro tables a query reads.

Athena writes PARQUET, ORC, AVRO, JSON and TEXTFILE (``format = '...'`` in CTAS and
UNLOAD); each has Athena's default compression and its Hive SerDe in the Glue table
a CTAS registers. Parquet and ORC are written by pyarrow, Avro by fastavro (its
``snappy`` codec through pyarrow's snappy, so no extra codec library), JSON and
TEXTFILE as text in Trino's text forms (compressed text files get the codec's
extension, as Hadoop's writers name them, so readers know how to read them).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from utils.cloud.athena.errors import AthenaQueryError

FORMATS = ("PARQUET", "ORC", "AVRO", "JSON", "TEXTFILE")
# Athena's default write_compression per format (Parquet: this engine's choice, see engine).
DEFAULT_COMPRESSION = {"PARQUET": "snappy", "ORC": "zlib", "AVRO": "deflate", "JSON": "gzip",
                       "TEXTFILE": "gzip"}
# What each format accepts (Athena's "compression formats" table), as the names we write with.
_ACCEPTED = {
    "PARQUET": {"none", "snappy", "gzip", "zstd", "lz4", "brotli"},
    "ORC": {"none", "snappy", "zlib", "zstd", "lz4"},
    "AVRO": {"none", "deflate", "snappy", "zstd"},
    "JSON": {"none", "gzip", "bzip2", "zstd"},
    "TEXTFILE": {"none", "gzip", "bzip2", "zstd"},
}
_ALIASES = {"uncompressed": "none", "bz2": "bzip2", "zstandard": "zstd", "gz": "gzip"}
# Text files' extension per codec (Hadoop's), and pyarrow's name of the codec.
TEXT_SUFFIX = {"none": "", "gzip": ".gz", "bzip2": ".bz2", "zstd": ".zst"}
_ARROW_CODEC = {"gzip": "gzip", "bzip2": "bz2", "zstd": "zstd"}

SERDES: dict[str, dict[str, Any]] = {
    "PARQUET": {"InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                "SerdeInfo": {
                    "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                    "Parameters": {"serialization.format": "1"}}},
    "ORC": {"InputFormat": "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.orc.OrcSerde",
                          "Parameters": {"serialization.format": "1"}}},
    "AVRO": {"InputFormat": "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat",
             "OutputFormat": "org.apache.hadoop.hive.ql.io.avro.AvroContainerOutputFormat",
             "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.avro.AvroSerDe",
                           "Parameters": {"serialization.format": "1"}}},
    "JSON": {"InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
             "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
             "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe",
                           "Parameters": {"serialization.format": "1"}}},
    "TEXTFILE": {"InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
                 "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                 "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                               "Parameters": {"serialization.format": "1"}}},
}


def check_format(fmt: str, statement: str) -> str:
    """The upper-case format name, or NOT_SUPPORTED as Athena words an unknown one."""
    name = fmt.upper()
    if name not in FORMATS:
        raise AthenaQueryError("NOT_SUPPORTED", f"{statement} format '{fmt}' is not supported: use one of "
                               f"{', '.join(FORMATS)}", 1, 1)
    return name


def compression_of(fmt: str, props: dict[str, str]) -> str:
    """The codec a CTAS/UNLOAD writes with (``none`` for uncompressed), checked against the format."""
    given = props.get("write_compression") or props.get(f"{fmt.lower()}_compression") or \
        props.get("parquet_compression" if fmt == "PARQUET" else "") or DEFAULT_COMPRESSION[fmt]
    codec = given.lower()
    codec = _ALIASES.get(codec, codec)
    if codec not in _ACCEPTED[fmt]:
        raise AthenaQueryError("INVALID_TABLE_PROPERTY", f"Compression {given.upper()} is not supported for "
                               f"{fmt}: use one of {', '.join(sorted(c.upper() for c in _ACCEPTED[fmt]))}",
                               1, 1)
    return codec


def field_delimiter(props: dict[str, str]) -> str:
    """TEXTFILE's field delimiter (Athena's default: \\001)."""
    delimiter = props.get("field_delimiter", "\x01")
    if len(delimiter) != 1:
        raise AthenaQueryError("INVALID_TABLE_PROPERTY", f"field_delimiter must be one character, got "
                               f"{delimiter!r}", 1, 1)
    return delimiter


def storage_descriptor(fmt: str, delimiter: str = "\x01") -> dict[str, Any]:
    """InputFormat, OutputFormat and SerdeInfo of a table written in ``fmt``."""
    doc = json.loads(json.dumps(SERDES[fmt]))
    if fmt == "TEXTFILE":
        doc["SerdeInfo"]["Parameters"]["field.delim"] = delimiter
    return doc


def file_suffix(fmt: str, codec: str) -> str:
    """A data file's extension: the codec's for text formats (readers choose by it), else none."""
    return TEXT_SUFFIX[codec] if fmt in ("JSON", "TEXTFILE") else ""


def table_writer(table_def: dict[str, Any]) -> tuple[str, str, str]:
    """(format, codec, field delimiter) an INSERT INTO writes a table's new files in: the
    table's own format, so its readers read them."""
    from utils.cloud.athena.storage import table_format

    kind = table_format(table_def)
    storage = table_def.get("StorageDescriptor") or {}
    serde = storage.get("SerdeInfo") or {}
    params = {**(serde.get("Parameters") or {}), **(table_def.get("Parameters") or {})}
    fmt = {"parquet": "PARQUET", "orc": "ORC", "avro": "AVRO", "json": "JSON", "csv": "TEXTFILE"}.get(kind)
    library = (serde.get("SerializationLibrary") or "").lower()
    if fmt is None or (fmt == "TEXTFILE" and library and "lazysimple" not in library):
        raise AthenaQueryError("NOT_SUPPORTED", f"INSERT INTO a table of SerDe '{library or kind}' is not "
                               "supported by the local Athena: insert into a PARQUET, ORC, AVRO, JSON or "
                               "LazySimpleSerDe text table", 1, 1)
    delimiter = params.get("field.delim", params.get("serialization.format", "\x01"))
    if delimiter == "1" or len(delimiter) != 1:
        delimiter = "\x01"
    given = params.get("write.compression") or params.get("parquet.compression") or \
        params.get("orc.compress") or DEFAULT_COMPRESSION[fmt]
    codec = _ALIASES.get(given.lower(), given.lower())
    return fmt, codec if codec in _ACCEPTED[fmt] else DEFAULT_COMPRESSION[fmt], delimiter


# --------------------------------------------------------------------- writers


class _ParquetWriter:
    def __init__(self, sink: Any, schema: pa.Schema, codec: str) -> None:
        # INT96 timestamps, as Athena's Hive writer produces them (readers map them to ns).
        self._writer = pq.ParquetWriter(sink, schema, compression=codec,
                                        use_deprecated_int96_timestamps=True)

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(table)

    def close(self) -> None:
        self._writer.close()


class _OrcWriter:
    def __init__(self, sink: Any, schema: pa.Schema, codec: str) -> None:
        import pyarrow.orc as orc

        self._file = pa.PythonFile(sink, mode="w")
        self._writer = orc.ORCWriter(self._file, compression="uncompressed" if codec == "none" else codec)
        self._schema = schema

    def write(self, table: pa.Table) -> None:
        self._writer.write(table)

    def close(self) -> None:
        self._writer.close()
        self._file.flush()


class _AvroWriter:
    def __init__(self, sink: Any, schema: pa.Schema, codec: str) -> None:
        import fastavro
        from fastavro.write import Writer

        _install_snappy()
        fields = [{"name": f.name, "type": ["null", avro_type(f.type, f.name)], "default": None}
                  for f in schema]
        avro_schema = {"type": "record", "name": "record", "fields": fields}
        self._writer = Writer(sink, fastavro.parse_schema(avro_schema),
                              codec="null" if codec == "none" else codec)

    def write(self, table: pa.Table) -> None:
        for row in table.to_pylist():
            self._writer.write(row)

    def close(self) -> None:
        self._writer.flush()


class _TextWriter:
    """JSON lines or LazySimpleSerDe text, optionally compressed."""

    def __init__(self, sink: Any, fmt: str, codec: str, delimiter: str) -> None:
        self._file: Any = pa.PythonFile(sink, mode="w")
        self._out: Any = pa.CompressedOutputStream(self._file, _ARROW_CODEC[codec]) if codec != "none" \
            else self._file
        self._fmt = fmt
        self._delimiter = delimiter

    def write(self, table: pa.Table) -> None:
        if self._fmt == "JSON":
            lines = (json.dumps({k: _json_value(v) for k, v in row.items()}, ensure_ascii=False,
                                separators=(",", ":")) for row in table.to_pylist())
        else:
            from utils.cloud.athena.results import render_table

            columns = [c.to_pylist() for c in render_table(table)]
            lines = (self._delimiter.join("\\N" if v is None else v for v in row)
                     for row in zip(*columns, strict=True))
        self._out.write("".join(f"{line}\n" for line in lines).encode())

    def close(self) -> None:
        if self._out is not self._file:
            self._out.close()  # writes the codec's trailer, closes the file too
        else:
            self._file.flush()


def open_writer(fmt: str, sink: Any, schema: pa.Schema, codec: str, delimiter: str = "\x01") -> Any:
    """A writer of ``fmt`` data files into ``sink``: ``write(table)`` then ``close()``."""
    if fmt == "PARQUET":
        return _ParquetWriter(sink, schema, codec)
    if fmt == "ORC":
        return _OrcWriter(sink, schema, codec)
    if fmt == "AVRO":
        return _AvroWriter(sink, schema, codec)
    return _TextWriter(sink, fmt, codec, delimiter)


def _json_value(value: Any) -> Any:
    """A value in Trino's JSON output form (timestamps as text, decimals as numbers)."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        if value and isinstance(value[0], tuple) and len(value[0]) == 2:  # a map's (key, value) pairs
            return {str(k): _json_value(v) for k, v in value}
        return [_json_value(v) for v in value]
    return value


def avro_type(dtype: pa.DataType, name: str) -> Any:
    """The Avro schema of an Arrow type (Hive's AvroSerDe mapping)."""
    if pa.types.is_boolean(dtype):
        return "boolean"
    if pa.types.is_integer(dtype):
        return "long" if dtype.bit_width > 32 or pa.types.is_unsigned_integer(dtype) else "int"
    if pa.types.is_float32(dtype):
        return "float"
    if pa.types.is_floating(dtype):
        return "double"
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return "string"
    if pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype):
        return "bytes"
    if pa.types.is_date(dtype):
        return {"type": "int", "logicalType": "date"}
    if pa.types.is_timestamp(dtype):
        return {"type": "long", "logicalType": "timestamp-millis"}
    if pa.types.is_decimal(dtype):
        return {"type": "bytes", "logicalType": "decimal", "precision": dtype.precision, "scale": dtype.scale}
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return {"type": "array", "items": ["null", avro_type(dtype.value_type, name)]}
    if pa.types.is_map(dtype):
        return {"type": "map", "values": ["null", avro_type(dtype.item_type, name)]}
    if pa.types.is_struct(dtype):
        return {"type": "record", "name": f"{name}_record",
                "fields": [{"name": f.name, "type": ["null", avro_type(f.type, f"{name}_{f.name}")],
                            "default": None} for f in dtype]}
    if pa.types.is_null(dtype):
        return "string"
    raise AthenaQueryError("NOT_SUPPORTED", f"Column '{name}' of type {dtype} cannot be written as AVRO",
                           1, 1)


# Avro's snappy blocks: the block's byte count (an Avro long), then raw snappy data followed by
# the CRC32 of the uncompressed bytes (big-endian). fastavro's compiled writer and reader hand
# the codec the file object; its own snappy needs a library we do not ship.
def _write_long(fo: Any, value: int) -> None:
    value = (value << 1) ^ (value >> 63)  # zigzag
    out = bytearray()
    while value & ~0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    fo.write(bytes(out))


def _read_long(fo: Any) -> int:
    value, shift = 0, 0
    while True:
        byte = fo.read(1)
        if not byte:
            raise EOFError("truncated Avro block")
        value |= (byte[0] & 0x7F) << shift
        if byte[0] < 0x80:
            break
        shift += 7
    return (value >> 1) ^ -(value & 1)


def _snappy_write(fo: Any, block: bytes, _level: Any = None) -> None:
    data = pa.compress(block, codec="snappy", asbytes=True) + \
        struct.pack(">I", zlib.crc32(block) & 0xFFFFFFFF)
    _write_long(fo, len(data))
    fo.write(data)


def _snappy_read(fo: Any) -> Any:
    import io

    raw = fo.read(_read_long(fo))
    body, crc = raw[:-4], struct.unpack(">I", raw[-4:])[0]
    out = pa.decompress(body, decompressed_size=_snappy_length(body), codec="snappy", asbytes=True)
    if zlib.crc32(out) & 0xFFFFFFFF != crc:
        raise ValueError("snappy block checksum mismatch")
    return io.BytesIO(out)


def _snappy_length(body: bytes) -> int:
    """The uncompressed length a snappy block starts with (a varint)."""
    length, shift = 0, 0
    for byte in body[:5]:
        length |= (byte & 0x7F) << shift
        if byte < 0x80:
            break
        shift += 7
    return length


def _install_snappy() -> None:
    """fastavro's snappy codec wants another library: give it pyarrow's snappy instead."""
    import fastavro._read as read_c
    import fastavro._write as write_c

    write_c.BLOCK_WRITERS["snappy"] = _snappy_write
    read_c.BLOCK_READERS["snappy"] = _snappy_read


# --------------------------------------------------------------------- readers


def orc_batches(source: Any) -> Iterator[pa.Table]:
    """An ORC object's rows, a stripe at a time (column names lower-cased)."""
    import pyarrow.orc as orc

    reader = orc.ORCFile(source)
    for stripe in range(reader.nstripes):
        batch = reader.read_stripe(stripe)
        table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
        yield table.rename_columns([n.lower() for n in table.column_names])


def avro_batches(source: Any, names: list[str], rows: int) -> Iterator[pa.Table]:
    """An Avro object's rows as tables of the named columns (by lower-case name; a column the
    file lacks is NULL), ``rows`` at a time, with the types Avro gave them."""
    import fastavro

    _install_snappy()
    chunk: list[dict[str, Any]] = []
    for record in fastavro.reader(source):
        chunk.append({k.lower(): v for k, v in record.items()})
        if len(chunk) >= rows:
            yield pa.table({n: pa.array([r.get(n) for r in chunk]) for n in names})
            chunk = []
    if chunk:
        yield pa.table({n: pa.array([r.get(n) for r in chunk]) for n in names})
