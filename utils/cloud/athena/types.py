"""Type names across the three vocabularies Athena touches.

- Glue/Hive types, as stored in the Data Catalog (``int``, ``string``,
  ``array<struct<a:int>>``): what crawlers and CTAS register.
- Arrow types: what the engine holds in memory and writes to Parquet.
- Athena result types, as ``GetQueryResults`` reports them (``integer``,
  ``varchar``, ``decimal`` with Precision/Scale): what clients such as
  awswrangler and PyAthena use to rebuild typed values.
"""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa

_HIVE_SCALARS: dict[str, pa.DataType] = {
    "string": pa.string(),
    "varchar": pa.string(),
    "char": pa.string(),
    "int": pa.int32(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "smallint": pa.int16(),
    "tinyint": pa.int8(),
    "double": pa.float64(),
    "float": pa.float32(),
    "real": pa.float32(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    # Athena's timestamps have millisecond precision.
    "timestamp": pa.timestamp("ms"),
    "binary": pa.binary(),
    "varbinary": pa.binary(),
}


class _TypeParser:
    """Recursive-descent parser of Hive type strings (``map<string,array<int>>``)."""

    _TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+|[<>(),:]")

    def __init__(self, text: str) -> None:
        self.tokens = self._TOKEN.findall(text)
        self.pos = 0
        self.text = text

    def _next(self) -> str:
        if self.pos >= len(self.tokens):
            raise ValueError(f"Unexpected end of type {self.text!r}")
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _expect(self, tok: str) -> None:
        got = self._next()
        if got != tok:
            raise ValueError(f"Expected {tok!r} in type {self.text!r}, got {got!r}")

    def parse(self) -> pa.DataType:
        result = self._type()
        if self._peek() is not None:
            raise ValueError(f"Trailing text in type {self.text!r}")
        return result

    def _type(self) -> pa.DataType:
        name = self._next().lower()
        if name == "array":
            self._expect("<")
            item = self._type()
            self._expect(">")
            return pa.list_(item)
        if name == "map":
            self._expect("<")
            key = self._type()
            self._expect(",")
            value = self._type()
            self._expect(">")
            return pa.map_(key, value)
        if name in ("struct", "row"):
            self._expect("<")
            fields = []
            while True:
                field_name = self._next()
                self._expect(":")
                fields.append(pa.field(field_name, self._type()))
                if self._peek() == ",":
                    self._next()
                    continue
                self._expect(">")
                return pa.struct(fields)
        if name == "decimal":
            precision, scale = 10, 0
            if self._peek() == "(":
                self._next()
                precision = int(self._next())
                if self._peek() == ",":
                    self._next()
                    scale = int(self._next())
                self._expect(")")
            return pa.decimal128(precision, scale)
        if name in ("varchar", "char") and self._peek() == "(":
            self._next()
            self._next()
            self._expect(")")
            return pa.string()
        if name in _HIVE_SCALARS:
            return _HIVE_SCALARS[name]
        raise ValueError(f"Unsupported column type {name!r} in {self.text!r}")


def hive_to_arrow(type_name: str) -> pa.DataType:
    """The Arrow type of a Glue/Hive column type (``decimal(10,2)`` -> ``decimal128(10, 2)``)."""
    return _TypeParser(type_name).parse()


def arrow_to_hive(dtype: pa.DataType) -> str:
    """The Glue/Hive column type of an Arrow type (what Athena's CTAS registers).

    The same mapping the crawler writes (one source of truth), except that types with
    no Hive equivalent are refused here instead of read as strings.
    """
    from utils.cloud.glue.inference import glue_type

    if pa.types.is_time(dtype) or pa.types.is_interval(dtype) or pa.types.is_duration(dtype):
        raise ValueError(f"Arrow type {dtype} has no Hive equivalent")
    return glue_type(dtype)


def _is_string_view(dtype: pa.DataType) -> bool:
    return getattr(pa.types, "is_string_view", lambda _t: False)(dtype)


def arrow_to_athena(dtype: pa.DataType) -> str:
    """Athena's result type name (``ColumnInfo.Type``) of an Arrow type."""
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or _is_string_view(dtype):
        return "varchar"
    if pa.types.is_int8(dtype):
        return "tinyint"
    if pa.types.is_int16(dtype):
        return "smallint"
    if pa.types.is_int32(dtype) or pa.types.is_uint8(dtype) or pa.types.is_uint16(dtype):
        return "integer"
    if pa.types.is_integer(dtype):
        return "bigint"
    if pa.types.is_float32(dtype):
        return "real"
    if pa.types.is_floating(dtype):
        return "double"
    if pa.types.is_boolean(dtype):
        return "boolean"
    if pa.types.is_date(dtype):
        return "date"
    if pa.types.is_timestamp(dtype):
        return "timestamp with time zone" if dtype.tz else "timestamp"
    if pa.types.is_time(dtype):
        return "time"
    if pa.types.is_decimal(dtype):
        return "decimal"
    if pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype):
        return "varbinary"
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype) or pa.types.is_fixed_size_list(dtype):
        return "array"
    if pa.types.is_map(dtype):
        return "map"
    if pa.types.is_struct(dtype):
        return "row"
    if pa.types.is_null(dtype):
        return "unknown"
    return "varchar"


# Precision Athena reports per result type (JDBC-style display sizes).
_PRECISION = {
    "varchar": 2147483647, "tinyint": 3, "smallint": 5, "integer": 10, "bigint": 19,
    "real": 7, "double": 17, "timestamp": 3, "timestamp with time zone": 3, "time": 3,
    "varbinary": 1073741824,
}


def column_info(name: str, dtype: pa.DataType, nullable: str = "UNKNOWN") -> dict[str, Any]:
    """One ``ResultSetMetadata.ColumnInfo`` entry, shaped as Athena returns it."""
    athena_type = arrow_to_athena(dtype)
    precision = dtype.precision if pa.types.is_decimal(dtype) else _PRECISION.get(athena_type, 0)
    scale = dtype.scale if pa.types.is_decimal(dtype) else 0
    return {
        "CatalogName": "hive",
        "SchemaName": "",
        "TableName": "",
        "Name": name,
        "Label": name,
        "Type": athena_type,
        "Precision": precision,
        "Scale": scale,
        "Nullable": nullable,
        "CaseSensitive": athena_type == "varchar",
    }


def text_column_info(name: str) -> dict[str, Any]:
    """ColumnInfo of a DDL/utility result column (SHOW, DESCRIBE): Hive's ``string``."""
    info = column_info(name, pa.string())
    info["Type"] = "string"
    return info


def family(dtype: pa.DataType) -> str:
    """A coarse type family, to tell a harmless widening from a schema mismatch."""
    if pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_decimal(dtype):
        return "number"
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or _is_string_view(dtype):
        return "string"
    if pa.types.is_temporal(dtype):
        return "time"
    if pa.types.is_boolean(dtype):
        return "boolean"
    if pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype):
        return "binary"
    if pa.types.is_null(dtype):
        return "null"
    return "nested"


# ------------------------------------------------------- typeof() spelling

_DUCK_SCALAR_NAMES: dict[str, str] = {
    "BOOLEAN": "boolean", "TINYINT": "tinyint", "SMALLINT": "smallint", "INTEGER": "integer",
    "BIGINT": "bigint", "HUGEINT": "decimal(38,0)", "UTINYINT": "smallint", "USMALLINT": "integer",
    "UINTEGER": "bigint", "UBIGINT": "decimal(20,0)", "FLOAT": "real", "DOUBLE": "double",
    "VARCHAR": "varchar", "BLOB": "varbinary", "DATE": "date", "TIME": "time(3)",
    # Athena's timestamps (table columns, current_timestamp) have millisecond precision.
    "TIMESTAMP": "timestamp(3)", "TIMESTAMP_MS": "timestamp(3)", "TIMESTAMP_S": "timestamp(0)",
    "TIMESTAMP_NS": "timestamp(9)", "TIMESTAMP WITH TIME ZONE": "timestamp(3) with time zone",
    "TIME WITH TIME ZONE": "time(3) with time zone", "INTERVAL": "interval day to second",
    "JSON": "json", "UUID": "uuid", '"NULL"': "unknown", "NULL": "unknown",
}


def _split_top(text: str) -> list[str]:
    """``a INTEGER, b MAP(VARCHAR, INTEGER)`` -> the two top-level items."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def duck_to_trino_type(duck_type: str | None) -> str | None:
    """Trino's ``typeof`` spelling of a DuckDB type name: ``INTEGER[]`` -> ``array(integer)``,
    ``MAP(VARCHAR, INTEGER)`` -> ``map(varchar, integer)``, ``DECIMAL(4,2)`` -> ``decimal(4,2)``."""
    if duck_type is None:
        return None
    text = duck_type.strip()
    if text.endswith("[]"):
        return f"array({duck_to_trino_type(text[:-2])})"
    if re.fullmatch(r".+\[\d+\]", text):  # fixed-size ARRAY
        return f"array({duck_to_trino_type(text[:text.rindex('[')])})"
    upper = text.upper()
    if upper in _DUCK_SCALAR_NAMES:
        return _DUCK_SCALAR_NAMES[upper]
    match = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", upper)
    if match:
        return f"decimal({match.group(1)},{match.group(2)})"
    match = re.fullmatch(r"VARCHAR\((\d+)\)", upper)
    if match:
        return f"varchar({match.group(1)})"
    match = re.fullmatch(r"(MAP|STRUCT|UNION)\((.*)\)", text, re.IGNORECASE | re.DOTALL)
    if match:
        items = _split_top(match.group(2))
        if match.group(1).upper() == "MAP":
            return f"map({', '.join(str(duck_to_trino_type(i)) for i in items)})"
        fields = []
        for item in items:
            if item.startswith('"'):
                end = item.index('"', 1)
                name, inner = item[1:end], item[end + 1:]
            else:
                name, _, inner = item.partition(" ")
            fields.append(f"{name} {duck_to_trino_type(inner)}")
        return f"row({', '.join(fields)})"
    return text.lower()
