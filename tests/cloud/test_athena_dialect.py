"""Athena runs Trino SQL: MySQL-isms fail as on AWS (with a hint), Trino functions keep working."""

from __future__ import annotations

import boto3
import pytest

from tests.cloud.athena_helpers import ensure_lake, refusal, run_query

HINT = "Athena runs Trino SQL, not MySQL"


@pytest.fixture(scope="module")
def lake(local_cloud: str) -> dict:
    """Small Parquet tables in the local S3, registered in Glue (shared by every Athena test)."""
    return ensure_lake()


def rows(execution: dict) -> list[list[str | None]]:
    """The result rows (header excluded) of a SUCCEEDED query, as text."""
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"].get("StateChangeReason")
    result = boto3.client("athena").get_query_results(QueryExecutionId=execution["QueryExecutionId"])
    return [[d.get("VarCharValue") for d in r["Data"]] for r in result["ResultSet"]["Rows"][1:]]


def reason(sql: str) -> str:
    """The StateChangeReason of a query that must fail."""
    execution = run_query(sql)
    assert execution["Status"]["State"] == "FAILED", sql
    return execution["Status"]["StateChangeReason"]


# ------------------------------------------------------------ MySQL-isms

@pytest.mark.parametrize(("sql", "expected", "hint"), [
    ("SELECT IFNULL(status, 'none') FROM fact_orders",
     "FUNCTION_NOT_FOUND: line 1:8: Function 'ifnull' not registered", "use coalesce(x, y)"),
    ("SELECT DATEDIFF(DATE '2024-01-31', order_date) FROM fact_orders",
     "FUNCTION_NOT_FOUND: line 1:8: Function 'datediff' not registered", "use date_diff('day', start, end)"),
    ("SELECT STR_TO_DATE('2024-01-31', '%Y-%m-%d')",
     "FUNCTION_NOT_FOUND: line 1:8: Function 'str_to_date' not registered", "use date_parse(s, format)"),
    ("SELECT country, GROUP_CONCAT(customer_name) FROM dim_customers GROUP BY country",
     "FUNCTION_NOT_FOUND: line 1:17: Function 'group_concat' not registered",
     "use array_join(array_agg(x), ',')"),
    ("SELECT CURDATE()",
     "FUNCTION_NOT_FOUND: line 1:8: Function 'curdate' not registered", "use current_date"),
    ("SELECT DATE_SUB(order_date, INTERVAL '1' DAY) FROM fact_orders",
     "FUNCTION_NOT_FOUND: line 1:8: Function 'date_sub' not registered", "use date_add('day', -n, x)"),
    ("SELECT SUBSTRING_INDEX(customer_name, ' ', 1) FROM dim_customers",
     "FUNCTION_NOT_FOUND: line 1:8: Function 'substring_index' not registered",
     "use split_part(s, delimiter, n)"),
    ("SELECT UNIX_TIMESTAMP(shipped_at) FROM fact_orders",
     "FUNCTION_NOT_FOUND: line 1:8: Function 'unix_timestamp' not registered", "use to_unixtime(ts)"),
    ("SELECT LCASE(country) FROM dim_customers",
     "FUNCTION_NOT_FOUND: line 1:8: Function 'lcase' not registered", "use lower(s)"),
    ("SELECT DAYOFWEEK(order_date) FROM fact_orders",
     "FUNCTION_NOT_FOUND: line 1:8: Function 'dayofweek' not registered", "use day_of_week(d)"),
    ("SELECT DATE_ADD(order_date, INTERVAL '1' DAY) FROM fact_orders",
     "FUNCTION_NOT_FOUND: line 1:8: Unexpected parameters for function date_add",
     "use date_add('day', n, x)"),
])
def test_mysql_only_functions_fail_with_a_hint(lake: dict, sql: str, expected: str, hint: str) -> None:
    text = reason(sql)
    assert text.startswith(expected), text
    assert f"{HINT}: " in text and hint in text, text


# MySQL syntax does not parse in Trino: StartQueryExecution refuses it (the hint stays in the message).
@pytest.mark.parametrize(("sql", "expected", "hint"), [
    ("SELECT order_date + INTERVAL 1 DAY FROM fact_orders",
     "line 1:30: mismatched input '1'", "INTERVAL '1' DAY"),
    ("SELECT LEFT(customer_name, 3) FROM dim_customers",
     "line 1:8: mismatched input 'LEFT'", "use substr(s, 1, n)"),
    ("SELECT customer_id FROM dim_customers ORDER BY customer_id LIMIT 2, 3",
     "line 1:67: mismatched input ','", "use OFFSET 2 LIMIT 3"),
    ("SELECT customer_id FROM dim_customers ORDER BY customer_id LIMIT 3 OFFSET 2",
     "line 1:68: mismatched input 'OFFSET'", "use OFFSET n LIMIT 3"),
    ("SELECT `customer_id` FROM dim_customers",
     "line 1:8: backquoted identifiers are not supported; use double quotes",
     "quote identifiers with double quotes"),
    ("SELECT customer_id FROM dim_customers WHERE customer_name REGEXP '^Customer 1'",
     "line 1:59: mismatched input 'REGEXP'", "use regexp_like(s, pattern)"),
])
def test_mysql_only_syntax_is_refused_with_a_hint(lake: dict, sql: str, expected: str, hint: str) -> None:
    text = refusal(sql)
    assert text.startswith(expected), text
    assert f"{HINT}: " in text and hint in text, text


def test_mysql_isms_in_strings_and_comments_are_ignored(lake: dict) -> None:
    sql = ("-- MySQL would write IFNULL(x, y) or LIMIT 2, 3\n"
           "SELECT 'IFNULL(a, b)' AS s, /* GROUP_CONCAT(x) `q` */ coalesce(NULL, 1) AS c")
    assert rows(run_query(sql)) == [["IFNULL(a, b)", "1"]]


def test_mysql_isms_fail_in_ctas_and_views_too(lake: dict) -> None:
    ctas = reason("CREATE TABLE dialect_ctas WITH (format = 'PARQUET') AS SELECT IFNULL(status, '') AS s "
                  "FROM fact_orders")
    assert ctas.startswith("FUNCTION_NOT_FOUND") and "coalesce" in ctas
    view = refusal("CREATE VIEW dialect_view AS SELECT `country` FROM dim_customers")
    assert view.startswith("line 1:36: ") and "backquoted identifiers" in view


def test_backticks_still_allowed_in_ddl(lake: dict) -> None:
    execution = run_query("CREATE EXTERNAL TABLE `dialect_ddl` (`id` int) STORED AS PARQUET "
                          "LOCATION 's3://athena-test-lake/dialect_ddl/'")
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"].get("StateChangeReason")
    assert run_query("DROP TABLE `dialect_ddl`")["Status"]["State"] == "SUCCEEDED"


# ------------------------------------------------------- Trino equivalents


def test_trino_equivalents_succeed(lake: dict) -> None:
    assert rows(run_query("SELECT coalesce(status, 'none') AS s FROM fact_orders "
                          "WHERE order_line_id IN (1, 2) ORDER BY order_line_id")) == [["none"], ["Shipped"]]
    assert rows(run_query("SELECT date_diff('day', DATE '2024-01-01', DATE '2024-01-31')")) == [["30"]]
    assert rows(run_query("SELECT date_parse('2024-01-31', '%Y-%m-%d')")) == [["2024-01-31 00:00:00.000"]]
    assert rows(run_query("SELECT array_join(array_agg(customer_name ORDER BY customer_id), ',') "
                          "FROM dim_customers WHERE customer_id <= 3")) == [
        ["Customer 1,Customer 2,Customer 3"]]
    assert rows(run_query("SELECT customer_id FROM dim_customers ORDER BY customer_id OFFSET 2 LIMIT 3")) == [
        ["3"], ["4"], ["5"]]
    assert rows(run_query('SELECT "customer_id" FROM dim_customers WHERE customer_id = 1')) == [["1"]]
    sql = ("SELECT date_add('day', 1, DATE '2024-01-31'), DATE '2024-01-31' + INTERVAL '1' DAY, "
           "date_add('day', -1, DATE '2024-01-31')")
    assert rows(run_query(sql)) == [["2024-02-01", "2024-02-01", "2024-01-30"]]
    assert rows(run_query("SELECT split_part('a b c', ' ', 2), strpos('hello', 'l'), lower('AB'), "
                          "substr('abcdef', 1, 3), regexp_like('Customer 1', '^Customer')")) == [
        ["b", "3", "ab", "abc", "true"]]
    assert rows(run_query("SELECT to_unixtime(TIMESTAMP '1970-01-02 00:00:00'), "
                          "day_of_week(DATE '2024-01-01')")) == [["86400.0", "1"]]


def test_format_datetime_joda_patterns(lake: dict) -> None:
    sql = ("SELECT format_datetime(TIMESTAMP '2024-03-05 07:08:09.123', 'yyyy-MM-dd') AS d, "
           "format_datetime(TIMESTAMP '2024-03-05 07:08:09.123', 'yy/M/d HH:mm:ss.SSS') AS t, "
           "format_datetime(TIMESTAMP '2024-03-05 17:08:09', 'dd MMM yyyy ''at'' h a') AS l, "
           "format_datetime(order_date, 'yyyyMM') AS m FROM fact_orders WHERE order_line_id = 1")
    assert rows(run_query(sql)) == [["2024-03-05", "24/3/5 07:08:09.123", "05 Mar 2024 at 5 PM", "202301"]]


def test_trino_functions_mysql_users_know_keep_working(lake: dict) -> None:
    sql = ("SELECT concat_ws('-', 'a', 'b'), if(1 > 0, 'yes', 'no'), "
           "from_unixtime(0) AS epoch, date_format(TIMESTAMP '2024-03-05 07:08:09', '%Y-%m-%d %H:%i'), "
           "date_diff('month', DATE '2024-01-15', DATE '2024-03-15'), regexp_like('abc', 'b'), "
           "coalesce(NULL, 'x'), date_trunc('month', DATE '2024-03-15'), now() IS NOT NULL")
    assert rows(run_query(sql)) == [["a-b", "yes", "1970-01-01 00:00:00.000 UTC", "2024-03-05 07:08", "2",
                                     "true", "x", "2024-03-01", "true"]]
    assert rows(run_query("SELECT approx_distinct(country) FROM dim_customers")) == [["3"]]


# ------------------------------------------------ functions only DuckDB knows

# The local engine is DuckDB: without this check these would run here and fail on AWS.
@pytest.mark.parametrize(("sql", "expected", "hint"), [
    ("SELECT strftime(order_date, '%Y-%m') FROM fact_orders",
     "FUNCTION_NOT_FOUND: line 1:8: Function 'strftime' not registered", "use date_format(ts, '%Y-%m-%d')"),
    ("SELECT median(amount) FROM fact_orders",
     "FUNCTION_NOT_FOUND: line 1:8: Function 'median' not registered", "use approx_percentile(x, 0.5)"),
    ("SELECT country, string_agg(customer_name, ',') FROM dim_customers GROUP BY country",
     "FUNCTION_NOT_FOUND: line 1:17: Function 'string_agg' not registered", "array_join(array_agg(x), ',')"),
    ("SELECT * FROM generate_series(1, 3)",
     "FUNCTION_NOT_FOUND: line 1:15: Function 'generate_series' not registered", "use sequence(start, stop)"),
    ("SELECT arg_max(customer_name, customer_id) FROM dim_customers",
     "FUNCTION_NOT_FOUND: line 1:8: Function 'arg_max' not registered", "use max_by(x, y)"),
    ("SELECT today()",
     "FUNCTION_NOT_FOUND: line 1:8: Function 'today' not registered", "use current_date"),
    ("SELECT list_sort(ARRAY[3, 1])",
     "FUNCTION_NOT_FOUND: line 1:8: Function 'list_sort' not registered", "trino.io/docs/current/functions"),
])
def test_duckdb_only_functions_fail_as_on_aws(lake: dict, sql: str, expected: str, hint: str) -> None:
    text = reason(sql)
    assert text.startswith(expected), text
    assert "Athena runs Trino SQL" in text and hint in text, text


def test_trino_syntax_that_looks_like_calls_keeps_working(lake: dict) -> None:
    sql = ("WITH t(a, b) AS (SELECT 1, 'x') "
           "SELECT a, CAST(b AS varchar(3)), CAST(a AS decimal(10, 2)), u.n, "
           "transform(ARRAY[1, 2], v -> v * 10), listagg(b, ',') WITHIN GROUP (ORDER BY b) "
           "FROM t CROSS JOIN UNNEST(ARRAY[7]) AS u(n) GROUP BY a, b, u.n")
    assert rows(run_query(sql)) == [["1", "x", "1.00", "7", "[10, 20]", "x"]]
