"""Lesson 12's graders: the solution passes, the placeholder is not done, mistakes are named."""

from __future__ import annotations

import math
from functools import reduce

from tests.lessons.exercise_helpers import assert_grader_proven
from utils.concepts.security import is_allowed
from utils.teaching.exercises.lesson12 import (
    ZT_CASES,
    ZT_GRANTS,
    grade_allows,
    grade_design_availability,
    grade_pillar_of,
)

# --- exercise 1: design_availability --------------------------------------------------------------


def design_availability(stages):
    total = 1.0
    for availability, copies in stages:
        total *= 1 - (1 - availability) ** copies
    return total


def design_availability_with_prod(stages):
    return math.prod(1 - (1 - a) ** n for a, n in stages)


def adding(stages):
    return sum(a for a, _ in stages) if stages else 1.0


def copies_in_series(stages):
    return math.prod(a**n for a, n in stages)


def ignoring_copies(stages):
    return math.prod(a for a, _ in stages)


def linear_copies(stages):
    return math.prod(1 - (1 - a) * n for a, n in stages)


def weakest_link(stages):
    return min((1 - (1 - a) ** n for a, n in stages), default=1.0)


def reduce_without_a_start(stages):
    return reduce(lambda x, y: x * y, [1 - (1 - a) ** n for a, n in stages])


def test_design_availability():
    assert_grader_proven(
        grade_design_availability,
        solution=design_availability,
        mistakes=[
            (adding, "you added the availabilities"),
            (copies_in_series, "copies are in parallel"),
            (ignoring_copies, "you ignored the copies"),
            (linear_copies, "(1 - a) ** copies"),
            (weakest_link, "the weakest stage"),
            (reduce_without_a_start, "return 1.0"),
        ],
        equivalents=[design_availability_with_prod],
    )


# --- exercise 2: allows ---------------------------------------------------------------------------


def allows(request, grants):
    if not request["user"] or not request["device_ok"]:
        return False
    return is_allowed(grants, request["user"], request["action"], request["resource"])[0]


def allows_with_a_loop(request, grants):
    from fnmatch import fnmatch

    if request.get("user") is None or request.get("device_ok") is not True:
        return False
    return any(g.principal == request["user"] and fnmatch(request["action"], g.action)
               and fnmatch(request["resource"], g.resource) for g in grants)


def trusting_the_office(request, grants):
    return request["network"] == "office" or allows(request, grants)


def trusting_any_login(request, grants):
    return bool(request["user"]) and request["device_ok"]


def ignoring_the_device(request, grants):
    user = request["user"]
    return bool(user) and is_allowed(grants, user, request["action"], request["resource"])[0]


def office_only(request, grants):
    return request["network"] == "office" and allows(request, grants)


def test_allows():
    assert_grader_proven(
        grade_allows,
        solution=allows,
        mistakes=[
            (trusting_the_office, "perimeter thinking"),
            (trusting_any_login, "not what they may do"),
            (ignoring_the_device, "failed its health check"),
            (office_only, "location proves nothing"),
            (lambda request, grants: "yes", "return True or False"),
        ],
        equivalents=[allows_with_a_loop],
    )


# --- exercise 3: pillar_of ------------------------------------------------------------------------

PILLAR_OF = {
    "password": "Security",
    "one_zone": "Reliability",
    "console": "Operational excellence",
    "on_demand": "Cost optimization",
    "csv_scans": "Performance efficiency",
    "rewrite_all": "Sustainability",
}


def test_pillar_of():
    assert_grader_proven(
        grade_pillar_of,
        solution=PILLAR_OF,
        mistakes=[
            ({**PILLAR_OF, "rewrite_all": "Cost optimization"}, "used Cost optimization more than once"),
            ({**PILLAR_OF, "on_demand": "Sustainability", "rewrite_all": "Cost optimization"},
             "on_demand: you chose Sustainability"),
            ({**PILLAR_OF, "one_zone": "Operational excellence", "console": "Reliability"},
             "it is about surviving a failure"),
            ({**PILLAR_OF, "password": "Safety"}, "use one of the six pillars"),
            ({k: v for k, v in PILLAR_OF.items() if k != "csv_scans"}, "keys should be exactly"),
        ],
        equivalents=[{**PILLAR_OF, "on_demand": "cost optimisation", "csv_scans": "performance",
                      "console": "operational excellence"}],
    )


# --- review (issue 13): adversarial and equivalent answers ------------------------------------


def availability_as_a_percentage(stages):
    return design_availability(stages) * 100


def availability_rounded(stages):
    return round(design_availability(stages), 4)


def availability_with_numpy(stages):
    import numpy as np

    return np.prod([1 - (1 - a) ** n for a, n in stages]) if stages else 1.0


def test_design_availability_review():
    assert_grader_proven(
        grade_design_availability,
        solution=design_availability,
        mistakes=[
            (availability_as_a_percentage, "That is a percentage"),
            (availability_rounded, "You rounded it"),
            (lambda stages: design_availability(stages) if stages else 0.0, "start the product at 1.0"),
        ],
        equivalents=[availability_with_numpy, lambda stages: reduce(
            lambda total, stage: total * (1 - (1 - stage[0]) ** stage[1]), stages, 1)],
    )


def allows_chaining_and(request, grants):  # None, not False, when nobody signed in
    return request["user"] and request["device_ok"] and is_allowed(
        grants, request["user"], request["action"], request["resource"])[0]


def allows_returning_the_pair(request, grants):
    if not request["user"] or not request["device_ok"]:
        return (False, "not signed in or unhealthy device")
    return is_allowed(grants, request["user"], request["action"], request["resource"])


def allows_as_a_numpy_bool(request, grants):
    import numpy as np

    return np.bool_(allows(request, grants))


_LESSON_TABLE = {tuple(sorted(request.items())): allows(request, list(ZT_GRANTS)) for _, request in ZT_CASES}


def allows_by_looking_up_the_lessons_requests(request, grants):  # right on every request the lesson shows
    return _LESSON_TABLE.get(tuple(sorted(request.items())), False)


def allows_with_the_lessons_grants(request, grants):
    return allows(request, list(ZT_GRANTS))


def test_allows_review():
    assert_grader_proven(
        grade_allows,
        solution=allows,
        mistakes=[
            (allows_chaining_and, "wrap it in bool(...)"),
            (allows_returning_the_pair, "is_allowed returns a pair"),
            (allows_by_looking_up_the_lessons_requests, "not from the lesson's examples"),
            (allows_with_the_lessons_grants, "With another team's grants"),
        ],
        equivalents=[allows_as_a_numpy_bool],
    )


def test_pillar_of_review():
    assert_grader_proven(
        grade_pillar_of,
        solution=PILLAR_OF,
        mistakes=[
            ({**PILLAR_OF, "on_demand": "Sustainability", "rewrite_all": "Cost optimization"},
             "it is about the price paid"),
            ({**PILLAR_OF, "password": "Privacy"}, "use one of the six pillars"),
        ],
        equivalents=[{k: f" {v.upper()} " for k, v in PILLAR_OF.items()},
                     {**PILLAR_OF, "on_demand": "cost optimisation", "console": "ops"}],
    )
