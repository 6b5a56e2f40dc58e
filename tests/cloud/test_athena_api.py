"""The Athena API through boto3: paging, failures, lifecycle, result files, DDL, catalog calls."""

from __future__ import annotations

import csv
import io
import time
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.cloud.athena_helpers import (
    BUCKET,
    DATABASE,
    FACT_ROWS,
    RESULTS,
    ensure_lake,
    refusal,
    run_query,
    wait,
)
from utils.cloud.athena.results import read_metadata


@pytest.fixture(scope="module")
def lake(local_cloud: str) -> dict:
    """Small Parquet tables in the local S3, registered in Glue (shared by every Athena test)."""
    return ensure_lake()


def s3_text(uri: str) -> str:
    bucket, key = uri[5:].split("/", 1)
    return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()


def s3_bytes(uri: str) -> bytes:
    bucket, key = uri[5:].split("/", 1)
    return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


# ------------------------------------------------------------------ results


def test_get_query_results_pages_over_1000_rows(lake: dict) -> None:
    execution = run_query("SELECT order_line_id, status FROM fact_orders ORDER BY order_line_id")
    assert execution["Status"]["State"] == "SUCCEEDED"
    paginator = boto3.client("athena").get_paginator("get_query_results")
    pages = list(paginator.paginate(QueryExecutionId=execution["QueryExecutionId"]))
    assert len(pages) == 3  # 1 header + 2,500 rows at 1,000 rows a page
    rows = [r for page in pages for r in page["ResultSet"]["Rows"]]
    assert [d["VarCharValue"] for d in rows[0]["Data"]] == ["order_line_id", "status"]
    ids = [int(r["Data"][0]["VarCharValue"]) for r in rows[1:]]
    assert ids == lake["orders"]["order_line_id"].to_pylist()
    statuses = lake["orders"]["status"].to_pylist()
    assert [r["Data"][1].get("VarCharValue") for r in rows[1:]] == statuses  # NULL: no VarCharValue
    info = pages[0]["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert [(c["Name"], c["Type"], c["Precision"]) for c in info] == [
        ("order_line_id", "bigint", 19), ("status", "varchar", 2147483647)]


def test_max_results_is_bounded(lake: dict) -> None:
    execution = run_query("SELECT 1 AS x")
    with pytest.raises(ClientError, match="1000"):
        boto3.client("athena").get_query_results(QueryExecutionId=execution["QueryExecutionId"],
                                                 MaxResults=1001)


def test_csv_and_metadata_files_as_athena_writes_them(lake: dict) -> None:
    execution = run_query("SELECT customer_id, customer_name, credit_limit, CAST(NULL AS varchar) AS empty, "
                          "'say \"hi\"' AS quoted, 1e7 AS big, 0.5e0 AS half, "
                          "TIMESTAMP '2024-01-31 12:00:00' AS ts FROM dim_customers "
                          "WHERE customer_id = 1")
    location = execution["ResultConfiguration"]["OutputLocation"]
    assert location == f"{RESULTS}{execution['QueryExecutionId']}.csv"
    text = s3_text(location)
    assert text == ('"customer_id","customer_name","credit_limit","empty","quoted","big","half","ts"\n'
                    '"1","Customer 1","1000.50",,"say ""hi""","1.0E7","0.5","2024-01-31 12:00:00.000"\n')
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][4] == 'say "hi"'
    columns = read_metadata(s3_bytes(location + ".metadata"))
    assert [(c["Name"], c["Type"]) for c in columns] == [
        ("customer_id", "integer"), ("customer_name", "varchar"), ("credit_limit", "decimal"),
        ("empty", "varchar"), ("quoted", "varchar"), ("big", "double"), ("half", "double"),
        ("ts", "timestamp")]
    assert columns[2]["Precision"] == 10 and columns[2]["Scale"] == 2


def test_statistics_are_measured(lake: dict) -> None:
    one_column = run_query("SELECT SUM(quantity) AS q FROM fact_orders")["Statistics"]
    all_columns = run_query("SELECT * FROM fact_orders")["Statistics"]
    assert 0 < one_column["DataScannedInBytes"] < all_columns["DataScannedInBytes"]
    for key in ("EngineExecutionTimeInMillis", "TotalExecutionTimeInMillis", "QueryQueueTimeInMillis"):
        assert key in one_column
    assert one_column["TotalExecutionTimeInMillis"] >= one_column["EngineExecutionTimeInMillis"]


def test_partition_filter_scans_less(lake: dict) -> None:
    everything = run_query("SELECT SUM(amount) AS s FROM sales")
    one_year = run_query("SELECT SUM(amount) AS s FROM sales WHERE year = '2024'")
    assert 0 < one_year["Statistics"]["DataScannedInBytes"] < everything["Statistics"]["DataScannedInBytes"]
    rows = boto3.client("athena").get_query_results(QueryExecutionId=one_year["QueryExecutionId"])
    total = float(rows["ResultSet"]["Rows"][1]["Data"][0]["VarCharValue"])
    assert total == pytest.approx(sum(lake["sales"]["2024"]["amount"].to_pylist()))


# ----------------------------------------------------------------- failures


@pytest.mark.parametrize(("sql", "reason"), [
    ("SELECT * FROM no_such_table",
     f"TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.{DATABASE}.no_such_table' does not exist"),
    ("SELECT * FROM no_such_db.t", "SCHEMA_NOT_FOUND: line 1:15: Schema 'no_such_db' does not exist"),
    ("SELECT customer_id,\n       no_col FROM dim_customers",
     "COLUMN_NOT_FOUND: line 2:8: Column 'no_col' cannot be resolved"),
    ("SELECT country, customer_name FROM dim_customers GROUP BY country",
     "EXPRESSION_NOT_AGGREGATE: line 1:17: 'customer_name' must be an aggregate expression or appear in "
     "GROUP BY clause"),
    ("SELECT nosuchfunc(country) FROM dim_customers",
     "FUNCTION_NOT_FOUND: line 1:8: Function 'nosuchfunc' not registered"),
])
def test_failures_have_athena_reasons(lake: dict, sql: str, reason: str) -> None:
    execution = run_query(sql)
    assert execution["Status"]["State"] == "FAILED"
    assert execution["Status"]["StateChangeReason"].startswith(reason)
    assert execution["Status"]["AthenaError"]["ErrorCategory"] == 2
    with pytest.raises(ClientError, match="FAILED"):
        boto3.client("athena").get_query_results(QueryExecutionId=execution["QueryExecutionId"])


@pytest.mark.parametrize(("sql", "message"), [
    ("SELECT 1 +", "line 1:10: "),
    ("SELEC 1", "line 1:1: mismatched input 'SELEC'"),
])
def test_syntax_errors_are_refused_at_start(lake: dict, sql: str, message: str) -> None:
    assert refusal(sql).startswith(message)


def test_unknown_context_database_fails(lake: dict) -> None:
    execution = run_query("SELECT * FROM dim_customers", database="nope_db")
    assert execution["Status"]["StateChangeReason"] == \
        "SCHEMA_NOT_FOUND: line 1:15: Schema 'nope_db' does not exist"


def test_output_location_is_required(lake: dict) -> None:
    athena = boto3.client("athena")
    with pytest.raises(ClientError, match="No output location provided"):
        athena.start_query_execution(QueryString="SELECT 1", WorkGroup="primary")


def test_missing_output_bucket_fails_the_query(lake: dict) -> None:
    execution = run_query("SELECT 1 AS x", output="s3://no-such-bucket-for-results/x/")
    assert execution["Status"]["State"] == "FAILED"
    assert "no-such-bucket-for-results" in execution["Status"]["StateChangeReason"]


# ---------------------------------------------------------------- lifecycle


def test_history_batch_get_and_stop(lake: dict) -> None:
    athena = boto3.client("athena")
    first = run_query("SELECT 1 AS a")["QueryExecutionId"]
    second = run_query("SELECT 2 AS b")["QueryExecutionId"]
    ids = athena.list_query_executions(WorkGroup="primary", MaxResults=50)["QueryExecutionIds"]
    assert ids[:2] == [second, first]  # newest first
    batch = athena.batch_get_query_execution(QueryExecutionIds=[first, "not-an-id"])
    assert [e["QueryExecutionId"] for e in batch["QueryExecutions"]] == [first]
    assert batch["UnprocessedQueryExecutionIds"][0]["QueryExecutionId"] == "not-an-id"
    athena.stop_query_execution(QueryExecutionId=first)  # already finished: stays SUCCEEDED
    assert athena.get_query_execution(QueryExecutionId=first)["QueryExecution"]["Status"]["State"] == \
        "SUCCEEDED"


def test_stop_a_running_query(lake: dict) -> None:
    athena = boto3.client("athena")
    # A triple self-join: billions of row combinations, streamed (slow, little memory).
    query_id = athena.start_query_execution(
        QueryString="SELECT COUNT(*) AS n FROM fact_orders a CROSS JOIN fact_orders b "
                    "CROSS JOIN fact_orders c "
                    "WHERE (a.order_line_id * b.order_line_id + c.order_line_id) % 7 = 3",
        QueryExecutionContext={"Database": DATABASE},
        ResultConfiguration={"OutputLocation": RESULTS})["QueryExecutionId"]
    time.sleep(0.3)
    # BatchGetQueryExecution answers at once (GetQueryExecution would wait a little for the end).
    running = athena.batch_get_query_execution(QueryExecutionIds=[query_id])["QueryExecutions"][0]
    assert running["Status"]["State"] == "RUNNING"
    athena.stop_query_execution(QueryExecutionId=query_id)
    execution = wait(query_id)
    assert execution["Status"]["State"] == "CANCELLED"
    assert execution["Status"]["StateChangeReason"] == "Query cancelled by user"


def test_client_request_token_is_idempotent(lake: dict) -> None:
    athena = boto3.client("athena")
    token = uuid.uuid4().hex * 2
    args = {"QueryString": "SELECT 1 AS x", "ClientRequestToken": token,
            "ResultConfiguration": {"OutputLocation": RESULTS}}
    assert athena.start_query_execution(**args)["QueryExecutionId"] == \
        athena.start_query_execution(**args)["QueryExecutionId"]


def test_execution_parameters(lake: dict) -> None:
    athena = boto3.client("athena")
    query_id = athena.start_query_execution(
        QueryString="SELECT customer_name FROM dim_customers WHERE customer_id = ? AND country = ?",
        ExecutionParameters=["3", "'France'"], QueryExecutionContext={"Database": DATABASE},
        ResultConfiguration={"OutputLocation": RESULTS})["QueryExecutionId"]
    assert wait(query_id)["Status"]["State"] == "SUCCEEDED"
    rows = athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"]
    assert [r["Data"][0]["VarCharValue"] for r in rows] == ["customer_name", "Customer 3"]


def test_runtime_statistics(lake: dict) -> None:
    execution = run_query("SELECT COUNT(*) AS n FROM fact_orders")
    stats = boto3.client("athena").get_query_runtime_statistics(
        QueryExecutionId=execution["QueryExecutionId"])["QueryRuntimeStatistics"]
    assert stats["Rows"]["InputRows"] == FACT_ROWS
    assert stats["Rows"]["OutputRows"] == 1


# ---------------------------------------------------------------------- DDL


def test_show_and_describe(lake: dict) -> None:
    athena = boto3.client("athena")
    execution = run_query("SHOW TABLES")
    assert execution["StatementType"] == "UTILITY"
    assert execution["ResultConfiguration"]["OutputLocation"].endswith(".txt")
    rows = athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])["ResultSet"]["Rows"]
    names = [r["Data"][0]["VarCharValue"] for r in rows]
    assert {"dim_customers", "fact_orders", "sales"} <= set(names)
    assert s3_text(execution["ResultConfiguration"]["OutputLocation"]).splitlines() == names
    databases = run_query("SHOW DATABASES")
    rows = athena.get_query_results(QueryExecutionId=databases["QueryExecutionId"])["ResultSet"]["Rows"]
    assert DATABASE in [r["Data"][0]["VarCharValue"] for r in rows]
    described = run_query(f"DESCRIBE {DATABASE}.dim_customers")
    rows = athena.get_query_results(QueryExecutionId=described["QueryExecutionId"])["ResultSet"]["Rows"]
    pairs = [(r["Data"][0]["VarCharValue"].strip(), r["Data"][1]["VarCharValue"].strip()) for r in rows]
    assert pairs == [
        ("customer_id", "int"), ("customer_name", "string"), ("country", "string"),
        ("credit_limit", "decimal(10,2)"), ("active", "boolean")]


def test_ctas_registers_glue_table_and_drop_keeps_data(lake: dict) -> None:
    location = f"s3://{BUCKET}/gold/country_revenue_{uuid.uuid4().hex[:8]}"
    execution = run_query(f"""
        CREATE TABLE country_revenue WITH (external_location = '{location}', format = 'PARQUET') AS
        SELECT c.country, SUM(o.quantity * o.price) AS revenue, COUNT(*) AS order_lines
        FROM fact_orders o JOIN dim_customers c ON o.customer_id = c.customer_id GROUP BY c.country""")
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    assert (execution["StatementType"], execution["SubstatementType"]) == ("DDL", "CREATE_TABLE_AS_SELECT")
    manifest = execution["Statistics"]["DataManifestLocation"]
    assert manifest == f"{RESULTS}{execution['QueryExecutionId']}-manifest.csv"
    files = s3_text(manifest).split()
    assert files and all(f.startswith(location + "/") for f in files)
    table = boto3.client("glue").get_table(DatabaseName=DATABASE, Name="country_revenue")["Table"]
    storage = table["StorageDescriptor"]
    assert [(c["Name"], c["Type"]) for c in storage["Columns"]] == [
        ("country", "string"), ("revenue", "double"), ("order_lines", "bigint")]
    assert storage["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    assert storage["Location"] == location
    again = run_query("SELECT SUM(order_lines) AS n FROM country_revenue")
    rows = boto3.client("athena").get_query_results(QueryExecutionId=again["QueryExecutionId"])
    assert rows["ResultSet"]["Rows"][1]["Data"][0]["VarCharValue"] == str(FACT_ROWS)
    # The location is not empty any more: Athena refuses to write there again.
    refused = run_query(f"CREATE TABLE other_t WITH (external_location = '{location}') AS SELECT 1 AS x")
    assert refused["Status"]["StateChangeReason"].startswith("HIVE_PATH_ALREADY_EXISTS")
    dropped = run_query("DROP TABLE country_revenue")
    assert dropped["Status"]["State"] == "SUCCEEDED"
    assert dropped["ResultConfiguration"]["OutputLocation"].endswith(".txt")
    with pytest.raises(ClientError):
        boto3.client("glue").get_table(DatabaseName=DATABASE, Name="country_revenue")
    # DROP TABLE leaves the data, as Athena does for external tables.
    assert s3_bytes(files[0]).startswith(b"PAR1")
    assert run_query("DROP TABLE IF EXISTS country_revenue")["Status"]["State"] == "SUCCEEDED"
    missing = run_query("DROP TABLE country_revenue")
    assert missing["Status"]["StateChangeReason"].startswith("TABLE_NOT_FOUND")


def test_partitioned_ctas_and_msck_repair(lake: dict) -> None:
    suffix = uuid.uuid4().hex[:8]
    location = f"s3://{BUCKET}/gold/sales_copy_{suffix}"
    created = run_query(f"""CREATE TABLE sales_copy_{suffix}
        WITH (external_location = '{location}', partitioned_by = ARRAY['year']) AS
        SELECT region, amount, year FROM sales""")
    assert created["Status"]["State"] == "SUCCEEDED", created["Status"]
    glue = boto3.client("glue")
    partitions = glue.get_partitions(DatabaseName=DATABASE, TableName=f"sales_copy_{suffix}")["Partitions"]
    assert sorted(p["Values"][0] for p in partitions) == sorted(lake["sales"])
    # Re-create the table by hand and let MSCK REPAIR TABLE find the partitions.
    run_query(f"DROP TABLE sales_copy_{suffix}")
    ddl = run_query(f"""CREATE EXTERNAL TABLE sales_copy_{suffix} (region string, amount double)
        PARTITIONED BY (year string) STORED AS PARQUET LOCATION '{location}/'""")
    assert ddl["Status"]["State"] == "SUCCEEDED", ddl["Status"]
    repaired = run_query(f"MSCK REPAIR TABLE sales_copy_{suffix}")
    assert repaired["Status"]["State"] == "SUCCEEDED", repaired["Status"]
    counted = run_query(f"SELECT year, COUNT(*) AS n FROM sales_copy_{suffix} GROUP BY year ORDER BY year")
    rows = boto3.client("athena").get_query_results(QueryExecutionId=counted["QueryExecutionId"])
    got = [[d["VarCharValue"] for d in r["Data"]] for r in rows["ResultSet"]["Rows"][1:]]
    assert got == [[year, str(t.num_rows)] for year, t in sorted(lake["sales"].items())]


def test_csv_external_table(lake: dict) -> None:
    boto3.client("s3").put_object(Bucket=BUCKET, Key="raw/offices/offices.csv",
                                  Body=b"code,city,staff\n1,Paris,12\n2,Boston,\n3,Tokyo,7\n")
    created = run_query(f"""CREATE EXTERNAL TABLE offices (code int, city string, staff int)
        ROW FORMAT DELIMITED FIELDS TERMINATED BY ','
        LOCATION 's3://{BUCKET}/raw/offices/' TBLPROPERTIES ('skip.header.line.count'='1')""")
    assert created["Status"]["State"] == "SUCCEEDED", created["Status"]
    result = run_query("SELECT city, staff FROM offices ORDER BY code")
    rows = boto3.client("athena").get_query_results(QueryExecutionId=result["QueryExecutionId"])
    assert [[d.get("VarCharValue") for d in r["Data"]] for r in rows["ResultSet"]["Rows"]] == [
        ["city", "staff"], ["Paris", "12"], ["Boston", None], ["Tokyo", "7"]]


def test_views(lake: dict) -> None:
    created = run_query("CREATE OR REPLACE VIEW french_customers AS "
                        "SELECT customer_id, customer_name FROM dim_customers WHERE country = 'France'")
    assert created["Status"]["State"] == "SUCCEEDED", created["Status"]
    result = run_query("SELECT COUNT(*) AS n FROM french_customers")
    rows = boto3.client("athena").get_query_results(QueryExecutionId=result["QueryExecutionId"])
    french = lake["customers"].to_pandas().query("country == 'France'")
    assert rows["ResultSet"]["Rows"][1]["Data"][0]["VarCharValue"] == str(len(french))
    assert run_query("DROP VIEW french_customers")["Status"]["State"] == "SUCCEEDED"


def test_database_ddl(lake: dict) -> None:
    assert run_query("CREATE DATABASE IF NOT EXISTS scratch_db")["Status"]["State"] == "SUCCEEDED"
    assert "scratch_db" in [d["Name"] for d in boto3.client("glue").get_databases()["DatabaseList"]]
    assert run_query("DROP DATABASE scratch_db")["Status"]["State"] == "SUCCEEDED"


# ------------------------------------------------------- workgroups/catalog


def test_workgroups(lake: dict) -> None:
    athena = boto3.client("athena")
    primary = athena.get_work_group(WorkGroup="primary")["WorkGroup"]
    assert primary["Configuration"]["EnforceWorkGroupConfiguration"] is False
    name = f"wg-{uuid.uuid4().hex[:6]}"
    athena.create_work_group(Name=name, Configuration={
        "ResultConfiguration": {"OutputLocation": f"{RESULTS}{name}/"}})
    assert name in [w["Name"] for w in athena.list_work_groups()["WorkGroups"]]
    query_id = athena.start_query_execution(QueryString="SELECT 1 AS x", WorkGroup=name)["QueryExecutionId"]
    execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
    assert execution["ResultConfiguration"]["OutputLocation"] == f"{RESULTS}{name}/{query_id}.csv"
    assert athena.list_query_executions(WorkGroup=name)["QueryExecutionIds"] == [query_id]


def test_catalog_operations(lake: dict) -> None:
    athena = boto3.client("athena")
    assert athena.list_data_catalogs()["DataCatalogsSummary"][0]["CatalogName"] == "AwsDataCatalog"
    databases = athena.list_databases(CatalogName="AwsDataCatalog")["DatabaseList"]
    assert DATABASE in [d["Name"] for d in databases]
    meta = athena.get_table_metadata(CatalogName="AwsDataCatalog", DatabaseName=DATABASE,
                                     TableName="sales")["TableMetadata"]
    assert [c["Name"] for c in meta["PartitionKeys"]] == ["year"]
    listed = athena.list_table_metadata(CatalogName="AwsDataCatalog", DatabaseName=DATABASE)
    assert "fact_orders" in [t["Name"] for t in listed["TableMetadataList"]]
    with pytest.raises(ClientError, match="MetadataException"):
        athena.get_database(CatalogName="AwsDataCatalog", DatabaseName="no_such_db")


def test_unknown_operation_is_a_clear_error(lake: dict) -> None:
    with pytest.raises(ClientError, match="does not implement ListCapacityReservations"):
        boto3.client("athena").list_capacity_reservations()


def test_results_distinguish_null_from_empty(lake: dict) -> None:
    execution = run_query("SELECT customer_id, CAST(NULL AS varchar) AS nothing, '' AS blank "
                          "FROM dim_customers ORDER BY customer_id LIMIT 2")
    rows = boto3.client("athena").get_query_results(
        QueryExecutionId=execution["QueryExecutionId"])["ResultSet"]["Rows"]
    assert rows[1]["Data"] == [{"VarCharValue": "1"}, {}, {"VarCharValue": ""}]
    assert s3_text(execution["ResultConfiguration"]["OutputLocation"]).splitlines()[1] == '"1",,""'


def test_cached_data_follows_object_changes(lake: dict) -> None:
    import pyarrow as pa

    from tests.cloud.athena_helpers import put_parquet, register_table

    key = "gold/changing/data.parquet"
    first = pa.table({"n": pa.array([1, 2, 3], pa.int64())})
    put_parquet(BUCKET, key, first)
    register_table(DATABASE, "changing", f"s3://{BUCKET}/gold/changing/", first.schema)
    athena = boto3.client("athena")

    def total() -> str:
        execution = run_query("SELECT SUM(n) AS s FROM changing")
        rows = athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])["ResultSet"]["Rows"]
        return rows[1]["Data"][0]["VarCharValue"]

    assert total() == "6"
    assert total() == "6"  # served from the cache
    put_parquet(BUCKET, key, pa.table({"n": pa.array([10, 20], pa.int64())}))  # new ETag
    assert total() == "30"
    put_parquet(BUCKET, "gold/changing/more.parquet", pa.table({"n": pa.array([5], pa.int64())}))
    assert total() == "35"
