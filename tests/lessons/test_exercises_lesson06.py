"""Lesson 06's graders: the solution passes, the placeholder is not done, mistakes are named."""

from __future__ import annotations

import math

from tests.lessons.exercise_helpers import assert_grader_proven
from utils.concepts import costs, regions
from utils.teaching.exercises.lesson06 import (
    grade_elastic_fleet,
    grade_rank_regions,
    grade_shared_responsibility,
)

# --- exercise 1: elastic_fleet ---------------------------------------------------------------


def elastic_fleet(demand, usd_per_server_hour):
    server_hours = sum(math.ceil(load) for load in demand)
    return server_hours, round(server_hours * usd_per_server_hour, 2)


def elastic_fleet_with_a_loop(demand, usd_per_server_hour):
    plan = costs.elastic_capacity(demand, usd_per_server_hour)
    hours = 0
    for load in demand:
        hours += -int(-load // 1)  # ceiling division
    assert hours == plan.server_hours
    return [hours, hours * usd_per_server_hour]  # a list, and not rounded: both fine


def elastic_fleet_rounding(demand, usd_per_server_hour):
    hours = sum(round(load) for load in demand)
    return hours, round(hours * usd_per_server_hour, 2)


def elastic_fleet_truncating(demand, usd_per_server_hour):
    hours = sum(int(load) for load in demand)
    return hours, round(hours * usd_per_server_hour, 2)


def elastic_fleet_sized_for_the_peak(demand, usd_per_server_hour):
    hours = max(math.ceil(load) for load in demand) * len(demand) if demand else 0
    return hours, round(hours * usd_per_server_hour, 2)


def elastic_fleet_with_a_dict(demand, usd_per_server_hour):
    hours = sum(math.ceil(load) for load in demand)
    return {"server_hours": hours, "cost_usd": hours * usd_per_server_hour}


def test_elastic_fleet():
    assert_grader_proven(
        grade_elastic_fleet,
        solution=elastic_fleet,
        mistakes=[
            (elastic_fleet_rounding, "round up with math.ceil"),
            (elastic_fleet_truncating, "int() or math.floor"),
            (elastic_fleet_sized_for_the_peak, "fixed fleet"),
            (elastic_fleet_with_a_dict, "return a pair"),
        ],
        equivalents=[elastic_fleet_with_a_loop],
    )


# --- exercise 2: rank_regions ----------------------------------------------------------------


def _latency(users, r, weighted=True):
    rtts = [regions.estimated_rtt_ms(regions.great_circle_km(u.lat, u.lon, r.lat, r.lon)) for u in users]
    if not weighted:
        return sum(rtts) / len(rtts)
    return sum(u.weight * rtt for u, rtt in zip(users, rtts, strict=True)) / sum(u.weight for u in users)


def _candidates(eu_only, available_in, opt_in=False):
    return [r for r in regions.REGIONS if (opt_in or not r.opt_in) and (r.in_eu or not eu_only)
            and (available_in is None or r.code in available_in)]


def rank_regions(users, latency_weight=0.7, cost_weight=0.3, eu_only=False, available_in=None):
    candidates = _candidates(eu_only, available_in)

    def score(r):
        premium = r.t3_micro_usd_hour / regions.PRICE_REFERENCE_USD_HOUR - 1
        return latency_weight * _latency(users, r) / regions.LATENCY_REFERENCE_MS + cost_weight * premium

    return [r.code for r in sorted(candidates, key=lambda r: (score(r), r.code))]


def rank_regions_normalised_by_the_weights(users, latency_weight=0.7, cost_weight=0.3, eu_only=False,
                                           available_in=None):
    """Divides by the weights' sum and sorts with a stable sort over the table: same order."""
    scored = []
    for r in regions.REGIONS:
        if r.opt_in or (eu_only and not r.in_eu) or (available_in and r.code not in available_in):
            continue
        lat = _latency(users, r) / 100
        cost = (r.t3_micro_usd_hour - regions.PRICE_REFERENCE_USD_HOUR) / regions.PRICE_REFERENCE_USD_HOUR
        scored.append(((latency_weight * lat + cost_weight * cost) / (latency_weight + cost_weight), r.code))
    return [code for _, code in sorted(scored)]


def rank_regions_without_the_eu_filter(users, latency_weight=0.7, cost_weight=0.3, eu_only=False,
                                       available_in=None):
    return rank_regions(users, latency_weight, cost_weight, False, available_in)


def rank_regions_unweighted(users, latency_weight=0.7, cost_weight=0.3, eu_only=False, available_in=None):
    candidates = _candidates(eu_only, available_in)

    def score(r):
        premium = r.t3_micro_usd_hour / regions.PRICE_REFERENCE_USD_HOUR - 1
        return latency_weight * _latency(users, r, weighted=False) / 100 + cost_weight * premium

    return [r.code for r in sorted(candidates, key=lambda r: (score(r), r.code))]


def rank_regions_with_opt_in(users, latency_weight=0.7, cost_weight=0.3, eu_only=False, available_in=None):
    candidates = _candidates(eu_only, available_in, opt_in=True)

    def score(r):
        premium = r.t3_micro_usd_hour / regions.PRICE_REFERENCE_USD_HOUR - 1
        return latency_weight * _latency(users, r) / 100 + cost_weight * premium

    return [r.code for r in sorted(candidates, key=lambda r: (score(r), r.code))]


def rank_regions_best_last(users, latency_weight=0.7, cost_weight=0.3, eu_only=False, available_in=None):
    return rank_regions(users, latency_weight, cost_weight, eu_only, available_in)[::-1]


def rank_regions_in_milliseconds(users, latency_weight=0.7, cost_weight=0.3, eu_only=False,
                                 available_in=None):
    candidates = _candidates(eu_only, available_in)

    def score(r):
        premium = r.t3_micro_usd_hour / regions.PRICE_REFERENCE_USD_HOUR - 1
        return latency_weight * _latency(users, r) + cost_weight * premium

    return [r.code for r in sorted(candidates, key=lambda r: (score(r), r.code))]


def rank_regions_ignoring_available_in(users, latency_weight=0.7, cost_weight=0.3, eu_only=False,
                                       available_in=None):
    return rank_regions(users, latency_weight, cost_weight, eu_only, None)


def test_rank_regions():
    assert_grader_proven(
        grade_rank_regions,
        solution=rank_regions,
        mistakes=[
            (rank_regions_without_the_eu_filter, "did not filter out non-EU regions"),
            (rank_regions_unweighted, "not weighted by traffic"),
            (rank_regions_with_opt_in, "opt-in regions"),
            (rank_regions_best_last, "reverse order"),
            (rank_regions_in_milliseconds, "ignores cost"),
            (rank_regions_ignoring_available_in, "did not apply available_in"),
        ],
        equivalents=[rank_regions_normalised_by_the_weights],
    )


def test_the_lesson_example_holds():
    users = [regions.UserGroup("Paris", 48.86, 2.35, 3), regions.UserGroup("Berlin", 52.52, 13.40, 2),
             regions.UserGroup("Madrid", 40.42, -3.70, 1)]
    assert rank_regions(users)[:2] == ["eu-west-3", "eu-central-1"]
    assert elastic_fleet([0.2, 1.0, 2.5], 0.10) == (5, 0.5)


# --- exercise 3: shared responsibility ---------------------------------------------------------

RESPONSIBILITY = {
    "ec2_failed_disk": "AWS", "ec2_os_patch": "you", "ec2_isolation": "AWS", "rds_engine_patch": "AWS",
    "rds_host_os": "AWS", "rds_security_group": "you", "s3_who_reads": "you", "s3_encryption": "you",
}  # fmt: skip


def test_shared_responsibility():
    written_differently = {k: ("aws" if v == "AWS" else "Customer") for k, v in RESPONSIBILITY.items()}
    assert_grader_proven(
        grade_shared_responsibility,
        solution=RESPONSIBILITY,
        mistakes=[
            ({**RESPONSIBILITY, "rds_engine_patch": "you"}, "on a managed service such as rds"),
            ({**RESPONSIBILITY, "rds_security_group": "AWS"}, "yours on every service"),
            ({**RESPONSIBILITY, "ec2_os_patch": "AWS"}, "from the operating system up is yours"),
            ({**RESPONSIBILITY, "s3_encryption": "AWS"}, "how it must be protected"),
            ({**RESPONSIBILITY, "ec2_failed_disk": "you"}, "you never touch them"),
            ({k: v for k, v in RESPONSIBILITY.items() if k != "rds_host_os"},
             "no answer for ['rds_host_os']"),
        ],
        equivalents=[written_differently],
    )


# --- review (issue 13): adversarial and equivalent answers ------------------------------------


def elastic_fleet_with_numpy(demand, usd_per_server_hour):
    import numpy as np

    server_hours = np.ceil(np.asarray(demand, dtype=float)).astype(int).sum()  # a numpy int64
    return server_hours, round(float(server_hours) * usd_per_server_hour, 2)


def elastic_fleet_with_decimal_cents(demand, usd_per_server_hour):
    from decimal import Decimal

    server_hours = sum(-(-load // 1) for load in demand)
    cost = Decimal(server_hours) * Decimal(str(usd_per_server_hour))
    return [int(server_hours), cost.quantize(Decimal("0.01"))]


def elastic_fleet_adding_one_to_int(demand, usd_per_server_hour):  # wrong on a whole load such as 1.0
    server_hours = sum(int(load) + 1 for load in demand)
    return server_hours, round(server_hours * usd_per_server_hour, 2)


def elastic_fleet_rounding_to_dollars(demand, usd_per_server_hour):
    server_hours = sum(math.ceil(load) for load in demand)
    return server_hours, round(server_hours * usd_per_server_hour)


def test_elastic_fleet_review():
    assert_grader_proven(
        grade_elastic_fleet,
        solution=elastic_fleet,
        mistakes=[
            (elastic_fleet_adding_one_to_int, "returned 6 server-hours, expected 5"),
            (elastic_fleet_rounding_to_dollars, "rounded to cents"),
            (lambda demand, price: sum(math.ceil(load) for load in demand), "return a pair"),
        ],
        equivalents=[elastic_fleet_with_numpy, elastic_fleet_with_decimal_cents],
    )


def _rank(users, latency_weight, cost_weight, eu_only, available_in, *, distance, divide_by):
    candidates = _candidates(eu_only, available_in)

    def score(r):
        latency = sum(u.weight * regions.estimated_rtt_ms(distance(u, r)) for u in users) / divide_by(users)
        premium = r.t3_micro_usd_hour / regions.PRICE_REFERENCE_USD_HOUR - 1
        return latency_weight * latency / regions.LATENCY_REFERENCE_MS + cost_weight * premium

    return [r.code for r in sorted(candidates, key=lambda r: (score(r), r.code))]


def rank_regions_dividing_by_the_group_count(users, latency_weight=0.7, cost_weight=0.3, eu_only=False,
                                             available_in=None):
    return _rank(users, latency_weight, cost_weight, eu_only, available_in,
                 distance=lambda u, r: regions.great_circle_km(u.lat, u.lon, r.lat, r.lon), divide_by=len)


def rank_regions_with_lon_first(users, latency_weight=0.7, cost_weight=0.3, eu_only=False, available_in=None):
    return _rank(users, latency_weight, cost_weight, eu_only, available_in,
                 distance=lambda u, r: regions.great_circle_km(u.lon, u.lat, r.lon, r.lat),
                 divide_by=lambda users: sum(u.weight for u in users))


def rank_regions_with_numpy_as_a_tuple(users, latency_weight=0.7, cost_weight=0.3, eu_only=False,
                                       available_in=None):
    import numpy as np

    weights = np.array([u.weight for u in users], dtype=float)
    scored = []
    for r in _candidates(eu_only, available_in):
        rtt = [regions.estimated_rtt_ms(regions.great_circle_km(u.lat, u.lon, r.lat, r.lon)) for u in users]
        premium = (r.t3_micro_usd_hour - regions.PRICE_REFERENCE_USD_HOUR) / regions.PRICE_REFERENCE_USD_HOUR
        latency = np.average(rtt, weights=weights) / 100
        scored.append((latency_weight * latency + cost_weight * premium, r.code))
    return tuple(code for _, code in sorted(scored))


def test_rank_regions_review():
    assert_grader_proven(
        grade_rank_regions,
        solution=rank_regions,
        mistakes=[
            (rank_regions_dividing_by_the_group_count, "divide it by the total weight"),
            (rank_regions_with_lon_first, "latitude first"),
        ],
        equivalents=[rank_regions_with_numpy_as_a_tuple],
    )


def test_shared_responsibility_review():
    assert_grader_proven(
        grade_shared_responsibility,
        solution=RESPONSIBILITY,
        mistakes=[
            ({**RESPONSIBILITY, "rds_engine_patch": "you"}, "AWS runs and patches the database engine"),
            ({**RESPONSIBILITY, "s3_encryption": "AWS"}, "data is yours on every service"),
            ({**RESPONSIBILITY, "ec2_failed_disk": "Amazon"}, "answer 'AWS' or 'you'"),
        ],
        equivalents=[{k: " aws " if v == "AWS" else "Customer" for k, v in RESPONSIBILITY.items()}],
    )
