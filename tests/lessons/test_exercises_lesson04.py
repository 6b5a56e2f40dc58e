"""Lesson 04's graders: the solution passes, the placeholder is not done, mistakes are named."""

from __future__ import annotations

from tests.lessons.exercise_helpers import assert_grader_proven
from utils.concepts.stakeholders import LAB_STAKEHOLDERS
from utils.teaching.exercises.lesson04 import (
    grade_automation_value,
    grade_rank_projects,
    grade_stakeholder_directions,
)

# --- exercise 1: stakeholder_directions ----------------------------------------------------

DIRECTIONS = {1: "upstream", 2: "upstream and downstream", 3: "downstream", 4: "upstream", 5: "downstream",
              6: "not a stakeholder"}


def test_the_solution_is_the_lessons_table():
    for number, case in enumerate(LAB_STAKEHOLDERS, start=1):
        assert case.direction.startswith(DIRECTIONS[number])


def test_stakeholder_directions():
    assert_grader_proven(
        grade_stakeholder_directions,
        solution=DIRECTIONS,
        mistakes=[
            # the sales reps seen only as dashboard readers
            ({**DIRECTIONS, 2: "downstream"}, "person 2 faces BOTH ways, not only downstream"),
            # the DBA does not write orders, so the learner thinks they do not matter
            ({**DIRECTIONS, 4: "not a stakeholder"}, "person 4 is upstream, not not a stakeholder"),
            # finance taken for a source because revenue is "their" data
            ({**DIRECTIONS, 5: "upstream"}, "person 5 is downstream, not upstream"),
            ({**DIRECTIONS, 6: "irrelevant"}, "is not a direction"),
            ({k: v for k, v in DIRECTIONS.items() if k != 3}, "No direction for person(s) [3]"),
        ],
        equivalents=[{**DIRECTIONS, 2: "Both", 6: "neither", 1: "Upstream"}],
    )


# --- exercise 2: rank_projects -------------------------------------------------------------


def rank_projects(projects):
    def worth(project):
        return project.annual_value_usd / project.effort_weeks if project.stakeholder else 0.0

    return [p.name for p in sorted(projects, key=lambda p: (-worth(p), p.name))]


def rank_projects_in_two_groups(projects):
    asked = sorted((p for p in projects if p.stakeholder is not None),
                   key=lambda p: (-(p.annual_value_usd / p.effort_weeks), p.name))
    nobody = sorted((p for p in projects if p.stakeholder is None), key=lambda p: p.name)
    return tuple(p.name for p in asked + nobody)


def rank_by_value(projects):
    return [p.name for p in sorted(projects, key=lambda p: (-p.annual_value_usd, p.name))]


def rank_ignoring_who_asked(projects):
    return [p.name for p in sorted(projects, key=lambda p: (-p.annual_value_usd / p.effort_weeks, p.name))]


def rank_worst_first(projects):
    return rank_projects(projects)[::-1]


def rank_without_tie_break(projects):
    def worth(project):
        return project.annual_value_usd / project.effort_weeks if project.stakeholder else 0.0

    return [p.name for p in sorted(projects, key=worth, reverse=True)]  # stable: input order on ties


def rank_returning_prioritize(projects):
    from utils.concepts.stakeholders import prioritize

    return prioritize(projects)


def test_rank_projects():
    assert_grader_proven(
        grade_rank_projects,
        solution=rank_projects,
        mistakes=[
            (rank_by_value, "ranked by yearly value alone"),
            (rank_ignoring_who_asked, "As Inmon advises"),
            (rank_worst_first, "ranked the worst first"),
            (rank_without_tie_break, "break the tie by name"),
            (rank_returning_prioritize, "return only the project names"),
        ],
        equivalents=[rank_projects_in_two_groups],
    )


# --- exercise 3: automation_value_per_year -------------------------------------------------


def automation_value_per_year(team_size, hours_per_week, share_wrangling, share_automated, hourly_cost,
                              working_weeks):
    if not (0 <= share_wrangling <= 1 and 0 <= share_automated <= 1):
        raise ValueError("shares are fractions between 0 and 1")
    return team_size * hours_per_week * share_wrangling * share_automated * hourly_cost * working_weeks


def value_through_hours_recovered(team, hours, wrangling, automated, cost, weeks):
    from utils.concepts.stakeholders import hours_recovered

    return hours_recovered(team, hours, wrangling, automated) * weeks * cost


def value_of_all_wrangling(team, hours, wrangling, automated, cost, weeks):
    if not (0 <= wrangling <= 1 and 0 <= automated <= 1):
        raise ValueError("shares")
    return team * hours * wrangling * cost * weeks


def value_per_week(team, hours, wrangling, automated, cost, weeks):
    if not (0 <= wrangling <= 1 and 0 <= automated <= 1):
        raise ValueError("shares")
    return team * hours * wrangling * automated * cost


def value_over_52_weeks(team, hours, wrangling, automated, cost, weeks):
    return automation_value_per_year(team, hours, wrangling, automated, cost, 52)


def hours_per_year(team, hours, wrangling, automated, cost, weeks):
    return automation_value_per_year(team, hours, wrangling, automated, 1, weeks)


def value_without_a_check(team, hours, wrangling, automated, cost, weeks):
    return team * hours * wrangling * automated * cost * weeks


def test_automation_value():
    assert_grader_proven(
        grade_automation_value,
        solution=automation_value_per_year,
        mistakes=[
            (value_of_all_wrangling, "ALL the wrangling is automated"),
            (value_per_week, "value of one week"),
            (value_over_52_weeks, "uses 52 weeks"),
            (hours_per_year, "hours per year, not money"),
            (value_without_a_check, "Raise ValueError"),
        ],
        equivalents=[value_through_hours_recovered],
    )


# --- review (issue 13): adversarial and equivalent answers ------------------------------------


def test_stakeholder_directions_review():
    assert_grader_proven(
        grade_stakeholder_directions,
        solution=DIRECTIONS,
        mistakes=[
            ({k - 1: v for k, v in DIRECTIONS.items()}, "number the people as printed above, from 1"),
            ({**DIRECTIONS, 2: "downstream"}, "faces BOTH ways"),
            ({**DIRECTIONS, 6: "downstream"}, "person 6 is not a stakeholder, not downstream"),
        ],
        equivalents=[{str(k): v for k, v in DIRECTIONS.items()}, [DIRECTIONS[k] for k in range(1, 7)],
                     {**DIRECTIONS, 2: "Both", 6: "Not-a-stakeholder "}],
    )


def rank_with_decimals_and_two_stable_sorts(projects):
    from decimal import Decimal

    def worth(p):
        if p.stakeholder is None:
            return Decimal(0)
        return Decimal(p.annual_value_usd) / Decimal(p.effort_weeks)

    return tuple(p.name for p in sorted(sorted(projects, key=lambda p: p.name), key=worth, reverse=True))


def rank_returning_the_projects(projects):
    return sorted(projects, key=lambda p: (-(p.annual_value_usd / p.effort_weeks) if p.stakeholder else 0,
                                           p.name))


def rank_for_the_example_only(projects):
    return ["Alert when source schema changes", "Automated daily sales tables for analysts",
            "Clean features for churn model", "Rewrite batch jobs in a trendy engine"]


def test_rank_projects_review():
    assert_grader_proven(
        grade_rank_projects,
        solution=rank_projects,
        mistakes=[
            (rank_returning_the_projects, "return only the project names"),
            (rank_for_the_example_only, "it should hold each of the 4 names once"),
        ],
        equivalents=[rank_with_decimals_and_two_stable_sorts],
    )


def value_in_decimal(team, hours, wrangling, automated, cost, weeks):
    from decimal import Decimal

    if not (0 <= wrangling <= 1 and 0 <= automated <= 1):
        raise ValueError("a share is a fraction between 0 and 1")
    return Decimal(str(team * hours)) * Decimal(str(wrangling)) * Decimal(str(automated)) * cost * weeks


def value_rounded_to_the_dollar(team, hours, wrangling, automated, cost, weeks):
    if max(wrangling, automated) > 1 or min(wrangling, automated) < 0:
        raise ValueError("shares are fractions")
    return round(team * hours * wrangling * automated * weeks * cost)


def value_refusing_only_shares_above_one(team, hours, wrangling, automated, cost, weeks):
    if wrangling > 1 or automated > 1:
        raise ValueError("shares are fractions")
    return team * hours * wrangling * automated * cost * weeks


def value_checking_with_assert(team, hours, wrangling, automated, cost, weeks):
    assert 0 <= wrangling <= 1 and 0 <= automated <= 1
    return team * hours * wrangling * automated * cost * weeks


def value_refusing_a_share_of_one(team, hours, wrangling, automated, cost, weeks):
    if not (0 < wrangling < 1 and 0 < automated < 1):
        raise ValueError("shares are fractions")
    return team * hours * wrangling * automated * cost * weeks


def test_automation_value_review():
    assert_grader_proven(
        grade_automation_value,
        solution=automation_value_per_year,
        mistakes=[
            (value_refusing_only_shares_above_one, "a share below 0 is as wrong as one above 1"),
            (value_checking_with_assert, "raised AssertionError"),
            (value_refusing_a_share_of_one, "0 and 1 themselves are valid shares"),
        ],
        equivalents=[value_in_decimal, value_rounded_to_the_dollar],
    )
