"""Query results in Athena's own formats.

Athena writes a SELECT's rows to ``<OutputLocation>/<QueryExecutionId>.csv``:
a header row, every value double-quoted, NULL as an empty unquoted field, and
values rendered as Trino renders them (``1.0E7`` for a large double,
``2024-01-31 12:00:00.000`` for a timestamp, ``[1, 2]`` for an array). Beside it
goes ``<id>.csv.metadata``, a small protobuf message holding the column
descriptions. Utility and DDL statements (SHOW, DESCRIBE) write ``<id>.txt``
instead. ``GetQueryResults`` returns the same strings, so both are produced here
from one rendering.
"""

from __future__ import annotations

import decimal
import io
import math
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from utils.cloud.athena.types import UNIT_DIGITS, arrow_to_athena, timestamp_unit

# --------------------------------------------------------------------- values


def java_double(value: float) -> str:
    """Render a double as Java's ``Double.toString`` does (Trino's text form)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e7:
        text = repr(value)
        if "e" in text:  # python switches to exponents below 1e-4
            text = format(decimal.Decimal(text), "f")
        return text if "." in text else text + ".0"
    sign, digits, exponent = decimal.Decimal(repr(value)).as_tuple()
    digits_text = "".join(map(str, digits)).rstrip("0") or "0"
    exp10 = exponent + len(digits) - 1
    mantissa = digits_text[0] + "." + (digits_text[1:] or "0")
    return ("-" if sign else "") + f"{mantissa}E{exp10}"


def _render_scalar(value: Any) -> str:
    """Trino's text form of one (possibly nested) Python value from Arrow."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_render_scalar(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        if value and all(isinstance(item, tuple) and len(item) == 2 for item in value):
            # Arrow maps come back as lists of (key, value) pairs.
            return "{" + ", ".join(f"{_render_scalar(k)}={_render_scalar(v)}" for k, v in value) + "}"
        return "[" + ", ".join(_render_scalar(item) for item in value) + "]"
    if isinstance(value, bytes):
        return " ".join(f"{b:02x}" for b in value)
    if hasattr(value, "isoformat") and hasattr(value, "hour") and hasattr(value, "year"):
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    return str(value)


def render_column(column: pa.ChunkedArray | pa.Array, timestamp_digits: int = 3) -> pa.Array:
    """Render a column as Athena's strings (nulls stay null), vectorised where cheap.

    ``timestamp_digits``: a timestamp's fractional digits, Athena's timestamp(3) unless the
    result's type says otherwise (:func:`render_table` passes each column's).
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    dtype = column.type
    if pa.types.is_dictionary(dtype):
        column = column.cast(dtype.value_type)
        dtype = column.type
    if pa.types.is_null(dtype):
        return pa.nulls(len(column), pa.string())
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return column.cast(pa.string())
    if (pa.types.is_integer(dtype) or pa.types.is_boolean(dtype) or pa.types.is_date(dtype)
            or pa.types.is_decimal(dtype)):
        return pc.cast(column, pa.string())
    if pa.types.is_timestamp(dtype):
        # Arrow's %S prints the fraction at the unit's precision: cast to the one with these digits.
        unit = timestamp_unit(timestamp_digits)
        text = pc.strftime(pc.cast(column, pa.timestamp(unit, tz=dtype.tz), safe=False),
                           format="%Y-%m-%d %H:%M:%S")
        if dtype.tz:
            zone = "UTC" if dtype.tz in ("Etc/UTC", "+00:00", "UTC") else dtype.tz
            text = pc.binary_join_element_wise(text, pa.scalar(f" {zone}"), "")
        return text
    if pa.types.is_floating(dtype):
        return _render_doubles(column)
    return pa.array([None if v is None else _render_scalar(v) for v in column.to_pylist()],
                    type=pa.string())


def _render_doubles(column: pa.Array) -> pa.Array:
    """Doubles in Java's form: Arrow renders the common range (and zeros), Python only the rest."""
    values = pc.cast(column, pa.float64())
    text = pc.cast(values, pa.string())
    magnitude = pc.abs(values)
    plain = pc.or_(pc.and_(pc.greater_equal(magnitude, 1e-3), pc.less(magnitude, 1e7)), pc.equal(values, 0))
    plain = pc.fill_null(plain, True)
    needs_point = pc.invert(pc.match_substring(text, "."))
    text = pc.if_else(needs_point, pc.binary_join_element_wise(text, pa.scalar(".0"), ""), text)
    if pc.all(plain).as_py():
        return text
    others = pc.invert(plain)
    rendered = [java_double(v) for v in pc.filter(values, others).to_pylist()]
    return pc.replace_with_mask(text, others, pa.array(rendered, pa.string()))


def render_table(table: pa.Table | pa.RecordBatch) -> list[pa.Array]:
    """Every column of a result rendered as strings, timestamps with their type's digits
    (a result holds timestamp(3) in ms and timestamp(6) in us: see types.py)."""
    return [render_column(col, UNIT_DIGITS.get(getattr(col.type, "unit", "ms"), 3))
            for col in table.columns]



# ------------------------------------------------------------------- the files


def csv_header(names: list[str]) -> bytes:
    """The header line of ``<id>.csv``: every column name double-quoted."""
    return (",".join('"' + n.replace('"', '""') + '"' for n in names) + "\n").encode()


# Athena's quoting is Arrow's "all_valid": every value double-quoted (inner quotes
# doubled), NULL an empty unquoted field.
_CSV_OPTIONS = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")


def csv_lines(rendered: list[pa.Array]) -> bytes:
    """The data lines of ``<id>.csv`` for a batch of rendered rows (one trailing newline each)."""
    if not rendered or len(rendered[0]) == 0:
        return b""
    sink = io.BytesIO()
    table = pa.table(rendered, names=[f"c{i}" for i in range(len(rendered))])
    pacsv.write_csv(table, sink, _CSV_OPTIONS)
    return sink.getvalue()


def csv_bytes(names: list[str], rendered: list[pa.Array]) -> bytes:
    """The ``<id>.csv`` file Athena writes for a SELECT (header and rows)."""
    return csv_header(names) + csv_lines(rendered)


def text_bytes(rows: list[list[str]]) -> bytes:
    """The ``<id>.txt`` file of a utility/DDL statement: tab-separated lines."""
    return "".join("\t".join(row) + "\n" for row in rows).encode()


# Athena's metadata files are protobuf messages: field 1 the engine's query id,
# field 4 one ColumnInfo message per column (1 catalog, 2 schema, 3 table,
# 4 name, 5 label, 6 type, 7 precision, 8 scale, 9 nullable, 10 case sensitive).
_NULLABLE = {"NOT_NULL": 1, "NULLABLE": 2, "UNKNOWN": 3}


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field_bytes(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _field_int(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value) if value else b""


def metadata_bytes(engine_query_id: str, columns: list[dict[str, Any]]) -> bytes:
    """The ``<id>.csv.metadata`` file: the result's column descriptions, as Athena encodes them."""
    out = _field_bytes(1, engine_query_id.encode())
    for col in columns:
        body = b""
        for number, key in ((1, "CatalogName"), (2, "SchemaName"), (3, "TableName"),
                            (4, "Name"), (5, "Label"), (6, "Type")):
            if col.get(key):
                body += _field_bytes(number, str(col[key]).encode())
        body += _field_int(7, int(col.get("Precision") or 0))
        body += _field_int(8, int(col.get("Scale") or 0))
        body += _field_int(9, _NULLABLE.get(col.get("Nullable", "UNKNOWN"), 3))
        body += _field_int(10, 1 if col.get("CaseSensitive") else 0)
        out += _field_bytes(4, body)
    return out


def read_metadata(data: bytes) -> list[dict[str, Any]]:
    """Decode a metadata file back into ColumnInfo dicts (inverse of :func:`metadata_bytes`)."""

    def fields(buf: bytes) -> list[tuple[int, Any]]:
        pos, out = 0, []
        while pos < len(buf):
            key, pos = _read_varint(buf, pos)
            number, wire = key >> 3, key & 7
            if wire == 2:
                length, pos = _read_varint(buf, pos)
                out.append((number, buf[pos:pos + length]))
                pos += length
            else:
                value, pos = _read_varint(buf, pos)
                out.append((number, value))
        return out

    names = {1: "CatalogName", 2: "SchemaName", 3: "TableName", 4: "Name", 5: "Label", 6: "Type"}
    nullable = {v: k for k, v in _NULLABLE.items()}
    columns = []
    for number, payload in fields(data):
        if number != 4:
            continue
        col: dict[str, Any] = {"CatalogName": "", "SchemaName": "", "TableName": "", "Precision": 0,
                               "Scale": 0, "Nullable": "UNKNOWN", "CaseSensitive": False}
        for sub, value in fields(payload):
            if sub in names:
                col[names[sub]] = value.decode()
            elif sub == 7:
                col["Precision"] = value
            elif sub == 8:
                col["Scale"] = value
            elif sub == 9:
                col["Nullable"] = nullable.get(value, "UNKNOWN")
            elif sub == 10:
                col["CaseSensitive"] = bool(value)
        columns.append(col)
    return columns


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


# ------------------------------------------------------------ reading pages

PAGE_READ_BYTES = 256 * 1024


def _row_ends(buffer: bytes, start: int, max_rows: int, csv: bool) -> list[int]:
    """Offsets just past the newline of each complete row from ``start`` (at most ``max_rows``).

    In ``<id>.csv`` every non-empty field is double-quoted (inner quotes doubled), so a
    newline ends a row exactly when the row so far holds an even number of quotes;
    ``bytes.find`` and ``bytes.count`` keep this at C speed.
    """
    ends: list[int] = []
    row_start = pos = start
    while len(ends) < max_rows:
        newline = buffer.find(b"\n", pos)
        if newline < 0:
            break
        if csv and buffer.count(b'"', row_start, newline) % 2:
            pos = newline + 1  # a newline inside a quoted value
            continue
        ends.append(newline + 1)
        row_start = pos = newline + 1
    return ends


def _parse_csv_rows(data: bytes, width: int) -> list[list[str | None]]:
    """Values of complete ``<id>.csv`` rows: an empty unquoted field is NULL, ``""`` an empty string."""
    names = [f"c{i}" for i in range(width)]
    parse = pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False)
    table = pacsv.read_csv(io.BytesIO(data), read_options=pacsv.ReadOptions(column_names=names),
                           parse_options=parse, convert_options=pacsv.ConvertOptions(
                               column_types={n: pa.string() for n in names}, quoted_strings_can_be_null=False,
                               strings_can_be_null=True, null_values=[""]))
    return [list(row) for row in zip(*(col.to_pylist() for col in table.columns), strict=True)]


def read_rows(stream: BinaryIO, offset: int, max_rows: int, csv: bool,
              width: int = 1) -> tuple[list[list[str | None]], int]:
    """Up to ``max_rows`` rows of a result file from byte ``offset``; return them and the next offset.

    ``csv``: an ``<id>.csv`` file of ``width`` columns, else a tab-separated ``<id>.txt``.
    Reads about what the rows take (in blocks of :data:`PAGE_READ_BYTES`), never the
    whole file: a page of a 10 GB result costs what a page of a small one does.
    """
    stream.seek(offset)
    buffer = b""
    ends: list[int] = []
    while True:
        block = stream.read(PAGE_READ_BYTES)
        buffer += block
        ends = _row_ends(buffer, 0, max_rows, csv)
        if len(ends) >= max_rows or not block:
            break
    used = ends[-1] if ends else 0
    if len(ends) < max_rows and used < len(buffer):  # a last row without its newline
        used = len(buffer)
        ends.append(used)
    if not ends:
        return [], offset
    data = buffer[:used]
    if csv:
        rows = _parse_csv_rows(data if data.endswith(b"\n") else data + b"\n", width)
    else:
        rows = [list(line.split("\t")) for line in data.decode().split("\n")[:len(ends)]]
    return rows, offset + used


def athena_type_names(table: pa.Table) -> list[str]:
    """Athena type names of a result's columns (for logs and tests)."""
    return [arrow_to_athena(f.type) for f in table.schema]
