"""Errors a learner meets, in Trino's order and wording, through boto3 and through awswrangler's CTAS.

awswrangler's ``read_sql_query`` wraps the learner's query as ``CREATE TABLE "..."
WITH (...) AS <query>``: the error must still name the learner's mistake, at its
place in the statement Athena received, and never leak parser internals.
"""

from __future__ import annotations

import re

import awswrangler as wr
import boto3
import pytest
from botocore.exceptions import ClientError

from tests.cloud.athena_helpers import DATABASE, RESULTS, ensure_lake, refusal, run_query
from utils.cloud.athena import sql as athena_sql
from utils.cloud.athena.errors import AthenaQueryError

QUERY_STARTS = "Expecting: '(', 'SELECT', 'TABLE', 'VALUES', 'WITH'"
QUOTES_HINT = "Athena runs Trino SQL: double quotes name a column; write strings in single quotes, 'France'"


@pytest.fixture(scope="module")
def lake(local_cloud: str) -> dict:
    """Small Parquet tables in the local S3, registered in Glue (shared by every Athena test)."""
    return ensure_lake()


def reason(sql: str) -> str:
    """The StateChangeReason of a query that must fail."""
    execution = run_query(sql)
    assert execution["Status"]["State"] == "FAILED", sql
    return execution["Status"]["StateChangeReason"]


def ctas_read(sql: str) -> None:
    """awswrangler's default path: the query wrapped in a CTAS."""
    wr.athena.read_sql_query(sql, database=DATABASE, s3_output=RESULTS)


def table_names() -> set[str]:
    return {t["Name"] for t in boto3.client("glue").get_tables(DatabaseName=DATABASE)["TableList"]}


# ------------------------------------------ 1. the real error before "Column name not specified"


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT customer_id, SUM(amuont) FROM fact_orders GROUP BY customer_id",
     r"COLUMN_NOT_FOUND: line \d+:\d+: Column 'amuont' cannot be resolved"),
    ("SELECT country, customer_name, COUNT(*) FROM dim_customers GROUP BY country",
     r"EXPRESSION_NOT_AGGREGATE: line \d+:\d+: 'customer_name' must be an aggregate expression"),
    ("SELECT country, COUNT(*) FROM dim_customers",
     r"EXPRESSION_NOT_AGGREGATE: line \d+:\d+: 'country' must be an aggregate expression"),
])
def test_wrangler_ctas_reports_the_query_error_before_unnamed_columns(lake: dict, sql: str,
                                                                      expected: str) -> None:
    with pytest.raises(wr.exceptions.QueryFailed, match=expected):
        ctas_read(sql)


def test_wrangler_ctas_still_asks_for_names_of_a_valid_query(lake: dict) -> None:
    with pytest.raises(wr.exceptions.InvalidArgumentValue, match="define all columns names"):
        ctas_read("SELECT customer_id, SUM(quantity) FROM fact_orders GROUP BY customer_id")


def test_ctas_statement_reports_the_query_error_first(lake: dict) -> None:
    before = table_names()
    head = "CREATE TABLE errors_unnamed WITH (format = 'PARQUET') AS "
    assert reason(head + "SELECT customer_id, SUM(amuont) FROM fact_orders GROUP BY customer_id") == \
        f"COLUMN_NOT_FOUND: line 1:{len(head) + 25}: Column 'amuont' cannot be resolved"
    unnamed = reason(head + "SELECT customer_id, SUM(quantity) FROM fact_orders GROUP BY customer_id")
    assert unnamed.startswith("MISSING_COLUMN_NAME: line 1:"), unnamed
    assert unnamed.endswith(": Column name not specified at position 2"), unnamed
    assert table_names() == before


# ------------------------------------------------- 2. the learner's token, not the CTAS wrapper's


def test_wrangler_ctas_syntax_error_names_the_learners_token(lake: dict) -> None:
    # Refused at StartQueryExecution, as on AWS: botocore's ClientError, not awswrangler's QueryFailed.
    with pytest.raises(ClientError) as err:
        ctas_read("SELEC country FROM dim_customers")
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"
    message = err.value.response["Error"]["Message"]
    # awswrangler puts the query after "AS " on the last line of its CTAS statement
    assert message.startswith("line ") and ":4: mismatched input 'SELEC'. " in message, message
    assert QUERY_STARTS in message and "'CREATE'" not in message, message


def test_ctas_statement_syntax_error_position_is_in_the_full_text(lake: dict) -> None:
    assert refusal("CREATE TABLE errors_syntax\nWITH (format = 'PARQUET')\n"
                   "AS SELEC country FROM dim_customers") == \
        f"line 3:4: mismatched input 'SELEC'. {QUERY_STARTS}"
    assert refusal("CREATE TABLE errors_syntax AS (SELEC 1)") == \
        f"line 1:32: mismatched input 'SELEC'. {QUERY_STARTS}"
    assert refusal("CREATE TABLE errors_syntax\nWITH (format = 'PARQUET')\nAS SELECT country\n"
                   "FROM dim_customers WHERE") == \
        "line 4:20: mismatched input '<EOF>' after 'WHERE'. Expecting: <expression>"
    assert refusal("CREATE VIEW errors_view AS\nSELEC country FROM dim_customers") == \
        f"line 2:1: mismatched input 'SELEC'. {QUERY_STARTS}"
    assert "errors_syntax" not in table_names() and "errors_view" not in table_names()


# ---------------------------------------------------------- 3. no parser internals in messages


def test_dangling_where_is_a_trino_syntax_error(lake: dict) -> None:
    assert refusal("SELECT * FROM fact_orders WHERE") == \
        "line 1:27: mismatched input '<EOF>' after 'WHERE'. Expecting: <expression>"
    assert refusal("SELECT CASE WHEN active THEN 1 FROM dim_customers") == \
        "line 1:32: mismatched input 'FROM'. Expecting: 'END'"


def test_wrangler_ctas_dangling_where(lake: dict) -> None:
    with pytest.raises(ClientError) as err:
        ctas_read("SELECT * FROM fact_orders WHERE")
    assert re.fullmatch(r"line \d+:30: mismatched input '<EOF>' after 'WHERE'\. Expecting: <expression>",
                        err.value.response["Error"]["Message"]), err.value.response["Error"]


@pytest.mark.parametrize("sql", [
    "SELECT * FROM fact_orders WHERE",
    "SELECT 1 +",
    "SELECT customer_id FROM dim_customers ORDER BY",
    "SELECT (country FROM dim_customers",
    "SELECT country FROM",
    "SELECT country FROM dim_customers WHERE GROUP BY country",
    "SELECT customer_id FROM dim_customers WHERE customer_id IN (1,",
    "SELECT customer_id FROM dim_customers WHERE customer_id BETWEEN 1",
    "SELECT CAST(customer_id AS) FROM dim_customers",
    "SELECT customer_id FROM dim_customers LIMIT",
    "SELECT a b c FROM dim_customers",
    "CREATE TABLE t WITH (format = 'PARQUET') AS SELECT 1 AS x FROM dim_customers WHERE",
])
def test_parse_errors_are_worded_like_trino(sql: str) -> None:
    with pytest.raises(AthenaQueryError) as err:
        athena_sql.parse(sql)
    text = err.value.reason
    assert text.startswith("SYNTAX_ERROR: line ") and ": mismatched input '" in text, text
    for internal in ("<class", "sqlglot", "Token", "Required keyword", "SENTINEL"):
        assert internal not in text, text


# ------------------------------------------------------- 4. double quotes are not strings


def test_double_quoted_string_gets_a_hint(lake: dict) -> None:
    assert reason('SELECT customer_id FROM dim_customers WHERE country = "France"') == \
        f"COLUMN_NOT_FOUND: line 1:55: Column 'France' cannot be resolved. {QUOTES_HINT}"
    assert reason("SELECT customer_id FROM dim_customers WHERE countri = 'France'") == \
        "COLUMN_NOT_FOUND: line 1:45: Column 'countri' cannot be resolved"


def test_wrangler_ctas_double_quoted_string_gets_a_hint(lake: dict) -> None:
    with pytest.raises(wr.exceptions.QueryFailed) as err:
        ctas_read('SELECT customer_id FROM dim_customers WHERE country = "France"')
    assert str(err.value).startswith("COLUMN_NOT_FOUND: line ")
    assert str(err.value).endswith(f"Column 'France' cannot be resolved. {QUOTES_HINT}")


def test_bad_execution_parameter_is_a_syntax_error() -> None:
    tree = athena_sql.parse("SELECT customer_id FROM dim_customers WHERE customer_id = ?")
    with pytest.raises(AthenaQueryError) as err:
        athena_sql.substitute_parameters(tree, ["1 +"])
    assert err.value.reason == ("SYNTAX_ERROR: mismatched input '<EOF>' after '+'. Expecting: <expression> "
                                "(in execution parameter 1: 1 +)")
