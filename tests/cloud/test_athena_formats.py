"""Athena's text forms, types and SQL rewrites, tested without a server."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from utils.cloud.athena import sql as athena_sql
from utils.cloud.athena.errors import AthenaQueryError
from utils.cloud.athena.results import (
    csv_bytes,
    java_double,
    metadata_bytes,
    read_metadata,
    render_column,
)
from utils.cloud.athena.types import arrow_to_athena, arrow_to_hive, column_info, hive_to_arrow


@pytest.mark.parametrize(("value", "text"), [
    (0.0, "0.0"), (1.0, "1.0"), (0.5, "0.5"), (123.25, "123.25"), (1e7, "1.0E7"),
    (12345678.9, "1.23456789E7"),
    (0.001, "0.001"), (0.0001, "1.0E-4"), (-2.5e-5, "-2.5E-5"), (float("nan"), "NaN"),
    (float("inf"), "Infinity"), (1e21, "1.0E21"),
])
def test_doubles_render_as_java(value: float, text: str) -> None:
    assert java_double(value) == text
    assert render_column(pa.array([value])).to_pylist() == [text]


def test_render_values_like_trino() -> None:
    assert render_column(pa.array([1, None, -3], pa.int32())).to_pylist() == ["1", None, "-3"]
    assert render_column(pa.array([True, False])).to_pylist() == ["true", "false"]
    assert render_column(pa.array([dt.date(2024, 2, 29)])).to_pylist() == ["2024-02-29"]
    stamps = pa.array([dt.datetime(2024, 1, 31, 12, 0, 5, 123456)], pa.timestamp("us"))
    assert render_column(stamps).to_pylist() == ["2024-01-31 12:00:05.123"]
    assert render_column(pa.array([Decimal("10.50")], pa.decimal128(10, 2))).to_pylist() == ["10.50"]
    assert render_column(pa.array([[1, 2], None])).to_pylist() == ["[1, 2]", None]
    assert render_column(pa.array([{"a": 1, "b": "x"}])).to_pylist() == ["{a=1, b=x}"]
    assert render_column(pa.array([[("k", 1)]], pa.map_(pa.string(), pa.int64()))).to_pylist() == ["{k=1}"]


def test_csv_quotes_everything_but_null() -> None:
    data = csv_bytes(["a", "b"], [pa.array(["x", 'say "hi"', None]), pa.array(["", "1", "2"])])
    assert data == b'"a","b"\n"x",""\n"say ""hi""","1"\n,"2"\n'
    assert csv_bytes(["a"], [pa.array([], pa.string())]) == b'"a"\n'


def test_metadata_round_trip() -> None:
    columns = [column_info("n", pa.int64()), column_info("price", pa.decimal128(12, 2)),
               column_info("name", pa.string())]
    data = metadata_bytes("20240101_000000_00001_abcde", columns)
    assert data.startswith(b"\n\x1b20240101_000000_00001_abcde")
    back = read_metadata(data)
    assert [(c["Name"], c["Type"], c["Precision"], c["Scale"]) for c in back] == [
        ("n", "bigint", 19, 0), ("price", "decimal", 12, 2), ("name", "varchar", 2147483647, 0)]


@pytest.mark.parametrize("hive", ["int", "bigint", "string", "double", "boolean", "date", "timestamp",
                                  "decimal(10,2)", "array<string>", "map<string,bigint>",
                                  "struct<a:int,b:array<double>>"])
def test_hive_types_round_trip(hive: str) -> None:
    assert arrow_to_hive(hive_to_arrow(hive)) == hive


def test_athena_type_names() -> None:
    assert [arrow_to_athena(t) for t in (pa.int32(), pa.int64(), pa.string(), pa.float64(), pa.date32(),
                                         pa.timestamp("ms"), pa.decimal128(5, 1), pa.list_(pa.int8()))] == [
        "integer", "bigint", "varchar", "double", "date", "timestamp", "decimal", "array"]


def test_syntax_error_position() -> None:
    with pytest.raises(AthenaQueryError) as err:
        athena_sql.parse("SELECT 1 +")
    assert err.value.reason.startswith("SYNTAX_ERROR: line 1:10:")


def test_rewrites_keep_trino_semantics() -> None:
    tree = athena_sql.parse("SELECT date_trunc('month', d) AS m, CAST(p AS integer) AS i, count(*) FROM t")
    athena_sql.keep_dates(tree, {"d"})
    athena_sql.round_integer_casts(tree, {"p"})
    unnamed = athena_sql.name_result_columns(tree)
    duck = athena_sql.to_duckdb(tree)
    assert "CAST(DATE_TRUNC('MONTH', d) AS DATE)" in duck
    assert "CAST(ROUND(p) AS INT)" in duck
    assert "AS _col2" in duck
    assert [index for index, _ in unnamed] == [3]


def test_partition_predicates() -> None:
    tree = athena_sql.parse("SELECT * FROM sales WHERE year = '2024' AND region = 'north' OR 1 = 1")
    (ref,) = athena_sql.table_refs(tree, "db", "awsdatacatalog")
    assert athena_sql.partition_predicates(ref, ["year"]) == {}  # an OR: nothing can be pruned
    tree = athena_sql.parse("SELECT * FROM sales s WHERE s.year IN ('2023', '2024') AND amount > 1")
    (ref,) = athena_sql.table_refs(tree, "db", "awsdatacatalog")
    assert athena_sql.partition_predicates(ref, ["year"]) == {"year": {"2023", "2024"}}
