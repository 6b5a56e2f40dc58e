"""The one type pivot (``utils/cloud/athena/types.py``): Hive, Trino and DuckDB text in, sqlglot's
DataType in the middle, Arrow and Hive/Trino text out; and the two Trino probe fixes it carries
(timestamp(6) literals keep microseconds, ``typeof`` of a map literal as Trino prints it)."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest

from utils.cloud.athena import engine as engine_module
from utils.cloud.athena import results
from utils.cloud.athena.statement import QueryContext
from utils.cloud.athena.types import (
    UnknownTypeError,
    arrow_to_athena,
    arrow_to_hive,
    column_info,
    duck_to_arrow,
    duck_to_trino_type,
    hive_name,
    hive_to_arrow,
    hive_to_trino,
    parse_type,
)

# (Glue/Hive text, Arrow type, Trino name, ColumnInfo.Type): the text must come back unchanged.
TABLE = [
    ("boolean", pa.bool_(), "boolean", "boolean"),
    ("tinyint", pa.int8(), "tinyint", "tinyint"),
    ("smallint", pa.int16(), "smallint", "smallint"),
    ("int", pa.int32(), "integer", "integer"),
    ("bigint", pa.int64(), "bigint", "bigint"),
    ("float", pa.float32(), "real", "real"),
    ("double", pa.float64(), "double", "double"),
    ("decimal(10,2)", pa.decimal128(10, 2), "decimal(10,2)", "decimal"),
    ("decimal(38,0)", pa.decimal128(38, 0), "decimal(38,0)", "decimal"),
    ("string", pa.string(), "varchar", "varchar"),
    ("binary", pa.binary(), "varbinary", "varbinary"),
    ("date", pa.date32(), "date", "date"),
    ("timestamp", pa.timestamp("ms"), "timestamp", "timestamp"),
    ("array<string>", pa.list_(pa.string()), "array(varchar)", "array"),
    ("map<string,bigint>", pa.map_(pa.string(), pa.int64()), "map(varchar, bigint)", "map"),
    ("struct<a:int,b:string>", pa.struct([("a", pa.int32()), ("b", pa.string())]),
     "row(a integer, b varchar)", "row"),
]


@pytest.mark.parametrize(("hive", "arrow", "trino", "athena"), TABLE, ids=[row[0] for row in TABLE])
def test_hive_arrow_trino_table(hive: str, arrow: pa.DataType, trino: str, athena: str) -> None:
    assert hive_to_arrow(hive) == arrow
    assert hive_to_trino(hive) == trino
    assert arrow_to_athena(arrow) == athena
    assert arrow_to_hive(arrow) == hive  # the round trip


NESTED = [
    ("array<struct<a:int,b:array<double>>>",
     pa.list_(pa.struct([("a", pa.int32()), ("b", pa.list_(pa.float64()))])),
     "array(row(a integer, b array(double)))"),
    ("map<string,array<map<int,decimal(5,1)>>>",
     pa.map_(pa.string(), pa.list_(pa.map_(pa.int32(), pa.decimal128(5, 1)))),
     "map(varchar, array(map(integer, decimal(5,1))))"),
    ("struct<Name:string,tags:map<string,timestamp>>",  # field names keep their case
     pa.struct([("Name", pa.string()), ("tags", pa.map_(pa.string(), pa.timestamp("ms")))]),
     "row(Name varchar, tags map(varchar, timestamp))"),
]


@pytest.mark.parametrize(("hive", "arrow", "trino"), NESTED, ids=[row[0] for row in NESTED])
def test_nested_types(hive: str, arrow: pa.DataType, trino: str) -> None:
    assert hive_to_arrow(hive) == arrow
    assert arrow_to_hive(arrow) == hive
    assert hive_to_trino(hive) == trino


@pytest.mark.parametrize(("written", "stored"), [
    ("INTEGER", "int"), ("Array< String >", "array<string>"), ("varchar(10)", "varchar(10)"),
    ("char(3)", "char(3)"), ("decimal", "decimal(10,0)"),
    ("STRUCT<a: INT, b: BIGINT>", "struct<a:int,b:bigint>"),
])
def test_hive_text_is_normalised_as_the_catalog_stores_it(written: str, stored: str) -> None:
    assert hive_name(parse_type(written, "hive")) == stored


def test_hive_sized_strings_read_as_arrow_strings() -> None:
    assert hive_to_arrow("varchar(10)") == pa.string()
    assert hive_to_arrow("char(3)") == pa.string()
    assert hive_to_trino("varchar(10)") == "varchar(10)"


@pytest.mark.parametrize(("duck", "trino"), [
    ("INTEGER", "integer"), ("BIGINT", "bigint"), ("HUGEINT", "decimal(38,0)"), ("UBIGINT", "decimal(20,0)"),
    ("UTINYINT", "smallint"), ("FLOAT", "real"), ("DOUBLE", "double"), ("VARCHAR", "varchar"),
    ("BLOB", "varbinary"), ("DECIMAL(4,2)", "decimal(4,2)"), ("DATE", "date"),
    ("TIMESTAMP", "timestamp(3)"), ("TIMESTAMP_NS", "timestamp(6)"), ("TIMESTAMP_S", "timestamp(0)"),
    ("TIMESTAMP WITH TIME ZONE", "timestamp(3) with time zone"), ("TIME", "time(3)"),
    ("INTERVAL", "interval day to second"), ('"NULL"', "unknown"), ("JSON", "json"),
    ("INTEGER[]", "array(integer)"), ("INTEGER[3]", "array(integer)"),
    ("MAP(VARCHAR, INTEGER)", "map(varchar, integer)"),
    ('STRUCT(a INTEGER, "b c" VARCHAR[])', 'row(a integer, "b c" array(varchar))'),
    ("MAP(VARCHAR, STRUCT(x HUGEINT))", "map(varchar, row(x decimal(38,0)))"),
])
def test_duckdb_names_as_trino_names(duck: str, trino: str) -> None:
    assert duck_to_trino_type(duck) == trino


def test_duckdb_timestamps_carry_trino_precision_to_arrow() -> None:
    assert duck_to_arrow("TIMESTAMP") == pa.timestamp("ms")
    assert duck_to_arrow("TIMESTAMP_NS") == pa.timestamp("us")
    assert column_info("t", pa.timestamp("us"))["Precision"] == 6
    assert column_info("t", pa.timestamp("ms"))["Precision"] == 3


@pytest.mark.parametrize("text", ["foo", "array<foo>", "array<int", "map<string>", "decimal(10,2", ""])
def test_unknown_type_text_names_the_type(text: str) -> None:
    with pytest.raises(UnknownTypeError, match=re.escape(f"Unknown column type {text!r}")):
        hive_to_arrow(text)


def test_a_type_hive_lacks_is_named() -> None:
    with pytest.raises(ValueError, match="Unsupported column type 'time' in 'array<time>'"):
        hive_to_arrow("array<time>")
    with pytest.raises(ValueError, match="no Hive equivalent"):
        arrow_to_hive(pa.time64("us"))


# ------------------------------------------------------ the probe fixes, end to end in the engine

@pytest.fixture(scope="module")
def engine() -> engine_module.AthenaEngine:
    return engine_module.AthenaEngine(cache_bytes=1 << 20)


def one_row(engine: engine_module.AthenaEngine, sql: str) -> list[str | None]:
    """The first row of a SELECT, rendered as Athena writes it."""
    result = engine.execute(sql, QueryContext("test-types"))
    assert result.stream is not None
    with result.stream as stream:
        table = pa.Table.from_batches(list(stream), schema=stream.schema)
    return [column[0].as_py() for column in results.render_table(table)]


def test_timestamp6_literal_keeps_microseconds(engine: engine_module.AthenaEngine) -> None:
    assert one_row(engine, "SELECT TIMESTAMP '2020-01-01 12:00:00.123456', "
                           "typeof(TIMESTAMP '2020-01-01 12:00:00.123456')") == [
        "2020-01-01 12:00:00.123456", "timestamp(6)"]


def test_plain_timestamp_keeps_milliseconds(engine: engine_module.AthenaEngine) -> None:
    assert one_row(engine, "SELECT CAST('2020-01-01 12:00:00.123456' AS timestamp), "
                           "TIMESTAMP '2020-01-01 12:00:00.123', "
                           "typeof(CAST('2020-01-01 12:00:00' AS timestamp))") == [
        "2020-01-01 12:00:00.123", "2020-01-01 12:00:00.123", "timestamp(3)"]


@pytest.mark.parametrize(("expression", "trino"), [
    ("MAP(ARRAY['foo', 'bar'], ARRAY[1, 2])", "map(varchar(3), integer)"),
    ("ARRAY['a', 'bcd']", "array(varchar(3))"),
    ("ARRAY[1, 3000000000]", "array(bigint)"),
    ("'abc'", "varchar(3)"),
    ("MAP(ARRAY[1], ARRAY[2.5])", "map(integer, double)"),  # not all literal: DuckDB's type, spelt by Trino
])
def test_typeof_of_constants(engine: engine_module.AthenaEngine, expression: str, trino: str) -> None:
    assert one_row(engine, f"SELECT typeof({expression})") == [trino]
