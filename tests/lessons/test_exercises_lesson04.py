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
