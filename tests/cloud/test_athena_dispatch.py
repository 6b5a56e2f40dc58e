"""The Athena engine's one classifier: parsed node type first, leading keywords for the rest."""

from __future__ import annotations

import functools

import pytest

from utils.cloud.athena import engine as engine_module
from utils.cloud.athena import sql as athena_sql
from utils.cloud.athena.statement import QueryContext


def _handler_name(engine: engine_module.AthenaEngine, text: str) -> str:
    words = athena_sql.leading_keywords(text).split()
    handler = engine._handler_for(engine_module._parse_statement(text, words), words)
    return (handler.func if isinstance(handler, functools.partial) else handler).__name__


@pytest.fixture(scope="module")
def engine() -> engine_module.AthenaEngine:
    return engine_module.AthenaEngine(cache_bytes=1 << 20)


@pytest.mark.parametrize(("text", "expected"), [
    ("SELECT 1", "_select"),
    ("WITH a AS (SELECT 1 AS x) SELECT x FROM a", "_select"),
    ("VALUES (1, 'a')", "_select"),
    ("INSERT INTO db.t SELECT 1", "_insert"),
    ("CREATE TABLE db.t WITH (format = 'PARQUET') AS SELECT 1 AS x", "_ctas"),
    ("CREATE EXTERNAL TABLE db.t (x int) STORED AS PARQUET LOCATION 's3://b/t/'",
     "_create_external_table"),
    ("CREATE VIEW db.v AS SELECT 1 AS x", "_create_view"),
    ("CREATE DATABASE db", "_database_ddl"),
    ("DROP TABLE db.t", "_drop_table"),
    ("SHOW TABLES IN db", "_show"),
    ("DESCRIBE db.t", "_describe"),
    ("EXPLAIN SELECT 1", "_explain"),
    ("UNLOAD (SELECT 1) TO 's3://b/u/' WITH (format = 'PARQUET')", "_unload"),
    ("MSCK REPAIR TABLE db.t", "_msck_repair"),
    ("ALTER TABLE db.t ADD PARTITION (d = '1')", "_alter_table"),
    ("MERGE INTO db.t USING db.s ON t.x = s.x WHEN MATCHED THEN DELETE", "_unsupported"),
])
def test_each_statement_goes_to_its_family(engine: engine_module.AthenaEngine, text: str,
                                           expected: str) -> None:
    assert _handler_name(engine, text) == expected


def test_a_query_is_parsed_once(engine: engine_module.AthenaEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    parse = athena_sql.parse
    monkeypatch.setattr(athena_sql, "parse", lambda text: calls.append(text) or parse(text))
    result = engine.execute("SELECT 1 AS one", QueryContext(query_id="parse-once"))
    with result.stream as stream:
        assert [batch.to_pylist() for batch in stream] == [[{"one": 1}]]
    assert calls == ["SELECT 1 AS one"]
