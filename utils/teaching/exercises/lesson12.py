"""Graders of lesson 12 (``12_principles_of_good_data_architecture``).

1. ``design_availability``: availability of a design with stages in series and copies in
   parallel (multi-AZ), against :func:`utils.concepts.architecture.design_availability`.
2. ``allows``: a zero-trust access decision, against
   :func:`utils.concepts.security.zero_trust_allows` on requests from inside and outside the
   office network.
3. ``pillar_of``: a Well-Architected review, each finding mapped to its pillar, graded element
   by element against :data:`utils.concepts.architecture.REVIEW_FINDINGS`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from utils.concepts import architecture as arch
from utils.concepts.security import Grant, perimeter_allows, zero_trust_allows
from utils.teaching.grading import grader
from utils.teaching.registry import declare

# --- exercise 1: availability of a design ---------------------------------------------------------------

AVAILABILITY_CASES: tuple[tuple[str, list[tuple[float, int]]], ...] = (
    ("one database in one zone", [(0.995, 1)]),
    ("the same database in two zones", [(0.995, 2)]),
    ("three single parts in a chain", [(0.995, 1), (0.999, 1), (0.9999, 1)]),
    ("a chain of a 3-zone service, a 2-zone database and one batch job",
     [(0.99, 3), (0.995, 2), (0.999, 1)]),
    ("a design with no stages", []),
)


def _variants(stages: Sequence[tuple[float, int]]) -> dict[str, float]:
    """What the common wrong formulas give, to name the mistake."""
    if not stages:
        return {}
    return {
        "sum": sum(a for a, _ in stages),
        "copies in series": math.prod(a**n for a, n in stages),
        "copies ignored": math.prod(a for a, _ in stages),
        "linear": math.prod(1 - (1 - a) * n for a, n in stages),
        "weakest": min(1 - (1 - a) ** n for a, n in stages),
    }


MISTAKE_FEEDBACK = {
    "sum": "you added the availabilities. Parts that must all work multiply: 0.99 x 0.99 = 0.9801.",
    "copies in series": (
        "you multiplied the copies' availabilities (a ** copies), as if every copy had to work. Copies are "
        "in parallel: the stage is down only when ALL copies are down, so it is 1 - (1 - a) ** copies."
    ),
    "copies ignored": "you ignored the copies: a stage with 2 copies is down only when both are.",
    "linear": (
        "you used 1 - (1 - a) * copies. The chance that every copy is down at once is (1 - a) ** copies: "
        "independent failures multiply."
    ),
    "weakest": (
        "you kept only the weakest stage. Every stage can fail on its own, so the chain multiplies them all."
    ),
}


@grader("l12_ex1_design_availability", max_score=1)
def grade_design_availability(design_availability: Callable[[list[tuple[float, int]]], float]) -> str:
    """``design_availability(stages)`` must equal :func:`arch.design_availability` on every design."""
    assert callable(design_availability), (
        "design_availability should be a function (def design_availability(stages): ...), "
        f"not {type(design_availability).__name__}."
    )
    results = []
    for label, stages in AVAILABILITY_CASES:
        try:
            got = design_availability([tuple(stage) for stage in stages])
        except TypeError as error:
            if not stages:
                raise AssertionError(
                    f"On {label} your function raised TypeError ({error}): with no stages nothing can fail, "
                    "so return 1.0 (math.prod([]) is 1; reduce() needs a start value)."
                ) from None
            raise
        assert isinstance(got, numbers.Real) and not isinstance(got, bool), (
            f"On {label} you returned {got!r}: return a number between 0 and 1."
        )
        results.append(got)
    for (label, stages), got in zip(AVAILABILITY_CASES, results, strict=True):
        expected = arch.design_availability(stages)
        if math.isclose(got, expected, rel_tol=0, abs_tol=1e-9):
            continue
        for name in MISTAKE_FEEDBACK:  # the wrong formula that explains every answer, if one does
            if all(math.isclose(r, _variants(st)[name], abs_tol=1e-9)
                   for (_, st), r in zip(AVAILABILITY_CASES, results, strict=True) if st):
                raise AssertionError(f"On {label} you returned {got:.6f}, expected {expected:.6f}: "
                                     + MISTAKE_FEEDBACK[name])
        hint = ""
        if math.isclose(got, expected * 100, rel_tol=1e-9):
            hint = " That is a percentage: return the fraction (0.995, not 99.5)."
        elif any(math.isclose(got, round(expected, digits), abs_tol=1e-12) for digits in range(7)):
            hint = (" You rounded it, which hides what a copy adds (rounded far enough, nothing ever fails). "
                    "Return the exact value and round only when you print it.")
        elif not stages:
            hint = " With no stages nothing can fail: start the product at 1.0."
        raise AssertionError(f"On {label} ({stages}) you returned {got!r}, expected {expected:.6f}.{hint}")
    return "design_availability multiplies the stages and combines each stage's copies in parallel."


# --- exercise 2: zero trust ---------------------------------------------------------------------------------

ZT_GRANTS = (
    Grant("ana", "SELECT", "analytics.*"),
    Grant("etl_job", "WRITE", "lake/gold/*"),
)


def _request(user: str | None, network: str, device_ok: bool, action: str, resource: str) -> dict[str, Any]:
    return {"user": user, "network": network, "device_ok": device_ok, "action": action, "resource": resource}


ZT_CASES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("ana, signed in at the office on a healthy laptop, reading analytics.fact_orders",
     _request("ana", "office", True, "SELECT", "analytics.fact_orders")),
    ("ana, signed in from home over the internet on a healthy laptop, reading analytics.fact_orders",
     _request("ana", "internet", True, "SELECT", "analytics.fact_orders")),
    ("someone NOT signed in, plugged into the office network, reading analytics.fact_orders",
     _request(None, "office", True, "SELECT", "analytics.fact_orders")),
    ("ana at the office on a laptop that failed its health check",
     _request("ana", "office", False, "SELECT", "analytics.fact_orders")),
    ("ana, signed in over the VPN, trying to DELETE from analytics.fact_orders",
     _request("ana", "vpn", True, "DELETE", "analytics.fact_orders")),
    ("the ETL job writing lake/gold/fact_orders from inside the VPC",
     _request("etl_job", "office", True, "WRITE", "lake/gold/fact_orders")),
    ("mallory, signed in (a real account) at the office, with no grant at all",
     _request("mallory", "office", True, "SELECT", "analytics.fact_orders")),
)


def _wrong_policies(grants: list[Grant]) -> dict[str, Callable[[dict[str, Any]], bool]]:
    """Policies learners write instead of zero trust, each with the feedback that names it."""
    from utils.concepts.security import is_allowed

    def granted(r: dict[str, Any]) -> bool:
        return bool(r["user"]) and is_allowed(grants, r["user"], r["action"], r["resource"])[0]

    return {
        "perimeter thinking: anything inside the office network is trusted. Being inside proves nothing "
        "(a stolen laptop or a visitor's is inside too); zero trust checks identity, device and grant on "
        "every request, wherever it comes from": lambda r: perimeter_allows(r, grants),
        "signing in proves WHO asks, not what they may do: check the grants too (is_allowed(grants, user, "
        "action, resource)) and deny when none matches": lambda r: bool(r["user"]) and bool(r["device_ok"]),
        "a device that failed its health check must be refused, even for a signed-in user with a grant":
            granted,
        "location proves nothing either way: a signed-in user on a healthy device with a grant is allowed "
        "from home too, so ignore the network":
            lambda r: zero_trust_allows(r, grants) and r["network"] == "office",
    }


@grader("l12_ex2_allows", max_score=1)
def grade_allows(allows: Callable[[dict[str, Any], list[Grant]], bool]) -> str:
    """``allows(request, grants)`` must decide like :func:`zero_trust_allows` on every request."""
    assert callable(allows), (
        f"allows should be a function (def allows(request, grants): ...), not {type(allows).__name__}."
    )
    grants = list(ZT_GRANTS)
    decisions = []
    for label, request in ZT_CASES:
        got = allows(dict(request), list(grants))
        if isinstance(got, np.bool_):
            got = bool(got)
        assert not isinstance(got, tuple), (
            f"On {label} you returned {got!r}: is_allowed returns a pair (decision, reason); return its "
            "decision, is_allowed(...)[0], so the answer is True or False."
        )
        assert isinstance(got, bool), (
            f"On {label} you returned {got!r}: return True or False"
            + (" (a chain of `and` returns its first falsy value, here None: wrap it in bool(...))."
               if got is None or got == "" else ".")
        )
        decisions.append(got)
    expected = [zero_trust_allows(request, grants) for _, request in ZT_CASES]
    if decisions == expected:
        _check_hidden_requests(allows)
        return (
            "allows decides like zero trust: identity, device health and an explicit grant on every request, "
            "and never the network it comes from."
        )
    first = next(i for i, (got, want) in enumerate(zip(decisions, expected, strict=True)) if got != want)
    verb = "allowed" if decisions[first] else "refused"
    for feedback, policy in _wrong_policies(grants).items():
        if decisions == [policy(request) for _, request in ZT_CASES]:
            raise AssertionError(f"You {verb} {ZT_CASES[first][0]}. That is {feedback}."
                                 if feedback.startswith("perimeter") else
                                 f"You {verb} {ZT_CASES[first][0]}: {feedback}.")
    raise AssertionError(
        f"You {verb} {ZT_CASES[first][0]}; zero trust {'allows' if expected[first] else 'refuses'} it: "
        "a request passes only with a signed-in user, a healthy device and a grant for the action."
    )


OTHER_GRANTS = (
    Grant("bo", "SELECT", "finance.*"),
    Grant("bo", "DELETE", "finance.drafts"),
    Grant("ana", "SELECT", "analytics.fact_orders"),
)
"""Another team's grants: the learner's function must use the grants it is given."""


def _hidden_requests() -> list[dict[str, Any]]:
    """Every combination of user, device, network and action the lesson's table does not show."""
    targets = [("SELECT", "finance.ledger"), ("DELETE", "finance.drafts"), ("DELETE", "finance.ledger"),
               ("SELECT", "analytics.fact_orders"), ("SELECT", "analytics.dim_products")]
    return [_request(user, network, device_ok, action, resource)
            for user in ("bo", "ana", "mallory", None, "")
            for network in ("office", "vpn", "internet")
            for device_ok in (True, False)
            for action, resource in targets]


def _check_hidden_requests(allows: Callable[[dict[str, Any], list[Grant]], bool]) -> None:
    """The same rule on requests and grants the lesson does not show (so a lookup table fails)."""
    grants = list(OTHER_GRANTS)
    for request in _hidden_requests():
        got = allows(dict(request), list(grants))
        assert isinstance(got, bool | np.bool_), (
            f"For a request with user={request['user']!r} you returned {got!r}: return True or False (wrap "
            "the test in bool(...))."
        )
        expected = zero_trust_allows(request, grants)
        if bool(got) == expected:
            continue
        who = f"user {request['user']!r}" if request["user"] else "nobody signed in"
        device = "healthy" if request["device_ok"] else "failing"
        raise AssertionError(
            f"With another team's grants {[(g.principal, g.action, g.resource) for g in grants]}, you "
            f"{'allowed' if got else 'refused'} {who} on a {device} "
            f"device from the {request['network']} network, {request['action']} on {request['resource']}; "
            f"zero trust {'allows' if expected else 'refuses'} it. Decide from the request and the grants "
            "you are given, not from the lesson's examples."
        )


# --- exercise 3: a Well-Architected review ----------------------------------------------------------------

_PILLAR_ALIASES = {name.lower(): name for name in arch.WELL_ARCHITECTED_PILLARS} | {
    "operational": "Operational excellence", "ops": "Operational excellence",
    "performance": "Performance efficiency", "cost": "Cost optimization",
    "cost optimisation": "Cost optimization",
}
_HINTS = {
    "password": "it is about who could read a secret",
    "one_zone": "it is about surviving a failure and getting data back",
    "console": "it is about how the system is changed and run day to day",
    "on_demand": "it is about the price paid for the same resources",
    "csv_scans": "it is about being fast enough with the right format",
    "rewrite_all": "it is about how much work is done and data kept, not the bill alone",
}


@grader("l12_ex3_pillar_of", max_score=1)
def grade_pillar_of(pillar_of: dict[str, str]) -> str:
    """``pillar_of`` maps each finding of :data:`arch.REVIEW_FINDINGS` to its Well-Architected pillar."""
    assert isinstance(pillar_of, dict), (
        f"pillar_of should be a dict like {{'password': 'Security', ...}}, not a {type(pillar_of).__name__}."
    )
    findings = arch.REVIEW_FINDINGS
    assert set(pillar_of) == set(findings), (
        f"The keys should be exactly the findings {sorted(findings)}; yours are {sorted(pillar_of)}."
    )
    chosen = {}
    for key, value in pillar_of.items():
        pillar = _PILLAR_ALIASES.get(str(value).strip().lower())
        assert pillar is not None, (
            f"For {key!r} you wrote {value!r}: use one of the six pillars "
            f"{list(arch.WELL_ARCHITECTED_PILLARS)}."
        )
        chosen[key] = pillar
    twice = sorted({p for p in chosen.values() if list(chosen.values()).count(p) > 1})
    wrong = [key for key in findings if chosen[key] != findings[key][1]]
    if not wrong:
        return "Every finding sits under its pillar: the review now says what to fix, and why it matters."
    lines = [
        f"{key}: you chose {chosen[key]} ('{arch.WELL_ARCHITECTED_PILLARS[chosen[key]]}'), but {_HINTS[key]}"
        for key in wrong
    ]
    if twice:
        lines.insert(0, "Each pillar fits exactly one finding, and you used "
                        f"{', '.join(twice)} more than once")
    raise AssertionError(f"{len(findings) - len(wrong)} of {len(findings)} right. " + "; ".join(lines) + ".")


declare("12_principles_of_good_data_architecture", grade_design_availability, grade_allows, grade_pillar_of)
