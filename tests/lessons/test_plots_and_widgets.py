"""Plot helpers draw without error, and the pure functions behind the lesson widgets."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from utils.concepts import costs, design, ec2, regions, requirements, stakeholders  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_region_ranking_text_for_the_widget():
    users = [regions.UserGroup("Paris", 48.86, 2.35)]
    text = regions.format_ranking(regions.pick_region(users, latency_weight=1, cost_weight=0), top=2)
    lines = text.splitlines()
    assert len(lines) == 3 and lines[0].startswith("rank")
    assert "eu-west-3" in lines[1]


def test_region_widget_extremes_are_valid_weights():
    users = [regions.UserGroup("Paris", 48.86, 2.35)]
    for latency in (0.0, 1.0):
        assert regions.pick_region(users, latency_weight=latency, cost_weight=1 - latency)


def test_instance_type_widget_text():
    assert ec2.explain_or_error("m5d.4xlarge").startswith("m5d.4xlarge")
    assert ec2.explain_or_error("m5d.4xl").startswith("Invalid:")


def test_plot_helpers_return_axes():
    demand = costs.synthetic_demand(days=2)
    axes = [
        regions.plot_regions(
            [regions.UserGroup("Paris", 48.86, 2.35)], best="eu-west-3", extent=(-15, 30, 35, 65)
        ),
        costs.plot_elasticity(demand, 10),
        costs.plot_billing_options(0.1),
        costs.plot_forgotten_resources(costs.lab_resources(), days=2),
        requirements.plot_thinking_cycle(),
        stakeholders.plot_value_vs_effort([stakeholders.Project("a", 10, 1, "b")]),
        design.plot_lab_architecture(),
    ]
    assert all(ax is not None for ax in axes)
    assert axes[0].get_xlim() == (-15, 30)
