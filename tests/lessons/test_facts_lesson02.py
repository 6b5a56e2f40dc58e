"""Lesson 02's facts: the lab's lineage is read from the SQL the lab runs, and agrees with it."""

from __future__ import annotations

from utils.concepts import lifecycle
from utils.concepts.lineage import DASHBOARD, downstream_of, lab_lineage, source_tables, sql_inputs
from utils.etl.job import SOURCE_COLUMNS, STAR_TABLES


def test_sql_inputs_skips_ctes_and_comments():
    sql = """WITH a AS (SELECT * FROM t1), b AS (SELECT * FROM a JOIN t2 ON 1 = 1)
             SELECT * FROM b LEFT JOIN T3 AS x ON x.k = b.k -- FROM not_a_table"""
    assert sql_inputs(sql) == {"t1", "t2", "t3"}


def test_the_lab_lineage_covers_the_star_and_the_job_s_sources():
    lineage = lab_lineage()
    assert set(STAR_TABLES) <= set(lineage) and DASHBOARD in lineage
    assert source_tables(lineage) == {table.lower() for table in SOURCE_COLUMNS}
    assert lineage[DASHBOARD] == {"fact_orders", "dim_products", "dim_locations"}


def test_a_change_in_customers_reaches_the_dashboard_and_every_source_does():
    lineage = lab_lineage()
    assert downstream_of("customers", lineage) == {
        "stg_customers", "dim_customers", "dim_locations", "fact_orders", DASHBOARD}
    for source in source_tables(lineage):
        assert DASHBOARD in downstream_of(source, lineage), source
    assert downstream_of(DASHBOARD, lineage) == set()


def test_lab_events_use_each_stage_and_undercurrent_once():
    concerns = [event.concern for event in lifecycle.LAB_EVENTS]
    assert sorted(concerns) == sorted([*lifecycle.STAGES, *lifecycle.UNDERCURRENTS])
    for event in lifecycle.LAB_EVENTS:
        if event.during is not None:
            assert event.concern in lifecycle.UNDERCURRENTS and event.during in lifecycle.STAGES
