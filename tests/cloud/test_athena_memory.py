"""The local cloud's memory stays under its cap under Athena work; stops stop; over-budget queries fail.

The two end-to-end tests run the cloud in a process of its own with a 768 MiB cap
(``DELAB_CLOUD_MEMORY_MIB=768``) and sample its resident memory every 20 ms (and
read the kernel's VmHWM), so that the cap is what is tested, not pytest's own
memory. The cap is small enough to matter: before the fix, the stopped cross join
below reached 1.5 GiB in its first 5 seconds (and 9 GiB after them); now it stays
near 0.3 GiB and the over-budget query near 0.55 GiB. The other tests use the
in-process cloud.
"""

from __future__ import annotations

import io
import pickle
import time
import uuid
from collections.abc import Iterator

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.cloud.athena_helpers import BUCKET, DATABASE, RESULTS, CloudProcess, ensure_lake, run_query, wait
from utils.cloud.athena import memory, results

CAP_MIB = 768
CROSS_JOIN = "SELECT a.a * rand(), b.a * rand() FROM many_rows a CROSS JOIN many_rows b"
MEMORY_DB = "memory_db"
MEMORY_BUCKET = "athena-memory-lake"
MEMORY_RESULTS = f"s3://{MEMORY_BUCKET}/results/"


@pytest.fixture(scope="module")
def capped_cloud() -> Iterator[CloudProcess]:
    """A local cloud process capped at 768 MiB holding ``many_rows(a int)``: 10,000 rows of Parquet."""
    cloud = CloudProcess({"DELAB_CLOUD_MEMORY_MIB": str(CAP_MIB)})
    try:
        cloud.wait_ready()
        s3, glue = cloud.client("s3"), cloud.client("glue")
        s3.create_bucket(Bucket=MEMORY_BUCKET)
        sink = io.BytesIO()
        pq.write_table(pa.table({"a": pa.array(range(10_000), pa.int32())}), sink)
        s3.put_object(Bucket=MEMORY_BUCKET, Key="lake/many_rows/data.parquet", Body=sink.getvalue())
        glue.create_database(DatabaseInput={"Name": MEMORY_DB})
        glue.create_table(DatabaseName=MEMORY_DB, TableInput={
            "Name": "many_rows", "TableType": "EXTERNAL_TABLE",
            "StorageDescriptor": {
                "Columns": [{"Name": "a", "Type": "int"}], "Location": f"s3://{MEMORY_BUCKET}/lake/many_rows/",
                "SerdeInfo": {"SerializationLibrary":
                              "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"}}})
        yield cloud
    finally:
        cloud.stop()


def _start(athena: object, sql: str) -> str:
    return athena.start_query_execution(  # type: ignore[attr-defined]
        QueryString=sql, QueryExecutionContext={"Database": MEMORY_DB},
        ResultConfiguration={"OutputLocation": MEMORY_RESULTS})["QueryExecutionId"]


def _status(athena: object, query_id: str) -> dict:
    # BatchGetQueryExecution answers at once (GetQueryExecution waits a little for the end).
    found = athena.batch_get_query_execution(QueryExecutionIds=[query_id])  # type: ignore[attr-defined]
    return found["QueryExecutions"][0]["Status"]


def test_stopped_cross_join_is_cancelled_at_once_and_memory_stays_under_the_cap(
        capped_cloud: CloudProcess) -> None:
    athena = capped_cloud.client("athena")
    query_id = _start(athena, CROSS_JOIN)  # 100 million rows
    deadline = time.monotonic() + 60
    while _status(athena, query_id)["State"] == "QUEUED" and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(5)  # well into the query: DuckDB producing rows, the result file being written
    assert _status(athena, query_id)["State"] == "RUNNING"
    stopped = time.perf_counter()
    athena.stop_query_execution(QueryExecutionId=query_id)
    while (status := _status(athena, query_id))["State"] == "RUNNING" and time.perf_counter() - stopped < 30:
        time.sleep(0.01)
    took = time.perf_counter() - stopped
    assert status["State"] == "CANCELLED"
    assert status["StateChangeReason"] == "Query cancelled by user"
    # Issue #12 asks for "within a second"; measured from the Stop call to the state,
    # with a margin for a loaded 2-core machine (typically 0.02-0.1 s).
    assert took < 2.0
    # Nothing the query was writing is left: no result object, no local file.
    listed = capped_cloud.client("s3").list_objects_v2(Bucket=MEMORY_BUCKET, Prefix="results/")
    assert not [o["Key"] for o in listed.get("Contents", []) if query_id in o["Key"]]
    spool = memory._work_root() / f"work-{capped_cloud.proc.pid}" / "spool"
    deadline = time.monotonic() + 30
    while any(spool.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(spool.iterdir())
    # The cloud answers the next query, and never went over its cap.
    follow_up = _start(athena, "SELECT COUNT(*) AS n FROM many_rows")
    while _status(athena, follow_up)["State"] in ("QUEUED", "RUNNING"):
        time.sleep(0.05)
    assert _status(athena, follow_up)["State"] == "SUCCEEDED"
    assert capped_cloud.high_water_mark() < CAP_MIB * 2**20
    assert capped_cloud.peak_rss < CAP_MIB * 2**20


def test_query_over_its_memory_budget_fails_as_athena_does(capped_cloud: CloudProcess,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELAB_CLOUD_MEMORY_MIB", str(CAP_MIB))
    limit = memory.succinct(memory.budget().duckdb)  # what the capped cloud computes
    athena = capped_cloud.client("athena")
    # array_agg of 100 million values: one value DuckDB cannot spill to disk.
    query_id = _start(athena, "SELECT cardinality(array_agg(a.a * b.a)) AS n "
                              "FROM many_rows a CROSS JOIN many_rows b")
    while (status := _status(athena, query_id))["State"] in ("QUEUED", "RUNNING"):
        time.sleep(0.05)
    assert status["State"] == "FAILED"
    assert status["StateChangeReason"].startswith(
        f"EXCEEDED_MEMORY_LIMIT: Query exceeded per-node memory limit of {limit}")
    assert "DELAB_CLOUD_MEMORY_MIB" in status["StateChangeReason"]
    assert status["AthenaError"]["ErrorCategory"] == 2
    assert status["AthenaError"]["ErrorType"] == 4  # "query exhausted resources" in Athena's catalog
    follow_up = _start(athena, "SELECT COUNT(*) AS n FROM many_rows")
    while _status(athena, follow_up)["State"] in ("QUEUED", "RUNNING"):
        time.sleep(0.05)
    assert _status(athena, follow_up)["State"] == "SUCCEEDED"
    assert capped_cloud.high_water_mark() < CAP_MIB * 2**20


# ------------------------------------------------------------ in-process cloud


@pytest.fixture(scope="module")
def lake(local_cloud: str) -> dict:
    """The shared test lake on the in-process cloud."""
    return ensure_lake()


def test_stopped_ctas_leaves_no_table_and_no_files(lake: dict) -> None:
    from utils.cloud.athena.models import athena_backend

    athena = boto3.client("athena")
    name = f"never_{uuid.uuid4().hex[:8]}"
    location = f"s3://{BUCKET}/gold/{name}"
    query_id = athena.start_query_execution(
        QueryString=f"CREATE TABLE {name} WITH (external_location = '{location}') AS "
                    "SELECT a.order_line_id AS x FROM fact_orders a CROSS JOIN fact_orders b "
                    "CROSS JOIN fact_orders c",  # 15 billion rows: it never finishes by itself
        QueryExecutionContext={"Database": DATABASE},
        ResultConfiguration={"OutputLocation": RESULTS})["QueryExecutionId"]
    while athena.batch_get_query_execution(QueryExecutionIds=[query_id])["QueryExecutions"][0][
            "Status"]["State"] == "QUEUED":
        time.sleep(0.05)
    time.sleep(0.5)
    athena.stop_query_execution(QueryExecutionId=query_id)
    assert wait(query_id)["Status"]["State"] == "CANCELLED"
    spool = athena_backend().engine.spool_dir
    deadline = time.monotonic() + 30
    while any(spool.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(spool.iterdir())
    assert boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=f"gold/{name}").get("KeyCount") == 0
    tables = boto3.client("glue").get_tables(DatabaseName=DATABASE)["TableList"]
    assert name not in [t["Name"] for t in tables]


def test_large_objects_are_streamed_with_the_same_rows(lake: dict) -> None:
    from utils.cloud.athena.storage import ColumnCache, Scan, TableReader
    from utils.cloud.backends import GlueCatalog, ObjectStore

    glue = GlueCatalog()
    table_def = glue.get_table(DATABASE, "fact_orders")
    store = ObjectStore()

    def read(threshold: int, cache_bytes: int = 64 * 2**20) -> tuple[pa.Table, Scan]:
        reader = TableReader(store, ColumnCache(cache_bytes), stream_threshold=threshold)
        planned = reader.plan(table_def, list(glue.iter_locations(DATABASE, "fact_orders")))
        stats = Scan()
        wanted = {"order_line_id", "price", "status"}
        batches = list(reader.scan(table_def, planned, wanted, stats))
        return pa.Table.from_batches(batches, schema=reader.schema(table_def, wanted)), stats

    cached, cached_stats = read(threshold=2**40)
    streamed, streamed_stats = read(threshold=0)  # large objects: read in pieces from the store
    decoded_too_big, _ = read(threshold=2**40, cache_bytes=16)  # would not fit the cache: not cached
    assert streamed.equals(cached)
    assert decoded_too_big.equals(cached)
    assert streamed.num_rows == lake["orders"].num_rows
    assert streamed_stats.bytes_scanned == cached_stats.bytes_scanned > 0


def test_timestamps_of_any_unit_in_one_table(lake: dict) -> None:
    import datetime as dt

    from tests.cloud.athena_helpers import put_parquet, register_table

    name = f"stamps_{uuid.uuid4().hex[:8]}"
    # Files of one table hold microseconds and nanoseconds; the scan streams them as one schema.
    put_parquet(BUCKET, f"gold/{name}/a.parquet", pa.table(
        {"ts": pa.array([dt.datetime(2024, 1, 1, 1, 2, 3, 456789)], pa.timestamp("us"))}))
    put_parquet(BUCKET, f"gold/{name}/b.parquet", pa.table(
        {"ts": pa.array([dt.datetime(2024, 1, 2)], pa.timestamp("ns"))}))
    register_table(DATABASE, name, f"s3://{BUCKET}/gold/{name}/", pa.schema([("ts", pa.timestamp("ms"))]))
    execution = run_query(f"SELECT ts FROM {name} ORDER BY ts")
    rows = boto3.client("athena").get_query_results(QueryExecutionId=execution["QueryExecutionId"])
    assert [r["Data"][0]["VarCharValue"] for r in rows["ResultSet"]["Rows"][1:]] == [
        "2024-01-01 01:02:03.456", "2024-01-02 00:00:00.000"]


def test_result_pages_are_read_from_the_result_file(lake: dict) -> None:
    execution = run_query("SELECT customer_id, CAST(NULL AS varchar) AS nothing, '' AS blank, "
                          "'say \"hi\"' || chr(10) || 'twice' AS quoted "
                          "FROM dim_customers ORDER BY customer_id")
    athena = boto3.client("athena")
    rows, token = [], None
    while True:
        args = {"QueryExecutionId": execution["QueryExecutionId"], "MaxResults": 3}
        page = athena.get_query_results(**args, **({"NextToken": token} if token else {}))
        rows += page["ResultSet"]["Rows"]
        token = page.get("NextToken")
        if not token:
            break
    assert len(rows) == 11  # header + 10 customers, 3 a page
    assert rows[1]["Data"] == [{"VarCharValue": "1"}, {}, {"VarCharValue": ""},
                               {"VarCharValue": 'say "hi"\ntwice'}]
    # The rows come from the S3 object: once it is deleted, so are they (as on AWS).
    bucket, key = execution["ResultConfiguration"]["OutputLocation"][5:].split("/", 1)
    boto3.client("s3").delete_object(Bucket=bucket, Key=key)
    with pytest.raises(athena.exceptions.InvalidRequestException, match="deleted"):
        athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])


def test_ctas_partitions_are_limited_as_athena_limits_them(lake: dict) -> None:
    name = f"parts_{uuid.uuid4().hex[:8]}"
    execution = run_query(f"CREATE TABLE {name} WITH (external_location = 's3://{BUCKET}/gold/{name}', "
                          "partitioned_by = ARRAY['line']) AS SELECT quantity, order_line_id AS line "
                          "FROM fact_orders WHERE order_line_id <= 101")
    assert execution["Status"]["StateChangeReason"].startswith(
        "HIVE_TOO_MANY_OPEN_PARTITIONS: Exceeded limit of 100 open writers for partitions/buckets")
    assert boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=f"gold/{name}/").get("KeyCount") == 0


# ------------------------------------------------------------------ units


def test_read_rows_pages_by_byte_offset() -> None:
    data = results.csv_bytes(["a", "b"], [pa.array(["1", None, 'x"y', "two\nlines"]),
                                          pa.array(["", None, "z", None])])
    stream = io.BytesIO(data)
    first, offset = results.read_rows(stream, 0, 2, True, 2)
    second, end = results.read_rows(stream, offset, 10, True, 2)
    assert first == [["a", "b"], ["1", ""]]
    assert second == [[None, None], ['x"y', "z"], ["two\nlines", None]]
    assert end == len(data)
    assert results.read_rows(stream, end, 10, True, 2) == ([], end)
    assert results.read_rows(io.BytesIO(b"x\ty\nz\n"), 0, 10, False) == ([["x", "y"], ["z"]], 6)


def test_budgets_follow_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELAB_CLOUD_MEMORY_MIB", "2048")
    monkeypatch.delenv("DELAB_ATHENA_CACHE_MIB", raising=False)
    monkeypatch.delenv("DELAB_ATHENA_NATIVE_CACHE_MIB", raising=False)
    plan = memory.budget()
    assert plan.cap == 2 * 2**30
    # DuckDB (which holds the native cache) and the column cache leave the process room.
    assert plan.duckdb + plan.column_cache + memory.BASE_RESERVE_MIB * 2**20 < 0.75 * plan.cap
    assert memory.duckdb_config(plan, memory._work_root(), 2)["memory_limit"] == "777MiB"
    assert memory.succinct(plan.duckdb) == "777.60MB" and memory.succinct(10) == "10B"
    monkeypatch.setenv("DELAB_CLOUD_MEMORY_MIB", "lots")
    with pytest.raises(ValueError, match="DELAB_CLOUD_MEMORY_MIB must be a whole number of MiB"):
        memory.budget()


def test_history_is_durable_plain_data(lake: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from utils.cloud import persistence
    from utils.cloud.athena import models

    changes: list[str] = []
    monkeypatch.setattr(persistence, "changed", lambda name, *_a, **_k: changes.append(name))
    athena = boto3.client("athena")
    group = f"wg-{uuid.uuid4().hex[:6]}"
    athena.create_work_group(Name=group, Configuration={"ResultConfiguration": {"OutputLocation": RESULTS}})
    named = athena.create_named_query(Name="n", Database=DATABASE, QueryString="SELECT 1", WorkGroup=group)
    done = run_query("SELECT COUNT(*) AS n FROM dim_customers")
    failed = run_query("SELECT * FROM no_such_table")
    assert changes.count("athena") >= 4  # workgroup, named query, each query's end
    state = pickle.loads(pickle.dumps(models.snapshot_state()))  # noqa: S301 - plain, picklable data
    restored = models.AthenaBackend()
    restored.restore(state["regions"]["us-east-1"])
    assert restored.workgroup(group).output_location == RESULTS
    assert restored.named_query(named["NamedQueryId"])["QueryString"] == "SELECT 1"
    for original in (done, failed):
        again = restored.execution(original["QueryExecutionId"]).describe()
        assert again["Status"] == original["Status"]
        assert again["ResultConfiguration"] == original["ResultConfiguration"]
        assert again["Statistics"]["DataScannedInBytes"] == original["Statistics"]["DataScannedInBytes"]
    page = restored.result_page(done["QueryExecutionId"], None, 10)[1]
    assert page == [["n"], ["10"]]
