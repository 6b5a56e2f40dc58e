"""Shared set-up for the Athena tests: small Parquet tables in local S3, registered in Glue.

Data is made here (not by the crawler) so the Athena tests stand alone. Every
table is small; one fact table has more than 1,000 rows so that result paging
is exercised.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from decimal import Decimal
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq

BUCKET = "athena-test-lake"
RESULTS = f"s3://{BUCKET}/athena-results/"
DATABASE = "athena_test_db"
FACT_ROWS = 2500

_HIVE = {pa.int32(): "int", pa.int64(): "bigint", pa.string(): "string", pa.float64(): "double",
         pa.date32(): "date", pa.bool_(): "boolean", pa.timestamp("ms"): "timestamp"}


def hive_type(dtype: pa.DataType) -> str:
    """The Glue column type a crawler would register for an Arrow type."""
    if pa.types.is_decimal(dtype):
        return f"decimal({dtype.precision},{dtype.scale})"
    return _HIVE[dtype]


def put_parquet(bucket: str, key: str, table: pa.Table) -> None:
    """Upload an Arrow table as one Parquet object (through the endpoint, like a learner's code)."""
    sink = io.BytesIO()
    pq.write_table(table, sink)
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=sink.getvalue())


def register_table(database: str, name: str, location: str, schema: pa.Schema,
                   partition_keys: list[tuple[str, str]] | None = None) -> None:
    """Create a Parquet table in Glue, as the crawler would."""
    boto3.client("glue").create_table(DatabaseName=database, TableInput={
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "parquet"},
        "PartitionKeys": [{"Name": k, "Type": t} for k, t in partition_keys or []],
        "StorageDescriptor": {
            "Columns": [{"Name": f.name, "Type": hive_type(f.type)} for f in schema],
            "Location": location,
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {"SerializationLibrary":
                          "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
        },
    })


def customers() -> pa.Table:
    """A small dimension: 10 customers in 3 countries."""
    countries = ["France", "USA", "Spain"]
    return pa.table({
        "customer_id": pa.array(range(1, 11), pa.int32()),
        "customer_name": pa.array([f"Customer {i}" for i in range(1, 11)]),
        "country": pa.array([countries[i % 3] for i in range(1, 11)]),
        "credit_limit": pa.array([Decimal(f"{i * 1000}.50") for i in range(1, 11)], pa.decimal128(10, 2)),
        "active": pa.array([i % 4 != 0 for i in range(1, 11)]),
    })


def orders() -> pa.Table:
    """A fact table of FACT_ROWS order lines over 2023-2024."""
    start = dt.date(2023, 1, 1)
    n = FACT_ROWS
    return pa.table({
        "order_line_id": pa.array(range(1, n + 1), pa.int64()),
        "customer_id": pa.array([(i % 10) + 1 for i in range(n)], pa.int32()),
        "order_date": pa.array([start + dt.timedelta(days=(i * 7) % 730) for i in range(n)], pa.date32()),
        "quantity": pa.array([(i % 5) + 1 for i in range(n)], pa.int32()),
        "price": pa.array([round(10 + (i % 17) * 1.25, 2) for i in range(n)], pa.float64()),
        "shipped_at": pa.array([None if i % 9 == 0 else dt.datetime(2023, 1, 1, 8, 30) +
                                dt.timedelta(hours=i) for i in range(n)], pa.timestamp("ms")),
        "status": pa.array([None if i % 11 == 0 else ("Shipped" if i % 3 else "On Hold") for i in range(n)]),
    })


def sales_partitions() -> dict[str, pa.Table]:
    """A partitioned table's data by year (the partition column is not in the files)."""
    return {
        "2023": pa.table({"region": ["north", "south", "north"], "amount": pa.array([10.0, 20.0, 30.0])}),
        "2024": pa.table({"region": ["north", "south"], "amount": pa.array([1.5, 2.5])}),
    }


def setup_lake() -> dict[str, Any]:
    """Create the bucket, the Parquet objects and the Glue tables (idempotent per session)."""
    s3 = boto3.client("s3")
    glue = boto3.client("glue")
    s3.create_bucket(Bucket=BUCKET)
    glue.create_database(DatabaseInput={"Name": DATABASE})
    cust, fact = customers(), orders()
    put_parquet(BUCKET, "gold/dim_customers/part-0.parquet", cust)
    # Two files, so the engine reads a table made of several objects.
    put_parquet(BUCKET, "gold/fact_orders/part-0.parquet", fact.slice(0, 1200))
    put_parquet(BUCKET, "gold/fact_orders/part-1.parquet", fact.slice(1200))
    register_table(DATABASE, "dim_customers", f"s3://{BUCKET}/gold/dim_customers/", cust.schema)
    register_table(DATABASE, "fact_orders", f"s3://{BUCKET}/gold/fact_orders/", fact.schema)
    parts = sales_partitions()
    for year, table in parts.items():
        put_parquet(BUCKET, f"gold/sales/year={year}/data.parquet", table)
    schema = next(iter(parts.values())).schema
    register_table(DATABASE, "sales", f"s3://{BUCKET}/gold/sales/", schema, [("year", "string")])
    for year in parts:
        glue.create_partition(DatabaseName=DATABASE, TableName="sales", PartitionInput={
            "Values": [year],
            "StorageDescriptor": {
                "Columns": [{"Name": f.name, "Type": hive_type(f.type)} for f in schema],
                "Location": f"s3://{BUCKET}/gold/sales/year={year}/",
                "SerdeInfo": {"SerializationLibrary":
                              "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
            },
        })
    return {"customers": cust, "orders": fact, "sales": parts}


_LAKE: dict[str, Any] = {}


def ensure_lake() -> dict[str, Any]:
    """The test data lake, created on the local cloud once per test session."""
    if not _LAKE:
        _LAKE.update(setup_lake())
    return _LAKE


def run_query(sql: str, database: str = DATABASE, output: str = RESULTS) -> dict[str, Any]:
    """Start a query through boto3, wait for it, return GetQueryExecution's QueryExecution."""
    athena = boto3.client("athena")
    query_id = athena.start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": database},
        ResultConfiguration={"OutputLocation": output})["QueryExecutionId"]
    return wait(query_id)


def refusal(sql: str, database: str = DATABASE, output: str = RESULTS) -> str:
    """The message of the InvalidRequestException StartQueryExecution answers a statement that
    does not parse (Athena refuses it there: no query is made)."""
    athena = boto3.client("athena")
    try:
        athena.start_query_execution(QueryString=sql, QueryExecutionContext={"Database": database},
                                     ResultConfiguration={"OutputLocation": output})
    except athena.exceptions.InvalidRequestException as err:
        assert err.response.get("AthenaErrorCode") == "MALFORMED_QUERY", err.response
        return err.response["Error"]["Message"]
    raise AssertionError(f"StartQueryExecution accepted a statement that does not parse: {sql!r}")


def wait(query_id: str) -> dict[str, Any]:
    """Poll GetQueryExecution until the query is finished; return its QueryExecution."""
    athena = boto3.client("athena")
    while True:
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        if execution["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return execution


class CloudProcess:
    """A local cloud in a process of its own (``python -m utils.cloud serve``), its memory sampled.

    For tests about the cloud process itself (its resident memory under a cap): the
    in-process cloud of the other tests shares its memory with pytest. Clients are
    made with :meth:`client` (an explicit endpoint), so this process's environment,
    which points at the in-process cloud, is left alone.
    """

    def __init__(self, env: dict[str, str]) -> None:
        from utils.config import PROJECT_ROOT

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        # Its own durable store (bodies on disk, as in the daemon), never the checkout's.
        self.state = tempfile.TemporaryDirectory(prefix="delab-cloud-state-")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "utils.cloud", "serve", "--port", str(self.port),
             "--state-dir", self.state.name], cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **env}, stdin=subprocess.DEVNULL,
            stdout=self.log, stderr=subprocess.STDOUT)
        self.peak_rss = 0
        self._stopping = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def rss(self) -> int:
        """Resident bytes of the cloud process now."""
        with open(f"/proc/{self.proc.pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def high_water_mark(self) -> int:
        """The kernel's record of the process's peak resident bytes (VmHWM)."""
        with open(f"/proc/{self.proc.pid}/status") as fh:
            line = next(line for line in fh if line.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024

    def _sample(self) -> None:
        while not self._stopping.is_set():
            try:
                self.peak_rss = max(self.peak_rss, self.rss())
            except OSError:
                return
            time.sleep(0.02)

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Wait until the endpoint answers (fail with the cloud's log if it exits)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"the local cloud exited: {self.log.read()[-2000:].decode()}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1):  # noqa: S310
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the local cloud did not answer")

    def client(self, service: str) -> Any:
        """A boto3 client of this cloud."""
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="testing",
                            aws_secret_access_key="testing")  # noqa: S106 - the local cloud's test key

    def stop(self) -> None:
        """Stop the process we started (by its pid) and close its log."""
        self._stopping.set()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        self.state.cleanup()
