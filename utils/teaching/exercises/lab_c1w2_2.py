"""Graders of the week-2 lab, part 2 (``solutions/C1W2_2_etl_pipeline.ipynb``): the learner's work
on the Glue job itself.

6. ``fact_orders_sql``: the learner writes the fact table's SELECT; the job runs it instead of its
   built-in SQL (``--fact_orders_sql_uri``, see :func:`utils.teaching.lab_c1w2.run_transform`).
7. ``failed_check``: a colleague's ``dim_products`` (:data:`COLLEAGUE_DIM_PRODUCTS_SQL`) makes a run
   fail; the learner reads its CloudWatch log and names the reconciliation check that failed.
8. ``dim_products_sql``: the learner fixes the colleague's SQL and re-runs the job to SUCCEEDED.

The job is the first judge: a wrong transform fails the run (the column contract or the
reconciliation, see ``utils/etl/job.py``) and nothing is published. A grader finds the newest
run that was given exactly the learner's SQL (its argument names the SQL's content hash) and
reads, through the AWS APIs only:

- the run's state and its log: the SQL's SHA-256 the job logged, the contract or DuckDB error, the
  ``[reconcile]`` lines (each failed check turned into the mistake that causes it);
- the table the run built, by its per-column checksums in the log, against the table the job's
  built-in SQL builds from the same source (the source the run read, via its ``--db_secret``):
  a column holding other values is named with where it should come from;
- the published table in S3 (``<target_path>/<table>/<table>.parquet``): it must be the run's.

The grader never runs the learner's SQL itself. Positional parameters are the learner's variables;
the keyword-only ones have defaults the grader builds itself (boto3 clients from the environment).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError

from utils.config import GLUE_JOB
from utils.teaching import lab_c1w2 as lab
from utils.teaching.grading import GradeResult, grader
from utils.teaching.registry import declare

NOTEBOOK = "C1W2_2_etl_pipeline"
FINISHED = ("SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR", "EXPIRED")
GRADING_BLOCKED = "Could not grade this exercise (not a mistake in your answer): "

# The fact table's columns and where each comes from (the lab shows this; feedback names it).
FACT_ORDERS_COLUMNS: dict[str, str] = {
    "orderNumber": "orderdetails.orderNumber",
    "orderLineNumber": "orderdetails.orderLineNumber",
    "customerNumber": "orders.customerNumber (the order's customer)",
    "locationKey": "stg_customers.locationKey of the order's customer",
    "productCode": "orderdetails.productCode",
    "orderDate": "orders.orderDate",
    "requiredDate": "orders.requiredDate",
    "shippedDate": "orders.shippedDate",
    "status": "orders.status",
    "comments": "orders.comments",
    "quantityOrdered": "orderdetails.quantityOrdered",
    "priceEach": "orderdetails.priceEach",
    "orderAmount": "quantityOrdered * priceEach of the line",
    "buyPrice": "products.buyPrice of the line's product",
    "MSRP": "products.MSRP of the line's product",
}

DIM_PRODUCTS_COLUMNS: dict[str, str] = {
    "productCode": "products.productCode",
    "productName": "products.productName",
    "productLine": "products.productLine",
    "productScale": "products.productScale",
    "productVendor": "products.productVendor",
    "productDescription": "products.productDescription",
    "productLineDescription": "productlines.textDescription of the product's line",
}

# Exercise 7's broken transform: a colleague wanted only products that have been ordered, and
# used a join as the filter. A product is then repeated once per order line that sold it.
COLLEAGUE_DIM_PRODUCTS_SQL = """\
-- dim_products: the products we have sold
SELECT p.productCode, p.productName, p.productLine, p.productScale, p.productVendor,
       p.productDescription, pl.textDescription AS productLineDescription
FROM products AS p
LEFT JOIN productlines AS pl ON pl.productLine = p.productLine
JOIN orderdetails AS od ON od.productCode = p.productCode
"""

# What the colleague's run reports, when the grader cannot read that run (it never ran).
COLLEAGUE_FAILED_CHECK = "dim_products.productCode unique and not null"

# --------------------------------------------------------------------------------------
# A run's evidence, read from Glue and CloudWatch
# --------------------------------------------------------------------------------------

_GIVEN = re.compile(r"^\[transform\] (\w+): SQL given by --\w+ (\S+) \(sha256 ([0-9a-f]{64})\)$")
_ROWS = re.compile(r"^\[transform\] (\w+): ([\d,]+) rows in [\d.]+ s \(given SQL\)$")
_SUMS = re.compile(r"^\[transform\] (\w+) checksums: (.*)$")
_CHECK = re.compile(r"^\[reconcile\] (ok|FAIL) +(.+?): (.*)$")
_PUBLISHED = re.compile(r"^\[load\] (?:published s3://\S+/(\w+)\.parquet|(\w+): unchanged, kept )")


@dataclass
class RunEvidence:
    """A finished job run: its record, effective arguments and both log streams."""

    run: dict[str, Any]
    arguments: dict[str, str]
    output: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        """The run's id."""
        return str(self.run["Id"])

    @property
    def state(self) -> str:
        """SUCCEEDED, FAILED..."""
        return str(self.run.get("JobRunState"))

    def given_sha(self, table: str) -> str | None:
        """The SHA-256 of the SQL the job says it read for ``table``."""
        for line in self.output:
            match = _GIVEN.match(line)
            if match and match.group(1) == table:
                return match.group(3)
        return None

    def rows(self, table: str) -> int | None:
        """How many rows the given SQL of ``table`` returned."""
        for line in self.output:
            match = _ROWS.match(line)
            if match and match.group(1) == table:
                return int(match.group(2).replace(",", ""))
        return None

    def checksums(self, table: str) -> dict[str, str]:
        """The per-column checksums the job logged for ``table`` (empty when it did not get that far)."""
        for line in self.output:
            match = _SUMS.match(line)
            if match and match.group(1) == table:
                return dict(item.split("=", 1) for item in match.group(2).split())
        return {}

    def checks(self) -> list[tuple[bool, str, str]]:
        """The reconciliation's checks: (passed, name, detail)."""
        found = []
        for line in self.output:
            match = _CHECK.match(line)
            if match:
                found.append((match.group(1) == "ok", match.group(2).strip(), match.group(3).strip()))
        return found

    def published(self) -> set[str]:
        """Tables the run published (or found unchanged) in S3."""
        tables = set()
        for line in self.output:
            match = _PUBLISHED.match(line)
            if match:
                tables.add(match.group(1) or match.group(2))
        return tables

    def error(self) -> str:
        """The job's error message (stderr from ``ERROR:`` on), or Glue's one-line ErrorMessage."""
        lines = [line.rstrip() for line in self.errors if line.strip()]
        starts = [i for i, line in enumerate(lines) if line.startswith("ERROR:")]
        if starts:
            return "\n".join(lines[starts[-1]:]).removeprefix("ERROR:").strip()
        return str(self.run.get("ErrorMessage") or "no error message")


def _clients(glue: Any, logs: Any, s3: Any) -> tuple[Any, Any, Any]:
    return glue or boto3.client("glue"), logs or boto3.client("logs"), s3 or boto3.client("s3")


def evidence_of(run: dict[str, Any], job_name: str = GLUE_JOB, glue: Any = None, logs: Any = None
                ) -> RunEvidence:
    """Read a run's effective arguments (job defaults + run arguments) and its two log streams."""
    glue = glue or boto3.client("glue")
    job = glue.get_job(JobName=job_name)["Job"]
    arguments = {**(job.get("DefaultArguments") or {}), **(run.get("Arguments") or {}),
                 **(job.get("NonOverridableArguments") or {})}
    return RunEvidence(run, arguments, lab.job_log(run["Id"], logs=logs),
                       lab.job_log(run["Id"], errors=True, logs=logs))


def newest_run(table: str, sql: str, job_name: str = GLUE_JOB, glue: Any = None, logs: Any = None,
               target_path: str | None = None) -> RunEvidence | None:
    """The newest run that was given ``sql`` for ``table`` (and published to ``target_path``, when
    given: the gradebook's per-submission target), or None. Raises when it is still running."""
    runs = [run for run in lab.transform_runs(table, sql, job_name, glue=glue)
            if target_path is None or (run.get("Arguments") or {}).get("--target_path") == target_path]
    if not runs:
        return None
    run = runs[0]
    if run.get("JobRunState") not in FINISHED:
        raise AssertionError(f"The run {run['Id']} of this SQL is still {run.get('JobRunState')}: wait "
                             "for it (the cell that waits for the run), then run this cell again.")
    return evidence_of(run, job_name, glue, logs)


def _later_success(evidence: RunEvidence, job_name: str, glue: Any) -> bool:
    """True when a newer run than ``evidence``'s SUCCEEDED (it published over this run's tables)."""
    started = evidence.run.get("StartedOn")
    if started is None:
        return False
    for page in glue.get_paginator("get_job_runs").paginate(JobName=job_name):
        for run in page["JobRuns"]:
            later = run.get("StartedOn") is not None and run["StartedOn"] > started
            if later and run["Id"] != evidence.run_id and run.get("JobRunState") == "SUCCEEDED":
                return True
    return False


# --------------------------------------------------------------------------------------
# What the table should be: the job's built-in SQL over the source the run read
# --------------------------------------------------------------------------------------

def expected_table(table: str, arguments: dict[str, str]) -> Any:
    """The ``table`` the job's built-in SQL builds from the source the run read (its ``--db_secret``)."""
    from utils.etl import job

    secret = arguments.get("--db_secret")
    if not secret:
        raise lab.LabError("the run has no --db_secret argument, so the grader cannot tell which source "
                           "it read")
    try:
        db = job.db_config_from_secret(secret, arguments.get("--region"))
    except Exception as error:  # the secret cannot be read: the lab's setup, not the answer
        raise lab.LabError(f"the grader could not read the secret {secret!r} ({type(error).__name__}); "
                           "run `make up`, then this cell again") from None
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the job's progress lines are not the grader's
            tables, _ = job.check_source_schema(job.extract(db))
            return job.transform(tables, star_sql={table: job.STAR_SQL[table]})[table]
    except job.EtlError as error:
        raise lab.LabError(f"the grader could not read the source: {str(error).splitlines()[0]}") from None


def published_checksums(table: str, arguments: dict[str, str], s3: Any) -> dict[str, str] | None:
    """Checksums of the table published in S3 now, or None when there is none."""
    import pyarrow.parquet as pq

    from utils.etl import job

    target = arguments.get("--target_path", "")
    try:
        bucket, prefix = job.split_s3(target)
        body = s3.get_object(Bucket=bucket, Key=job.table_key(prefix, table))["Body"].read()
    except (job.EtlError, ClientError):
        return None
    return job.column_checksums(pq.read_table(io.BytesIO(body)))


# --------------------------------------------------------------------------------------
# Turning a failed run into the mistake that caused it
# --------------------------------------------------------------------------------------

def _count(text: str, label: str) -> int | None:
    match = re.search(rf"([\d,]+) {label}", text)
    return int(match.group(1).replace(",", "")) if match else None


def _explain_check(table: str, name: str, detail: str, sources: dict[str, str]) -> str:
    """Why a reconciliation check fails, for a transform of ``table``."""
    if name == "fact rows == source order lines":
        rows, lines = _count(detail, "fact rows"), _count(detail, "order lines")
        if rows is not None and lines is not None and rows > lines:
            return (f"Your SQL makes duplicates: {rows - lines:,} more rows than order lines. A join on a "
                    "column that is not unique (a postal code, or anything but the joined table's key) "
                    "repeats the lines that match several rows. Join orders on orderNumber, stg_customers "
                    "on customerNumber and products on productCode.")
        return ("Your SQL loses order lines: an inner JOIN drops the lines that find no match, and a WHERE "
                "or GROUP BY removes or merges lines. Keep one row per order line: start FROM orderdetails "
                "and LEFT JOIN the other tables.")
    if name == "total revenue":
        return ("The number of lines is right but the revenue is not: orderAmount must be "
                "quantityOrdered * priceEach of the line (the price it was sold at, not buyPrice or MSRP).")
    if name == "revenue per customer country":
        return ("The total is right but it lands in the wrong countries: locationKey must be the location of "
                "the order's customer: stg_customers.locationKey, joined on the order's customerNumber.")
    if name.endswith("unique and not null"):
        dimension = name.split(".", 1)[0]
        if dimension == table:
            entity = table.removeprefix("dim_").rstrip("s")
            return (f"{table} repeats a key (or has a NULL key): each {entity} must appear exactly once. A "
                    "join to a table with several rows per key (such as orderdetails, one row per order "
                    "line) repeats it.")
    if " found in " in name:
        column, dimension = name.split(" found in ", 1)
        column = column.split(".", 1)[-1]
        if table == "fact_orders":
            return (f"Some lines have a {column} that is NULL or not in {dimension}: take {column} from "
                    f"{sources.get(column, 'the right table')}.")
        if dimension == table:
            return (f"Order lines refer to products your {table} does not have: a dimension needs every "
                    "product the facts use (and every product of the source).")
    if name == "the source has order lines":
        raise lab.LabError("the source database has no order lines: reseed it (`make seed SF=1`), then "
                           "re-run the job")
    return "Fix what the check names and run the job again."


def _diagnose_failure(table: str, evidence: RunEvidence, sources: dict[str, str]) -> str:
    """Feedback for a run of the learner's SQL that did not succeed."""
    headline = (f"The run {evidence.run_id} {evidence.state}; nothing was published (the previous tables "
                "stay).")
    failed = [(name, detail) for passed, name, detail in evidence.checks() if not passed]
    if failed:
        name, detail = failed[0]
        return (f"{headline} Its reconciliation says: FAIL {name}: {detail}. "
                f"{_explain_check(table, name, detail, sources)}")
    error = evidence.error()
    if "does not give the columns" in error:
        problems = [line.strip() for line in error.splitlines()[1:]
                    if line.strip() and not line.strip().startswith("(")]
        hints = []
        for problem in problems:
            missing = re.match(r"missing column (\w+)", problem)
            if missing and missing.group(1) in sources:
                hints.append(f"{missing.group(1)} comes from {sources[missing.group(1)]}")
        return (f"{headline} The job refused your table before reconciling it: " + "; ".join(problems) + "."
                + (f" ({'; '.join(hints)}.)" if hints else ""))
    if "failed in DuckDB" in error:
        message = " ".join(line.strip() for line in error.splitlines())
        return (f"{headline} DuckDB could not run your SQL: {message.split('failed in DuckDB: ', 1)[-1]} "
                "The tables you can read: orderdetails, orders, products, productlines, customers and "
                "stg_customers.")
    if error.startswith("The SQL"):  # not one SELECT, too many rows, too slow, unreadable...
        return f"{headline} The job says: {' '.join(line.strip() for line in error.splitlines())}"
    raise lab.LabError(f"the run {evidence.run_id} failed for a reason outside your SQL "
                       f"({error.splitlines()[0]}); run the job again")


# --------------------------------------------------------------------------------------
# The graders
# --------------------------------------------------------------------------------------

def _sql_text(sql: Any, name: str) -> str:
    assert isinstance(sql, str), f"`{name}` should be your SELECT as a string (in triple quotes), " \
                                 f"not {type(sql).__name__}."
    assert sql.strip(), f"`{name}` is empty: write your SELECT between the triple quotes."
    return sql


def _blocking(exercise: str, max_score: float) -> Callable[[Callable[..., Any]], Callable[..., GradeResult]]:
    """:func:`grader`, plus: a lab problem (cloud down, no source) is reported as such, not as a mistake."""

    def decorate(check: Callable[..., Any]) -> Callable[..., GradeResult]:
        @functools.wraps(check)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return check(*args, **kwargs)
            except lab.LabError as error:
                reason = str(error)
                return GradeResult(exercise, False, 0.0, max_score,
                                   GRADING_BLOCKED + reason[:1].lower() + reason[1:])

        return grader(exercise, max_score)(guarded)

    return decorate


def _grade_transform(table: str, sql: str, sources: dict[str, str], job_name: str, glue: Any, logs: Any,
                     s3: Any, target_path: str | None = None) -> tuple[RunEvidence, Any]:
    """Every check of a run of ``sql`` for ``table``; returns the evidence and the expected table."""
    glue, logs, s3 = _clients(glue, logs, s3)
    with lab.explain_cloud_errors():
        evidence = newest_run(table, sql, job_name, glue, logs, target_path)
        assert evidence is not None, (
            f"No run of the job has used this SQL for {table} yet: run the cells that start the job with it "
            "and wait for the run (RUN_ETL = True), then this cell again.")
        sha = hashlib.sha256(sql.encode("utf-8")).hexdigest()
        given = evidence.given_sha(table)
        if given != sha and evidence.state == "SUCCEEDED":
            raise AssertionError(f"The run {evidence.run_id} did not run your SQL for {table} (its log shows "
                                 f"{'other SQL' if given else 'no given SQL'}): run the cell that starts the "
                                 "job again.")
        if evidence.state != "SUCCEEDED":
            raise AssertionError(_diagnose_failure(table, evidence, sources))
        failed = [name for passed, name, _ in evidence.checks() if not passed]
        assert evidence.checks() and not failed, (
            f"The run {evidence.run_id} SUCCEEDED but its log has no complete reconciliation: run the job "
            "again.")
        expected = expected_table(table, evidence.arguments)
        from utils.etl import job

        want = job.column_checksums(expected)
        rows = evidence.rows(table)
        if rows is not None and rows != expected.num_rows:
            why = "."
            if table == "dim_products" and rows < expected.num_rows:
                why = (": dim_products must list every product of the source, sold or not (a join to "
                       "orderdetails, or a filter, leaves out the products nobody ordered).")
            raise AssertionError(f"The run SUCCEEDED, but your {table} has {rows:,} rows and the source "
                                 f"gives {expected.num_rows:,}{why}")
        got = evidence.checksums(table)
        differ = [column for column in want if got.get(column) != want[column]]
        if differ:
            where = "; ".join(f"{column} should be {sources.get(column, 'the built-in column')}"
                              for column in differ[:4])
            raise AssertionError(
                f"The run SUCCEEDED (your {table} reconciles), but {', '.join(differ)} "
                f"{'holds' if len(differ) == 1 else 'hold'} other values than expected: {where}.")
        assert table in evidence.published(), (
            f"The run {evidence.run_id} SUCCEEDED but its log does not say it published {table}: run it "
            "again.")
        published = published_checksums(table, evidence.arguments, s3)
        if published != got and not _later_success(evidence, job_name, glue):
            raise AssertionError(f"The run {evidence.run_id} says it published {table}, but the table in S3 "
                                 "is not the one it built: run the job again.")
    return evidence, expected


@_blocking("c1w2_ex6_fact_orders_transform", max_score=1)
def grade_fact_orders_transform(fact_orders_sql: Any, *, job_name: str = GLUE_JOB, glue: Any = None,
                                logs: Any = None, s3: Any = None, target_path: str | None = None):
    """Grade the fact table's SELECT by the job run that used it (see the module docstring)."""
    sql = _sql_text(fact_orders_sql, "fact_orders_sql")
    evidence, expected = _grade_transform("fact_orders", sql, FACT_ORDERS_COLUMNS, job_name, glue, logs, s3,
                                          target_path)
    return (f"The job ran your SQL (run {evidence.run_id}), reconciled the star with the source and "
            f"published it: {expected.num_rows:,} order lines, one row each, and every column holds what "
            "the star schema's fact table needs.")


def _normal(text: str) -> str:
    text = re.sub(r"\s+", " ", str(text)).strip().strip("`'\"").strip()
    text = re.sub(r"^\[reconcile\]\s*", "", text, flags=re.IGNORECASE)
    text = re.sub(r"^fail\b\s*", "", text, flags=re.IGNORECASE)
    return text.rstrip(":.").strip().lower()


@_blocking("c1w2_ex7_failed_check", max_score=1)
def grade_failed_check(failed_check: Any, *, job_name: str = GLUE_JOB, glue: Any = None, logs: Any = None,
                       target_path: str | None = None):
    """Is ``failed_check`` the reconciliation check that failed in the colleague's run (as its log says)?"""
    assert isinstance(failed_check, str) and failed_check.strip(), (
        "`failed_check` should be the name of the check that failed, as a string copied from the log.")
    with lab.explain_cloud_errors():
        evidence = newest_run("dim_products", COLLEAGUE_DIM_PRODUCTS_SQL, job_name, glue, logs, target_path)
    checks = evidence.checks() if evidence is not None else []
    failing = [name for passed, name, _ in checks if not passed] or [COLLEAGUE_FAILED_CHECK]
    passing = [name for passed, name, _ in checks if passed]
    answer = _normal(failed_check)
    named = [name for name in failing if _normal(name) in answer]
    also_ok = [name for name in passing
               if named and _normal(name) in answer and _normal(name) not in _normal(named[0])]
    if named and not also_ok:
        return (f"Right: `{named[0]}` failed. The reconciliation found the same product several times in "
                "dim_products, so the job refused to publish anything; the previous tables are intact.")
    if also_ok:
        raise AssertionError("Your answer names several checks. Give only the one marked FAIL, as the log "
                             "writes it (the words between FAIL and the colon).")
    if any(_normal(name) == answer for name in passing):
        raise AssertionError(f"`{failed_check.strip()}` passed in that run (its line says ok). Look for the "
                             "line that says FAIL: lab.job_log(broken_run_id) shows every check.")
    if answer in ("reconcile", "reconciliation", "the reconciliation", "[reconcile]"):
        raise AssertionError("That is the step that failed (the reconciliation). Which of its checks failed? "
                             "Copy its name from the line with FAIL (the words between FAIL and the colon).")
    if answer.startswith("the star schema does not reconcile"):
        raise AssertionError("That is the error's headline. The line under it (or the [reconcile] line with "
                             "FAIL) names the check that failed: copy that name.")
    column = failing[0].split(" ", 1)[0].lower()  # dim_products.productcode
    if column in answer or answer in column.split("."):
        raise AssertionError(f"Close: the failing check is about {failing[0].split(' ', 1)[0]}. Copy its "
                             "whole name as the log writes it (the words between FAIL and the colon).")
    raise AssertionError(f"No check of the colleague's run is called `{failed_check.strip()}`. Read its log "
                         "with lab.job_log(broken_run_id, errors=True) and copy the name of the check that "
                         "failed.")


@_blocking("c1w2_ex8_dim_products_fix", max_score=1)
def grade_dim_products_fix(dim_products_sql: Any, *, job_name: str = GLUE_JOB, glue: Any = None,
                           logs: Any = None, s3: Any = None, target_path: str | None = None):
    """Grade the fixed ``dim_products`` SELECT by the job run that used it (it must have SUCCEEDED)."""
    sql = _sql_text(dim_products_sql, "dim_products_sql")
    assert _normal(sql) != _normal(COLLEAGUE_DIM_PRODUCTS_SQL), (
        "This is still your colleague's SQL, which failed. Change it so that each product appears once, "
        "then run the job with it.")
    evidence, expected = _grade_transform("dim_products", sql, DIM_PRODUCTS_COLUMNS, job_name, glue, logs, s3,
                                          target_path)
    return (f"Fixed: run {evidence.run_id} SUCCEEDED with your SQL, and dim_products lists each of the "
            f"{expected.num_rows:,} products exactly once, as the source has them.")


def fact_orders_columns() -> Any:
    """The fact table's columns and where each comes from, as a DataFrame (shown in the lab)."""
    import pandas as pd

    return pd.DataFrame(list(FACT_ORDERS_COLUMNS.items()), columns=["column", "comes from"])


declare(NOTEBOOK, grade_fact_orders_transform, grade_failed_check, grade_dim_products_fix)
