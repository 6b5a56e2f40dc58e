"""The lab end to end, through the AWS APIs only: Glue job -> crawler -> Athena.

Each case runs the REAL job script as the Glue job ``de-c1w2-etl-job`` on an
in-process local cloud, crawls what it wrote and asks Athena (through
awswrangler, default arguments) for revenue per country, which must equal the
ground truth computed in MySQL. Failure cases check that a failed run says why
and leaves the previous good tables queryable.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal

import awswrangler as wr
import boto3
import pytest

from tests.e2e.tcp_proxy import TcpProxy
from utils.classicmodels import generate, load_dump, load_tables
from utils.classicmodels.testing import require_server, scratch_database
from utils.classicmodels.truth import ground_truth
from utils.config import GLUE_CRAWLER, GLUE_DATABASE, GLUE_JOB, GLUE_ROLE, Settings, get_settings
from utils.teaching.lab_c1w2 import wait_for_crawler, wait_for_job_run

REVENUE_SQL = """
SELECT l.country, SUM(f.orderAmount) AS revenue, COUNT(*) AS order_lines
FROM fact_orders f JOIN dim_locations l ON f.locationKey = l.locationKey
GROUP BY l.country
"""
QUIRKS_DUMP = "tests/data/classicmodels_quirks.sql"


@pytest.fixture(scope="module")
def lab(local_cloud: str) -> Settings:
    """The lab's resources, provisioned on the in-process cloud as `make up` does."""
    require_server()
    from utils.cloud import provision

    provision.apply(verbose=False)
    return get_settings()


def _secret_for(name: str, database: str, port: int | None = None, password: str | None = None) -> str:
    """A Secrets Manager secret pointing the job at another source database."""
    s = get_settings()
    value = {"host": s.db_host, "port": port or s.db_port, "dbname": database,
             "username": s.db_admin_user, "password": password or s.db_admin_password}
    client = boto3.client("secretsmanager")
    secret_id = f"e2e/{name}"
    try:
        client.create_secret(Name=secret_id, SecretString=json.dumps(value))
    except client.exceptions.ResourceExistsException:
        client.put_secret_value(SecretId=secret_id, SecretString=json.dumps(value))
    return secret_id


def _crawler_for(name: str, target: str) -> tuple[str, str]:
    """A crawler + catalog database of its own for a case's target path."""
    glue = boto3.client("glue")
    database, crawler = f"e2e_{name}", f"e2e-{name}-crawler"
    try:
        glue.create_database(DatabaseInput={"Name": database})
        glue.create_crawler(Name=crawler, Role=GLUE_ROLE, DatabaseName=database,
                            Targets={"S3Targets": [{"Path": target}]},
                            SchemaChangePolicy={"UpdateBehavior": "UPDATE_IN_DATABASE",
                                                "DeleteBehavior": "LOG"})
    except glue.exceptions.AlreadyExistsException:
        pass
    return database, crawler


def _run_job(arguments: dict[str, str] | None = None) -> dict:
    glue = boto3.client("glue")
    extra = {"Arguments": arguments} if arguments else {}
    run_id = glue.start_job_run(JobName=GLUE_JOB, **extra)["JobRunId"]
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        run = glue.get_job_run(JobName=GLUE_JOB, RunId=run_id)["JobRun"]
        if run["JobRunState"] in ("SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT", "ERROR"):
            return run
        time.sleep(0.2)
    raise AssertionError(f"job run {run_id} did not finish")


def _crawl(crawler: str) -> None:
    glue = boto3.client("glue")
    before = (glue.get_crawler(Name=crawler)["Crawler"].get("LastCrawl") or {}).get("StartTime")
    glue.start_crawler(Name=crawler)
    wait_for_crawler(crawler, previous_crawl_start=before, poll_seconds=0.2, echo=lambda _: None)


def _athena_revenue(database: str) -> dict[str, Decimal]:
    df = wr.athena.read_sql_query(REVENUE_SQL, database=database)
    return {str(r.country).strip(): Decimal(str(r.revenue)).quantize(Decimal("0.01"))
            for r in df.itertuples()}


def _assert_matches_truth(database: str, truth_db: str | None) -> None:
    truth = ground_truth(database=truth_db)
    got = _athena_revenue(database)
    expected = {c.strip(): v.quantize(Decimal("0.01")) for c, v in truth.revenue_by_country.items()}
    assert got == expected
    lines = wr.athena.read_sql_query("SELECT COUNT(*) AS n FROM fact_orders", database=database)
    assert int(lines["n"][0]) == truth.order_lines


def _assert_ok(run: dict) -> None:
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")


def test_sf1_lab_defaults_end_to_end(lab: Settings) -> None:
    """The lab exactly as a learner runs it: default job arguments, the lab's crawler."""
    glue = boto3.client("glue")
    run_id = glue.start_job_run(JobName=GLUE_JOB)["JobRunId"]
    run = wait_for_job_run(run_id, poll_seconds=0.2, echo=lambda _: None)
    assert run["ExecutionTime"] >= 0
    _crawl(GLUE_CRAWLER)
    tables = {t["Name"] for t in glue.get_tables(DatabaseName=GLUE_DATABASE)["TableList"]}
    assert {"fact_orders", "dim_customers", "dim_products", "dim_locations"} <= tables
    _assert_matches_truth(GLUE_DATABASE, truth_db=None)


@pytest.fixture(scope="module")
def sf10_source() -> Iterator[str]:
    with scratch_database("e2e_sf10") as name:
        load_tables(generate(10), database=name)
        yield name


def test_sf10_end_to_end(lab: Settings, sf10_source: str) -> None:
    target = f"s3://{lab.data_lake_bucket}/e2e/sf10/gold"
    database, crawler = _crawler_for("sf10", target)
    _assert_ok(_run_job({"--db_secret": _secret_for("sf10", sf10_source), "--target_path": target}))
    _crawl(crawler)
    _assert_matches_truth(database, truth_db=sf10_source)


def test_quirks_dump_end_to_end(lab: Settings) -> None:
    with scratch_database("e2e_quirks") as name:
        load_dump(QUIRKS_DUMP, database=name)
        target = f"s3://{lab.data_lake_bucket}/e2e/quirks/gold"
        database, crawler = _crawler_for("quirks", target)
        _assert_ok(_run_job({"--db_secret": _secret_for("quirks", name), "--target_path": target}))
        _crawl(crawler)
        _assert_matches_truth(database, truth_db=name)


def test_rerun_is_idempotent(lab: Settings, sf10_source: str) -> None:
    target = f"s3://{lab.data_lake_bucket}/e2e/sf10/gold"
    database, _ = _crawler_for("sf10", target)
    args = {"--db_secret": _secret_for("sf10", sf10_source), "--target_path": target}
    _assert_ok(_run_job(args))
    before = _athena_revenue(database)
    _assert_ok(_run_job(args))
    assert _athena_revenue(database) == before
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(
        Bucket=lab.data_lake_bucket, Prefix="e2e/sf10/gold/fact_orders/").get("Contents", [])]
    assert len(keys) == 1, f"duplicates after a re-run: {keys}"


def test_wrong_password_fails_with_actionable_message(lab: Settings) -> None:
    target = f"s3://{lab.data_lake_bucket}/e2e/badpw/gold"
    secret = _secret_for("badpw", lab.db_name, password="not-the-password")  # noqa: S106
    run = _run_job({"--db_secret": secret, "--target_path": target})
    assert run["JobRunState"] == "FAILED"
    assert "access denied" in run["ErrorMessage"]
    assert "password" in run["ErrorMessage"]


def test_database_down_mid_run_fails_and_keeps_previous_tables(lab: Settings, sf10_source: str) -> None:
    target = f"s3://{lab.data_lake_bucket}/e2e/sf10/gold"
    database, crawler = _crawler_for("sf10", target)
    _assert_ok(_run_job({"--db_secret": _secret_for("sf10", sf10_source), "--target_path": target}))
    _crawl(crawler)
    before = _athena_revenue(database)

    proxy = TcpProxy((lab.db_host, lab.db_port), cut_after=300_000)
    run = _run_job({"--db_secret": _secret_for("sf10-proxy", sf10_source, port=proxy.port),
                    "--target_path": target})
    assert proxy.cut.is_set(), f"the proxy never cut ({proxy.sent} bytes sent): {run}"
    assert run["JobRunState"] == "FAILED"
    assert "connection to MariaDB" in run["ErrorMessage"], run["ErrorMessage"]
    assert _athena_revenue(database) == before  # the previous good tables are still served


def test_stopped_run_leaves_previous_tables_queryable(lab: Settings, sf10_source: str) -> None:
    target = f"s3://{lab.data_lake_bucket}/e2e/sf10/gold"
    database, crawler = _crawler_for("sf10", target)
    _assert_ok(_run_job({"--db_secret": _secret_for("sf10", sf10_source), "--target_path": target}))
    _crawl(crawler)
    before = _athena_revenue(database)

    slow = TcpProxy((lab.db_host, lab.db_port), delay=0.05)  # a slow source: time to kill the job
    glue = boto3.client("glue")
    run_id = glue.start_job_run(JobName=GLUE_JOB, Arguments={
        "--db_secret": _secret_for("sf10-slow", sf10_source, port=slow.port),
        "--target_path": target})["JobRunId"]
    while glue.get_job_run(JobName=GLUE_JOB, RunId=run_id)["JobRun"]["JobRunState"] != "RUNNING":
        time.sleep(0.05)
    time.sleep(1.0)
    glue.batch_stop_job_run(JobName=GLUE_JOB, JobRunIds=[run_id])
    deadline = time.monotonic() + 30
    while (state := glue.get_job_run(JobName=GLUE_JOB, RunId=run_id)["JobRun"]["JobRunState"]) not in (
            "STOPPED", "SUCCEEDED", "FAILED"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    slow.close()
    assert state == "STOPPED"
    assert _athena_revenue(database) == before
    staged = boto3.client("s3").list_objects_v2(Bucket=lab.data_lake_bucket, Prefix="e2e/sf10/gold/")
    assert all(o["Key"].endswith(".parquet") for o in staged.get("Contents", []))


def test_make_demo_reconciles_and_draws(lab: Settings, tmp_path) -> None:
    from utils.demo import run_demo

    summary = run_demo(tmp_path)
    assert summary["job_state"] == "SUCCEEDED"
    assert summary["reconciled"], summary
    for name in ("revenue_by_country.png", "top_products.png", "summary.json"):
        assert (tmp_path / name).stat().st_size > 1000 or name == "summary.json"
