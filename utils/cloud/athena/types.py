"""One type pivot for every vocabulary Athena touches: sqlglot's :class:`~sqlglot.exp.DataType`.

The vocabularies:

- Glue/Hive text, as stored in the Data Catalog (``int``, ``string``,
  ``array<struct<a:int>>``): what crawlers, CTAS and ``CREATE EXTERNAL TABLE`` register.
- Trino text (``integer``, ``varchar(3)``, ``map(varchar, integer)``): what ``typeof``,
  ``information_schema`` and views show; its bare name is ``ColumnInfo.Type`` in
  ``GetQueryResults`` (``varchar``, ``decimal`` with Precision/Scale, ``array``).
- DuckDB type names (``INTEGER[]``, ``HUGEINT``, ``TIMESTAMP_NS``): what the engine computes with.
- Arrow types: what the engine holds in memory and writes to Parquet.

Every text is parsed into a ``DataType`` (:func:`parse_type`), every conversion goes
through one table between ``DataType.Type`` and Arrow (:func:`to_arrow`, :func:`from_arrow`),
and text comes out of :func:`hive_name` / :func:`trino_name`, which spell scalars with
sqlglot's own generator (``.sql(dialect=...)``) and apply the few corrections where
Athena's spelling differs from sqlglot's output, listed beside each function.

Conventions of this engine (not of Athena), kept here and nowhere else:

- DuckDB's ``TIMESTAMP`` holds microseconds, but it is what every table column, every
  ``current_timestamp`` and all date arithmetic produce, and those are Athena's
  ``timestamp(3)``. So DuckDB ``TIMESTAMP`` is read as ``timestamp(3)``, and a value that
  must keep microseconds (a literal such as ``TIMESTAMP '... 12:00:00.123456'``,
  ``CAST(x AS timestamp(6))``) is carried as DuckDB ``TIMESTAMP_NS``, read as ``timestamp(6)``.
  Trino's ``timestamp(7..12)`` are not supported: they keep microseconds.
- DuckDB's unsigned and 128-bit integers have no Trino type: they read as the narrowest
  Trino type that holds them (``UTINYINT`` -> ``smallint``, ``HUGEINT`` -> ``decimal(38,0)``).
"""

from __future__ import annotations

import functools
from typing import Any

import pyarrow as pa
from sqlglot import exp
from sqlglot.errors import SqlglotError

T = exp.DataType.Type


class UnknownTypeError(ValueError):
    """A type text the pivot cannot read, or a type a vocabulary has no name for."""


# -------------------------------------------------------------------- parsing

# Decimal's precision and scale when the text leaves them out, per dialect.
_DEFAULT_DECIMAL = {"hive": (10, 0), "trino": (38, 0), "athena": (38, 0), "duckdb": (18, 3)}
_HINT = ("expected e.g. int, bigint, double, string, varchar(10), decimal(10,2), date, timestamp, "
         "array<int>, map<string,int>, struct<a:int,b:string>")


def parse_type(text: str, dialect: str = "hive") -> exp.DataType:
    """The ``DataType`` of a type's text in one vocabulary (``hive``, ``trino``, ``duckdb``).

    Raises :class:`UnknownTypeError` naming the text when it is not a type sqlglot knows,
    or when a nested type is malformed (``array<int``, ``array<foo>``).
    """
    source = text.strip()
    if dialect == "duckdb" and source.upper() in ('"NULL"', "NULL"):
        return exp.DataType(this=T.NULL)  # DuckDB's typeof(NULL)
    try:
        dtype = exp.DataType.build(source, dialect=dialect)
    except (SqlglotError, ValueError, KeyError):
        dtype = None
    if dtype is None or not _well_formed(dtype) or not _balanced(source):
        raise UnknownTypeError(f"Unknown column type {text!r} ({dialect} spelling): {_HINT}")
    return _with_defaults(dtype, _DEFAULT_DECIMAL.get(dialect, (38, 0)))


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += (char in "<(") - (char in ">)")
        if depth < 0:
            return False
    return depth == 0


def _fields(dtype: exp.DataType) -> list[tuple[str, exp.DataType]]:
    """A STRUCT's (field name, field type) pairs."""
    return [(col.name, col.args["kind"]) for col in dtype.expressions]


def _well_formed(dtype: exp.DataType) -> bool:
    """True when every nested type has its parts (sqlglot accepts ``array<foo>`` as a bare ARRAY)."""
    if not isinstance(dtype.this, T):
        return isinstance(dtype.this, exp.Interval)  # Trino's ``interval day to second``
    if dtype.this in (T.USERDEFINED, T.UNKNOWN):
        return False
    if dtype.this is T.ARRAY:
        return len(dtype.expressions) == 1 and _well_formed(dtype.expressions[0])
    if dtype.this is T.MAP:
        return len(dtype.expressions) == 2 and all(_well_formed(t) for t in dtype.expressions)
    if dtype.this in (T.STRUCT, T.UNION):
        return bool(dtype.expressions) and all(
            isinstance(col, exp.ColumnDef) and isinstance(col.args.get("kind"), exp.DataType)
            and _well_formed(col.args["kind"]) for col in dtype.expressions)
    return True


def _with_defaults(dtype: exp.DataType, decimal: tuple[int, int]) -> exp.DataType:
    """The type with a decimal's implicit precision and scale written out."""
    if dtype.this is T.DECIMAL and not dtype.expressions:
        return decimal_type(*decimal)
    if dtype.this in (T.ARRAY, T.MAP):
        return nested(dtype.this, [_with_defaults(t, decimal) for t in dtype.expressions])
    if dtype.this in (T.STRUCT, T.UNION):
        return struct_type([(name, _with_defaults(t, decimal)) for name, t in _fields(dtype)],
                           dtype.this)
    return dtype


# ------------------------------------------------------------------ building

def _param(value: int) -> exp.DataTypeParam:
    return exp.DataTypeParam(this=exp.Literal.number(value))


def decimal_type(precision: int, scale: int) -> exp.DataType:
    """``decimal(precision, scale)``."""
    return exp.DataType(this=T.DECIMAL, expressions=[_param(precision), _param(scale)])


def sized(kind: exp.DataType.Type, size: int | None) -> exp.DataType:
    """A type with one size parameter (``varchar(3)``, ``timestamp(6)``), or none."""
    return exp.DataType(this=kind, expressions=[] if size is None else [_param(size)])


def nested(kind: exp.DataType.Type, children: list[exp.DataType]) -> exp.DataType:
    """``array(child)`` or ``map(key, value)``."""
    return exp.DataType(this=kind, expressions=children, nested=True)


def struct_type(fields: list[tuple[str, exp.DataType]], kind: exp.DataType.Type = T.STRUCT) -> exp.DataType:
    """``row(name type, ...)`` / ``struct<name:type,...>``."""
    return exp.DataType(this=kind, nested=True, expressions=[
        exp.ColumnDef(this=exp.to_identifier(name), kind=child) for name, child in fields])


def _params(dtype: exp.DataType) -> list[int]:
    return [int(p.this.name) for p in dtype.expressions
            if isinstance(p, exp.DataTypeParam) and p.this.is_int]


def precision(dtype: exp.DataType, default: int | None = None) -> int | None:
    """The first size parameter of a type (a timestamp's or varchar's), or ``default``."""
    params = _params(dtype)
    return params[0] if params else default


# ------------------------------------------------------ the Arrow table (one)

# DataType.Type -> Arrow, for the scalar types; nested types, decimals and timestamps are
# built from their parameters in to_arrow.
_TO_ARROW: dict[exp.DataType.Type, pa.DataType] = {
    T.BOOLEAN: pa.bool_(),
    T.TINYINT: pa.int8(), T.SMALLINT: pa.int16(), T.INT: pa.int32(), T.BIGINT: pa.int64(),
    T.FLOAT: pa.float32(), T.DOUBLE: pa.float64(),
    T.TEXT: pa.string(), T.VARCHAR: pa.string(), T.CHAR: pa.string(),
    T.NVARCHAR: pa.string(), T.NCHAR: pa.string(),
    T.BINARY: pa.binary(), T.VARBINARY: pa.binary(),
    T.DATE: pa.date32(),
    T.TIME: pa.time64("us"),
    T.NULL: pa.null(),
}

# Arrow -> DataType.Type for the scalars, tested in order (the first match wins).
_FROM_ARROW: list[tuple[Any, exp.DataType.Type]] = [
    (pa.types.is_boolean, T.BOOLEAN),
    (pa.types.is_int8, T.TINYINT),
    (lambda t: pa.types.is_int16(t) or pa.types.is_uint8(t), T.SMALLINT),
    (lambda t: pa.types.is_int32(t) or pa.types.is_uint16(t), T.INT),
    (pa.types.is_integer, T.BIGINT),  # int64, uint32, uint64
    (lambda t: pa.types.is_float16(t) or pa.types.is_float32(t), T.FLOAT),
    (pa.types.is_float64, T.DOUBLE),
    (lambda t: pa.types.is_string(t) or pa.types.is_large_string(t)
     or getattr(pa.types, "is_string_view", lambda _t: False)(t), T.VARCHAR),
    (lambda t: pa.types.is_binary(t) or pa.types.is_large_binary(t)
     or pa.types.is_fixed_size_binary(t), T.VARBINARY),
    (pa.types.is_date, T.DATE),
    (pa.types.is_time, T.TIME),
    (lambda t: pa.types.is_duration(t) or pa.types.is_interval(t), T.INTERVAL),
    (pa.types.is_null, T.NULL),
]

# Athena's timestamps (Hive tables, current_timestamp) have millisecond precision.
DEFAULT_TIMESTAMP_PRECISION = 3
# The fractional digits each Arrow timestamp unit holds (a Trino timestamp(p) lives in the
# smallest unit that holds p digits).
UNIT_DIGITS = {"s": 0, "ms": 3, "us": 6, "ns": 9}


def timestamp_unit(digits: int) -> str:
    """The Arrow unit that holds a timestamp's fractional digits (0 -> s ... 6 -> us, 9 -> ns)."""
    return "s" if digits == 0 else "ms" if digits <= 3 else "us" if digits <= 6 else "ns"


def to_arrow(dtype: exp.DataType) -> pa.DataType:
    """The Arrow type of a ``DataType`` (``decimal(10,2)`` -> ``decimal128(10, 2)``,
    ``timestamp`` -> ``timestamp[ms]``, ``timestamp(6)`` -> ``timestamp[us]``)."""
    kind = dtype.this
    if kind is T.ARRAY:
        return pa.list_(to_arrow(dtype.expressions[0]))
    if kind is T.MAP:
        return pa.map_(to_arrow(dtype.expressions[0]), to_arrow(dtype.expressions[1]))
    if kind in (T.STRUCT, T.UNION):
        return pa.struct([pa.field(name, to_arrow(child)) for name, child in _fields(dtype)])
    if kind is T.DECIMAL:
        digits, scale = (_params(dtype) + [38, 0][len(_params(dtype)):])[:2]
        return pa.decimal128(digits, scale)
    if kind in (T.TIMESTAMP, T.TIMESTAMPTZ):
        unit = timestamp_unit(precision(dtype, DEFAULT_TIMESTAMP_PRECISION) or 0)
        return pa.timestamp(unit, "UTC" if kind is T.TIMESTAMPTZ else None)
    if kind in _TO_ARROW:
        return _TO_ARROW[kind]
    raise UnknownTypeError(f"Type {trino_name(dtype)!r} has no Arrow equivalent in this engine")


def from_arrow(dtype: pa.DataType) -> exp.DataType:
    """The ``DataType`` of an Arrow type (the inverse of :func:`to_arrow`; unsigned integers
    and half floats widen to the next signed type, dictionaries are their values)."""
    if pa.types.is_dictionary(dtype):
        return from_arrow(dtype.value_type)
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype) or pa.types.is_fixed_size_list(dtype):
        return nested(T.ARRAY, [from_arrow(dtype.value_type)])
    if pa.types.is_map(dtype):
        return nested(T.MAP, [from_arrow(dtype.key_type), from_arrow(dtype.item_type)])
    if pa.types.is_struct(dtype):
        return struct_type([(dtype.field(i).name, from_arrow(dtype.field(i).type))
                            for i in range(dtype.num_fields)])
    if pa.types.is_decimal(dtype):
        return decimal_type(dtype.precision, dtype.scale)
    if pa.types.is_timestamp(dtype):
        return sized(T.TIMESTAMPTZ if dtype.tz else T.TIMESTAMP, UNIT_DIGITS[dtype.unit])
    for matches, kind in _FROM_ARROW:
        if matches(dtype):
            return exp.DataType(this=kind)
    raise UnknownTypeError(f"Arrow type {dtype} has no SQL type in this engine")


# ---------------------------------------------------------------- rendering

# Hive spellings sqlglot's hive generator does not give (or gives for types Hive lacks).
_HIVE_CORRECTIONS = {T.TEXT: "string", T.NULL: "string"}  # NULL: a column of NULLs, as crawlers do
_HIVE_TYPES = {T.BOOLEAN, T.TINYINT, T.SMALLINT, T.INT, T.BIGINT, T.FLOAT, T.DOUBLE, T.DECIMAL,
               T.TEXT, T.VARCHAR, T.CHAR, T.BINARY, T.VARBINARY, T.DATE, T.TIMESTAMP, T.TIMESTAMPTZ,
               T.NULL, T.ARRAY, T.MAP, T.STRUCT}


def hive_name(dtype: exp.DataType) -> str:
    """Glue/Hive text of a ``DataType``, as the Data Catalog stores it.

    Corrections to ``dtype.sql(dialect="hive")``: lower case and no spaces
    (``array<struct<a:int>>``, ``decimal(10,2)``) with field names kept as written;
    an unsized varchar is ``string``; every timestamp is Hive's one ``timestamp``
    (precision is the reader's: Athena reads it as ``timestamp(3)``).
    Raises :class:`UnknownTypeError` for types Hive has no name for (time, interval, json...).
    """
    kind = dtype.this
    if kind not in _HIVE_TYPES:
        raise UnknownTypeError(f"Type {trino_name(dtype)!r} has no Hive equivalent")
    if kind is T.ARRAY:
        return f"array<{hive_name(dtype.expressions[0])}>"
    if kind is T.MAP:
        return f"map<{hive_name(dtype.expressions[0])},{hive_name(dtype.expressions[1])}>"
    if kind is T.STRUCT:
        return "struct<" + ",".join(f"{name}:{hive_name(child)}" for name, child in _fields(dtype)) + ">"
    if kind in (T.TIMESTAMP, T.TIMESTAMPTZ):
        return "timestamp"
    if kind is T.VARCHAR and not dtype.expressions:
        return "string"
    if kind in _HIVE_CORRECTIONS:
        return _HIVE_CORRECTIONS[kind]
    return dtype.sql(dialect="hive").lower().replace(" ", "")


# Trino spellings sqlglot's trino generator does not give.
_TRINO_CORRECTIONS = {T.NULL: "unknown", T.INTERVAL: "interval day to second"}


def trino_name(dtype: exp.DataType) -> str:
    """Trino text of a ``DataType``, as ``typeof`` and ``information_schema`` print it.

    Corrections to ``dtype.sql(dialect="trino")``: lower case (``varchar``,
    ``array(integer)``, ``row(a integer, b varchar)``, field names kept as written and
    double-quoted only when they are no plain identifier);
    a decimal has no space (``decimal(10,2)``); NULL's type is ``unknown``; DuckDB's
    one INTERVAL is ``interval day to second``.
    """
    kind = dtype.this
    if kind is T.ARRAY:
        return f"array({trino_name(dtype.expressions[0])})"
    if kind is T.MAP:
        return f"map({trino_name(dtype.expressions[0])}, {trino_name(dtype.expressions[1])})"
    if kind in (T.STRUCT, T.UNION):
        return "row(" + ", ".join(f"{exp.to_identifier(name).sql(dialect='trino')} {trino_name(child)}"
                                  for name, child in _fields(dtype)) + ")"
    if kind in _TRINO_CORRECTIONS:
        return _TRINO_CORRECTIONS[kind]
    text = dtype.sql(dialect="trino").lower()
    return text.replace(", ", ",") if kind is T.DECIMAL else text


def athena_name(dtype: exp.DataType) -> str:
    """``ColumnInfo.Type`` of a ``DataType``: Trino's name without parameters
    (``varchar``, ``decimal``, ``timestamp with time zone``, ``array``, ``row``)."""
    if dtype.this in _NESTED_NAMES:
        return _NESTED_NAMES[dtype.this]
    return trino_name(exp.DataType(this=dtype.this)).split("(")[0]


_NESTED_NAMES = {T.ARRAY: "array", T.MAP: "map", T.STRUCT: "row", T.UNION: "row"}


# ------------------------------------------------------------------ DuckDB

# DuckDB types with no Trino name of their own, as the Trino type that holds their values
# (see the module docstring for the timestamp convention).
_DUCK_AS_TRINO: dict[exp.DataType.Type, exp.DataType] = {
    T.UTINYINT: exp.DataType(this=T.SMALLINT), T.USMALLINT: exp.DataType(this=T.INT),
    T.UINT: exp.DataType(this=T.BIGINT), T.UBIGINT: decimal_type(20, 0),
    T.INT128: decimal_type(38, 0), T.UINT128: decimal_type(38, 0),
    T.TIMESTAMP: sized(T.TIMESTAMP, DEFAULT_TIMESTAMP_PRECISION),
    T.TIMESTAMPNTZ: sized(T.TIMESTAMP, DEFAULT_TIMESTAMP_PRECISION),  # sqlglot's reading of TIMESTAMP
    T.TIMESTAMP_MS: sized(T.TIMESTAMP, 3), T.TIMESTAMP_S: sized(T.TIMESTAMP, 0),
    T.TIMESTAMP_NS: sized(T.TIMESTAMP, 6),
    T.TIMESTAMPTZ: sized(T.TIMESTAMPTZ, DEFAULT_TIMESTAMP_PRECISION),
    T.TIME: sized(T.TIME, 3), T.TIMETZ: sized(T.TIMETZ, 3),
    T.TEXT: exp.DataType(this=T.VARCHAR),
}


def _duck_as_trino(dtype: exp.DataType) -> exp.DataType:
    kind = dtype.this
    if kind is T.ARRAY:  # INTEGER[3] (fixed size) is an array too
        return nested(T.ARRAY, [_duck_as_trino(dtype.expressions[0])])
    if kind is T.MAP:
        return nested(T.MAP, [_duck_as_trino(t) for t in dtype.expressions])
    if kind in (T.STRUCT, T.UNION):
        return struct_type([(name, _duck_as_trino(child)) for name, child in _fields(dtype)])
    if kind in (T.TEXT, T.VARCHAR) and dtype.expressions:
        return dtype
    return _DUCK_AS_TRINO.get(kind, dtype) if isinstance(kind, T) else dtype


@functools.lru_cache(maxsize=1024)
def duck_type(duck_name: str) -> exp.DataType:
    """The Trino ``DataType`` of a DuckDB type name (``HUGEINT`` -> ``decimal(38,0)``,
    ``TIMESTAMP`` -> ``timestamp(3)``, ``MAP(VARCHAR, INTEGER)`` -> ``map(varchar, integer)``)."""
    return _duck_as_trino(parse_type(duck_name, "duckdb"))


# ------------------------------------------------------------ the public API

@functools.lru_cache(maxsize=4096)  # every query reads its tables' column types
def hive_to_arrow(type_name: str) -> pa.DataType:
    """The Arrow type of a Glue/Hive column type (``decimal(10,2)`` -> ``decimal128(10, 2)``).

    Raises :class:`UnknownTypeError` (a ValueError) naming the text when it is no Hive type.
    """
    dtype = parse_type(type_name, "hive")
    for node in dtype.find_all(exp.DataType):
        if node.this not in _HIVE_TYPES:
            raise UnknownTypeError(f"Unsupported column type {trino_name(node)!r} in "
                                   f"{type_name!r}: Hive tables have no such type; {_HINT}")
    return to_arrow(dtype)


def arrow_to_hive(dtype: pa.DataType) -> str:
    """The Glue/Hive column type of an Arrow type (what Athena's CTAS and crawlers register).

    Types with no Hive equivalent (time, interval) raise :class:`UnknownTypeError`.
    """
    return hive_name(from_arrow(dtype))


@functools.lru_cache(maxsize=4096)
def hive_to_trino(type_name: str) -> str:
    """Trino's spelling of a Glue/Hive type (``string`` -> ``varchar``, ``struct<a:int>`` ->
    ``row(a integer)``), as ``information_schema.columns`` and views show it."""
    return trino_name(parse_type(type_name, "hive"))


def arrow_to_athena(dtype: pa.DataType) -> str:
    """Athena's result type name (``ColumnInfo.Type``) of an Arrow type."""
    return athena_name(from_arrow(dtype))


def duck_to_trino_type(duck_name: str | None) -> str | None:
    """Trino's ``typeof`` spelling of a DuckDB type name: ``INTEGER[]`` -> ``array(integer)``,
    ``MAP(VARCHAR, INTEGER)`` -> ``map(varchar, integer)``, ``DECIMAL(4,2)`` -> ``decimal(4,2)``.

    A name the pivot cannot read comes back lower-cased rather than failing the query.
    """
    if duck_name is None:
        return None
    try:
        return trino_name(duck_type(duck_name))
    except UnknownTypeError:
        return duck_name.strip().lower()


def duck_to_arrow(duck_name: str, fallback: pa.DataType | None = None) -> pa.DataType:
    """The Arrow type Athena's result holds for a DuckDB result column (``TIMESTAMP`` ->
    ``timestamp[ms]``, ``TIMESTAMP_NS`` -> ``timestamp[us]``), or ``fallback`` when the
    type has no Arrow equivalent here."""
    try:
        return to_arrow(duck_type(duck_name))
    except UnknownTypeError:
        if fallback is None:
            raise
        return fallback


# Precision Athena reports per result type (JDBC-style display sizes).
_PRECISION = {
    "varchar": 2147483647, "tinyint": 3, "smallint": 5, "integer": 10, "bigint": 19,
    "real": 7, "double": 17, "time": 3, "varbinary": 1073741824,
}


def column_info(name: str, dtype: pa.DataType, nullable: str = "UNKNOWN") -> dict[str, Any]:
    """One ``ResultSetMetadata.ColumnInfo`` entry, shaped as Athena returns it."""
    sql_type = from_arrow(dtype)
    athena_type = athena_name(sql_type)
    if pa.types.is_decimal(dtype):
        digits, scale = dtype.precision, dtype.scale
    elif pa.types.is_timestamp(dtype):
        digits, scale = precision(sql_type, DEFAULT_TIMESTAMP_PRECISION) or 0, 0
    else:
        digits, scale = _PRECISION.get(athena_type, 0), 0
    return {
        "CatalogName": "hive",
        "SchemaName": "",
        "TableName": "",
        "Name": name,
        "Label": name,
        "Type": athena_type,
        "Precision": digits,
        "Scale": scale,
        "Nullable": nullable,
        "CaseSensitive": athena_type == "varchar",
    }


def text_column_info(name: str) -> dict[str, Any]:
    """ColumnInfo of a DDL/utility result column (SHOW, DESCRIBE): Hive's ``string``."""
    info = column_info(name, pa.string())
    info["Type"] = "string"
    return info


_FAMILIES = [
    (exp.DataType.NUMERIC_TYPES, "number"),
    (exp.DataType.TEXT_TYPES, "string"),
    (exp.DataType.TEMPORAL_TYPES | {T.INTERVAL}, "time"),
    ({T.BOOLEAN}, "boolean"),
    ({T.BINARY, T.VARBINARY}, "binary"),
    ({T.NULL}, "null"),
]


def family(dtype: pa.DataType) -> str:
    """A coarse type family, to tell a harmless widening from a schema mismatch:
    number, string, time, boolean, binary, null or nested."""
    try:
        kind = from_arrow(dtype).this
    except UnknownTypeError:
        return "nested"
    return next((name for kinds, name in _FAMILIES if kind in kinds), "nested")
