"""Glue job runs really run their script from S3, over real HTTP (boto3 and the aws CLI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from utils.cloud.glue import jobs

AWS_CLI = str(Path(sys.executable).with_name("aws"))
BUCKET = "glue-jobs-test-scripts"
FINAL = ("SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR")

WRITE_PARQUET = """
import io, sys
import boto3
import pyarrow as pa, pyarrow.parquet as pq
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["JOB_NAME", "target_bucket", "target_key", "greeting"])
buf = io.BytesIO()
pq.write_table(pa.table({"id": [1, 2, 3], "name": ["a", "b", "c"]}), buf)
boto3.client("s3").put_object(Bucket=args["target_bucket"], Key=args["target_key"], Body=buf.getvalue())
try:
    import utils  # noqa: F401 - AWS Glue would not have the project's package
    print("project importable")
except ImportError:
    print("project not importable")
print(f"{args['greeting']} from {args['JOB_NAME']}: wrote s3://{args['target_bucket']}/{args['target_key']}")
"""

FAIL = """
import sys
print("starting")
print("about to fail", file=sys.stderr)
def transform():
    raise ValueError("boom")
transform()
"""

SLEEP = """
import sys, time
print("sleeping", flush=True)
time.sleep(float(sys.argv[sys.argv.index("--seconds") + 1]))
print("awake")
"""


@pytest.fixture(scope="module")
def glue(local_cloud: str) -> Any:
    """A Glue client, with the scripts bucket created."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    return boto3.client("glue")


def make_job(glue: Any, source: str, **job: Any) -> str:
    """Upload a script and create a job running it; return the job name."""
    name = f"test-job-{uuid.uuid4().hex[:8]}"
    key = f"scripts/{name}.py"
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=source.encode())
    glue.create_job(Name=name, Role="arn:aws:iam::123456789012:role/glue",
                    Command={"Name": "pythonshell", "ScriptLocation": f"s3://{BUCKET}/{key}",
                             "PythonVersion": "3.9"}, **job)
    return name


def wait_run(glue: Any, job: str, run_id: str, timeout: float = 60) -> dict[str, Any]:
    """Poll GetJobRun until the run reaches a final state."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]
        if run["JobRunState"] in FINAL:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish in {timeout}s")


def log_messages(group: str, stream: str) -> list[str]:
    events = boto3.client("logs").get_log_events(logGroupName=group, logStreamName=stream,
                                                 startFromHead=True)["events"]
    return [e["message"] for e in events]


def log_messages_or_none(group: str, stream: str) -> list[str]:
    """Messages of a stream, or [] while the stream does not exist yet."""
    try:
        return log_messages(group, stream)
    except boto3.client("logs").exceptions.ResourceNotFoundException:
        return []


def test_run_writes_parquet_and_succeeds(glue: Any) -> None:
    job = make_job(glue, WRITE_PARQUET, DefaultArguments={
        "--target_bucket": BUCKET, "--target_key": "out/default.parquet", "--greeting": "hello"})
    t0 = time.monotonic()
    run_id = glue.start_job_run(JobName=job, Arguments={"--target_key": "out/run.parquet"})["JobRunId"]
    assert run_id.startswith("jr_")
    assert glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]["JobRunState"] in ("STARTING", "RUNNING")
    run = wait_run(glue, job, run_id)
    latency = time.monotonic() - t0
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    assert run["Arguments"] == {"--target_key": "out/run.parquet"}  # the run's own, as AWS shows
    assert run["JobName"] == job and run["Id"] == run_id and run["Attempt"] == 0
    assert run["StartedOn"] <= run["LastModifiedOn"] and run["CompletedOn"] >= run["StartedOn"]
    print(f"StartJobRun -> SUCCEEDED latency: {latency:.2f}s")

    import io

    import pyarrow.parquet as pq

    body = boto3.client("s3").get_object(Bucket=BUCKET, Key="out/run.parquet")["Body"].read()
    assert pq.read_table(io.BytesIO(body)).num_rows == 3  # the run's argument won over the default

    output = log_messages("/aws-glue/jobs/output", run_id)
    assert f"hello from {job}: wrote s3://{BUCKET}/out/run.parquet" in output
    assert "project not importable" in output


def test_failing_script_reports_its_error(glue: Any) -> None:
    job = make_job(glue, FAIL)
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    run = wait_run(glue, job, run_id)
    assert run["JobRunState"] == "FAILED"
    assert "ValueError: boom" in run["ErrorMessage"]
    assert run["CompletedOn"] >= run["StartedOn"]
    errors = log_messages("/aws-glue/jobs/error", run_id)
    assert errors[0] == "about to fail"
    assert any("Traceback" in line for line in errors) and errors[-1] == "ValueError: boom"
    assert log_messages("/aws-glue/jobs/output", run_id) == ["starting"]


def test_history_timing_and_concurrency(glue: Any) -> None:
    job = make_job(glue, SLEEP, DefaultArguments={"--seconds": "1.2"})
    first = glue.start_job_run(JobName=job)["JobRunId"]
    with pytest.raises(glue.exceptions.ConcurrentRunsExceededException, match="MaxConcurrentRuns"):
        glue.start_job_run(JobName=job)
    run = wait_run(glue, job, first)
    assert run["JobRunState"] == "SUCCEEDED"
    assert 1 <= run["ExecutionTime"] <= 10
    assert (run["CompletedOn"] - run["StartedOn"]).total_seconds() >= 1.2
    second = glue.start_job_run(JobName=job, Arguments={"--seconds": "0"})["JobRunId"]
    wait_run(glue, job, second)
    history = glue.get_job_runs(JobName=job)["JobRuns"]
    assert [r["Id"] for r in history] == [second, first]  # newest first
    assert history[0]["ExecutionTime"] < history[1]["ExecutionTime"] or history[0]["ExecutionTime"] == 0


def test_timeout_kills_the_script(glue: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "SECONDS_PER_MINUTE", 0.5)  # Timeout=1 "minute" = 0.5 s here
    job = make_job(glue, SLEEP, Timeout=1, DefaultArguments={"--seconds": "30"})
    t0 = time.monotonic()
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    run = wait_run(glue, job, run_id, timeout=20)
    assert run["JobRunState"] == "TIMEOUT"
    assert "timed out" in run["ErrorMessage"]
    assert time.monotonic() - t0 < 10
    assert "sleeping" in log_messages("/aws-glue/jobs/output", run_id)


def test_output_streams_while_running_and_stop(glue: Any) -> None:
    job = make_job(glue, SLEEP, DefaultArguments={"--seconds": "30"})
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    deadline = time.monotonic() + 20
    while glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]["JobRunState"] != "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    while "sleeping" not in log_messages_or_none("/aws-glue/jobs/output", run_id):
        assert time.monotonic() < deadline, "output was not streamed while the job ran"
        time.sleep(0.05)
    answer = glue.batch_stop_job_run(JobName=job, JobRunIds=[run_id, "jr_unknown"])
    assert [s["JobRunId"] for s in answer["SuccessfulSubmissions"]] == [run_id]
    assert answer["Errors"][0]["JobRunId"] == "jr_unknown"
    assert wait_run(glue, job, run_id, timeout=10)["JobRunState"] == "STOPPED"


def test_missing_script_fails_with_a_clear_message(glue: Any) -> None:
    name = f"test-job-{uuid.uuid4().hex[:8]}"
    glue.create_job(Name=name, Role="r", Command={"Name": "pythonshell",
                                                  "ScriptLocation": f"s3://{BUCKET}/nope/{name}.py"})
    run = wait_run(glue, name, glue.start_job_run(JobName=name)["JobRunId"])
    assert run["JobRunState"] == "FAILED"
    assert f"s3://{BUCKET}/nope/{name}.py not found" in run["ErrorMessage"]
    assert "aws s3 cp" in run["ErrorMessage"]


def test_extra_py_files_are_importable(glue: Any) -> None:
    boto3.client("s3").put_object(Bucket=BUCKET, Key="libs/lab_helpers.py",
                                  Body=b"def greet():\n    return 'hello from a helper'\n")
    job = make_job(glue, "import lab_helpers\nprint(lab_helpers.greet())\n",
                   DefaultArguments={"--extra-py-files": f"s3://{BUCKET}/libs/lab_helpers.py"})
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    assert wait_run(glue, job, run_id)["JobRunState"] == "SUCCEEDED"
    assert log_messages("/aws-glue/jobs/output", run_id) == ["hello from a helper"]


def test_failed_run_is_retried_up_to_max_retries(glue: Any) -> None:
    job = make_job(glue, FAIL, MaxRetries=1)
    first = glue.start_job_run(JobName=job)["JobRunId"]
    assert wait_run(glue, job, first)["JobRunState"] == "FAILED"
    deadline = time.monotonic() + 30
    while len(runs := glue.get_job_runs(JobName=job)["JobRuns"]) < 2 \
            or runs[0]["JobRunState"] not in FINAL:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    retry = runs[0]
    assert (retry["Attempt"], retry["PreviousRunId"], retry["JobRunState"]) == (1, first, "FAILED")
    assert len(glue.get_job_runs(JobName=job)["JobRuns"]) == 2  # no third attempt


def test_unknown_job_is_entity_not_found(glue: Any) -> None:
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.start_job_run(JobName="no-such-job")


def aws(*args: str) -> str:
    """Run the real aws CLI against the local cloud (the environment points at it)."""
    done = subprocess.run([AWS_CLI, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "AWS_PAGER": ""})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_aws_cli_runs_a_job_and_reads_its_logs(glue: Any) -> None:
    job = make_job(glue, FAIL)
    run_id = json.loads(aws("glue", "start-job-run", "--job-name", job))["JobRunId"]
    deadline = time.monotonic() + 60
    state = ""
    while state not in FINAL:
        assert time.monotonic() < deadline
        state = aws("glue", "get-job-run", "--job-name", job, "--run-id", run_id,
                    "--output", "text", "--query", "JobRun.JobRunState").strip()
    assert state == "FAILED"
    events = json.loads(aws("logs", "get-log-events", "--log-group-name", "/aws-glue/jobs/error",
                            "--log-stream-name", run_id, "--start-from-head"))["events"]
    assert events[-1]["message"] == "ValueError: boom"
    out = aws("logs", "get-log-events", "--log-group-name", "/aws-glue/jobs/output",
              "--log-stream-name", run_id, "--output", "text", "--query", "events[].message")
    assert out.strip() == "starting"
    # `aws logs tail` is aws-cli v2 only; v1 (PyPI) filters events instead
    found = aws("logs", "filter-log-events", "--log-group-name", "/aws-glue/jobs/error",
                "--log-stream-names", run_id, "--filter-pattern", "ValueError",
                "--output", "text", "--query", "events[].message")
    assert "ValueError: boom" in [m.strip() for m in found.split("\t")]


def test_get_resolved_options_reads_glue_arguments() -> None:
    from utils.cloud.glue.runtime.awsglue.utils import GlueArgumentError, getResolvedOptions

    argv = ["script.py", "--JOB_NAME", "j", "--JOB_RUN_ID", "jr_1", "--target_path", "s3://b/gold",
            "--extra", "ignored"]
    assert getResolvedOptions(argv, ["JOB_NAME", "target_path"]) == {
        "JOB_NAME": "j", "target_path": "s3://b/gold", "JOB_RUN_ID": "jr_1"}
    with pytest.raises(GlueArgumentError, match="--glue_database"):
        getResolvedOptions(argv, ["glue_database"])


def test_error_message_keeps_a_multi_line_messages_headline() -> None:
    from utils.cloud.glue.jobs import error_line

    stderr = ["[extract] reading", "ERROR: The star schema does not reconcile; nothing was published:",
              "  fact_orders.productCode found in dim_products: 1 fact row(s) without a match"]
    assert error_line(stderr, 1) == ("ERROR: The star schema does not reconcile; nothing was published: "
                                     "fact_orders.productCode found in dim_products: 1 fact row(s) "
                                     "without a match")
    assert error_line(["ValueError: boom"], 1) == "ValueError: boom"
    assert error_line([], 3) == "Command failed with exit code 3"
    assert error_line(["x" * 5000], 1).endswith("...")


def test_update_job_raises_max_concurrent_runs(glue: Any) -> None:
    """UpdateJob replaces the definition; StartJobRun honours the new MaxConcurrentRuns."""
    job = make_job(glue, SLEEP, DefaultArguments={"--seconds": "30"})
    first = glue.start_job_run(JobName=job)["JobRunId"]
    with pytest.raises(glue.exceptions.ConcurrentRunsExceededException):
        glue.start_job_run(JobName=job)
    current = glue.get_job(JobName=job)["Job"]
    glue.update_job(JobName=job, JobUpdate={
        "Role": current["Role"], "Command": current["Command"],
        "DefaultArguments": current["DefaultArguments"], "ExecutionProperty": {"MaxConcurrentRuns": 2}})
    updated = glue.get_job(JobName=job)["Job"]
    assert updated["ExecutionProperty"] == {"MaxConcurrentRuns": 2}
    assert updated["LastModifiedOn"] >= current["LastModifiedOn"]
    second = glue.start_job_run(JobName=job)["JobRunId"]
    with pytest.raises(glue.exceptions.ConcurrentRunsExceededException, match="MaxConcurrentRuns is 2"):
        glue.start_job_run(JobName=job)
    stopped = glue.batch_stop_job_run(JobName=job, JobRunIds=[first, second])
    assert len(stopped["SuccessfulSubmissions"]) == 2
    assert {wait_run(glue, job, r)["JobRunState"] for r in (first, second)} == {"STOPPED"}


def test_update_job_overwrites_the_whole_definition(glue: Any) -> None:
    job = make_job(glue, SLEEP, DefaultArguments={"--seconds": "0"}, Description="before")
    with pytest.raises(glue.exceptions.InvalidInputException, match="Command is required"):
        glue.update_job(JobName=job, JobUpdate={"Role": "arn:aws:iam::123456789012:role/glue"})
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.update_job(JobName="no-such-job", JobUpdate={"Role": "r", "Command": {"Name": "x"}})
    current = glue.get_job(JobName=job)["Job"]
    glue.update_job(JobName=job, JobUpdate={"Role": current["Role"], "Command": current["Command"],
                                            "Timeout": 7})
    updated = glue.get_job(JobName=job)["Job"]
    assert updated["Timeout"] == 7
    assert "Description" not in updated and not updated.get("DefaultArguments")  # reset, as on AWS
