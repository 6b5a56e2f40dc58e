"""Lesson 09's facts and figures: what the lesson computes and states, tested."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.lessons.quiz_checks import assert_quiz_balanced
from utils.concepts import grain, lakehouse, storage
from utils.teaching.quizzes import get_quiz


def test_the_tiered_designs_the_lesson_prints():
    assert storage.tiered_monthly_cost(10, [("STANDARD", 365)]) == pytest.approx(10 * 365 * 0.023, abs=0.01)
    tiered = [("STANDARD", 30), ("STANDARD_IA", 90), ("GLACIER", 365)]
    expected = 300 * 0.023 + 600 * 0.0125 + 2750 * 0.0036
    assert storage.tiered_monthly_cost(10, tiered) == pytest.approx(expected)
    # Deep Archive from day 60 to day 200: 140 days there, billed for its 180-day minimum
    archive = storage.tiered_monthly_cost(10, [("STANDARD", 60), ("DEEP_ARCHIVE", 200)])
    assert archive == pytest.approx(600 * 0.023 + 1800 * 0.00099, abs=0.01)
    with pytest.raises(KeyError, match="unknown storage class"):
        storage.tiered_monthly_cost(1, [("COLD", 10)])
    with pytest.raises(ValueError, match="must come after"):
        storage.tiered_monthly_cost(1, [("STANDARD", 30), ("GLACIER", 20)])


def test_a_snapshot_table_travels_in_time_and_rolls_back(tmp_path):
    table = lakehouse.SnapshotTable(tmp_path)
    table.append(pd.DataFrame({"orderNumber": [1, 2]}))
    table.append(pd.DataFrame({"orderNumber": [3, 4]}))
    table.delete_where(lambda rows: rows["orderNumber"] == 4)
    assert sorted(table.read()["orderNumber"]) == [1, 2, 3]
    assert sorted(table.read(2)["orderNumber"]) == [1, 2, 3, 4]  # time travel: the old files are intact
    table.rollback(2)
    table.append(pd.DataFrame({"orderNumber": [5]}))
    assert sorted(table.read()["orderNumber"]) == [1, 2, 3, 4, 5]  # snapshot 3 is no longer an ancestor
    assert lakehouse.files_in_snapshot(table.metadata, 3) == {"data/00001.parquet", "data/00003.parquet"}
    assert lakehouse.files_in_snapshot(table.metadata, 4) == {
        "data/00001.parquet", "data/00002.parquet", "data/00004.parquet"}
    assert len(list((tmp_path / "data").glob("*.parquet"))) == 4  # nothing was overwritten


@pytest.fixture(scope="module")
def real_tables():
    from utils.services.mariadb import connect

    conn = connect("etl")
    try:
        return grain.load_classicmodels(conn)
    finally:
        conn.close()


def test_the_real_classicmodels_figures_the_lesson_describes(real_tables):
    lines = real_tables["orderdetails"]
    good = grain.reconcile_figures(grain.run_sql(grain.FACT_JOINED_ON_CUSTOMER, real_tables), lines)
    assert good["fact_rows"] == good["fact_lines"] == good["source_lines"] == len(lines)
    assert good["fact_revenue"] == good["source_revenue"]
    exploded = grain.reconcile_figures(grain.run_sql(grain.FACT_JOINED_ON_POSTAL_CODE, real_tables), lines)
    assert exploded["fact_rows"] > exploded["source_lines"]
    assert exploded["fact_revenue"] > exploded["source_revenue"]
    inner = grain.reconcile_figures(grain.run_sql(grain.FACT_INNER_JOINED_ON_POSTAL_CODE, real_tables), lines)
    # "within a percent" by row count, yet hundreds of lines duplicated and hundreds missing
    assert abs(inner["fact_rows"] / inner["source_lines"] - 1) < 0.01
    assert inner["source_lines"] - inner["fact_lines"] >= 100
    assert inner["fact_rows"] - inner["fact_lines"] >= 100


def test_quiz_is_balanced():
    assert_quiz_balanced(get_quiz(9))
