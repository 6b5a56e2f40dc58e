import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from utils.concepts import storage  # noqa: E402
from utils.concepts.ingestion import (  # noqa: E402
    apply_changes,
    data_age_minutes,
    diff_snapshots,
    event_minutes,
    pull_since,
    schema_drift,
)


def test_schema_drift():
    expected = {"id": int, "name": str, "credit": float}
    assert schema_drift({"id": 1, "name": "a", "credit": 2.0}, expected).ok
    assert schema_drift({"id": 1, "name": None, "credit": 2.0}, expected).ok
    drift = schema_drift({"id": "1", "customer_name": "a", "credit": 2.0}, expected)
    assert drift.missing == ["name"] and drift.unexpected == ["customer_name"]
    assert drift.wrong_type == {"id": "expected int, got str"}
    assert not drift.ok


OLD = [{"id": 1, "city": "Nantes"}, {"id": 2, "city": "Lyon"}, {"id": 3, "city": "Paris"}]
NEW = [{"id": 1, "city": "Nantes"}, {"id": 2, "city": "Marseille"}, {"id": 4, "city": "Lille"}]


def test_diff_snapshots_and_replay():
    changes = diff_snapshots(OLD, NEW, "id")
    assert [(c.op, c.key) for c in changes] == [("update", 2), ("delete", 3), ("insert", 4)]
    assert apply_changes(OLD, changes, "id") == NEW
    with pytest.raises(ValueError, match="not unique"):
        diff_snapshots(OLD + OLD, NEW, "id")


def test_pull_since_misses_deletes():
    rows = [{"id": 1, "updated_at": 5}, {"id": 2, "updated_at": 9}, {"id": 3, "updated_at": 7}]
    fresh, mark = pull_since(rows, 6)
    assert [r["id"] for r in fresh] == [3, 2] and mark == 9
    assert pull_since(rows, 9) == ([], 9)


def test_data_age():
    assert data_age_minutes([0.0, 30.0, 59.0], 60) == [60.0, 30.0, 1.0]
    assert data_age_minutes([10.0], 0, latency_minutes=0.5) == [0.5]
    events = event_minutes(100, seed=1)
    assert events == sorted(events) and len(events) == 100
    daily = sum(data_age_minutes(events, 1440)) / 100
    hourly = sum(data_age_minutes(events, 60)) / 100
    assert daily > hourly > 0
    with pytest.raises(ValueError):
        data_age_minutes(events, -1)


def test_storage_ratios_match_the_rules_of_thumb():
    assert 30 <= storage.price_ratio("RAM", "SSD") <= 50
    assert 2 <= storage.price_ratio("SSD", "HDD") <= 3
    assert storage.read_time_s(1, "HDD") == pytest.approx(5)
    with pytest.raises(KeyError):
        storage.medium("tape")


def test_choose_storage_type():
    assert (
        storage.choose_storage_type(
            shared_by_many_machines=False, attached_database_or_os=True, accessed_over_api_at_scale=False
        )
        == "block"
    )
    assert (
        storage.choose_storage_type(
            shared_by_many_machines=True, attached_database_or_os=False, accessed_over_api_at_scale=False
        )
        == "file"
    )
    assert (
        storage.choose_storage_type(
            shared_by_many_machines=True, attached_database_or_os=False, accessed_over_api_at_scale=True
        )
        == "object"
    )
    assert set(storage.STORAGE_TYPES) == {"object", "block", "file"}


def test_plot_hardware():
    ax = storage.plot_hardware()
    assert ax.get_xscale() == "log"
    plt.close("all")
