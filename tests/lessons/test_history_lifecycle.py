import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from utils.concepts import history, lifecycle  # noqa: E402


def test_eras_are_contiguous_and_every_milestone_has_one():
    for earlier, later in zip(history.ERAS, history.ERAS[1:], strict=False):
        assert later.start == earlier.end + 1
    for m in history.MILESTONES:
        assert history.era_of(m.year) in history.ERAS
    assert [m.year for m in history.MILESTONES] == sorted(m.year for m in history.MILESTONES)


def test_each_era_has_milestones_and_bounds_are_checked():
    assert all(history.milestones_in(era) for era in history.ERAS)
    assert history.era_of(2006).name == "Cloud & streaming"  # S3 and EC2 open the cloud era (#14)
    with pytest.raises(ValueError):
        history.era_of(1900)


def test_plots_draw_without_error():
    ax = history.plot_timeline()
    assert ax.get_title() == "A short history of data engineering"
    ax = lifecycle.plot_lifecycle()
    assert ax.get_title() == "The data engineering lifecycle"
    plt.close("all")


def test_lifecycle_order_and_services():
    assert list(lifecycle.STAGES) == ["generation", "ingestion", "storage", "transformation", "serving"]
    assert lifecycle.stage_after("ingestion") == "storage"
    assert lifecycle.stage_after("serving") is None
    assert set(lifecycle.AWS_SERVICES) == set(lifecycle.STAGES) | set(lifecycle.UNDERCURRENTS)
    assert "AWS Glue Data Catalog" in lifecycle.services_for("Data Management")
    with pytest.raises(KeyError):
        lifecycle.services_for("cooking")
    with pytest.raises(KeyError):
        lifecycle.stage_after("cooking")


def test_kimball_and_inmon_sit_in_the_warehouse_era():
    for m in history.MILESTONES:
        if "Kimball" in m.event or "Inmon" in m.event:
            assert history.era_of(m.year).name == "Warehouses & BI"


def test_every_service_has_a_reason_and_known_areas():
    areas = set(lifecycle.STAGES) | set(lifecycle.UNDERCURRENTS)
    for service in lifecycle.SERVICES:
        assert service.why and set(service.areas) <= areas, service
    assert all(lifecycle.AWS_SERVICES[area] for area in areas)
    assert "AWS DMS" in [s.name for s in lifecycle.services_by_kind()["move data"]]
