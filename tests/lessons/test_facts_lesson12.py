"""Lesson 12's figures and rules: availability of designs, failures at scale, growth, zero trust, pillars."""

from __future__ import annotations

import pytest

from utils.concepts import architecture as arch
from utils.concepts.security import Grant, perimeter_allows, zero_trust_allows


def test_design_availability_multiplies_stages_and_combines_copies():
    assert arch.design_availability([]) == 1.0
    assert arch.design_availability([(0.995, 2), (0.999, 1)]) == pytest.approx((1 - 0.005**2) * 0.999)
    # The quiz's dashboard: two 99.5% servers and a 99.9% database is about 99.9%.
    assert arch.design_availability([(0.995, 2), (0.999, 1)]) == pytest.approx(0.999, abs=5e-5)
    assert arch.design_availability([(0.995, 1), (0.999, 1)]) == pytest.approx(0.994, abs=5e-4)


def test_everything_fails_all_the_time_at_scale():
    assert arch.expected_failures(1000, 0.02) == pytest.approx(20)  # one every ~18 days
    assert 365 / arch.expected_failures(500, 0.04) == pytest.approx(18.25)  # the quiz's fleet
    with pytest.raises(ValueError):
        arch.expected_failures(10, 1.5)


def test_common_components_and_growth():
    assert arch.integrations(6, shared=False) == 30 and arch.integrations(6, shared=True) == 6
    assert arch.months_until_capacity(1000, 2000, 0.08) == 10  # 1.08**9 < 2 < 1.08**10
    assert arch.months_until_capacity(3, 2, 0.1) == 0
    assert arch.months_until_capacity(1, 2, 0) is None
    with pytest.raises(ValueError):
        arch.integrations(0, shared=True)


def test_zero_trust_ignores_the_network_and_the_perimeter_does_not():
    grants = [Grant("ana", "SELECT", "analytics.*")]
    stranger = {"user": None, "device_ok": True, "network": "office", "action": "SELECT",
                "resource": "analytics.fact_orders"}
    at_home = {**stranger, "user": "ana", "network": "internet"}
    assert perimeter_allows(stranger, grants) and not zero_trust_allows(stranger, grants)
    assert zero_trust_allows(at_home, grants)
    assert not zero_trust_allows({**at_home, "device_ok": False}, grants)
    assert not zero_trust_allows({**at_home, "action": "DELETE"}, grants)


def test_six_well_architected_pillars_one_finding_each():
    assert list(arch.WELL_ARCHITECTED_PILLARS) == [
        "Operational excellence", "Security", "Reliability", "Performance efficiency", "Cost optimization",
        "Sustainability"]
    pillars = [pillar for _, pillar in arch.REVIEW_FINDINGS.values()]
    assert sorted(pillars) == sorted(arch.WELL_ARCHITECTED_PILLARS)
