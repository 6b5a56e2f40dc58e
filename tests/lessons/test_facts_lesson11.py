"""Lesson 11's figures and rules: backoff, cycles, the CI gate, observability, Lake Formation."""

from __future__ import annotations

import pytest

from utils.concepts import dag, governance, observability


def test_backoff_doubles_and_never_waits_after_the_last_attempt():
    assert dag.backoff_delays(3, 10) == [10, 20, 40]  # 70 s in all (lesson 11's quiz, question 2)
    clock, alerts = dag.FakeClock(), []
    source = dag.FlakyAction(failures=9, clock=clock)
    with pytest.raises(ConnectionError):
        dag.run_with_retries("extract orders", source, 3, 10, clock.sleep, alerts.append)
    assert clock.sleeps == [10, 20, 40] and clock.now == 70 and source.calls == 4
    assert source.calls_at == [0, 10, 30, 70]
    assert len(alerts) == 1 and "extract orders" in alerts[0]
    with pytest.raises(ValueError):
        clock.sleep(-1)


def test_a_recovering_source_is_not_alerted():
    clock, alerts = dag.FakeClock(), []
    result = dag.run_with_retries("t", dag.FlakyAction(2, result="ok", clock=clock), 2, 30, clock.sleep,
                                  alerts.append)
    assert result == "ok" and clock.sleeps == [30, 60] and alerts == []


def test_run_dag_backs_off_on_the_clock_and_alerts_once():
    clock, alerts = dag.FakeClock(), []
    tasks = [dag.Task("extract", dag.FlakyAction(failures=5, clock=clock), retries=2),
             dag.Task("load", lambda: "ok", ("extract",))]
    run = dag.run_dag(tasks, base_delay=30, clock=clock, alert=alerts.append)
    assert [a.at for a in run.attempts if a.task == "extract"] == [0, 30, 90]
    assert run.states == {"extract": "failed", "load": "skipped"} and len(alerts) == 1


def test_cycles_found_in_either_graph_shape_and_the_ci_gate_blocks_them():
    assert dag.find_cycle(dag.LAB_PIPELINE) is None
    cycle = dag.find_cycle(dag.BROKEN_PIPELINE)
    assert set(cycle) == {"extract orders", "quality checks", "build star"}
    assert dag.is_cycle(dag.BROKEN_PIPELINE, cycle) and dag.is_cycle(dag.BROKEN_PIPELINE, cycle[::-1])
    assert dag.find_cycle({"d": ["b", "c"], "b": ["a"], "c": ["a"], "a": []}) is None  # a diamond
    assert dag.review_change(dag.LAB_PIPELINE) == []
    assert any("cycle" in p for p in dag.review_change(dag.BROKEN_PIPELINE))
    assert any("unknown" in p for p in dag.review_change({"a": ["nope"]}))
    assert dag.is_valid_order(dag.LAB_PIPELINE, dag.topological_order(dag.LAB_PIPELINE))
    with pytest.raises(ValueError, match="cycle"):
        dag.topological_order(dag.BROKEN_PIPELINE)


def test_the_monitor_finds_the_planted_volume_and_freshness_incidents():
    loads, incidents = observability.load_history()
    counts = [load.rows for load in loads]
    volume_days = {loads[i].day for i in observability.volume_anomalies(counts, 14, 3.0)}
    assert volume_days == {day for day, what in incidents.items() if what.startswith("volume")}
    late = dict(observability.late_loads(loads))
    late_day, missing_day = (day for day, what in incidents.items() if what.startswith("freshness"))
    assert late_day in late and late[late_day] > 26
    assert late[missing_day + 1] == pytest.approx(48, abs=1)  # a missed night: a two-day gap on the next load
    assert observability.volume_anomalies([5, 5, 5, 6], 3) == [3]  # flat baseline: any change is abnormal
    with pytest.raises(ValueError):
        observability.volume_anomalies([1, 2, 3], 1)
    with pytest.raises(ValueError):
        observability.load_history(days=10)


def test_lake_formation_grants_columns_by_tag_and_rows_by_filter():
    rows = [{"customerName": "A", "phone": "1", "country": "France"},
            {"customerName": "B", "phone": "2", "country": "USA"}]
    tags = {"customerName": "public", "phone": "pii", "country": "public"}
    grants = [governance.TagGrant("analyst", ("public",)),
              governance.TagGrant("fr", ("public", "pii"), {"country": "France"})]
    assert governance.visible(rows, tags, grants, "analyst") == [
        {"customerName": "A", "country": "France"}, {"customerName": "B", "country": "USA"}]
    assert governance.visible(rows, tags, grants, "fr") == [rows[0]]
    assert governance.visible(rows, tags, grants, "nobody") == []
