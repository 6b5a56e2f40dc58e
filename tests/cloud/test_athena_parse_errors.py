"""A statement that does not parse is refused by StartQueryExecution itself, as on AWS (issue 16).

Athena parses with Trino's grammar before it makes a query: a statement that does not parse
gets HTTP 400 ``InvalidRequestException`` (``AthenaErrorCode`` MALFORMED_QUERY) with Trino's
``line L:C: mismatched input ...`` and no query execution id. Every client sees it at once:
boto3 and the aws CLI as the error, awswrangler as botocore's ``ClientError`` (not its
``QueryFailed``), PyAthena as ``DatabaseError``. What parses but is wrong (unknown table,
column or function, types) still makes a query that ends FAILED. Our learner hints for
MySQL syntax stay in the message; valid Trino of every statement family is still accepted.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import awswrangler as wr
import boto3
import pytest
from botocore.exceptions import ClientError

from tests.cloud.athena_helpers import BUCKET, DATABASE, RESULTS, ensure_lake, refusal, run_query

MYSQL_HINT = "Athena runs Trino SQL, not MySQL: "
QUERY_STARTS = "Expecting: '(', 'SELECT', 'TABLE', 'VALUES', 'WITH'"


@pytest.fixture(scope="module")
def lake(local_cloud: str) -> dict:
    """Small Parquet tables in the local S3, registered in Glue (shared by every Athena test)."""
    return ensure_lake()


def history() -> list[str]:
    """Every query execution id the primary workgroup has, newest first."""
    pages = boto3.client("athena").get_paginator("list_query_executions").paginate(WorkGroup="primary")
    return [query_id for page in pages for query_id in page["QueryExecutionIds"]]


def start(sql: str, **extra: Any) -> dict[str, Any]:
    """StartQueryExecution's answer (raises what botocore raises)."""
    return boto3.client("athena").start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": DATABASE},
        ResultConfiguration={"OutputLocation": RESULTS}, **extra)


# ------------------------------------------------------- 1. synchronous, for every client


TOKEN = "parse-errors-refused-then-fixed-0001"


def test_boto3_gets_invalid_request_and_no_query_is_made(lake: dict) -> None:
    before = history()
    athena = boto3.client("athena")
    with pytest.raises(athena.exceptions.InvalidRequestException) as err:
        start("SELECT customer_id FROM dim_customers WHERE", ClientRequestToken=TOKEN)
    response = err.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["AthenaErrorCode"] == "MALFORMED_QUERY"
    assert response["Error"]["Message"] == \
        "line 1:39: mismatched input '<EOF>' after 'WHERE'. Expecting: <expression>"
    assert history() == before  # no query execution id, nothing in the history
    # The refused request's token is not taken: the corrected query runs under it.
    fixed = start("SELECT customer_id FROM dim_customers WHERE customer_id = 1",
                  ClientRequestToken=TOKEN)["QueryExecutionId"]
    assert history() == [fixed, *before]


def test_awswrangler_raises_the_client_error_at_start(lake: dict) -> None:
    before, tables = history(), wr.catalog.get_tables(database=DATABASE)
    for ctas in (True, False):
        with pytest.raises(ClientError) as err:
            wr.athena.read_sql_query("SELEC country FROM dim_customers", database=DATABASE,
                                     s3_output=RESULTS, ctas_approach=ctas)
        error = err.value.response["Error"]
        assert error["Code"] == "InvalidRequestException", error
        # With ctas_approach the learner's query sits after "AS " on the last line of the CTAS.
        assert re.fullmatch(rf"line \d+:{4 if ctas else 1}: mismatched input 'SELEC'\. .*",
                            error["Message"]), error
    assert history() == before
    assert {t["Name"] for t in wr.catalog.get_tables(database=DATABASE)} == {t["Name"] for t in tables}


def test_awswrangler_ctas_of_a_statement_that_is_no_query_is_refused(lake: dict) -> None:
    # awswrangler's own test_read_sql_query_wo_results_ctas: its CTAS wraps an ALTER TABLE.
    path = f"s3://{BUCKET}/parse_errors/wo_results/"
    wr.catalog.create_parquet_table(database=DATABASE, table="parse_errors_wo_results", path=path,
                                    columns_types={"c0": "int"})
    try:
        sql = f"ALTER TABLE {DATABASE}.parse_errors_wo_results SET LOCATION '{path}dir/'"
        with pytest.raises(ClientError) as err:
            wr.athena.read_sql_query(sql, database=DATABASE, s3_output=RESULTS, ctas_approach=True)
        assert err.value.response["Error"]["Code"] == "InvalidRequestException"
        assert f"mismatched input 'ALTER'. {QUERY_STARTS}" in err.value.response["Error"]["Message"]
        table = boto3.client("glue").get_table(DatabaseName=DATABASE, Name="parse_errors_wo_results")
        assert table["Table"]["StorageDescriptor"]["Location"] == path  # nothing ran
    finally:
        wr.catalog.delete_table_if_exists(database=DATABASE, table="parse_errors_wo_results")


def test_pyathena_raises_database_error(lake: dict) -> None:
    pyathena = pytest.importorskip("pyathena")
    from pyathena.error import DatabaseError, OperationalError

    before = history()
    connection = pyathena.connect(s3_staging_dir=RESULTS, region_name="us-east-1", schema_name=DATABASE,
                                  endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    try:
        cursor = connection.cursor()
        with pytest.raises(DatabaseError, match=r"InvalidRequestException.*line 1:1: mismatched input "
                                                r"'SELEC'") as err:
            cursor.execute("SELEC 1")
        assert not isinstance(err.value, OperationalError)  # OperationalError is a FAILED query
        assert cursor.query_id is None
    finally:
        connection.close()
    assert history() == before


def test_aws_cli_fails_the_command(lake: dict) -> None:
    aws = Path(sys.executable).with_name("aws")
    out = subprocess.run([str(aws), "athena", "start-query-execution", "--query-string", "SELEC 1",
                          "--result-configuration", f"OutputLocation={RESULTS}"],
                         capture_output=True, text=True, timeout=120, env={**os.environ}, check=False)
    assert out.returncode != 0 and not out.stdout.strip(), out
    assert "(InvalidRequestException) when calling the StartQueryExecution operation: line 1:1: " \
           "mismatched input 'SELEC'" in out.stderr, out.stderr


# ---------------------------------------------------------------- 2. the message's shape

WHERE_END = "mismatched input '<EOF>' after 'WHERE'. Expecting: <expression>"


@pytest.mark.parametrize(("sql", "message"), [
    ("SELECT * FROM fact_orders WHERE", f"line 1:27: {WHERE_END}"),
    ("\n\n  SELECT *\n  FROM fact_orders WHERE", f"line 4:20: {WHERE_END}"),  # leading lines count
    ("SELEC 1", "line 1:1: mismatched input 'SELEC'. Expecting: 'ALTER', "),
    ("-- nothing but a comment", "line 1:25: mismatched input '<EOF>'. Expecting: 'ALTER', "),
    ("SELECT 'France", "line 1:8: token recognition error at: ''France'"),
    ("SELECT 1; SELECT 2", "line 1:1: Only one sql statement is allowed"),
    ("CREATE TABLE parse_errors_ctas AS\nSELEC 1", f"line 2:1: mismatched input 'SELEC'. {QUERY_STARTS}"),
    ("INSERT INTO parse_errors_t SELEC 1", "line 1:"),
    ("CREATE VIEW parse_errors_view AS\nSELEC 1", f"line 2:1: mismatched input 'SELEC'. {QUERY_STARTS}"),
    (f"UNLOAD (SELEC 1) TO 's3://{BUCKET}/parse_errors/u/' WITH (format = 'PARQUET')",
     f"line 1:9: mismatched input 'SELEC'. {QUERY_STARTS}"),
    ("EXPLAIN SELECT * FROM fact_orders WHERE", f"line 1:35: {WHERE_END}"),
    ("PREPARE parse_errors_p FROM SELECT * FROM fact_orders WHERE", f"line 1:55: {WHERE_END}"),
])
def test_the_message_is_trinos_line_and_column(lake: dict, sql: str, message: str) -> None:
    assert refusal(sql).startswith(message)


def test_parse_errors_leave_nothing_behind(lake: dict) -> None:
    before = history()
    for sql in ("CREATE TABLE parse_errors_ctas AS SELEC 1", "CREATE VIEW parse_errors_view AS SELEC 1",
                "PREPARE parse_errors_p FROM SELEC 1"):
        refusal(sql)
    assert history() == before
    names = {t["Name"] for t in boto3.client("glue").get_tables(DatabaseName=DATABASE)["TableList"]}
    assert not {"parse_errors_ctas", "parse_errors_view"} & names
    with pytest.raises(ClientError, match="not found|NotFound|ResourceNotFound"):
        boto3.client("athena").get_prepared_statement(StatementName="parse_errors_p", WorkGroup="primary")


# ----------------------------------------------------------------- 3. the hints are kept


@pytest.mark.parametrize(("sql", "message", "hint"), [
    ("SELECT `country` FROM dim_customers", "line 1:8: backquoted identifiers are not supported",
     'quote identifiers with double quotes, "name"'),
    ("SELECT customer_id FROM dim_customers LIMIT 2, 3", "line 1:46: mismatched input ','",
     "use OFFSET 2 LIMIT 3"),
    ("SELECT order_date + INTERVAL 1 DAY FROM fact_orders", "line 1:30: mismatched input '1'",
     "INTERVAL '1' DAY"),
    ("SELECT country FROM dim_customers WHERE country REGEXP '^F'", "line 1:49: mismatched input 'REGEXP'",
     "use regexp_like(s, pattern)"),
    ("SELECT LEFT(country, 2) FROM dim_customers", "line 1:8: mismatched input 'LEFT'",
     "use substr(s, 1, n)"),
    ("SELECT GROUP_CONCAT(country SEPARATOR ',') FROM dim_customers",
     "line 1:29: mismatched input 'SEPARATOR'", "group_concat: use array_join(array_agg(x), ',')"),
])
def test_mysql_syntax_is_refused_with_its_hint(lake: dict, sql: str, message: str, hint: str) -> None:
    text = refusal(sql)
    assert text.startswith(message) and MYSQL_HINT in text and hint in text, text


def test_the_hint_survives_awswrangler_ctas(lake: dict) -> None:
    with pytest.raises(ClientError) as err:
        wr.athena.read_sql_query("SELECT customer_id FROM dim_customers LIMIT 2, 3", database=DATABASE,
                                 s3_output=RESULTS)
    message = err.value.response["Error"]["Message"]
    assert message.startswith("line ") and f"{MYSQL_HINT}use OFFSET 2 LIMIT 3" in message, message


# ------------------------------------------------- 4. valid Trino of every family is accepted

LOCATION = f"s3://{BUCKET}/parse_errors"
EVERY_FAMILY = [
    "SELECT country, count(*) AS n FROM dim_customers GROUP BY country",
    "-- a comment first\n(SELECT customer_id FROM dim_customers ORDER BY customer_id OFFSET 2 LIMIT 3)",
    "WITH c AS (SELECT customer_id FROM dim_customers) SELECT count(*) AS n FROM c",
    "VALUES (1, 'a'), (2, 'b')",
    "SELECT transform(ARRAY[1, 2], x -> x + 1) AS a, date_add('day', 1, DATE '2024-01-31') AS d",
    f"CREATE TABLE pe_ctas WITH (format = 'PARQUET', external_location = '{LOCATION}/ctas/') "
    "AS SELECT customer_id, country FROM dim_customers",
    "INSERT INTO pe_ctas SELECT customer_id, country FROM dim_customers WHERE customer_id < 3",
    f"UNLOAD (SELECT customer_id FROM dim_customers) TO '{LOCATION}/unload/' WITH (format = 'PARQUET')",
    f"CREATE EXTERNAL TABLE `pe_ext` (`id` int, name string) STORED AS PARQUET LOCATION '{LOCATION}/ext/'",
    "ALTER TABLE pe_ext ADD COLUMNS (extra string)",
    f"CREATE EXTERNAL TABLE pe_part (amount double) PARTITIONED BY (year string) STORED AS PARQUET "
    f"LOCATION 's3://{BUCKET}/gold/sales/'",
    "MSCK REPAIR TABLE pe_part",
    "CREATE VIEW pe_view AS SELECT country FROM dim_customers",
    "CREATE OR REPLACE VIEW pe_view AS SELECT country, customer_id FROM dim_customers",
    "SHOW TABLES",
    "SHOW TABLES IN " + DATABASE + " 'pe_*'",
    "SHOW DATABASES",
    "SHOW VIEWS",
    "SHOW COLUMNS IN pe_ctas",
    "SHOW PARTITIONS pe_part",
    "SHOW CREATE TABLE pe_ext",
    "DESCRIBE pe_part",
    "EXPLAIN SELECT count(*) FROM dim_customers",
    "EXPLAIN (TYPE VALIDATE) SELECT 1",
    "PREPARE pe_stmt FROM SELECT customer_name FROM dim_customers WHERE customer_id = ?",
    "EXECUTE pe_stmt USING 3",
    "DEALLOCATE PREPARE pe_stmt",
    "DROP VIEW pe_view",
    "DROP TABLE IF EXISTS pe_part",
    "DROP TABLE `pe_ext`",
    "DROP TABLE pe_ctas",
]


def test_valid_trino_of_every_family_is_accepted_and_runs(lake: dict) -> None:
    for sql in EVERY_FAMILY:
        execution = run_query(sql)
        status = execution["Status"]
        assert status["State"] == "SUCCEEDED", (sql, status.get("StateChangeReason"))


@pytest.mark.parametrize("sql", [
    "MERGE INTO dim_customers t USING dim_customers s ON t.customer_id = s.customer_id "
    "WHEN MATCHED THEN DELETE",
    "START TRANSACTION",
    "USE " + DATABASE,
])
def test_valid_trino_the_local_athena_does_not_run_is_accepted(lake: dict, sql: str) -> None:
    execution = run_query(sql)
    assert execution["Status"]["State"] == "FAILED"
    assert execution["Status"]["StateChangeReason"].startswith("NOT_SUPPORTED: "), execution["Status"]


# --------------------------------------------------------------- 5. semantic errors still FAIL


@pytest.mark.parametrize(("sql", "reason"), [
    ("SELECT * FROM no_such_table", "TABLE_NOT_FOUND: line 1:15: "),
    ("SELECT no_col FROM dim_customers", "COLUMN_NOT_FOUND: line 1:8: "),
    ("SELECT IFNULL(country, '') FROM dim_customers", "FUNCTION_NOT_FOUND: line 1:8: Function 'ifnull'"),
    # sqlglot reads DATE_ADD its own way (three arguments); Trino parses it and finds no such signature.
    ("SELECT DATE_ADD(order_date, INTERVAL '1' DAY) FROM fact_orders",
     "FUNCTION_NOT_FOUND: line 1:8: Unexpected parameters for function date_add"),
    ("SELECT 'a' + 1", ""),
    ("SELECT country, customer_name FROM dim_customers GROUP BY country", "EXPRESSION_NOT_AGGREGATE: "),
    # Hive DDL: Athena reports its parse errors as a FAILED query.
    ("CREATE EXTERNAL TABLE pe_bad (id int", "SYNTAX_ERROR: line 1:"),
    # EXECUTE's prepared statement is parsed when it runs.
    ("EXECUTE pe_no_such_statement", "NOT_FOUND: "),
])
def test_semantic_errors_still_make_a_failed_query(lake: dict, sql: str, reason: str) -> None:
    execution = run_query(sql)
    assert execution["Status"]["State"] == "FAILED", sql
    assert execution["Status"]["StateChangeReason"].startswith(reason), execution["Status"]


# ------------------------------------------------------------------------ 6. parsed once


def test_the_statement_is_parsed_once_at_start(lake: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from utils.cloud.athena import sql as athena_sql

    calls: list[str] = []
    parse = athena_sql.parse
    monkeypatch.setattr(athena_sql, "parse", lambda text: calls.append(text) or parse(text))
    assert run_query("SELECT 41 + 1 AS answer")["Status"]["State"] == "SUCCEEDED"
    assert calls == ["SELECT 41 + 1 AS answer"]


# ------------------------------------------------ 7. the grading gateway passes the 400 through


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=60)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def test_the_grading_gateway_relays_athenas_refusal(lake: dict, local_cloud: str, tmp_path: Path) -> None:
    from urllib.parse import urlsplit

    from utils.teaching.gateway import CloudPolicy, Gateway

    policy = CloudPolicy(job_name="job", crawler_name="crawler", glue_database=DATABASE,
                         data_lake_bucket="lake", scripts_bucket="scripts")
    cloud = urlsplit(local_cloud)
    gateway = Gateway(tmp_path, cloud=(cloud.hostname, cloud.port), policy=policy)

    def start_through_gateway(sql: str) -> tuple[int, dict]:
        connection = _UnixConnection(str(tmp_path / "cloud.sock"))
        body = json.dumps({"QueryString": sql, "ResultConfiguration": {"OutputLocation": RESULTS}})
        connection.request("POST", "/", body=body, headers={
            "X-Amz-Target": "AmazonAthena.StartQueryExecution", "Content-Type": "application/x-amz-json-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/athena/aws4_request"})
        response = connection.getresponse()
        answer = response.status, json.loads(response.read() or b"{}")
        connection.close()
        return answer

    try:
        for sql in ("SELEC 1", "SELECT * FROM fact_orders WHERE", "CREATE TABLE x AS SELEC 1"):
            status, answer = start_through_gateway(sql)
            assert status == 400 and answer["__type"] == "InvalidRequestException", (sql, answer)
            assert answer["AthenaErrorCode"] == "MALFORMED_QUERY" and answer["Message"].startswith("line 1:")
        status, answer = start_through_gateway("DROP TABLE fact_orders")  # parses: still the gateway's no
        assert status == 403 and "Refused while grading" in answer["message"], answer
        assert gateway.refused == ["cloud: athena: DROP statement changes the catalog or the data lake"]
        assert policy.refusal("POST", "/", {"X-Amz-Target": "AmazonAthena.StartQueryExecution"},
                              json.dumps({"QueryString": "SELECT 1; DROP TABLE x"}).encode())
    finally:
        gateway.close()
