"""SQL semantics the local Athena shares with Athena engine v3 (Trino), found by awswrangler's own
tests (issue 16): execution parameters, NaN/infinity, typeof names, JSON casts, literal types,
the ``default`` database, function argument errors."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests.cloud.athena_helpers import DATABASE, RESULTS, ensure_lake, run_query, wait


@pytest.fixture(scope="module")
def lake(local_cloud: str) -> dict:
    """Small Parquet tables in the local S3, registered in Glue (shared by every Athena test)."""
    return ensure_lake()


def result(execution: dict[str, Any]) -> tuple[list[list[str | None]], list[dict[str, Any]]]:
    """Rows (header excluded, as text) and ColumnInfo of a SUCCEEDED query."""
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"].get("StateChangeReason")
    answer = boto3.client("athena").get_query_results(QueryExecutionId=execution["QueryExecutionId"])
    rows = [[d.get("VarCharValue") for d in r["Data"]] for r in answer["ResultSet"]["Rows"][1:]]
    return rows, answer["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]


def with_parameters(sql: str, parameters: list[str], database: str = DATABASE) -> dict[str, Any]:
    query_id = boto3.client("athena").start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": database}, ExecutionParameters=parameters,
        ResultConfiguration={"OutputLocation": RESULTS})["QueryExecutionId"]
    return wait(query_id)


# ----------------------------------------------------------- execution parameters

@pytest.mark.parametrize(("parameter", "expected"), [
    ("France", [["France"]]),             # a bare word is the string it spells (awswrangler's qmark)
    ("'France'", [["France"]]),           # a quoted string literal
    ("upper('france')", [["France"]]),    # an expression
])
def test_execution_parameter_forms(lake: dict, parameter: str, expected: list[list[str]]) -> None:
    rows, _ = result(with_parameters(
        "SELECT DISTINCT country FROM dim_customers WHERE upper(country) = upper(?)", [parameter]))
    assert rows == expected


def test_execution_parameters_number_and_typed_literal(lake: dict) -> None:
    rows, _ = result(with_parameters("SELECT ? + 1, ? + INTERVAL '1' DAY", ["41", "DATE '2020-01-01'"]))
    assert rows == [["42", "2020-01-02"]]


def test_quoted_name_parameter_still_names_a_column(lake: dict) -> None:
    execution = with_parameters("SELECT count(*) FROM dim_customers WHERE country = ?", ['"nosuch"'])
    assert execution["Status"]["State"] == "FAILED"
    assert execution["Status"]["StateChangeReason"].startswith("COLUMN_NOT_FOUND")


# ----------------------------------------------------------- values and types

@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT nan(), infinity(), -infinity()", [["NaN", "Infinity", "-Infinity"]]),
    ("SELECT is_nan(nan()), is_infinite(infinity()), is_finite(1e0)", [["true", "true", "true"]]),
    ("SELECT typeof(current_timestamp)", [["timestamp(3) with time zone"]]),
    ("SELECT typeof(123), typeof(3000000000), typeof('cat'), typeof(DATE '2001-08-22')",
     [["integer", "bigint", "varchar(3)", "date"]]),
    ("SELECT typeof(ARRAY[1, 2]), typeof(nan()), typeof(avg(x)) FROM (VALUES 1, 2) AS t(x)",
     [["array(integer)", "double", "double"]]),
    ("SELECT typeof(credit_limit), typeof(customer_name) FROM dim_customers LIMIT 1",
     [["decimal(10,2)", "varchar"]]),
    ("SELECT CAST('HELLO ATHENA' AS JSON), CAST(12345 AS JSON), "
     "CAST(MAP(ARRAY['a', 'b'], ARRAY[1, 2]) AS JSON)",
     [['"HELLO ATHENA"', "12345", '{"a":1,"b":2}']]),
    ("SELECT json_parse('{\"a\": 1}'), typeof(CAST('x' AS JSON))", [['{"a":1}', "json"]]),
    ("SELECT typeof(DECIMAL '1.10'), DECIMAL '1.10' * 3, typeof(DECIMAL '0.0001'), DECIMAL '0.0001'",
     [["decimal(3,2)", "3.30", "decimal(4,4)", "0.0001"]]),
    # Athena parses an untyped decimal literal as DOUBLE (awswrangler reads it as float64).
    ("SELECT typeof(1.2), 1.2, typeof(19.99 * 3)", [["double", "1.2", "double"]]),
    ("SELECT typeof(random(10)), random(10) < 10", [["integer", "true"]]),
])
def test_trino_values_and_type_names(lake: dict, sql: str, expected: list[list[str]]) -> None:
    rows, _ = result(run_query(sql))
    assert rows == expected


def test_untyped_decimal_literal_is_a_double_column(lake: dict) -> None:
    _, info = result(run_query("SELECT 1.2 AS regular, DECIMAL '1.2' AS exact"))
    assert [(c["Type"], c["Precision"], c["Scale"]) for c in info][1] == ("decimal", 2, 1)
    assert info[0]["Type"] == "double"


def test_random_needs_a_positive_bound(lake: dict) -> None:
    execution = run_query("SELECT random(-1)")
    assert execution["Status"]["State"] == "FAILED"
    assert execution["Status"]["StateChangeReason"] == "INVALID_FUNCTION_ARGUMENT: bound must be positive"


# ----------------------------------------------------------- the default database

def test_default_database_always_exists(lake: dict) -> None:
    rows, _ = result(run_query("SELECT 1 AS one", database="default"))
    assert rows == [["1"]]
    databases = boto3.client("glue").get_databases()["DatabaseList"]
    assert "default" in {d["Name"] for d in databases}
    shown = run_query("SHOW DATABASES LIKE 'def*'")
    answer = boto3.client("athena").get_query_results(QueryExecutionId=shown["QueryExecutionId"])
    assert [[d.get("VarCharValue") for d in r["Data"]] for r in answer["ResultSet"]["Rows"]] == [["default"]]


# ----------------------------------------------------------- ALTER TABLE

def _ddl_ok(sql: str) -> None:
    execution = run_query(sql)
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"].get("StateChangeReason")


def test_alter_table_statements_change_the_catalog(lake: dict) -> None:
    glue = boto3.client("glue")
    _ddl_ok("CREATE EXTERNAL TABLE alter_me (region string, amount double) PARTITIONED BY (year string) "
            "STORED AS PARQUET LOCATION 's3://athena-test-lake/gold/sales/'")
    _ddl_ok("ALTER TABLE alter_me ADD PARTITION (year='2023') PARTITION (year='2024')")
    _ddl_ok("ALTER TABLE alter_me SET TBLPROPERTIES ('note'='kept', 'classification'='parquet')")
    _ddl_ok("ALTER TABLE alter_me ADD COLUMNS (extra int COMMENT 'new')")
    _ddl_ok("ALTER TABLE alter_me CHANGE COLUMN extra bonus bigint")
    table = glue.get_table(DatabaseName=DATABASE, Name="alter_me")["Table"]
    assert table["Parameters"]["note"] == "kept"
    assert [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]] == [
        ("region", "string"), ("amount", "double"), ("bonus", "bigint")]
    rows, _ = result(run_query("SELECT year, count(*), max(bonus) FROM alter_me GROUP BY year ORDER BY year"))
    assert rows == [["2023", "3", None], ["2024", "2", None]]

    _ddl_ok("ALTER TABLE alter_me DROP PARTITION (year='2023')")
    rows, _ = result(run_query("SELECT DISTINCT year FROM alter_me"))
    assert rows == [["2024"]]
    _ddl_ok("ALTER TABLE alter_me PARTITION (year='2024') RENAME TO PARTITION (year='2025')")
    rows, _ = result(run_query("SELECT year, count(*) FROM alter_me GROUP BY year"))
    assert rows == [["2025", "2"]]

    _ddl_ok("ALTER TABLE alter_me SET LOCATION 's3://athena-test-lake/elsewhere/'")
    table = glue.get_table(DatabaseName=DATABASE, Name="alter_me")["Table"]
    assert table["StorageDescriptor"]["Location"] == "s3://athena-test-lake/elsewhere/"
    _ddl_ok("ALTER TABLE alter_me REPLACE COLUMNS (region string)")
    table = glue.get_table(DatabaseName=DATABASE, Name="alter_me")["Table"]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["region"]
    _ddl_ok("DROP TABLE alter_me")


def test_alter_table_errors(lake: dict) -> None:
    missing = run_query("ALTER TABLE sales DROP PARTITION (year='1999')")
    assert missing["Status"]["State"] == "FAILED"
    assert "Partition not found" in missing["Status"]["StateChangeReason"]
    _ddl_ok("ALTER TABLE sales DROP IF EXISTS PARTITION (year='1999')")
    unknown = run_query("ALTER TABLE sales ADD PARTITION (month='1')")
    assert unknown["Status"]["State"] == "FAILED"
    assert "partition keys" in unknown["Status"]["StateChangeReason"]


def test_table_properties_come_in_java_hashmap_order() -> None:
    """AWS's SHOW CREATE TABLE lists TBLPROPERTIES as a Java HashMap iterates them."""
    from utils.cloud.athena.show import _java_string_hash, java_hashmap_order

    assert _java_string_hash("hello") == 99162322                    # "hello".hashCode()
    assert _java_string_hash("Aa") == _java_string_hash("BB") == 2112  # Java's famous collision
    assert _java_string_hash("") == 0
    assert _java_string_hash("é") == 233                              # UTF-16 code units
    assert _java_string_hash("😀") == 0xD83D * 31 + 0xDE00             # a surrogate pair: two units
    # awswrangler's create_parquet_table puts these in this order; AWS prints the second.
    put = ["classification", "compressionType", "projection.enabled", "typeOfData"]
    assert java_hashmap_order(put) == ["compressionType", "classification", "projection.enabled",
                                       "typeOfData"]
    # same bucket: insertion order decides
    same_bucket = ["projection.enabled", "classification"]
    assert java_hashmap_order(same_bucket) == same_bucket
    many = [f"k{i}" for i in range(40)]                               # past 12 keys: more buckets
    assert sorted(java_hashmap_order(many)) == sorted(many)


def test_show_create_table_layout(lake: dict) -> None:
    """Hive's layout, the table named as the statement wrote it (awswrangler joins the lines)."""
    shown = run_query("SHOW CREATE TABLE `sales`")
    answer = boto3.client("athena").get_query_results(QueryExecutionId=shown["QueryExecutionId"])
    lines = [r["Data"][0].get("VarCharValue") for r in answer["ResultSet"]["Rows"]]
    assert lines[:8] == [
        "CREATE EXTERNAL TABLE `sales`(", "  `region` string,", "  `amount` double)",
        "PARTITIONED BY ( ", "  `year` string)", "ROW FORMAT SERDE ",
        "  'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' ", "STORED AS INPUTFORMAT "]
    qualified = run_query(f"SHOW CREATE TABLE {DATABASE}.sales")
    answer = boto3.client("athena").get_query_results(QueryExecutionId=qualified["QueryExecutionId"])
    first = answer["ResultSet"]["Rows"][0]["Data"][0]["VarCharValue"]
    assert first == f"CREATE EXTERNAL TABLE `{DATABASE}.sales`("


# ----------------------------------------------------------- bucketed tables

def test_bucket_hash_is_hives() -> None:
    from utils.cloud.athena.buckets import bucket_of, file_bucket, value_hash

    assert value_hash("int", "7") == 7 and value_hash("bigint", "-1") == 0
    assert value_hash("string", "ab") == 31 * 97 + 98 and value_hash("boolean", True) == 1
    assert bucket_of([value_hash("int", "-5")], 10) == (2**31 - 5) % 10
    assert file_bucket("t/x_bucket-00003.csv") == 3 and file_bucket("t/000002_0") == 2
    assert file_bucket("t/part-0.parquet") is None


def test_equality_on_bucket_column_reads_one_bucket(lake: dict) -> None:
    """Rows spread over 4 bucket files by Hive's hash; ``WHERE k = 5`` reads only k's file."""
    from utils.cloud.athena.buckets import bucket_of, value_hash

    s3, glue = boto3.client("s3"), boto3.client("glue")
    files: dict[int, list[str]] = {}
    for k in range(40):
        files.setdefault(bucket_of([value_hash("int", str(k))], 4), []).append(f"{k},v{k}\n")
    for number, lines in files.items():
        s3.put_object(Bucket="athena-test-lake", Key=f"bucketed/data_bucket-{number:05d}.csv",
                      Body="".join(lines).encode())
    glue.create_table(DatabaseName=DATABASE, TableInput={
        "Name": "bucketed", "TableType": "EXTERNAL_TABLE", "Parameters": {"classification": "csv"},
        "StorageDescriptor": {
            "Columns": [{"Name": "k", "Type": "int"}, {"Name": "v", "Type": "string"}],
            "Location": "s3://athena-test-lake/bucketed/", "NumberOfBuckets": 4, "BucketColumns": ["k"],
            "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                          "Parameters": {"field.delim": ","}}}})
    whole = run_query("SELECT count(*) FROM bucketed")
    one = run_query("SELECT v FROM bucketed WHERE k = 5")
    two = run_query("SELECT v FROM bucketed WHERE k IN (5, 6) ORDER BY v")
    assert result(whole)[0] == [["40"]]
    assert result(one)[0] == [["v5"]] and result(two)[0] == [["v5"], ["v6"]]
    scanned = {name: e["Statistics"]["DataScannedInBytes"] for name, e in
               (("whole", whole), ("one", one), ("two", two))}
    own = len("".join(files[bucket_of([5], 4)]))
    assert scanned["one"] == own < scanned["two"] < scanned["whole"]
    # The same layout declared with DDL: CLUSTERED BY ... INTO n BUCKETS.
    _ddl_ok("CREATE EXTERNAL TABLE bucketed_ddl (k int, v string) CLUSTERED BY (k) INTO 4 BUCKETS "
            "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://athena-test-lake/bucketed/'")
    storage = glue.get_table(DatabaseName=DATABASE, Name="bucketed_ddl")["Table"]["StorageDescriptor"]
    assert (storage["BucketColumns"], storage["NumberOfBuckets"]) == (["k"], 4)
    again = run_query("SELECT v FROM bucketed_ddl WHERE k = 5")
    assert result(again)[0] == [["v5"]] and again["Statistics"]["DataScannedInBytes"] == own


# ----------------------------------------------------------- partition projection

def _projected_table(name: str, keys: list[tuple[str, str]], params: dict[str, str]) -> None:
    boto3.client("glue").create_table(DatabaseName=DATABASE, TableInput={
        "Name": name, "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "csv", "projection.enabled": "true", **params},
        "PartitionKeys": [{"Name": k, "Type": t} for k, t in keys],
        "StorageDescriptor": {
            "Columns": [{"Name": "v", "Type": "int"}], "Location": f"s3://athena-test-lake/{name}/",
            "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"}}})


def test_partition_projection_reads_partitions_from_properties(lake: dict) -> None:
    """No partition is registered in Glue: integer/enum/date projections name them."""
    s3 = boto3.client("s3")
    for n, (num, kind, day) in enumerate([("00", "a", "2024-01-01"), ("05", "b", "2024-01-03"),
                                           ("10", "a", "2024-01-05"), ("15", "a", "2024-01-01")]):
        s3.put_object(Bucket="athena-test-lake", Key=f"proj/n={num}/k={kind}/d={day}/f.csv",
                      Body=f"{n}\n".encode())
    _projected_table("proj", [("n", "int"), ("k", "string"), ("d", "date")], {
        "projection.n.type": "integer", "projection.n.range": "0,10", "projection.n.interval": "5",
        "projection.n.digits": "2", "projection.k.type": "enum", "projection.k.values": "a,b",
        "projection.d.type": "date", "projection.d.range": "2024-01-01,2024-01-31",
        "projection.d.format": "yyyy-MM-dd"})
    rows, _ = result(run_query("SELECT v, n, k, CAST(d AS varchar) FROM proj ORDER BY v"))
    assert rows == [["0", "0", "a", "2024-01-01"], ["1", "5", "b", "2024-01-03"],
                    ["2", "10", "a", "2024-01-05"]]  # n=15 is outside the projected range
    filtered = run_query("SELECT v FROM proj WHERE n = 5 AND k = 'b'")
    assert result(filtered)[0] == [["1"]]
    whole = run_query("SELECT v FROM proj")
    assert filtered["Statistics"]["DataScannedInBytes"] < whole["Statistics"]["DataScannedInBytes"]


def test_injected_projection_needs_equality_and_uses_the_template(lake: dict) -> None:
    s3 = boto3.client("s3")
    s3.put_object(Bucket="athena-test-lake", Key="inj/foo/0/f.csv", Body=b"7\n")
    s3.put_object(Bucket="athena-test-lake", Key="inj/bar/1/f.csv", Body=b"8\n")
    _projected_table("inj", [("c1", "string"), ("c2", "string")], {
        "projection.c1.type": "injected", "projection.c2.type": "injected",
        "storage.location.template": "s3://athena-test-lake/inj/${c1}/${c2}"})
    assert result(run_query("SELECT v, c1, c2 FROM inj WHERE c1 = 'foo' AND c2 = '0'"))[0] == [
        ["7", "foo", "0"]]
    refused = run_query("SELECT v FROM inj WHERE c1 = 'foo'")
    assert refused["Status"]["State"] == "FAILED"
    assert refused["Status"]["StateChangeReason"].startswith(
        "CONSTRAINT_VIOLATION: For the injected projected partition column c2")


def test_projected_date_ranges() -> None:
    import datetime as dt

    from utils.cloud.athena.projection import locations

    table = {"PartitionKeys": [{"Name": "h", "Type": "string"}],
             "StorageDescriptor": {"Location": "s3://b/t"},
             "Parameters": {"projection.h.type": "date", "projection.h.format": "yyyy/MM/dd/HH",
                            "projection.h.range": "NOW-2HOURS,NOW", "projection.h.interval": "1"}}
    found = locations(table, {}, now=dt.datetime(2024, 3, 1, 1, 30))
    assert [loc for _, loc in found] == ["s3://b/t/h=2024/02/29/23/", "s3://b/t/h=2024/03/01/00/",
                                         "s3://b/t/h=2024/03/01/01/"]
    table["Parameters"].update({"projection.h.format": "yyyy-MM", "projection.h.range": "2023-11,2024-02"})
    assert [v["h"] for v, _ in locations(table, {})] == ["2023-11", "2023-12", "2024-01", "2024-02"]


# ----------------------------------------------------------- Trino functions DuckDB lacks

@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT format('%.5f', pi()), format('%03d', 8), format('%s%%', 123), "
     "format('%-7s,%7s', 'hello', 'world')",
     [["3.14159", "008", "123%", "hello  ,  world"]]),
    ("SELECT format('%2$s %3$s %1$s', 'a', 'b', 'c'), format('%,.2f', 1234567.89), format('%b', 1 = 1)",
     [["b c a", "1,234,567.89", "true"]]),
    ("SELECT format_number(123456), format_number(1000000), format_number(1234), format_number(-5)",
     [["123K", "1M", "1.23K", "-5"]]),
    ("SELECT parse_data_size('2.3MB'), parse_data_size('1kB'), parse_data_size('0B')",
     [["2411724", "1024", "0"]]),
    ("SELECT human_readable_seconds(96), human_readable_seconds(3762), human_readable_seconds(0)",
     [["1 minute, 36 seconds", "1 hour, 2 minutes, 42 seconds", "0 seconds"]]),
    ("SELECT from_iso8601_date('2020-W10'), from_iso8601_date('2020-123'), from_iso8601_date('2020-05-11')",
     [["2020-03-02", "2020-05-02", "2020-05-11"]]),
])
def test_trino_only_functions(lake: dict, sql: str, expected: list[list[str]]) -> None:
    rows, _ = result(run_query(sql))
    assert rows == expected


def test_trino_function_bad_argument(lake: dict) -> None:
    execution = run_query("SELECT parse_data_size('2.3 parsecs')")
    assert execution["Status"]["State"] == "FAILED"
    assert execution["Status"]["StateChangeReason"] == (
        "INVALID_FUNCTION_ARGUMENT: Invalid data size: '2.3 parsecs'")


# ----------------------------------------------------------- EXPLAIN, SHOW VIEWS

def test_explain_forms(lake: dict) -> None:
    plan_rows, plan_info = result(run_query("EXPLAIN SELECT country, count(*) FROM dim_customers GROUP BY 1"))
    assert plan_info[0]["Name"] == "Query Plan" and len(plan_rows) == 1 and plan_rows[0][0]
    analyzed = run_query("EXPLAIN ANALYZE SELECT count(*) FROM fact_orders")
    assert result(analyzed)[1][0]["Name"] == "Query Plan"
    assert analyzed["Statistics"]["DataScannedInBytes"] > 0
    valid, info = result(run_query("EXPLAIN (TYPE VALIDATE) SELECT customer_id FROM dim_customers"))
    assert (valid, info[0]["Name"], info[0]["Type"]) == ([["true"]], "Valid", "boolean")
    invalid = run_query("EXPLAIN (TYPE VALIDATE) SELECT nosuch FROM dim_customers")
    assert invalid["Status"]["StateChangeReason"].startswith("COLUMN_NOT_FOUND")


def test_show_views(lake: dict) -> None:
    _ddl_ok("CREATE OR REPLACE VIEW shown_view AS SELECT 1 AS x")
    try:
        for sql in ("SHOW VIEWS", f"SHOW VIEWS IN {DATABASE} LIKE 'shown*|other'"):
            shown = run_query(sql)
            answer = boto3.client("athena").get_query_results(QueryExecutionId=shown["QueryExecutionId"])
            names = [r["Data"][0].get("VarCharValue") for r in answer["ResultSet"]["Rows"]]
            assert names == ["shown_view"], sql  # views only: no tables
    finally:
        _ddl_ok("DROP VIEW shown_view")


def test_decimal_literal_in_a_view_keeps_its_type(lake: dict) -> None:
    _ddl_ok("CREATE OR REPLACE VIEW decimal_view AS "
            "SELECT DECIMAL '1.10' AS d, CAST('2.5' AS DECIMAL(4,2)) AS c")
    try:
        rows, _ = result(run_query("SELECT typeof(d), d * 3, typeof(c) FROM decimal_view"))
        assert rows == [["decimal(3,2)", "3.30", "decimal(4,2)"]]
    finally:
        _ddl_ok("DROP VIEW decimal_view")


# ----------------------------------------------------------- exact decimal arithmetic

@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT DECIMAL '2.00' / 3, typeof(DECIMAL '2.00' / 3), DECIMAL '-5' / 2, DECIMAL '1' / DECIMAL '0.3'",
     [["0.67", "decimal(3,2)", "-3", "3.3"]]),
    ("SELECT round(DECIMAL '2.345', 2), typeof(round(DECIMAL '2.345', 2))", [["2.350", "decimal(4,3)"]]),
    ("SELECT credit_limit / 3, typeof(credit_limit / 3) FROM dim_customers WHERE customer_id IN (1, 2) "
     "ORDER BY customer_id", [["333.50", "decimal(10,2)"], ["666.83", "decimal(10,2)"]]),
    ("SELECT avg(credit_limit), typeof(avg(credit_limit)), sum(credit_limit) / count(*) FROM dim_customers",
     [["5500.50", "decimal(10,2)", "5500.50"]]),
    ("SELECT 7 / 2, typeof(7 / 2), 7.0 / 2", [["3", "integer", "3.5"]]),  # integers and doubles: unchanged
])
def test_exact_decimal_arithmetic(lake: dict, sql: str, expected: list[list[str]]) -> None:
    rows, _ = result(run_query(sql))
    assert rows == expected


def test_decimal_division_by_zero(lake: dict) -> None:
    execution = run_query("SELECT credit_limit / 0 FROM dim_customers")
    assert execution["Status"]["State"] == "FAILED"
    assert execution["Status"]["StateChangeReason"].startswith("DIVISION_BY_ZERO")
