"""Graders of lesson 06 (``06_the_aws_cloud_and_regions``): elastic capacity and choosing a region.

The lesson calls :func:`utils.concepts.costs.elastic_capacity` and
:func:`utils.concepts.regions.pick_region`; in the exercises the learner writes their core.
Each grader compares the learner's function with that reference on the lesson's own data
and on other cases, and recognises the usual wrong answers by recomputing them (a ranking
without the EU filter, latency not weighted by traffic...) so the feedback can name them.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from utils.concepts import costs, regions
from utils.concepts.regions import UserGroup
from utils.teaching.grading import grader
from utils.teaching.registry import declare

# --- exercise 1: the elastic fleet ------------------------------------------------------------


def _demand_cases() -> list[tuple[str, list[float], float]]:
    return [
        ("the lesson's week (seed 42)", costs.synthetic_demand(days=7, seed=42), 0.096),
        ("another week (seed 7, no sale day)", costs.synthetic_demand(days=7, seed=7, peak_day=None), 0.0416),
        ("three hours of 0.2, 1.0 and 2.5 servers' worth of load", [0.2, 1.0, 2.5], 0.10),
        ("an empty demand curve", [], 0.096),
    ]


def _as_pair(got: Any) -> tuple[float, float] | None:
    if isinstance(got, costs.CapacityPlan):
        return float(got.server_hours), float(got.cost_usd)
    if isinstance(got, tuple | list) and len(got) == 2 and all(
        isinstance(v, numbers.Real | Decimal) and not isinstance(v, bool) for v in got  # numpy ints too
    ):
        return float(got[0]), float(got[1])
    return None


@grader("l06_ex1_elastic_fleet", max_score=1)
def grade_elastic_fleet(elastic_fleet: Callable[[list[float], float], tuple[int, float]]) -> str:
    """``elastic_fleet(demand, usd_per_server_hour)`` must match :func:`costs.elastic_capacity`."""
    assert callable(elastic_fleet), (
        "elastic_fleet should be a function (def elastic_fleet(demand, usd_per_server_hour): ...), "
        f"not {type(elastic_fleet).__name__}."
    )
    for label, demand, price in _demand_cases():
        reference = costs.elastic_capacity(demand, price)
        got = _as_pair(elastic_fleet(list(demand), price))
        assert got is not None, (
            "elastic_fleet should return a pair (server_hours, cost_usd), e.g. (812, 77.95); "
            f"on {label} it returned something else."
        )
        hours, cost = got
        if hours == reference.server_hours and math.isclose(cost, reference.cost_usd, abs_tol=0.006):
            continue
        rounded = sum(round(d) for d in demand)
        floored = sum(math.floor(d) for d in demand)
        peak_fleet = max(map(math.ceil, demand), default=0) * len(demand)
        assert not (hours == rounded != reference.server_hours), (
            f"On {label} you ran {hours:g} server-hours, expected {reference.server_hours}: you rounded "
            "the demand to the nearest whole server. An hour with 2.3 servers' worth of load needs 3 "
            "servers, or it is overloaded: round UP with math.ceil."
        )
        assert not (hours == floored != reference.server_hours), (
            f"On {label} you ran {hours:g} server-hours, expected {reference.server_hours}: int() or "
            "math.floor drops the part of a server that is still needed. Round up with math.ceil."
        )
        assert not (hours == peak_fleet != reference.server_hours), (
            f"On {label} you ran the peak fleet all the time ({hours:g} server-hours): that is the fixed "
            "fleet of the data-centre way. The elastic fleet runs, each hour, just the servers that hour "
            "needs."
        )
        assert hours == reference.server_hours, (
            f"On {label} you returned {hours:g} server-hours, expected {reference.server_hours} "
            "(the sum over the hours of the servers each hour needs, rounded up)."
        )
        raise AssertionError(
            f"On {label} the server-hours are right ({hours:g}) but the cost is {cost}, expected "
            f"{reference.cost_usd} = server-hours x {price} $/server-hour, rounded to cents."
        )
    return (
        "elastic_fleet matches the lesson's elastic_capacity on every demand curve: each hour runs "
        "just enough servers (rounded up), and you pay only for those server-hours."
    )


# --- exercise 2: rank regions -----------------------------------------------------------------

PARIS_BERLIN_MADRID = (
    UserGroup("Paris", 48.86, 2.35, weight=3),
    UserGroup("Berlin", 52.52, 13.40, weight=2),
    UserGroup("Madrid", 40.42, -3.70, weight=1),
)
TOKYO_HEAVY = (UserGroup("Tokyo", 35.68, 139.69, weight=8), UserGroup("Seattle", 47.61, -122.33, weight=1),
               UserGroup("London", 51.51, -0.13, weight=1))  # fmt: skip
AMERICAS = (UserGroup("Sao Paulo", -23.55, -46.63, weight=1), UserGroup("New York", 40.71, -74.0, weight=4))
CAPE_TOWN = (UserGroup("Cape Town", -33.92, 18.42, weight=1),)

RankingCase = tuple[str, Sequence[UserGroup], dict[str, Any]]


def _ranking_cases() -> list[RankingCase]:
    return [
        ("the lesson's Paris/Berlin/Madrid users with weights 0.7/0.3", PARIS_BERLIN_MADRID,
         {"latency_weight": 0.7, "cost_weight": 0.3}),
        ("the same users, cost-heavy weights 0.3/0.7", PARIS_BERLIN_MADRID,
         {"latency_weight": 0.3, "cost_weight": 0.7}),
        ("the same users with eu_only=True", PARIS_BERLIN_MADRID,
         {"latency_weight": 0.7, "cost_weight": 0.3, "eu_only": True}),
        ("8 parts Tokyo, 1 Seattle, 1 London traffic", TOKYO_HEAVY,
         {"latency_weight": 0.7, "cost_weight": 0.3}),
        ("New York (x4) and Sao Paulo users, a service only in eu-west-1, us-east-1 and sa-east-1",
         AMERICAS, {"latency_weight": 0.5, "cost_weight": 0.5,
                    "available_in": {"eu-west-1", "us-east-1", "sa-east-1"}}),
        ("users in Cape Town, latency only", CAPE_TOWN, {"latency_weight": 1.0, "cost_weight": 0.0}),
        ("users in Cape Town, cost only", CAPE_TOWN, {"latency_weight": 0.0, "cost_weight": 1.0}),
    ]  # fmt: skip


def _variant_scores(users: Sequence[UserGroup], *, latency_weight: float, cost_weight: float,
                    eu_only: bool = False, available_in: set[str] | None = None,
                    mistake: str | None = None) -> dict[str, float]:
    """Each candidate's score as the lesson defines it, or as a learner gets it with one known
    ``mistake`` (the dict keeps the candidates' table order)."""
    candidates = [
        r for r in regions.REGIONS
        if (mistake == "keeps opt-in" or not r.opt_in)
        and (mistake == "no eu filter" or not eu_only or r.in_eu)
        and (mistake == "no availability filter" or available_in is None or r.code in available_in)
    ]
    total = sum(u.weight for u in users)
    cheapest = min(r.t3_micro_usd_hour for r in candidates)
    scores = {}
    for r in candidates:
        swapped = mistake == "lat/lon swapped"
        rtts = [regions.estimated_rtt_ms(regions.great_circle_km(u.lon, u.lat, r.lon, r.lat) if swapped
                                         else regions.great_circle_km(u.lat, u.lon, r.lat, r.lon))
                for u in users]
        if mistake == "unweighted latency":
            latency = sum(rtts) / len(rtts)
        elif mistake == "divided by the count":
            latency = sum(u.weight * rtt for u, rtt in zip(users, rtts, strict=True)) / len(users)
        else:
            latency = sum(u.weight * rtt for u, rtt in zip(users, rtts, strict=True)) / total
        reference_price = (cheapest if mistake == "price against candidates"
                           else regions.PRICE_REFERENCE_USD_HOUR)
        premium = r.t3_micro_usd_hour / reference_price - 1
        weight_of_latency = 0.0 if mistake == "latency ignored" else latency_weight
        weight_of_cost = 0.0 if mistake == "cost ignored" else cost_weight
        scores[r.code] = weight_of_latency * latency / regions.LATENCY_REFERENCE_MS + weight_of_cost * premium
    return scores


def _variant_ranking(users: Sequence[UserGroup], *, mistake: str | None = None, **options: Any) -> list[str]:
    """The ranking (best first) that :func:`_variant_scores` gives."""
    scores = _variant_scores(users, mistake=mistake, **options)
    ranked = sorted(scores, key=lambda code: (scores[code], code))
    return ranked[::-1] if mistake == "reversed" else ranked


MISTAKES: dict[str, str] = {
    "no eu filter": (
        "you did not filter out non-EU regions: with eu_only=True only regions with in_eu=True may be "
        "ranked (London, eu-west-2, is in Europe but not in the EU)"
    ),
    "no availability filter": (
        "you did not apply available_in: a region that lacks a service you need cannot be chosen, "
        "however close or cheap it is (keep only regions whose code is in available_in)"
    ),
    "keeps opt-in": (
        "you ranked opt-in regions (opt_in=True, e.g. af-south-1 or eu-south-1): they must be enabled on "
        "the account first, so leave them out, as pick_region does by default"
    ),
    "unweighted latency": (
        "latency is not weighted by traffic: you averaged the user groups equally, but a group with "
        "weight 8 makes 8 times the requests of a group with weight 1 (sum weight x rtt, divide by the "
        "total weight)"
    ),
    "divided by the count": (
        "you divided the traffic-weighted sum of round trips by the number of user groups; divide it by the "
        "total weight (sum of u.weight) to get the average round trip of one request"
    ),
    "lat/lon swapped": (
        "the distances are wrong: great_circle_km takes (lat1, lon1, lat2, lon2), latitude first, so call "
        "it as great_circle_km(u.lat, u.lon, r.lat, r.lon)"
    ),
    "reversed": "your list is in reverse order: the LOWEST score is the best region and comes first",
    "price against candidates": (
        "you measured price against the cheapest of the remaining candidates; use the fixed yardstick "
        "regions.PRICE_REFERENCE_USD_HOUR so a region's score does not change when filters remove others"
    ),
    "cost ignored": (
        "your ranking ignores cost: it is the order by latency alone. Either the cost term is missing, or it "
        "is too small to count next to latency: latency must be in units of regions.LATENCY_REFERENCE_MS "
        "(100 ms, not milliseconds) and cost is the premium price / regions.PRICE_REFERENCE_USD_HOUR - 1 "
        "(not the raw $/hour price, about 0.01)"
    ),
    "latency ignored": (
        "your ranking ignores latency: it is the order by price alone. Add latency_weight x the "
        "traffic-weighted round trip in units of regions.LATENCY_REFERENCE_MS"
    ),
}


def _same_ranking(got: list[str], expected: list[str], scores: dict[str, float]) -> bool:
    """Equal, allowing swaps of regions whose reference scores tie (to rounding error)."""
    if sorted(got) != sorted(expected):
        return False
    return all(a == b or math.isclose(scores[a], scores[b], abs_tol=1e-9)
               for a, b in zip(got, expected, strict=True))


def _codes(got: Any) -> list[str] | None:
    if isinstance(got, Iterable) and not isinstance(got, str | bytes | dict):
        items = list(got)
        if all(isinstance(c, str) for c in items):
            return items
        if all(isinstance(c, regions.RegionScore | regions.Region) for c in items):
            return [c.code for c in items]
    return None


@grader("l06_ex2_rank_regions", max_score=1)
def grade_rank_regions(rank_regions: Callable[..., list[str]]) -> str:
    """``rank_regions(users, ...)`` must order regions as :func:`regions.pick_region` does."""
    assert callable(rank_regions), (
        "rank_regions should be a function (def rank_regions(users, latency_weight=0.7, cost_weight=0.3, "
        f"eu_only=False, available_in=None): ...), not {type(rank_regions).__name__}."
    )
    for label, users, options in _ranking_cases():
        expected = [s.code for s in regions.pick_region(users, **options)]
        got = _codes(rank_regions(list(users), **options))
        assert got is not None, (
            f"On {label} rank_regions returned something that is not a list of region codes "
            "(['eu-west-3', 'eu-central-1', ...])."
        )
        if _same_ranking(got, expected, _variant_scores(users, **options)):
            continue
        for mistake, message in MISTAKES.items():
            variant = _variant_ranking(users, mistake=mistake, **options)
            if variant != expected and got == variant:
                raise AssertionError(f"On {label}, {message}.")
        extra = sorted(set(got) - set(expected))
        missing = sorted(set(expected) - set(got))
        if extra or missing:
            raise AssertionError(
                f"On {label} your ranking has {extra or 'no'} extra and {missing or 'no'} missing region(s) "
                f"compared with the regions that pass the filters ({len(expected)} of them)."
            )
        first = next(i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b)
        raise AssertionError(
            f"On {label} your ranking starts {got[:first + 1]}, expected {expected[:first + 1]}: "
            f"check the score of {got[first]} against {expected[first]}."
        )
    return (
        f"rank_regions orders the regions exactly as pick_region does on {len(_ranking_cases())} sets of "
        "users and constraints: filters first, then traffic-weighted latency traded against the price "
        "premium."
    )


# --- exercise 3: the shared responsibility model -----------------------------------------------

_YOU = {"you", "customer", "me", "us", "the customer"}


def _why(layer: str, service: str, expected: str) -> str:
    if expected == "AWS" and layer in ("facilities", "hardware", "hypervisor"):
        return ("AWS secures the cloud itself: buildings, physical servers and disks, and the hypervisor "
                "that keeps customers' VMs apart. You never touch them")  # fmt: skip
    if expected == "AWS":
        return (f"on a managed service such as {service}, AWS runs and patches the {layer} for you; that "
                "is part of what the service is")  # fmt: skip
    if layer == "operating system":
        return "on EC2 everything from the operating system up is yours: AWS does not log in to your instance"
    return (f"{layer} is yours on every service, {service} included: only you know who should reach or read "
            "your data, and how it must be protected")  # fmt: skip


@grader("l06_ex3_shared_responsibility", max_score=1)
def grade_shared_responsibility(responsibility: Mapping[str, str]) -> str:
    """``responsibility`` must give each task of :data:`responsibility.TASKS` the owner the model gives."""
    from utils.concepts import responsibility as model

    assert isinstance(responsibility, Mapping), (
        "responsibility should be a dict such as {'ec2_failed_disk': 'AWS', ...}, "
        f"not {type(responsibility).__name__}."
    )
    unknown = sorted(set(responsibility) - set(model.TASKS))
    missing = sorted(set(model.TASKS) - set(responsibility))
    assert not unknown, f"responsibility has keys that are not tasks: {unknown}; use the keys of TASKS."
    assert not missing, f"responsibility has no answer for {missing}."
    wrong = []
    for key, task in model.TASKS.items():
        answer = str(responsibility[key]).strip()
        owner = "AWS" if answer.lower() == "aws" else "you" if answer.lower() in _YOU else None
        assert owner is not None, f"{key}: answer 'AWS' or 'you', not {answer!r}."
        expected = model.who_secures(task.layer, task.service)
        if owner != expected:
            why = _why(task.layer, task.service, expected)
            wrong.append(f"{key} ({task.description}): not {owner}, because {why}")
    assert not wrong, f"{len(wrong)} of {len(model.TASKS)} to rethink:\n- " + "\n- ".join(wrong)
    return (
        f"All {len(model.TASKS)} tasks are with the right owner: AWS below the line (and the OS and engine "
        "of "
        "managed services), you above it (network rules, access and data, everywhere)."
    )


declare("06_the_aws_cloud_and_regions", grade_elastic_fleet, grade_rank_regions, grade_shared_responsibility)
