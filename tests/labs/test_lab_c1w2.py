"""The lab helpers' logic with stand-in AWS clients: polling, logs, errors, the ER diagram.

The real calls are exercised end to end by the solution notebooks (tests/notebooks).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import pytest
from botocore.exceptions import ClientError

from utils.teaching import lab_c1w2 as lab


class Clock:
    """A fake monotonic clock that advances only when the code sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class FakeGlue:
    """Answers get_job_run / get_crawler from scripted state sequences."""

    def __init__(self, job_states: list[str] | None = None, crawler_states: list[dict] | None = None,
                 error_message: str = "") -> None:
        self.job_states = list(job_states or [])
        self.crawler_states = list(crawler_states or [])
        self.error_message = error_message
        self.started_crawler = False

    def get_job_run(self, JobName: str, RunId: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        state = self.job_states.pop(0) if len(self.job_states) > 1 else self.job_states[0]
        run = {"Id": RunId, "JobRunState": state, "ExecutionTime": 3}
        if state == "FAILED":
            run["ErrorMessage"] = self.error_message
        return {"JobRun": run}

    def get_crawler(self, Name: str) -> dict[str, Any]:  # noqa: N803
        state = self.crawler_states.pop(0) if len(self.crawler_states) > 1 else self.crawler_states[0]
        return {"Crawler": {"Name": Name, **state}}

    def start_crawler(self, Name: str) -> None:  # noqa: N803
        self.started_crawler = True


def poll_kwargs(clock: Clock, lines: list[str]) -> dict[str, Any]:
    return {"clock": clock, "sleep": clock.sleep, "echo": lines.append, "poll_seconds": 2.0}


def test_wait_for_job_run_prints_one_line_per_state_change() -> None:
    clock, lines = Clock(), []
    glue = FakeGlue(["STARTING", "RUNNING", "RUNNING", "RUNNING", "SUCCEEDED"])
    run = lab.wait_for_job_run("jr_1", "job", glue=glue, **poll_kwargs(clock, lines))
    assert run["JobRunState"] == "SUCCEEDED"
    assert lines[:3] == ["[   0.0s] job: STARTING", "[   2.0s] job: RUNNING", "[   8.0s] job: SUCCEEDED"]
    assert "succeeded" in lines[3]


def test_wait_for_job_run_raises_with_glues_error_message() -> None:
    glue = FakeGlue(["RUNNING", "FAILED"], error_message="ReconciliationError: USA differs")
    with pytest.raises(lab.LabError, match="FAILED: ReconciliationError: USA differs.*job_log"):
        lab.wait_for_job_run("jr_1", "job", glue=glue, **poll_kwargs(Clock(), []))


def test_wait_for_job_run_times_out() -> None:
    with pytest.raises(lab.LabError, match="still RUNNING after 10s"):
        lab.wait_for_job_run("jr_1", "job", glue=FakeGlue(["RUNNING"]), timeout_seconds=10,
                             **poll_kwargs(Clock(), []))


OLD = datetime(2026, 1, 1)
NEW = datetime(2026, 1, 2)


def test_run_crawler_waits_for_a_new_crawl_even_when_it_finished_between_polls() -> None:
    done = {"State": "READY", "LastCrawl": {"Status": "SUCCEEDED", "StartTime": NEW}}
    # First call (before starting) sees the previous crawl; the crawl then finishes before the first poll.
    before = {"State": "READY", "LastCrawl": {"Status": "SUCCEEDED", "StartTime": OLD}}
    glue = FakeGlue(crawler_states=[before, done])
    lines: list[str] = []
    last = lab.run_crawler("crawler", glue=glue, **poll_kwargs(Clock(), lines))
    assert glue.started_crawler and last["StartTime"] == NEW
    assert lines == ["[   0.0s] crawler: READY", "Last crawl: SUCCEEDED."]


def test_wait_for_crawler_ignores_the_previous_crawl() -> None:
    previous = {"State": "READY", "LastCrawl": {"Status": "SUCCEEDED", "StartTime": OLD}}
    finished = {"State": "READY", "LastCrawl": {"Status": "SUCCEEDED", "StartTime": NEW}}
    glue = FakeGlue(crawler_states=[previous, {"State": "RUNNING", "LastCrawl": previous["LastCrawl"]},
                                    {"State": "STOPPING"}, finished])
    lines: list[str] = []
    lab.wait_for_crawler("crawler", previous_crawl_start=OLD, glue=glue, **poll_kwargs(Clock(), lines))
    assert [line.split(": ")[-1] for line in lines[:-1]] == ["READY", "RUNNING", "STOPPING", "READY"]


def test_wait_for_crawler_reports_a_failed_crawl() -> None:
    failed = {"Status": "FAILED", "StartTime": NEW, "ErrorMessage": "no Parquet files",
              "LogGroup": "/aws-glue/crawlers"}
    glue = FakeGlue(crawler_states=[{"State": "READY", "LastCrawl": failed}])
    with pytest.raises(lab.LabError, match="FAILED: no Parquet files"):
        lab.wait_for_crawler("crawler", glue=glue, **poll_kwargs(Clock(), []))


class FakeLogs:
    """get_log_events in pages of two events; the last page repeats its token, as CloudWatch does."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        self.calls: list[dict[str, Any]] = []

    def get_log_events(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if kwargs["logStreamName"] == "missing":
            error = {"Error": {"Code": "ResourceNotFoundException", "Message": "no"}}
            raise ClientError(error, "GetLogEvents")
        start = int(kwargs.get("nextToken", "f/0").split("/")[1])
        page = self.messages[start:start + 2]
        token = f"f/{start + len(page)}"
        return {"events": [{"message": m + "\n", "timestamp": 0} for m in page], "nextForwardToken": token}


def test_job_log_reads_every_page_from_the_right_group() -> None:
    logs = FakeLogs([f"line {i}" for i in range(5)])
    assert lab.job_log("jr_1", logs=logs) == [f"line {i}" for i in range(5)]
    assert logs.calls[0]["logGroupName"] == "/aws-glue/jobs/output"
    assert lab.job_log("jr_1", logs=logs, limit=2) == ["line 3", "line 4"]
    lab.job_log("jr_1", errors=True, logs=logs)
    assert logs.calls[-1]["logGroupName"] == "/aws-glue/jobs/error"


def test_job_log_of_a_run_without_output_is_empty() -> None:
    assert lab.job_log("missing", logs=FakeLogs([])) == []


class FakeRds:
    def __init__(self, instances: list[dict[str, Any]] | None) -> None:
        self.instances = instances

    def describe_db_instances(self, DBInstanceIdentifier: str) -> dict[str, Any]:  # noqa: N803
        if self.instances is None:
            error = {"Error": {"Code": "DBInstanceNotFound", "Message": "x"}}
            raise ClientError(error, "DescribeDBInstances")
        return {"DBInstances": self.instances}


def test_db_endpoint_reads_address_and_port() -> None:
    rds = FakeRds([{"Endpoint": {"Address": "db.example", "Port": 3306}, "DBInstanceStatus": "available"}])
    assert lab.db_endpoint("de-c1w2-rds", rds=rds) == ("db.example", 3306)


def test_db_endpoint_errors_say_what_to_do() -> None:
    with pytest.raises(lab.LabError, match="make up"):
        lab.db_endpoint("de-c1w2-rds", rds=FakeRds(None))
    with pytest.raises(lab.LabError, match="no endpoint yet"):
        lab.db_endpoint("de-c1w2-rds", rds=FakeRds([{"DBInstanceStatus": "creating"}]))


def test_relational_model_draws_every_table_and_foreign_key() -> None:
    columns = pd.DataFrame([
        ("customers", "customerNumber", "int", False, True, 1),
        ("customers", "city", "varchar(50)", False, False, 2),
        ("orders", "orderNumber", "int", False, True, 1),
        ("orders", "customerNumber", "int", False, False, 2),
        ("audit", "id", "int", False, True, 1),  # not a classicmodels table: placed on the grid
    ], columns=["table_name", "column_name", "column_type", "nullable", "primary_key", "position"])
    fks = pd.DataFrame([("orders", "customerNumber", "customers", "customerNumber", "orders_ibfk_1")],
                       columns=["table_name", "column_name", "referenced_table", "referenced_column",
                                "constraint_name"])
    fig = lab.draw_relational_model(columns, fks, title="mini")
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"customers", "orders", "audit", "customerNumber", "city"} <= texts
    assert "PK" in texts and "FK" in texts
    assert fig.axes[0].get_title() == "mini: 3 tables, 1 foreign keys (arrow: references)"
