import pytest

from utils.concepts.costs import (
    HOURS_PER_MONTH,
    Resource,
    break_even_hours,
    cumulative_cost,
    ebs_usd_hour,
    elastic_capacity,
    elastic_servers,
    fixed_capacity,
    lab_resources,
    monthly_cost_by_option,
    synthetic_demand,
)


def test_cumulative_cost_running_stopped_deleted():
    r = [Resource("vm", 1.0, 0.1)]
    assert cumulative_cost(r, 3) == [0, 1, 2, 3]
    assert cumulative_cost(r, 3, stop_after=1) == pytest.approx([0, 1, 1.1, 1.2])
    assert cumulative_cost(r, 3, delete_after=1) == [0, 1, 1, 1]


def test_stopped_lab_still_costs_but_less():
    month = 30 * 24
    running = cumulative_cost(lab_resources(), month)[-1]
    stopped = cumulative_cost(lab_resources(), month, stop_after=2)[-1]
    deleted = cumulative_cost(lab_resources(), month, delete_after=2)[-1]
    assert running > stopped > deleted > 0


def test_ebs_price():
    assert ebs_usd_hour(730 / 0.08) == pytest.approx(1.0)


def test_billing_options_committed_bill_all_month():
    low = monthly_cost_by_option(0.1, 100)
    assert low["on-demand"] == 10.0
    assert low["savings plan 1y"] == round(0.1 * 0.65 * HOURS_PER_MONTH, 2)
    assert low["on-demand"] < low["savings plan 1y"]
    full = monthly_cost_by_option(0.1, HOURS_PER_MONTH)
    assert full["savings plan 3y"] < full["savings plan 1y"] < full["on-demand"]
    assert full["spot"] < full["on-demand"]
    with pytest.raises(ValueError):
        monthly_cost_by_option(0.1, 1000)


def test_break_even():
    assert break_even_hours("savings plan 1y") == pytest.approx(0.65 * HOURS_PER_MONTH)
    with pytest.raises(ValueError):
        break_even_hours("spot")


def test_demand_is_deterministic_and_elastic_is_cheaper_than_peak():
    demand = synthetic_demand(seed=1)
    assert demand == synthetic_demand(seed=1)
    assert len(demand) == 7 * 24
    peak = max(elastic_servers(demand))
    fixed = fixed_capacity(demand, peak, 0.1)
    elastic = elastic_capacity(demand, 0.1)
    assert fixed.hours_overloaded == 0 and elastic.cost_usd < fixed.cost_usd
    assert fixed_capacity(demand, 6, 0.1).hours_overloaded > 0
