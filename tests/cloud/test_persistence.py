"""What a learner made survives the local cloud's stop, kill -9, and kill -9 mid-upload.

One daemon cloud (``python -m utils.cloud serve`` in a subprocess, on a free port, with
its own state directory) serves the whole module; each test makes its own resources,
restarts the daemon its own way and checks them. The checkout's own cloud is never
touched. The crash test arms the store's test hook (``DELAB_STATE_TEST_CRASH``) so the
process dies exactly between an object's body and its metadata reaching the disk.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.config import Config

from tests.conftest import BASE_ENVIRONMENT, daemon_cloud
from utils.cloud.testing import SubprocessCloud

CRASH_KEY = "crash-before-commit"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SubprocessCloud]:
    """The module's daemon cloud; AWS clients in these tests point at it."""
    with daemon_cloud(tmp_path_factory.mktemp("durable-cloud"),
                      env={"DELAB_STATE_TEST_CRASH": f"before-commit:{CRASH_KEY}"}) as cloud:
        yield cloud


def unique(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def parquet_bytes(rows: int) -> bytes:
    """A small Parquet file."""
    buffer = io.BytesIO()
    pq.write_table(pa.table({"id": list(range(rows)), "name": [f"n{i}" for i in range(rows)]}), buffer)
    return buffer.getvalue()


def snapshot_tables(glue: Any, database: str) -> dict[str, Any]:
    """The parts of a catalog's tables that must come back unchanged."""
    tables = glue.get_tables(DatabaseName=database)["TableList"]
    return {t["Name"]: {k: t.get(k) for k in ("TableType", "StorageDescriptor", "PartitionKeys",
                                               "Parameters", "ViewOriginalText", "ViewExpandedText",
                                               "CreateTime")}
            for t in tables}


def start_sleeping_job(bucket: str) -> tuple[str, str]:
    """A Glue job whose script sleeps; started, and RUNNING before this returns."""
    glue = boto3.client("glue")
    job = unique("sleeper")
    boto3.client("s3").put_object(Bucket=bucket, Key=f"scripts/{job}.py",
                                  Body=b"import time\nprint('sleeping', flush=True)\ntime.sleep(120)\n")
    glue.create_job(Name=job, Role="arn:aws:iam::123456789012:role/glue", Command={
        "Name": "pythonshell", "ScriptLocation": f"s3://{bucket}/scripts/{job}.py"})
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    deadline = time.monotonic() + 30
    while not script_processes(job):
        assert time.monotonic() < deadline, "the job script did not start"
        time.sleep(0.1)
    # Wait for its first line to reach CloudWatch: a script killed in the middle of the cloud's
    # crash before it printed would die of the broken output pipe, not of the crash.
    logs = boto3.client("logs")
    while True:
        try:
            events = logs.get_log_events(logGroupName="/aws-glue/jobs/output", logStreamName=run_id,
                                         startFromHead=True)["events"]
        except logs.exceptions.ResourceNotFoundException:
            events = []
        if any("sleeping" in e["message"] for e in events):
            return job, run_id
        assert time.monotonic() < deadline, "the job script's first line did not reach its log"
        time.sleep(0.1)


def script_processes(job: str) -> list[int]:
    """Pids of running job scripts of ``job`` (its script file is named after it)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if f"{job}.py".encode() in cmdline and state != "Z":
            pids.append(int(proc.name))
    return pids


def test_learner_work_survives_stop_and_start(daemon: SubprocessCloud) -> None:
    """Versions, metadata, tags, a CTAS-like table with a partition, a view, a secret, a role."""
    s3, glue = boto3.client("s3"), boto3.client("glue")
    bucket, database = unique("learner"), unique("learner_db").replace("-", "_")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=bucket, Key="notes/todo.csv", Body=b"a,b\n1,2\n",
                          Metadata={"author": "ada"}, ContentType="text/csv")
    second = s3.put_object(Bucket=bucket, Key="notes/todo.csv", Body=b"a,b\n1,2\n3,4\n",
                           Metadata={"author": "grace"}, ContentType="text/csv", Tagging="lesson=3")
    data = parquet_bytes(5)
    s3.put_object(Bucket=bucket, Key="ctas/dt=2024-01-01/part-0.parquet", Body=data)
    columns = [{"Name": "id", "Type": "bigint"}, {"Name": "name", "Type": "string"}]
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_table(DatabaseName=database, TableInput={
        "Name": "my_ctas", "TableType": "EXTERNAL_TABLE", "Parameters": {"classification": "parquet"},
        "PartitionKeys": [{"Name": "dt", "Type": "string"}],
        "StorageDescriptor": {"Columns": columns, "Location": f"s3://{bucket}/ctas/",
                              "InputFormat": PARQUET_INPUT}})
    glue.create_partition(DatabaseName=database, TableName="my_ctas", PartitionInput={
        "Values": ["2024-01-01"], "StorageDescriptor": {"Columns": columns,
                                                        "Location": f"s3://{bucket}/ctas/dt=2024-01-01/"}})
    glue.create_table(DatabaseName=database, TableInput={
        "Name": "my_view", "TableType": "VIRTUAL_VIEW", "Parameters": {"presto_view": "true"},
        "ViewOriginalText": "/* Presto View: e30= */", "ViewExpandedText": "/* Presto View */",
        "StorageDescriptor": {"Columns": columns}})
    secret = unique("learner/secret")
    boto3.client("secretsmanager").create_secret(Name=secret, SecretString='{"password": "s3cret"}')
    role = unique("learner-role")
    boto3.client("iam").create_role(RoleName=role, AssumeRolePolicyDocument="{}")
    tables_before = snapshot_tables(glue, database)
    job, run_id = start_sleeping_job(bucket)

    daemon.stop()
    daemon.start(base_env=BASE_ENVIRONMENT)

    run = glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]
    assert run["JobRunState"] == "STOPPED" and "make down" in run["ErrorMessage"]
    assert not script_processes(job)

    versions = s3.list_object_versions(Bucket=bucket, Prefix="notes/")["Versions"]
    assert {v["VersionId"] for v in versions} == {first["VersionId"], second["VersionId"]}
    latest = s3.get_object(Bucket=bucket, Key="notes/todo.csv")
    assert latest["Body"].read() == b"a,b\n1,2\n3,4\n"
    assert latest["Metadata"] == {"author": "grace"} and latest["ContentType"] == "text/csv"
    assert latest["ETag"] == second["ETag"]
    older = s3.get_object(Bucket=bucket, Key="notes/todo.csv", VersionId=first["VersionId"])
    assert older["Body"].read() == b"a,b\n1,2\n" and older["Metadata"] == {"author": "ada"}
    assert s3.get_object_tagging(Bucket=bucket, Key="notes/todo.csv")["TagSet"] == [
        {"Key": "lesson", "Value": "3"}]
    body = s3.get_object(Bucket=bucket, Key="ctas/dt=2024-01-01/part-0.parquet")["Body"].read()
    assert pq.read_table(io.BytesIO(body)).num_rows == 5
    assert snapshot_tables(glue, database) == tables_before
    assert [p["Values"] for p in glue.get_partitions(DatabaseName=database,
                                                     TableName="my_ctas")["Partitions"]] == [["2024-01-01"]]
    assert boto3.client("secretsmanager").get_secret_value(SecretId=secret)["SecretString"] == \
        '{"password": "s3cret"}'
    assert boto3.client("iam").get_role(RoleName=role)["Role"]["RoleName"] == role


def test_gold_tables_and_job_history_survive_kill_9(daemon: SubprocessCloud) -> None:
    """The real ETL job's star schema, its run and CloudWatch logs, the crawled tables."""
    from utils.classicmodels.testing import require_server
    from utils.cloud import provision
    from utils.config import GLUE_CRAWLER, GLUE_DATABASE, GLUE_JOB, get_settings
    from utils.teaching.lab_c1w2 import wait_for_crawler, wait_for_job_run

    require_server()
    provision.apply(verbose=False)
    settings = get_settings()
    glue, s3, logs = boto3.client("glue"), boto3.client("s3"), boto3.client("logs")
    run_id = glue.start_job_run(JobName=GLUE_JOB)["JobRunId"]
    run = wait_for_job_run(run_id, poll_seconds=0.2, echo=lambda _: None)
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    glue.start_crawler(Name=GLUE_CRAWLER)
    wait_for_crawler(GLUE_CRAWLER, poll_seconds=0.2, echo=lambda _: None)

    def gold() -> dict[str, str]:
        listed = s3.list_objects_v2(Bucket=settings.data_lake_bucket, Prefix="gold/")
        return {o["Key"]: o["ETag"] for o in listed.get("Contents", [])}

    gold_before, tables_before = gold(), snapshot_tables(glue, GLUE_DATABASE)
    output_before = logs.get_log_events(logGroupName="/aws-glue/jobs/output", logStreamName=run_id,
                                        startFromHead=True)["events"]
    assert {"fact_orders", "dim_customers", "dim_products", "dim_locations"} <= set(tables_before)
    assert gold_before and output_before
    job, sleeping = start_sleeping_job(settings.scripts_bucket)

    daemon.kill()
    assert script_processes(job)  # a crash of the cloud does not end the script (own session)
    daemon.start(base_env=BASE_ENVIRONMENT)

    lost = glue.get_job_run(JobName=job, RunId=sleeping)["JobRun"]
    assert lost["JobRunState"] == "FAILED" and "stopped while this run was" in lost["ErrorMessage"]
    deadline = time.monotonic() + 10
    while script_processes(job):  # the orphan, identified by pid and start time, is stopped
        assert time.monotonic() < deadline, "the orphaned job script still runs"
        time.sleep(0.1)

    assert gold() == gold_before
    for key, etag in gold_before.items():  # bodies intact: their MD5 is still the ETag
        body = s3.get_object(Bucket=settings.data_lake_bucket, Key=key)["Body"].read()
        assert f'"{hashlib.md5(body).hexdigest()}"' == etag, key  # noqa: S324 - S3's ETag
    assert snapshot_tables(glue, GLUE_DATABASE) == tables_before
    runs = {r["Id"]: r for r in glue.get_job_runs(JobName=GLUE_JOB)["JobRuns"]}
    assert runs[run_id]["JobRunState"] == "SUCCEEDED"
    assert runs[run_id]["CompletedOn"] == run["CompletedOn"]
    assert logs.get_log_events(logGroupName="/aws-glue/jobs/output", logStreamName=run_id,
                               startFromHead=True)["events"] == output_before
    assert glue.get_crawler(Name=GLUE_CRAWLER)["Crawler"]["LastCrawl"]["Status"] == "SUCCEEDED"
    # The restored catalog and bodies answer SQL: the star schema is usable as it was.
    athena = boto3.client("athena")
    query = athena.start_query_execution(
        QueryString="SELECT COUNT(*) FROM fact_orders",
        QueryExecutionContext={"Database": GLUE_DATABASE},
        ResultConfiguration={"OutputLocation": settings.athena_output})["QueryExecutionId"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = athena.get_query_execution(QueryExecutionId=query)["QueryExecution"]["Status"]
        if state["State"] not in ("QUEUED", "RUNNING"):
            break
        time.sleep(0.1)
    assert state["State"] == "SUCCEEDED", state
    rows = athena.get_query_results(QueryExecutionId=query)["ResultSet"]["Rows"]
    assert int(rows[1]["Data"][0]["VarCharValue"]) > 0


def test_bodies_on_disk_behave_as_s3_bodies(daemon: SubprocessCloud) -> None:
    """Multipart, ranges, copies, digests, checksums and aws-chunked bodies on the durable path."""
    import base64
    import zlib

    s3 = boto3.client("s3", config=Config(retries={"max_attempts": 1}))
    bucket = unique("bodies")
    s3.create_bucket(Bucket=bucket)
    data = os.urandom(20 << 20) + b"tail"
    s3.upload_fileobj(io.BytesIO(data), bucket, "multi.bin")  # 8 MiB parts: multipart
    head = s3.head_object(Bucket=bucket, Key="multi.bin")
    assert head["ContentLength"] == len(data) and head["ETag"].endswith('-3"')
    assert s3.get_object(Bucket=bucket, Key="multi.bin")["Body"].read() == data
    ranged = s3.get_object(Bucket=bucket, Key="multi.bin", Range="bytes=9000000-9000099")
    assert ranged["Body"].read() == data[9000000:9000100] and ranged["ContentRange"].startswith(
        "bytes 9000000-9000099/")
    s3.copy_object(Bucket=bucket, Key="copy.bin", CopySource={"Bucket": bucket, "Key": "multi.bin"})
    s3.copy({"Bucket": bucket, "Key": "multi.bin"}, bucket, "part-copy.bin")  # UploadPartCopy
    for key in ("copy.bin", "part-copy.bin"):
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data, key

    with pytest.raises(s3.exceptions.ClientError, match="BadDigest"):
        s3.put_object(Bucket=bucket, Key="bad.bin", Body=b"abc",
                      ContentMD5=base64.b64encode(hashlib.md5(b"xyz").digest()).decode())  # noqa: S324
    sha = s3.put_object(Bucket=bucket, Key="sha.bin", Body=b"checked", ChecksumAlgorithm="SHA256")
    got = s3.get_object(Bucket=bucket, Key="sha.bin", ChecksumMode="ENABLED")
    assert got["ChecksumSHA256"] == sha["ChecksumSHA256"] == base64.b64encode(
        hashlib.sha256(b"checked").digest()).decode()

    # An aws-chunked body with a trailing checksum, as SDKs send over HTTPS.
    url = urlparse(s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "chunked.bin"}))
    body = b"hello, chunked world"
    crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    framed = (b"%x\r\n" % 11 + body[:11] + b"\r\n" + b"%x\r\n" % (len(body) - 11) + body[11:]
              + b"\r\n0\r\nx-amz-checksum-crc32:" + crc.encode() + b"\r\n\r\n")
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    connection.request("PUT", f"{url.path}?{url.query}", body=framed, headers={
        "Content-Encoding": "aws-chunked", "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-decoded-content-length": str(len(body)), "x-amz-trailer": "x-amz-checksum-crc32",
        "x-amz-sdk-checksum-algorithm": "CRC32"})
    assert connection.getresponse().status == 200
    chunked = s3.get_object(Bucket=bucket, Key="chunked.bin", ChecksumMode="ENABLED")
    assert chunked["Body"].read() == body and chunked["ChecksumCRC32"] == crc
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [
        "chunked.bin", "copy.bin", "multi.bin", "part-copy.bin", "sha.bin"]


def _start_upload(url: str, total: int, sent: int) -> http.client.HTTPConnection:
    """Send a PUT's headers and the first ``sent`` of ``total`` body bytes, then stall."""
    parsed = urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
    connection.putrequest("PUT", f"{parsed.path}?{parsed.query}")
    connection.putheader("Content-Length", str(total))
    connection.endheaders()
    chunk = os.urandom(1 << 20)
    for _ in range(sent >> 20):
        connection.send(chunk)
    return connection


def test_kill_9_mid_upload_leaves_the_old_object_or_nothing(daemon: SubprocessCloud) -> None:
    """Two uploads half-sent and one between body and metadata when the process dies."""
    s3 = boto3.client("s3", config=Config(retries={"max_attempts": 1}))
    bucket = unique("uploads")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="big.bin", Body=b"the old object")
    size = 64 << 20
    uploads = [_start_upload(s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": key}), size, 16 << 20)
        for key in ("big.bin", "new.bin")]
    tmp = daemon.state_dir / "tmp"
    deadline = time.monotonic() + 30
    while sum(f.stat().st_size for f in tmp.iterdir()) < 2 * (8 << 20):
        assert time.monotonic() < deadline, "the uploads never reached the disk"
        time.sleep(0.05)

    # This PutObject's body is stored and fsynced; the process dies before its metadata is.
    crash = threading.Thread(target=lambda: _swallow(lambda: s3.put_object(
        Bucket=bucket, Key=f"{CRASH_KEY}.bin", Body=os.urandom(3 << 20))), daemon=True)
    crash.start()
    daemon.wait_dead()
    crash.join(timeout=30)
    for upload in uploads:
        upload.close()

    daemon.start(base_env=BASE_ENVIRONMENT)
    assert s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read() == b"the old object"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["big.bin"]  # neither half upload nor the unacknowledged one is visible
    assert not list(tmp.iterdir())  # what the crash left half-written is gone
    status = json.loads(daemon.cli("store-status", "--json").stdout)
    referenced = status["components"]["s3"]["files"]
    on_disk = len(list((daemon.state_dir / "blobs" / "s3").iterdir()))
    assert on_disk == referenced  # the orphaned body of the crashed request was deleted


def _swallow(call: Any) -> None:
    try:
        call()
    except Exception:  # the server died under the request: expected
        return


def test_store_status_and_reset(daemon: SubprocessCloud) -> None:
    """status says what is stored; reset refuses while running or unconfirmed, then wipes."""
    s3 = boto3.client("s3")
    bucket = unique("doomed")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="x.txt", Body=b"x" * 1000)
    status = json.loads(daemon.cli("store-status", "--json").stdout)
    assert status["running_pid"] == daemon.process.pid  # type: ignore[union-attr]
    assert status["components"]["s3"]["kinds"]["key"] >= 1
    assert status["components"]["s3"]["file_bytes"] >= 1000
    text = daemon.cli("store-status").stdout
    assert "s3" in text and "objects" in text

    running = daemon.cli("reset", "--yes")
    assert running.returncode == 2 and "is running" in running.stderr
    daemon.stop()
    unconfirmed = daemon.cli("reset")
    assert unconfirmed.returncode == 2 and "--yes" in unconfirmed.stderr
    assert daemon.state_dir.exists()
    done = daemon.cli("reset", "--yes")
    assert done.returncode == 0, done.stderr
    assert not daemon.state_dir.exists()
    daemon.start(base_env=BASE_ENVIRONMENT)
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def _athena(sql: str, database: str, output: str, wait: bool = True) -> tuple[str, dict[str, Any]]:
    athena = boto3.client("athena")
    query = athena.start_query_execution(QueryString=sql, QueryExecutionContext={"Database": database},
                                         ResultConfiguration={"OutputLocation": output})["QueryExecutionId"]
    deadline = time.monotonic() + 120
    while True:
        status = athena.get_query_execution(QueryExecutionId=query)["QueryExecution"]["Status"]
        if not wait or status["State"] not in ("QUEUED", "RUNNING") or time.monotonic() > deadline:
            return query, status
        time.sleep(0.05)


def _scalar(sql: str, database: str, output: str) -> int:
    query, status = _athena(sql, database, output)
    assert status["State"] == "SUCCEEDED", status
    rows = boto3.client("athena").get_query_results(QueryExecutionId=query)["ResultSet"]["Rows"]
    return int(rows[1]["Data"][0]["VarCharValue"])


def test_ctas_and_view_survive_kill_9_and_a_ctas_cut_by_it_is_invisible(daemon: SubprocessCloud) -> None:
    """Issue #12 (c): a CTAS table and a view come back; a CTAS killed mid-way leaves nothing."""
    s3, glue = boto3.client("s3"), boto3.client("glue")
    bucket, database = unique("ctas"), unique("learner_db").replace("-", "_")
    s3.create_bucket(Bucket=bucket)
    output = f"s3://{bucket}/athena-results/"
    s3.put_object(Bucket=bucket, Key="src/part-0.parquet", Body=parquet_bytes(3000))
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_table(DatabaseName=database, TableInput={
        "Name": "src", "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": {
            "Columns": [{"Name": "id", "Type": "bigint"}, {"Name": "name", "Type": "string"}],
            "Location": f"s3://{bucket}/src/", "InputFormat": PARQUET_INPUT,
            "SerdeInfo": {"SerializationLibrary":
                          "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"}}})
    _athena(f"CREATE TABLE small WITH (format = 'PARQUET', external_location = 's3://{bucket}/small/') "
            "AS SELECT id, name FROM src WHERE id < 100", database, output)
    _athena("CREATE VIEW evens AS SELECT id FROM small WHERE id % 2 = 0", database, output)
    assert _scalar("SELECT COUNT(*) FROM evens", database, output) == 50

    # 90 million rows written as Parquet: seconds of work, cut by a kill -9 after one second.
    # (Not polled: GetQueryExecution waits for a running query, which would let it finish.)
    cut, _ = _athena(f"CREATE TABLE big WITH (format = 'PARQUET', external_location = 's3://{bucket}/big/') "
                     "AS SELECT a.id * b.id + c.id AS x, a.name FROM src a CROSS JOIN src b "
                     "CROSS JOIN (SELECT id FROM src WHERE id < 10) c", database, output, wait=False)
    time.sleep(1.0)
    daemon.kill()
    daemon.start(base_env=BASE_ENVIRONMENT)

    assert _scalar("SELECT COUNT(*) FROM small", database, output) == 100
    assert _scalar("SELECT COUNT(*) FROM evens", database, output) == 50
    state = boto3.client("athena").get_query_execution(QueryExecutionId=cut)["QueryExecution"]["Status"]
    tables = {t["Name"] for t in glue.get_tables(DatabaseName=database)["TableList"]}
    written = s3.list_objects_v2(Bucket=bucket, Prefix="big/").get("Contents", [])
    if state["State"] == "SUCCEEDED":  # it finished before the kill: then it is whole
        assert "big" in tables and _scalar("SELECT COUNT(*) FROM big", database, output) == 3000 * 3000 * 10
    else:  # cut: no table, and no data files half-visible under its location
        assert state["State"] == "FAILED", state
        assert "big" not in tables and not written, (tables, [o["Key"] for o in written])
