"""Publishing to S3 (moto): layout, idempotence, atomicity, and the job script itself."""

from __future__ import annotations

import ast
import io
import json
import os
import socket
import subprocess
import sys
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from utils.config import PROJECT_ROOT
from utils.etl import job
from utils.etl.job import (
    STAR_TABLES,
    DbConfig,
    EtlError,
    ReconciliationError,
    check_source_schema,
    extract,
    publish,
    run,
    transform,
)

BUCKET = "de-c1w2-123456789012-us-east-1-data-lake"
GOLD = f"s3://{BUCKET}/gold"


def _objects(s3: Any, prefix: str = "") -> dict[str, str]:
    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return {obj["Key"]: obj["ETag"] for obj in listing.get("Contents", [])}


def _read(s3: Any, key: str) -> pa.Table:
    return pq.read_table(io.BytesIO(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()))


@pytest.fixture(scope="module")
def star(sf1_db: DbConfig) -> dict[str, pa.Table]:
    tables, _ = check_source_schema(extract(sf1_db))
    return transform(tables)


def test_one_snappy_parquet_object_per_table(s3: Any, star: dict[str, pa.Table]) -> None:
    published = publish(star, GOLD, "run-1")
    assert set(_objects(s3)) == {f"gold/{t}/{t}.parquet" for t in STAR_TABLES}
    assert published["fact_orders"] == f"{GOLD}/fact_orders/fact_orders.parquet"
    fact = _read(s3, "gold/fact_orders/fact_orders.parquet")
    assert fact.equals(star["fact_orders"])
    body = s3.get_object(Bucket=BUCKET, Key="gold/dim_dates/dim_dates.parquet")["Body"].read()
    assert pq.ParquetFile(io.BytesIO(body)).metadata.row_group(0).column(0).compression == "SNAPPY"


def test_rerun_is_idempotent(s3: Any, star: dict[str, pa.Table]) -> None:
    publish(star, GOLD, "run-1")
    first = _objects(s3)
    publish(star, GOLD, "run-2")
    assert _objects(s3) == first, "same data: same objects, same content, no duplicates"


def test_a_run_killed_before_publishing_leaves_the_previous_data(s3: Any, star: dict[str, pa.Table]) -> None:
    publish(star, GOLD, "good-run")
    before = _objects(s3)
    changed = dict(star)
    changed["fact_orders"] = star["fact_orders"].slice(0, 10)

    def killed() -> None:
        raise KeyboardInterrupt("job stopped while staging")

    with pytest.raises(KeyboardInterrupt):
        publish(changed, GOLD, "killed-run", before_publish=killed)
    assert _objects(s3) == before
    assert _objects(s3, "etl-staging/") == {}, "staging files are cleaned up"


def test_stray_objects_in_a_table_folder_are_removed(s3: Any, star: dict[str, pa.Table]) -> None:
    s3.put_object(Bucket=BUCKET, Key="gold/fact_orders/part-00000-old-layout.parquet", Body=b"x")
    publish(star, GOLD, "run-3")
    assert set(_objects(s3, "gold/fact_orders/")) == {"gold/fact_orders/fact_orders.parquet"}


def test_staging_inside_the_target_is_refused(s3: Any, star: dict[str, pa.Table]) -> None:
    with pytest.raises(EtlError, match="outside the target path"):
        publish(star, GOLD, "run-4", staging_path=f"{GOLD}/tmp")


def test_a_run_that_does_not_reconcile_writes_nothing(
    s3: Any, sf1_db: DbConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = job.control_totals

    def off_by_one(db: DbConfig) -> job.ControlTotals:
        totals = real(db)
        return job.ControlTotals(totals.order_lines + 1, totals.total_revenue, totals.revenue_by_country)

    monkeypatch.setattr(job, "control_totals", off_by_one)
    with pytest.raises(ReconciliationError, match="nothing was published"):
        run(sf1_db, GOLD, "bad-run")
    assert _objects(s3) == {}


def test_an_emptied_source_is_not_published_over_good_tables(s3: Any) -> None:
    from utils.classicmodels import generate, load_tables
    from utils.classicmodels.testing import scratch_database
    from utils.etl import source_config
    from utils.services.mariadb import connect

    with scratch_database("etl_emptied") as name:
        load_tables(generate(1), database=name)
        db = source_config("admin", database=name)
        run(db, GOLD, "good-run")
        before = _objects(s3)
        conn = connect("admin", database=name, autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute("DELETE FROM orderdetails")
        finally:
            conn.close()
        with pytest.raises(ReconciliationError, match=r"the source has order lines: none: .*orderdetails "
                                                      r"table is empty.*make seed SF=1"):
            run(db, GOLD, "empty-run")
    assert _objects(s3) == before, "the good tables stay published"


def test_job_script_imports_only_third_party_libraries() -> None:
    tree = ast.parse((PROJECT_ROOT / "utils" / "etl" / "job.py").read_text(), feature_version=(3, 9))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    allowed = {"pyarrow", "duckdb", "connectorx", "pymysql", "boto3", "awswrangler"}
    assert not imported - allowed - set(sys.stdlib_module_names), imported


def test_parse_args_is_glue_style() -> None:
    args = job.parse_args(["--JOB_NAME", "de-c1w2-etl-job", "--target_path", "s3://b/gold",
                           "--enable-metrics", "--job-bookmark-option=job-bookmark-disable"])
    assert args == {"JOB_NAME": "de-c1w2-etl-job", "target_path": "s3://b/gold", "enable-metrics": "true",
                    "job-bookmark-option": "job-bookmark-disable"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_job_script_runs_standalone_like_glue(sf1_db: DbConfig, tmp_path: Any) -> None:
    """``python job.py --key value ...`` outside the project, credentials from Secrets Manager."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DELAB_DB", "AWS_"))}
        env.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                   AWS_DEFAULT_REGION="us-east-1", PYTHONPATH="")
        clients = {"endpoint_url": endpoint, "region_name": "us-east-1",
                   "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        s3 = boto3.client("s3", **clients)
        s3.create_bucket(Bucket=BUCKET)
        boto3.client("secretsmanager", **clients).create_secret(
            Name="de-c1w2/etl-db-credentials", SecretString=json.dumps({
                "host": sf1_db.host, "port": sf1_db.port, "username": sf1_db.user,
                "password": sf1_db.password, "dbname": sf1_db.database}))
        script = tmp_path / "de-c1w2-etl-job.py"  # a copy, as Glue downloads it
        script.write_bytes((PROJECT_ROOT / "utils" / "etl" / "job.py").read_bytes())
        result = subprocess.run(
            [sys.executable, str(script), "--JOB_NAME", "de-c1w2-etl-job", "--JOB_RUN_ID", "jr_test",
             "--target_path", GOLD, "--glue_database", "de-c1w2-analytics-db",
             "--db_secret", "de-c1w2/etl-db-credentials", "--enable-metrics", "true"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180, check=False)
        assert result.returncode == 0, result.stderr + result.stdout
        for step in ("[extract] orderdetails: 2,996 rows", "[transform] fact_orders: 2,996 rows",
                     "[reconcile] ok   revenue per customer country", "[load] published",
                     "run jr_test succeeded"):
            assert step in result.stdout, step
        keys = {obj["Key"] for obj in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
        assert keys == {f"gold/{t}/{t}.parquet" for t in STAR_TABLES}

        # Wrong password in the secret: a FAILED run with a message a learner can act on.
        boto3.client("secretsmanager", **clients).put_secret_value(
            SecretId="de-c1w2/etl-db-credentials", SecretString=json.dumps({
                "host": sf1_db.host, "port": sf1_db.port, "username": sf1_db.user,
                "password": "wrong", "dbname": sf1_db.database}))
        failed = subprocess.run(
            [sys.executable, str(script), "--target_path", GOLD, "--db_secret", "de-c1w2/etl-db-credentials"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert failed.returncode == 1
        assert "access denied: check the secret de-c1w2/etl-db-credentials" in failed.stderr
    finally:
        server.stop()
