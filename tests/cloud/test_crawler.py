"""Glue crawlers really crawl: Parquet folders in S3 become catalog tables and partitions.

The inference is tested as a pure function first; the rest goes over real HTTP
(boto3, and the aws CLI once) against the local cloud.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from utils.cloud.glue import crawler as crawler_model
from utils.cloud.glue.inference import ObjectSchema, glue_type, infer_tables, merge_types

AWS_CLI = str(Path(sys.executable).with_name("aws"))
BUCKET = "crawler-test-lake"

# -- the inference, without a server --------------------------------------------------


def obj(key: str, schema: pa.Schema | None, rows: int = 10, size: int = 1000) -> ObjectSchema:
    return ObjectSchema(key, size, schema, rows)


ORDERS = pa.schema([("orderNumber", pa.int64()), ("orderDate", pa.date32()),
                    ("amount", pa.decimal128(10, 2)), ("status", pa.string())])
CUSTOMERS = pa.schema([("customerNumber", pa.int32()), ("customerName", pa.string())])


def test_glue_types_of_parquet_columns() -> None:
    cases = {
        pa.int64(): "bigint", pa.int32(): "int", pa.int16(): "smallint", pa.int8(): "tinyint",
        pa.float64(): "double", pa.float32(): "float", pa.string(): "string",
        pa.large_string(): "string", pa.bool_(): "boolean", pa.date32(): "date",
        pa.timestamp("us"): "timestamp", pa.timestamp("ms", tz="UTC"): "timestamp",
        pa.decimal128(10, 2): "decimal(10,2)", pa.binary(): "binary",
        pa.list_(pa.int64()): "array<bigint>",
        pa.struct([("a", pa.int32()), ("b", pa.list_(pa.string()))]): "struct<a:int,b:array<string>>",
        pa.map_(pa.string(), pa.float64()): "map<string,double>",
        pa.dictionary(pa.int32(), pa.string()): "string",
    }
    for arrow_type, expected in cases.items():
        assert glue_type(arrow_type) == expected, arrow_type
    assert merge_types("int", "bigint") == "bigint"
    assert merge_types("bigint", "double") == "double"
    assert merge_types("date", "string") == "string"


def test_each_folder_becomes_a_table_with_hive_partitions() -> None:
    sales = pa.schema([("id", pa.int64()), ("year", pa.string())])  # year also in the file
    objects = [
        obj("gold/fact_orders/part-0.parquet", ORDERS, rows=7),
        obj("gold/fact_orders/part-1.parquet", ORDERS, rows=3),
        obj("gold/Dim_Customers/c.parquet", CUSTOMERS),
        obj("gold/sales/year=2003/month=1/a.parquet", sales),
        obj("gold/sales/year=2003/month=2/b.parquet", sales),
        obj("gold/sales/year=2004/month=1/c.parquet", sales),
        obj("gold/_SUCCESS", None),
        obj("gold/fact_orders/_temporary/0/x.parquet", ORDERS),
        obj("gold/notes/readme.txt", None),
        obj("gold/tmp/skip.parquet", CUSTOMERS),
        obj("silver/other/x.parquet", CUSTOMERS),  # outside the target
    ]
    result = infer_tables("s3://lake/gold/", objects, exclusions=["tmp/**"], table_prefix="")
    tables = {t.name: t for t in result.tables}
    assert sorted(tables) == ["dim_customers", "fact_orders", "sales"]

    orders = tables["fact_orders"]
    assert orders.location == "s3://lake/gold/fact_orders/"
    assert orders.columns == [("ordernumber", "bigint"), ("orderdate", "date"),
                              ("amount", "decimal(10,2)"), ("status", "string")]
    assert orders.partition_keys == [] and orders.record_count == 10 and orders.object_count == 2

    sales_t = tables["sales"]
    assert sales_t.partition_keys == ["year", "month"]
    assert sales_t.columns == [("id", "bigint")]  # the folder is the partition column's source
    assert [(p.values, p.location) for p in sales_t.partitions] == [
        (["2003", "1"], "s3://lake/gold/sales/year=2003/month=1/"),
        (["2003", "2"], "s3://lake/gold/sales/year=2003/month=2/"),
        (["2004", "1"], "s3://lake/gold/sales/year=2004/month=1/"),
    ]
    skipped = {s.key: s.reason for s in result.skipped}
    assert "not a Parquet file" in skipped["gold/notes/readme.txt"]
    assert "Exclusions" in skipped["gold/tmp/skip.parquet"]

    table_input = orders.table_input("my-crawler")
    sd = table_input["StorageDescriptor"]
    assert sd["InputFormat"].endswith("MapredParquetInputFormat")
    assert sd["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    assert table_input["Parameters"]["classification"] == "parquet"
    assert table_input["Parameters"]["recordCount"] == "10"
    assert table_input["TableType"] == "EXTERNAL_TABLE"


def test_target_holding_files_is_one_table_named_after_its_folder() -> None:
    result = infer_tables("s3://lake/gold/Fact_Orders", [obj("gold/Fact_Orders/a.parquet", ORDERS)],
                          table_prefix="raw_")
    assert [(t.name, t.location) for t in result.tables] == [("raw_fact_orders",
                                                               "s3://lake/gold/Fact_Orders/")]
    hive_only = infer_tables("s3://lake/t", [obj("t/dt=2024-01-01/a.parquet", CUSTOMERS),
                                             obj("t/dt=2024-01-02/b.parquet", CUSTOMERS)])
    assert [(t.name, t.partition_keys, len(t.partitions)) for t in hive_only.tables] == [("t", ["dt"], 2)]
    plain = infer_tables("s3://lake/t", [obj("t/x/2024/a.parquet", CUSTOMERS)])
    assert plain.tables[0].partition_keys == ["partition_0"]
    assert plain.tables[0].partitions[0].values == ["2024"]


# -- crawls over HTTP -----------------------------------------------------------------


@pytest.fixture(scope="module")
def glue(local_cloud: str) -> Any:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    return boto3.client("glue")


def put_parquet(key: str, table: pa.Table) -> None:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=buf.getvalue())


def make_crawler(glue: Any, path: str, update: str = "UPDATE_IN_DATABASE", delete: str = "LOG",
                 recrawl: str = "CRAWL_EVERYTHING", prefix: str = "") -> tuple[str, str]:
    """A crawler over ``s3://BUCKET/<path>`` writing to its own database: (crawler, database)."""
    name = f"test-crawler-{uuid.uuid4().hex[:8]}"
    database = f"db_{name.replace('-', '_')}"
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_crawler(Name=name, Role="arn:aws:iam::123456789012:role/glue", DatabaseName=database,
                        Targets={"S3Targets": [{"Path": f"s3://{BUCKET}/{path}"}]}, TablePrefix=prefix,
                        SchemaChangePolicy={"UpdateBehavior": update, "DeleteBehavior": delete},
                        RecrawlPolicy={"RecrawlBehavior": recrawl})
    return name, database


def crawl(glue: Any, name: str, timeout: float = 30) -> dict[str, Any]:
    """Start a crawl and wait for READY; return GetCrawler's answer."""
    glue.start_crawler(Name=name)
    deadline = time.monotonic() + timeout
    while True:
        crawler = glue.get_crawler(Name=name)["Crawler"]
        if crawler["State"] == "READY":
            return crawler
        assert time.monotonic() < deadline, "crawler did not finish"
        time.sleep(0.05)


def columns(glue: Any, database: str, table: str) -> list[tuple[str, str]]:
    t = glue.get_table(DatabaseName=database, Name=table)["Table"]
    return [(c["Name"], c["Type"]) for c in t["StorageDescriptor"]["Columns"]]


def metrics(glue: Any, name: str) -> dict[str, Any]:
    return glue.get_crawler_metrics(CrawlerNameList=[name])["CrawlerMetricsList"][0]


def test_crawl_creates_typed_tables_and_partitions(glue: Any) -> None:
    root = f"lake-{uuid.uuid4().hex[:6]}/gold"
    put_parquet(f"{root}/fact_orders/part-0.parquet", pa.table({
        "orderNumber": pa.array([10100, 10101], pa.int64()), "quantity": pa.array([3, 4], pa.int32()),
        "priceEach": pa.array([Decimal("1.50"), Decimal("2.25")], pa.decimal128(10, 2)),
        "orderDate": pa.array([19000, 19001], pa.date32()), "shipped": [True, False],
        "ratio": [0.5, 1.5], "tags": [["a"], []]}))
    for year, month in [("2003", "01"), ("2003", "02"), ("2004", "01")]:
        put_parquet(f"{root}/sales/year={year}/month={month}/data.parquet",
                    pa.table({"country": ["USA"], "amount": [1.0]}))
    name, database = make_crawler(glue, root, prefix="")
    crawler = crawl(glue, name)
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED"
    assert crawler["LastCrawl"]["LogGroup"] == "/aws-glue/crawlers"

    tables = {t["Name"]: t for t in glue.get_tables(DatabaseName=database)["TableList"]}
    assert sorted(tables) == ["fact_orders", "sales"]
    assert columns(glue, database, "fact_orders") == [
        ("ordernumber", "bigint"), ("quantity", "int"), ("priceeach", "decimal(10,2)"),
        ("orderdate", "date"), ("shipped", "boolean"), ("ratio", "double"), ("tags", "array<string>")]
    fact = tables["fact_orders"]
    assert fact["StorageDescriptor"]["Location"] == f"s3://{BUCKET}/{root}/fact_orders/"
    assert fact["Parameters"]["classification"] == "parquet"
    assert fact["Parameters"]["recordCount"] == "2"

    sales = tables["sales"]
    assert [k["Name"] for k in sales["PartitionKeys"]] == ["year", "month"]
    parts = glue.get_partitions(DatabaseName=database, TableName="sales")["Partitions"]
    assert sorted((p["Values"], p["StorageDescriptor"]["Location"]) for p in parts) == [
        (["2003", "01"], f"s3://{BUCKET}/{root}/sales/year=2003/month=01/"),
        (["2003", "02"], f"s3://{BUCKET}/{root}/sales/year=2003/month=02/"),
        (["2004", "01"], f"s3://{BUCKET}/{root}/sales/year=2004/month=01/")]

    m = metrics(glue, name)
    assert (m["TablesCreated"], m["TablesUpdated"], m["TablesDeleted"]) == (2, 0, 0)
    assert m["LastRuntimeSeconds"] > 0


def test_added_column_updates_or_only_logs(glue: Any) -> None:
    root = f"lake-{uuid.uuid4().hex[:6]}/gold"
    put_parquet(f"{root}/dim_products/p.parquet", pa.table({"productCode": ["S10_1678"]}))
    updating, db_u = make_crawler(glue, root, update="UPDATE_IN_DATABASE")
    logging_, db_l = make_crawler(glue, root, update="LOG")
    crawl(glue, updating)
    crawl(glue, logging_)

    put_parquet(f"{root}/dim_products/p.parquet",
                pa.table({"productCode": ["S10_1678"], "productLine": ["Motorcycles"]}))
    crawl(glue, updating)
    crawl(glue, logging_)

    assert columns(glue, db_u, "dim_products") == [("productcode", "string"), ("productline", "string")]
    assert metrics(glue, updating)["TablesUpdated"] == 1
    assert len(glue.get_table_versions(DatabaseName=db_u, TableName="dim_products")["TableVersions"]) == 2

    assert columns(glue, db_l, "dim_products") == [("productcode", "string")]
    assert metrics(glue, logging_)["TablesUpdated"] == 0
    events = boto3.client("logs").get_log_events(logGroupName="/aws-glue/crawlers",
                                                 logStreamName=logging_, startFromHead=True)["events"]
    text = "\n".join(e["message"] for e in events)
    assert "added columns ['productline']" in text and "UpdateBehavior is LOG" in text
    assert "Crawler has finished running and is in state READY" in text


def test_deleted_folder_per_delete_behavior(glue: Any) -> None:
    root = f"lake-{uuid.uuid4().hex[:6]}/gold"
    for table in ("keep", "gone"):
        put_parquet(f"{root}/{table}/x.parquet", pa.table({"a": [1]}))
    deleting, db_d = make_crawler(glue, root, delete="DELETE_FROM_DATABASE")
    deprecating, db_p = make_crawler(glue, root, delete="DEPRECATE_IN_DATABASE")
    crawl(glue, deleting)
    crawl(glue, deprecating)
    boto3.client("s3").delete_object(Bucket=BUCKET, Key=f"{root}/gone/x.parquet")
    crawl(glue, deleting)
    crawl(glue, deprecating)
    assert [t["Name"] for t in glue.get_tables(DatabaseName=db_d)["TableList"]] == ["keep"]
    assert metrics(glue, deleting)["TablesDeleted"] == 1
    gone = glue.get_table(DatabaseName=db_p, Name="gone")["Table"]
    assert gone["Parameters"]["DEPRECATED_BY_CRAWLER"] == "1"


def test_new_folders_only_keeps_schemas_and_adds_tables_and_partitions(glue: Any) -> None:
    root = f"lake-{uuid.uuid4().hex[:6]}/gold"
    put_parquet(f"{root}/orders/dt=1/x.parquet", pa.table({"a": [1]}))
    name, database = make_crawler(glue, root, update="LOG", delete="LOG",
                                  recrawl="CRAWL_NEW_FOLDERS_ONLY")
    crawl(glue, name)
    put_parquet(f"{root}/orders/dt=2/x.parquet", pa.table({"a": [1], "b": [2]}))
    put_parquet(f"{root}/customers/x.parquet", pa.table({"c": ["x"]}))
    crawl(glue, name)
    assert columns(glue, database, "orders") == [("a", "bigint")]
    assert columns(glue, database, "customers") == [("c", "string")]
    parts = glue.get_partitions(DatabaseName=database, TableName="orders")["Partitions"]
    assert sorted(p["Values"][0] for p in parts) == ["1", "2"]
    m = metrics(glue, name)
    assert (m["TablesCreated"], m["TablesUpdated"]) == (1, 0)


def test_states_running_stopping_ready(glue: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crawler_model, "STOPPING_SECONDS", 0.6)
    root = f"lake-{uuid.uuid4().hex[:6]}/gold"
    put_parquet(f"{root}/t/x.parquet", pa.table({"a": [1]}))
    name, _ = make_crawler(glue, root)
    assert glue.get_crawler(Name=name)["Crawler"]["State"] == "READY"
    assert "LastCrawl" not in glue.get_crawler(Name=name)["Crawler"]
    glue.start_crawler(Name=name)
    with pytest.raises(glue.exceptions.CrawlerRunningException):
        glue.start_crawler(Name=name)
    seen = []
    deadline = time.monotonic() + 20
    while not seen or seen[-1] != "READY":
        state = glue.get_crawler(Name=name)["Crawler"]["State"]
        if not seen or seen[-1] != state:
            seen.append(state)
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert seen[-2:] == ["STOPPING", "READY"] and seen[0] in ("RUNNING", "STOPPING")
    crawls = glue.list_crawls(CrawlerName=name)["Crawls"]
    assert [c["State"] for c in crawls] == ["COMPLETED"]


def test_missing_bucket_fails_the_crawl(glue: Any) -> None:
    name = f"test-crawler-{uuid.uuid4().hex[:8]}"
    glue.create_crawler(Name=name, Role="r", DatabaseName="anything",
                        Targets={"S3Targets": [{"Path": "s3://no-such-bucket-here/gold"}]})
    crawler = crawl(glue, name)
    assert crawler["LastCrawl"]["Status"] == "FAILED"
    assert "no-such-bucket-here does not exist" in crawler["LastCrawl"]["ErrorMessage"]


def test_unknown_crawler_is_entity_not_found(glue: Any) -> None:
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.start_crawler(Name="no-such-crawler")


def aws(*args: str) -> str:
    done = subprocess.run([AWS_CLI, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "AWS_PAGER": ""})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_aws_cli_crawl(glue: Any) -> None:
    root = f"lake-{uuid.uuid4().hex[:6]}/gold"
    put_parquet(f"{root}/dim_locations/x.parquet", pa.table({"country": ["France"], "city": ["Nantes"]}))
    name, database = make_crawler(glue, root)
    aws("glue", "start-crawler", "--name", name)
    deadline = time.monotonic() + 30
    while aws("glue", "get-crawler", "--name", name, "--output", "text",
              "--query", "Crawler.State").strip() != "READY":
        assert time.monotonic() < deadline
    tables = json.loads(aws("glue", "get-tables", "--database-name", database))["TableList"]
    assert [(t["Name"], [c["Name"] for c in t["StorageDescriptor"]["Columns"]]) for t in tables] == [
        ("dim_locations", ["country", "city"])]
    status = aws("glue", "get-crawler", "--name", name, "--output", "text",
                 "--query", "Crawler.LastCrawl.Status").strip()
    assert status == "SUCCEEDED"
