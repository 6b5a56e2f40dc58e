import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from utils.concepts.architecture import (  # noqa: E402
    PRINCIPLES,
    athena_query_cost_usd,
    bytes_scanned,
    downtime_hours_per_year,
    parallel_availability,
    serial_availability,
    servers_needed,
    simulate_outage,
)
from utils.concepts.dag import FlakyAction, Task, execution_order, levels, plot_dag, run_dag  # noqa: E402
from utils.concepts.design import Requirements, decision_matrix, estimated_monthly_cost, propose_architecture  # noqa: E402


def pipeline(extract_action):
    return [
        Task("extract", extract_action, retries=2),
        Task("transform", lambda: "star schema", ("extract",)),
        Task("quality", lambda: "checks passed", ("transform",)),
        Task("load", lambda: "parquet written", ("quality",)),
        Task("crawl", lambda: "catalog updated", ("load",)),
    ]


def test_order_respects_dependencies():
    order = execution_order(pipeline(lambda: 1))
    assert order == ["extract", "transform", "quality", "load", "crawl"]
    assert levels(pipeline(lambda: 1))["crawl"] == 4


def test_retry_then_success():
    flaky = FlakyAction(failures=2)
    run = run_dag(pipeline(flaky))
    assert run.succeeded and flaky.calls == 3
    assert [(a.task, a.attempt, a.status) for a in run.attempts[:3]] == [
        ("extract", 1, "failed"),
        ("extract", 2, "failed"),
        ("extract", 3, "success"),
    ]


def test_exhausted_retries_skip_downstream():
    run = run_dag(pipeline(FlakyAction(failures=5)))
    assert run.states["extract"] == "failed"
    assert all(run.states[t] == "skipped" for t in ("transform", "quality", "load", "crawl"))
    assert not run.succeeded


def test_cycles_and_unknown_dependencies_are_explained():
    with pytest.raises(ValueError, match="cycle"):
        execution_order([Task("a", lambda: 1, ("b",)), Task("b", lambda: 1, ("a",))])
    with pytest.raises(ValueError, match="unknown"):
        execution_order([Task("a", lambda: 1, ("nope",))])


def test_plot_dag():
    run = run_dag(pipeline(lambda: 1))
    plot_dag(pipeline(lambda: 1), run.states)
    plt.close("all")


def test_availability_maths():
    assert serial_availability(0.99, 0.99) == pytest.approx(0.9801)
    assert parallel_availability(0.99, 2) == pytest.approx(0.9999)
    assert downtime_hours_per_year(0.999) == pytest.approx(8.76)
    with pytest.raises(ValueError):
        serial_availability(1.5)
    with pytest.raises(ValueError):
        parallel_availability(0.9, 0)


def test_scaling_and_coupling():
    assert servers_needed(900, 100, headroom=0.1) == 10
    arrivals = [10] * 10
    tight = simulate_outage(arrivals, 20, range(3, 6), queued=False)
    loose = simulate_outage(arrivals, 20, range(3, 6), queued=True)
    assert tight.lost == 30 and loose.lost == 0 and loose.delivered == 100
    assert max(loose.backlog) == 30 and loose.backlog[-1] == 0


def test_finops_athena():
    assert athena_query_cost_usd(10**12) == pytest.approx(5.0)  # decimal TB, as AWS prices it
    assert athena_query_cost_usd(1) == athena_query_cost_usd(10 * 10**6)
    csv = bytes_scanned(100e9, columnar=False, columns_read=3, total_columns=20)
    parquet = bytes_scanned(100e9, columnar=True, columns_read=3, total_columns=20, compression_ratio=4)
    assert csv == 100e9 and parquet == pytest.approx(100e9 / 4 * 3 / 20)
    assert len(PRINCIPLES) == 9


def test_design_follows_requirements():
    batch = Requirements(max_data_age_minutes=24 * 60, daily_volume_gb=1, consumers=("analysts", "dashboard"))
    stream = Requirements(max_data_age_minutes=5, daily_volume_gb=1, consumers=("analysts", "dashboard"))
    ingest = {c.stage: c.component for c in propose_architecture(batch)}["ingestion"]
    assert "Glue" in ingest
    assert "Kinesis" in {c.stage: c.component for c in propose_architecture(stream)}["ingestion"]
    assert estimated_monthly_cost(stream) > estimated_monthly_cost(batch)
    with pytest.raises(ValueError, match="Unknown consumer"):
        propose_architecture(Requirements(60, 1, ("aliens",)))


def test_decision_matrix():
    ranked = decision_matrix(
        {"a": {"cost": 5, "fresh": 1}, "b": {"cost": 2, "fresh": 5}}, {"cost": 1, "fresh": 1}
    )
    assert ranked == [("b", 7), ("a", 6)]
    with pytest.raises(ValueError):
        decision_matrix({"a": {"cost": 1}}, {"fresh": 1})


def test_streaming_from_a_database_uses_change_data_capture():
    from utils.concepts.design import monthly_cost_breakdown

    stream = Requirements(max_data_age_minutes=5, daily_volume_gb=0.5, consumers=("analysts",))
    stages = {c.stage: c.component for c in propose_architecture(stream)}
    assert "DMS" in stages["ingestion"] and "Debezium" in stages["ingestion"]
    assert "Flink" in stages["transformation"]
    events = Requirements(5, 0.5, ("analysts",), source="event stream")
    assert "DMS" not in {c.stage: c.component for c in propose_architecture(events)}["ingestion"]
    # Every cost line is derived from stated assumptions; one shard for a month is about $11.
    lines = {line.item: line.usd_month for line in monthly_cost_breakdown(stream)}
    assert lines["Kinesis Data Streams shards"] == pytest.approx(10.95)
    assert sum(lines.values()) == pytest.approx(estimated_monthly_cost(stream))


def test_designs_compare_stage_by_stage():
    batch = Requirements(24 * 60, 0.5, ("analysts", "dashboard"))
    stream = Requirements(5, 0.5, ("analysts", "dashboard"))
    stages = [[c.stage for c in propose_architecture(r)] for r in (batch, stream)]
    assert stages[0] == stages[1]
