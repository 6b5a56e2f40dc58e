"""What a learner sees when the environment, not their answer, is the problem.

The database or the local cloud stopped, a connection closed by the wrap-up cell or lost
when the server restarted, a failed ETL run, an empty source or star schema: each must end
in a short message that says what failed and what to do, never a driver's traceback or a
grader blaming the answer. Failures are staged with stand-ins (closed ports, fakes) and a
scratch database; the shared server and cloud are never stopped.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pymysql
import pytest
from botocore.exceptions import EndpointConnectionError

from utils.classicmodels.truth import ground_truth
from utils.teaching import dashboard as dash
from utils.teaching import graders_c1w2 as g
from utils.teaching import lab_c1w2 as lab

ROOT = Path(__file__).resolve().parents[2]
BLOCKED = "not a mistake in your answer"


def closed_port() -> int:
    """A loopback port where nothing listens (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def solution_cell(notebook: str, fragment: str) -> str:
    nb = nbformat.read(ROOT / "solutions" / notebook, as_version=4)
    return next(c.source for c in nb.cells if c.cell_type == "code" and fragment in c.source)


def assert_blocked(result: Any, *fragments: str) -> None:
    """A grade that reports an environment problem, not the learner's mistake."""
    assert not result.passed and result.score == 0, result.summary()
    assert BLOCKED in result.feedback, result.summary()
    for bad in ("Your answer raised", "Fix the error in your answer", "Not done yet", "MySQL could not run"):
        assert bad not in result.feedback, result.summary()
    for fragment in fragments:
        assert fragment.lower() in result.feedback.lower(), f"{fragment!r} not in: {result.feedback}"


# ------------------------------------------------------------------ 1. connecting to MariaDB


def test_connecting_to_a_stopped_server_says_to_run_make_up() -> None:
    port = closed_port()
    with pytest.raises(lab.LabError) as caught, lab.explain_db_errors("127.0.0.1", port, "etl_reader"):
        pymysql.connect(host="127.0.0.1", port=port, user="etl_reader", password="x", connect_timeout=5)
    message = str(caught.value)
    assert message.startswith(f"MariaDB at 127.0.0.1:{port} is not answering: start it with `make up`")
    assert "re-run this cell" in message
    assert caught.value.__suppress_context__  # the driver's traceback is not shown again


def test_connect_to_source_on_a_stopped_server(monkeypatch: pytest.MonkeyPatch) -> None:
    port = closed_port()
    monkeypatch.setattr(lab, "db_endpoint", lambda *_a, **_k: ("127.0.0.1", port))
    monkeypatch.setattr(lab, "db_credentials",
                        lambda *_a, **_k: {"username": "etl_reader", "password": "s3cret!", "dbname": "x"})
    with pytest.raises(lab.LabError, match=r"not answering: start it with `make up`") as caught:
        lab.connect_to_source()
    assert "s3cret" not in str(caught.value)


def test_a_wrong_password_points_at_the_secret_and_make_up() -> None:
    denied = pymysql.err.OperationalError(1045, "Access denied for user 'etl_reader'@'localhost'")
    with pytest.raises(lab.LabError) as caught, lab.explain_db_errors("127.0.0.1", 3306, "etl_reader"):
        raise denied
    message = str(caught.value)
    assert "access denied" in message and "de-c1w2/etl-db-credentials" in message
    assert "`make up`" in message and ".env" in message


def test_on_aws_the_connection_hint_is_the_security_group() -> None:
    lost = pymysql.err.OperationalError(2003, "Can't connect to MySQL server on 'db.example' (timed out)")
    message = str(lab.database_connect_error(lost, "db.example", 3306, "etl_reader"))
    assert message.startswith("The database at db.example:3306 is not answering")
    assert "security group" in message and "make up" not in message


def test_the_notebook_connects_with_a_timeout_and_explained_errors() -> None:
    source = solution_cell("C1W2_1_source_system.ipynb", "pymysql.connect(")
    assert "with lab.explain_db_errors(host, port" in source
    assert "connect_timeout=" in source
    assert "lab.db_endpoint(RDS_INSTANCE_ID)" in source  # the endpoint still visibly comes from RDS


# ------------------------------------------------------------------ 2. a closed or lost connection


@pytest.fixture
def own_conn(source_db: str) -> Iterator[Any]:
    """A connection of this test's own, which it may close."""
    from utils.services.mariadb import connect

    connection = connect("admin", database=source_db)
    yield connection
    if connection.open:
        connection.close()


class LosingConnection:
    """A real connection that loses the server after ``keep`` statements (2013, as on a restart)."""

    def __init__(self, conn: Any, keep: int) -> None:
        self.conn, self.keep, self.host, self.open = conn, keep, "127.0.0.1", True

    def cursor(self) -> Any:
        outer = self
        real = self.conn.cursor()

        class Cursor:
            description = property(lambda _self: real.description)

            def execute(self, sql: str, params: Any = None) -> Any:
                if outer.keep <= 0:
                    raise pymysql.err.OperationalError(2013, "Lost connection to MySQL server during query")
                outer.keep -= 1
                return real.execute(sql, params)

            def fetchall(self) -> Any:
                return real.fetchall()

            def __enter__(self) -> Cursor:
                return self

            def __exit__(self, *exc: Any) -> None:
                real.close()

        return Cursor()


def test_run_sql_on_a_closed_connection_says_to_reconnect(own_conn: Any) -> None:
    own_conn.close()  # what the notebook's wrap-up cell does
    with pytest.raises(lab.LabError) as caught:
        lab.run_sql(own_conn, "SELECT 1")
    message = str(caught.value)
    assert message.startswith(
        "The connection to MariaDB is closed or was lost: re-run the cell that connects")
    assert "`make up` if the server stopped" in message
    with pytest.raises(lab.LabError, match="closed or was lost"):
        lab.show_tables(own_conn)


def test_run_sql_on_a_lost_connection_names_the_reason(conn: Any) -> None:
    with pytest.raises(lab.LabError, match=r"was lost \(Lost connection to MySQL server during query\)"):
        lab.run_sql(LosingConnection(conn, keep=0), "SELECT 1")


def test_run_sql_still_reports_bad_sql_as_sql(conn: Any) -> None:
    with pytest.raises(pymysql.err.ProgrammingError):
        lab.run_sql(conn, "SELEC 1")


def test_graders_report_a_closed_connection_as_such(own_conn: Any) -> None:
    own_conn.close()
    assert_blocked(g.grade_postal_code_join(1, 2, ["B", "D"], conn=own_conn), "connection", "re-run the cell")
    assert_blocked(g.grade_dim_locations("SELECT 1 AS locationKey", conn=own_conn), "closed or was lost")
    assert_blocked(g.grade_top_products(pd.DataFrame({"p": ["x"], "s": [1.0]}), conn=own_conn), "connection")
    # Even a placeholder answer: the connection is the first thing to fix.
    assert_blocked(g.grade_dim_locations(None, conn=own_conn), "connection")


def test_a_connection_lost_while_grading_is_not_blamed_on_the_sql(conn: Any) -> None:
    # The first statement (the grader's check of the source) works, then the server goes away.
    result = g.grade_dim_locations("SELECT 1 AS locationKey", conn=LosingConnection(conn, keep=1))
    assert_blocked(result, "Lost connection to MySQL server during query", "re-run the cell that connects")
    result = g.grade_postal_code_join(1, 2, ["B", "D"], conn=LosingConnection(conn, keep=1))
    assert_blocked(result, "connection")


# ------------------------------------------------------------------ 3. the local cloud not answering


def test_an_unreachable_local_cloud_says_make_up_and_rerun_from_the_top() -> None:
    with pytest.raises(lab.LabError) as caught, lab.explain_cloud_errors():
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:4566/")
    assert str(caught.value) == (
        "The local cloud at 127.0.0.1:4566 is not answering: run `make up` in a terminal (its state "
        "starts empty again, so re-run this notebook from the top).")


def test_an_unreachable_aws_endpoint_says_network_and_region() -> None:
    message = lab.cloud_unreachable_message(
        EndpointConnectionError(endpoint_url="https://glue.eu-west-1.amazonaws.com/"))
    assert "glue.eu-west-1.amazonaws.com" in message and "network" in message and "region" in message
    assert "make up" not in message


@pytest.mark.parametrize("call", [
    lambda: lab.db_endpoint(),                   # C1W2_1, steps 1 and 3
    lambda: lab.db_credentials(),                # C1W2_1, step 2
    lambda: lab.resource_status(),               # C1W2_2, step 1
    lambda: lab.ensure_star_schema(),            # C1W2_3, first cell
    lambda: lab.latest_successful_job_run(),     # C1W2_2 with RUN_ETL = False
    lambda: lab.catalog_tables(),
], ids=["db_endpoint", "db_credentials", "resource_status", "ensure_star_schema", "latest_run", "catalog"])
def test_lab_helpers_explain_a_stopped_local_cloud(monkeypatch: pytest.MonkeyPatch, call: Any) -> None:
    from utils.config import get_settings

    port = closed_port()
    monkeypatch.setenv("DELAB_TARGET", "local")
    monkeypatch.setenv("DELAB_CLOUD_PORT", str(port))
    for name, value in get_settings().aws_environment().items():
        monkeypatch.setenv(name, value)
    expected = rf"local cloud at 127\.0\.0\.1:{port} is not answering: run `make up`"
    with pytest.raises(lab.LabError, match=expected):
        call()


def test_the_first_cloud_cell_of_part_1_explains_errors() -> None:
    source = solution_cell("C1W2_1_source_system.ipynb", "describe_db_instances")
    assert "with lab.explain_cloud_errors():" in source


# ------------------------------------------------------------------ 4. reusing the latest successful run


class FakeJobRuns:
    """get_job_runs through a paginator, newest first, two runs a page."""

    def __init__(self, runs: list[dict[str, Any]]) -> None:
        self.runs = runs

    def get_paginator(self, operation: str) -> Any:
        assert operation == "get_job_runs"
        runs = self.runs

        class Paginator:
            def paginate(self, JobName: str) -> Iterator[dict[str, Any]]:  # noqa: N803 - boto3's name
                for start in range(0, max(len(runs), 1), 2):
                    yield {"JobRuns": runs[start:start + 2]}

        return Paginator()


def test_reuse_skips_failed_runs_for_the_latest_that_succeeded() -> None:
    glue = FakeJobRuns([
        {"Id": "jr_4", "JobRunState": "FAILED", "ErrorMessage": "ReconciliationError"},
        {"Id": "jr_3", "JobRunState": "STOPPED"},
        {"Id": "jr_2", "JobRunState": "SUCCEEDED"},
        {"Id": "jr_1", "JobRunState": "SUCCEEDED"},
    ])
    assert lab.latest_successful_job_run("job", glue=glue) == "jr_2"


def test_reuse_without_a_successful_run_says_so() -> None:
    glue = FakeJobRuns([{"Id": "jr_2", "JobRunState": "FAILED", "ErrorMessage": "source is empty"},
                        {"Id": "jr_1", "JobRunState": "FAILED", "ErrorMessage": "older"}])
    with pytest.raises(lab.LabError) as caught:
        lab.latest_successful_job_run("job", glue=glue)
    message = str(caught.value)
    assert "No run of 'job' succeeded" in message and "jr_2" in message and "source is empty" in message
    assert "RUN_ETL = True" in message
    with pytest.raises(lab.LabError, match="never run.*RUN_ETL = True"):
        lab.latest_successful_job_run("job", glue=FakeJobRuns([]))


def test_the_notebook_reuses_the_latest_successful_run() -> None:
    source = solution_cell("C1W2_2_etl_pipeline.ipynb", "if RUN_ETL:")
    assert "lab.latest_successful_job_run(GLUE_JOB)" in source
    assert "MaxResults=1" not in source


# ------------------------------------------------------------------ 5. an empty source or star schema


@pytest.fixture(scope="module")
def empty_conn(source_db: str) -> Iterator[Any]:
    """A connection to a scratch database with classicmodels' tables and no rows."""
    from utils.classicmodels.testing import scratch_database
    from utils.services.mariadb import connect

    with scratch_database("labs_empty") as name:
        admin = connect("admin", database=None, autocommit=True)
        try:
            with admin.cursor() as cur:
                cur.execute(f"CREATE DATABASE `{name}`")
                cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
                            (source_db,))
                for (table,) in cur.fetchall():
                    cur.execute(f"CREATE TABLE `{name}`.`{table}` LIKE `{source_db}`.`{table}`")
        finally:
            admin.close()
        connection = connect("admin", database=name)
        yield connection
        connection.close()


def test_graders_on_an_empty_source_say_reseed(empty_conn: Any) -> None:
    # On an empty source the solution's SUMs are None: that is not "not done yet".
    totals = lab.run_sql(empty_conn, "SELECT SUM(quantityOrdered * priceEach) FROM orderdetails").iloc[0, 0]
    assert totals is None
    assert_blocked(g.grade_postal_code_join(totals, totals, ["B", "D"], conn=empty_conn),
                   "the source database has no rows", "make seed SF=1")
    assert_blocked(g.grade_dim_locations("SELECT 1 AS locationKey", conn=empty_conn), "has no rows")
    no_rows = pd.DataFrame(columns=["productname", "total_sales"])
    assert_blocked(g.grade_top_products(no_rows, conn=empty_conn), "has no rows", "make seed SF=1", "ETL job")
    truth = ground_truth(empty_conn)
    assert_blocked(g.grade_revenue_by_country(pd.DataFrame(columns=["country", "revenue"]), truth=truth),
                   "the source database has no rows", "make seed SF=1", "ETL job")
    assert_blocked(g.grade_revenue_by_country(None, truth=truth), "has no rows")


@pytest.mark.parametrize("name", ["revenue_by_country", "top_products"])
def test_an_empty_athena_result_over_an_empty_star_says_so(monkeypatch: pytest.MonkeyPatch, conn: Any,
                                                          name: str) -> None:
    monkeypatch.setattr(g, "star_fact_rows", lambda: 0)
    empty = pd.DataFrame({"label": pd.Series(dtype=object), "value": pd.Series(dtype=object)})
    if name == "revenue_by_country":
        result = g.grade_revenue_by_country(empty, truth=ground_truth(conn))
    else:
        result = g.grade_top_products(empty, conn=conn)
    assert_blocked(result, "the star schema has no rows", "make seed SF=1", "re-run the ETL job")
    assert "numeric column" not in result.feedback and "product names" not in result.feedback


def test_an_empty_result_over_a_full_star_blames_the_query(monkeypatch: pytest.MonkeyPatch,
                                                           conn: Any) -> None:
    empty = pd.DataFrame(columns=["country", "revenue"])
    monkeypatch.setattr(g, "star_fact_rows", lambda: 2996)
    result = g.grade_revenue_by_country(empty, truth=ground_truth(conn))
    assert not result.passed and BLOCKED not in result.feedback
    assert "no rows although fact_orders has 2,996" in result.feedback
    monkeypatch.setattr(g, "star_fact_rows", lambda: None)  # Athena could not tell
    result = g.grade_top_products(empty, conn=conn)
    assert "has no rows. If your query is right, then the star schema has no rows" in result.feedback


def test_the_filter_grader_on_an_empty_star(sales: pd.DataFrame) -> None:
    empty = sales.iloc[0:0]
    assert_blocked(g.grade_selection_filter(lambda s, sel: s["country"] == s["country"], sales=empty),
                   "the star schema has no rows", "make seed SF=1")
    assert_blocked(g.grade_selection_filter(None, sales=empty), "star schema has no rows")


def test_the_dashboard_notebook_explains_an_empty_star(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    import matplotlib.pyplot as plt

    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in dash.SALES_COLUMNS})
    monkeypatch.setattr(dash, "load_sales", lambda *_a, **_k: dash.prepare_sales(empty))
    namespace = {"dash": dash, "plt": plt, "GLUE_DATABASE": "db",
                 "sales_by_country": pd.DataFrame(columns=["country", "total_sales"])}
    # The notebook's own cells, run as the kernel would: they crashed (IndexError, NaT strftime).
    exec(solution_cell("C1W2_3_dashboard.ipynb", "plot.barh"), namespace)  # noqa: S102
    exec(solution_cell("C1W2_3_dashboard.ipynb", "dash.load_sales("), namespace)  # noqa: S102
    printed = capsys.readouterr().out
    assert printed.count(dash.EMPTY_STAR_MESSAGE) == 2
    dashboard = dash.Dashboard(namespace["sales"])
    assert "star schema has no rows" in dashboard.title.value
    assert "nothing to show" in dashboard.title.value


def test_describe_sales_says_size_and_dates(sales: pd.DataFrame) -> None:
    line = dash.describe_sales(sales)
    assert line.startswith(f"{len(sales):,} rows from ") and dash.EMPTY_STAR_MESSAGE not in line
    assert dash.describe_sales(sales.iloc[0:0]) == dash.EMPTY_STAR_MESSAGE
