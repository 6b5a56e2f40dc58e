"""Exercises 6-8 of the C1W2 lab, part 2, graded on REAL Glue job runs (in-process local cloud).

Each SQL below is run once by the job, as the lab runs it (uploaded to S3, named in StartJobRun's
Arguments), against a scratch SF1 source and a target path of its own; the graders then find
those runs by the SQL alone. Every grader is proven: the solution passes, the placeholder is
"not done", realistic mistakes fail naming the mistake, a right answer written differently passes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tests.lessons.exercise_helpers import assert_grader_proven
from utils.config import GLUE_JOB, get_settings
from utils.teaching import lab_c1w2 as lab
from utils.teaching.exercises import lab_c1w2_2 as part2
from utils.teaching.exercises.lab_c1w2_2 import (
    COLLEAGUE_DIM_PRODUCTS_SQL,
    grade_dim_products_fix,
    grade_fact_orders_transform,
    grade_failed_check,
)

FACT = """
SELECT
    od.orderNumber, od.orderLineNumber, o.customerNumber, c.locationKey, od.productCode,
    o.orderDate, o.requiredDate, o.shippedDate, o.status, o.comments,
    od.quantityOrdered, od.priceEach,
    od.quantityOrdered * od.priceEach AS orderAmount,
    p.buyPrice, p.MSRP
FROM orderdetails AS od
LEFT JOIN orders AS o ON o.orderNumber = od.orderNumber
LEFT JOIN stg_customers AS c ON c.customerNumber = o.customerNumber
LEFT JOIN products AS p ON p.productCode = od.productCode
"""
# Right, written differently: a CTE, USING joins, other case and column order, explicit casts.
FACT_EQUIVALENT = """
WITH lines AS (SELECT * FROM orderdetails)
SELECT msrp, buyprice, CAST(quantityordered * priceeach AS DECIMAL(18, 2)) AS orderamount,
       CAST(priceeach AS DECIMAL(10, 2)) AS priceeach, quantityordered, comments, status,
       shippeddate, requireddate, orderdate, productcode, stg_customers.locationkey,
       orders.customernumber, CAST(orderlinenumber AS INTEGER) AS orderlinenumber, ordernumber
FROM lines
LEFT JOIN orders USING (orderNumber)
LEFT JOIN stg_customers ON stg_customers.customerNumber = orders.customerNumber
LEFT JOIN products USING (productCode);
"""
# Part 1's mistake: the location found by postal code, which several customers share.
FACT_POSTAL_CODE = FACT.replace(
    "LEFT JOIN stg_customers AS c ON c.customerNumber = o.customerNumber",
    "LEFT JOIN customers AS cu ON cu.customerNumber = o.customerNumber\n"
    "LEFT JOIN stg_customers AS c ON c.postalCode = cu.postalCode")
FACT_FLOAT_MONEY = FACT.replace("od.quantityOrdered * od.priceEach AS orderAmount",
                                "od.quantityOrdered * CAST(od.priceEach AS DOUBLE) AS orderAmount")
FACT_SWAPPED_DATES = FACT.replace("o.requiredDate, o.shippedDate",
                                  "o.shippedDate AS requiredDate, o.requiredDate AS shippedDate")

FIX = """
SELECT p.productCode, p.productName, p.productLine, p.productScale, p.productVendor,
       p.productDescription, pl.textDescription AS productLineDescription
FROM products AS p
LEFT JOIN productlines AS pl ON pl.productLine = p.productLine
"""
FIX_EQUIVALENT = """
SELECT productcode, productname, productline, productscale, productvendor, productdescription,
       (SELECT textDescription FROM productlines AS l WHERE l.productLine = products.productLine)
           AS productlinedescription
FROM products
"""
FIX_WITHOUT_DESCRIPTION = """
SELECT productCode, productName, productLine, productScale, productVendor, productDescription
FROM products
"""
FIX_NAME_AS_DESCRIPTION = FIX.replace("pl.textDescription AS productLineDescription",
                                      "pl.productLine AS productLineDescription")

# Runs, in order: a name, then the SQL given for each table.
RUNS: list[tuple[str, dict[str, str]]] = [
    ("solution", {"fact_orders": FACT, "dim_products": FIX}),
    ("equivalent", {"fact_orders": FACT_EQUIVALENT, "dim_products": FIX_EQUIVALENT}),
    ("postal code", {"fact_orders": FACT_POSTAL_CODE}),
    ("float money", {"fact_orders": FACT_FLOAT_MONEY}),
    ("colleague", {"dim_products": COLLEAGUE_DIM_PRODUCTS_SQL}),
    ("no description", {"dim_products": FIX_WITHOUT_DESCRIPTION}),
    ("swapped dates", {"fact_orders": FACT_SWAPPED_DATES}),
    ("name as description", {"dim_products": FIX_NAME_AS_DESCRIPTION}),
]


@pytest.fixture(scope="module")
def runs(local_cloud: str, source_db: str) -> dict[str, dict[str, Any]]:
    """Every run of RUNS, finished, with the fact table published after it (checksums)."""
    from utils.classicmodels.testing import require_server
    from utils.cloud import provision

    require_server()
    provision.apply(verbose=False)
    settings = get_settings()
    secret = f"part2-tests/{source_db}"
    value = {"host": settings.db_host, "port": settings.db_port, "dbname": source_db,
             "username": settings.db_admin_user, "password": settings.db_admin_password}
    client = boto3.client("secretsmanager")
    try:
        client.create_secret(Name=secret, SecretString=json.dumps(value))
    except client.exceptions.ResourceExistsException:
        client.put_secret_value(SecretId=secret, SecretString=json.dumps(value))
    lake = f"s3://{settings.data_lake_bucket}/part2-tests"
    base = {"--db_secret": secret, "--target_path": f"{lake}/gold", "--staging_path": f"{lake}/etl-staging"}
    finished = {}
    for name, given in RUNS:
        arguments = dict(base)
        for table, sql in given.items():
            arguments[f"--{table}_sql_uri"] = lab.upload_transform(table, sql)
        run_id = lab.start_job_run(GLUE_JOB, arguments)
        run = lab.wait_for_job_run(run_id, poll_seconds=0.2, echo=lambda _: None, check=False)
        run["published fact"] = part2.published_checksums("fact_orders", base, boto3.client("s3"))
        finished[name] = run
    return finished


def test_the_job_is_the_first_judge(runs: dict[str, dict[str, Any]]) -> None:
    states = {name: run["JobRunState"] for name, run in runs.items()}
    assert states == {"solution": "SUCCEEDED", "equivalent": "SUCCEEDED", "postal code": "FAILED",
                      "float money": "FAILED", "colleague": "FAILED", "no description": "FAILED",
                      "swapped dates": "SUCCEEDED", "name as description": "SUCCEEDED"}, runs
    assert "reconcile" in runs["postal code"]["ErrorMessage"]
    assert "orderAmount is DOUBLE" in runs["float money"]["ErrorMessage"]
    # A failed run publishes nothing: the previous tables stay.
    assert runs["postal code"]["published fact"] == runs["equivalent"]["published fact"]
    assert runs["float money"]["published fact"] == runs["equivalent"]["published fact"]


def test_exercise_6_the_fact_tables_select_is_proven(runs: dict[str, dict[str, Any]]) -> None:
    assert_grader_proven(
        grade_fact_orders_transform,
        solution=FACT,
        mistakes=[(FACT_POSTAL_CODE, "makes duplicates"),
                  (FACT_FLOAT_MONEY, "orderAmount is DOUBLE"),
                  (FACT_SWAPPED_DATES, "requiredDate should be orders.requiredDate")],
        equivalents=[FACT_EQUIVALENT],
    )


def test_exercise_7_reading_the_log_is_proven(runs: dict[str, dict[str, Any]]) -> None:
    failed_line = next(line for line in lab.job_log(runs["colleague"]["Id"]) if " FAIL " in line)
    assert_grader_proven(
        grade_failed_check,
        solution="dim_products.productCode unique and not null",
        mistakes=[("reconcile", "the step that failed"),
                  ("fact rows == source order lines", "passed in that run"),
                  ("The star schema does not reconcile with the source", "headline"),
                  ("productCode", "close")],
        equivalents=[failed_line, "  DIM_PRODUCTS.PRODUCTCODE UNIQUE AND NOT NULL:  "],
    )


def test_exercise_8_the_fix_is_proven(runs: dict[str, dict[str, Any]]) -> None:
    assert_grader_proven(
        grade_dim_products_fix,
        solution=FIX,
        mistakes=[(COLLEAGUE_DIM_PRODUCTS_SQL, "still your colleague's SQL"),
                  (FIX_WITHOUT_DESCRIPTION, "missing column productLineDescription"),
                  (FIX_NAME_AS_DESCRIPTION, "productLineDescription should be productlines.textDescription")],
        equivalents=[FIX_EQUIVALENT],
    )


@pytest.mark.parametrize(("grade", "sql"), [(grade_fact_orders_transform, "SELECT 1 AS never_run"),
                                            (grade_dim_products_fix, "SELECT 2 AS never_run")])
def test_sql_that_no_run_used_is_not_graded_right(runs: dict[str, dict[str, Any]],
                                                  grade: Callable[..., Any], sql: str) -> None:
    result = grade(sql)
    assert not result.passed and "No run of the job has used this SQL" in result.feedback


def test_the_gradebook_looks_only_at_the_runs_of_the_submissions_target(runs: dict[str, Any]) -> None:
    """In the gradebook each submission's runs publish to its own target (the gateway adds it): another
    learner's run of the same SQL is not this learner's."""
    own = f"s3://{get_settings().data_lake_bucket}/part2-tests/gold"
    assert grade_fact_orders_transform(FACT, target_path=own).passed
    assert grade_dim_products_fix(FIX, target_path=own).passed
    elsewhere = f"s3://{get_settings().data_lake_bucket}/grading/x/gold"
    other = grade_fact_orders_transform(FACT, target_path=elsewhere)
    assert not other.passed and "No run of the job has used this SQL" in other.feedback


def test_a_lab_problem_is_not_blamed_on_the_answer(runs: dict[str, dict[str, Any]],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(*_args: Any, **_kwargs: Any) -> Any:
        raise lab.LabError("The local cloud at 127.0.0.1:1 is not answering: run `make up`.")

    monkeypatch.setattr(part2, "newest_run", unreachable)
    result = grade_fact_orders_transform(FACT)
    assert not result.passed
    assert result.feedback.startswith("Could not grade this exercise (not a mistake in your answer): "
                                      "the local cloud")


# ------------------------------------------------------------------ the lab helpers, without a cloud


class FakeGlue:
    """Records start_job_run; answers get_job_run with one final state."""

    def __init__(self, state: str = "SUCCEEDED") -> None:
        self.state, self.started = state, []

    def start_job_run(self, **kwargs: Any) -> dict[str, str]:
        self.started.append(kwargs)
        return {"JobRunId": "jr_1"}

    def get_job_run(self, JobName: str, RunId: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        return {"JobRun": {"Id": RunId, "JobRunState": self.state, "ErrorMessage": "ERROR: it broke"}}


class FakeS3:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put_object(self, Bucket: str, Key: str, Body: bytes, **_: Any) -> None:  # noqa: N803
        self.objects[f"s3://{Bucket}/{Key}"] = Body


def test_the_sql_goes_to_a_content_addressed_key_and_into_the_runs_arguments() -> None:
    glue, s3, said = FakeGlue(), FakeS3(), []
    run_id = lab.run_transform("fact_orders", FACT, glue=glue, s3=s3, echo=said.append,
                               arguments={"--target_path": "s3://b/gold"})
    uri = lab.transform_uri("fact_orders", FACT)
    assert run_id == "jr_1" and s3.objects == {uri: FACT.encode()}
    assert uri.endswith(f"/transforms/fact_orders-{hashlib.sha256(FACT.encode()).hexdigest()[:16]}.sql")
    assert glue.started == [{"JobName": GLUE_JOB, "Arguments": {"--target_path": "s3://b/gold",
                                                                "--fact_orders_sql_uri": uri}}]
    assert lab.transform_uri("fact_orders", FACT + " ") != uri, "other SQL, another object"


def test_no_sql_yet_runs_the_jobs_own_sql() -> None:
    glue, said = FakeGlue(), []
    lab.run_transform("fact_orders", None, glue=glue, s3=FakeS3(), echo=said.append)
    assert glue.started == [{"JobName": GLUE_JOB}]
    assert "built-in SQL" in said[0]
    with pytest.raises(lab.LabError, match="should be a string"):
        lab.run_transform("fact_orders", 42, glue=glue, s3=FakeS3())  # type: ignore[arg-type]


def test_waiting_for_a_failed_run_can_report_instead_of_raising() -> None:
    said: list[str] = []
    run = lab.wait_for_job_run("jr_1", glue=FakeGlue("FAILED"), echo=said.append, check=False,
                               sleep=lambda _: None)
    assert run["JobRunState"] == "FAILED"
    assert "ended FAILED: ERROR: it broke" in said[-1] and "job_log('jr_1', errors=True)" in said[-1]
    with pytest.raises(lab.LabError, match="ended FAILED"):
        lab.wait_for_job_run("jr_1", glue=FakeGlue("FAILED"), echo=said.append, sleep=lambda _: None)
