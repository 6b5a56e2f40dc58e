"""Graders of lesson 04 (``04_stakeholders_and_business_value``): who faces which way, and what is worth it.

Exercise 1: the learner says which way each person around the lab's pipeline faces
(:data:`utils.concepts.stakeholders.LAB_STAKEHOLDERS`, judged by :func:`direction`'s two questions).
Exercise 3: the learner writes the yearly value of automating the data scientists' formatting work;
the grader compares it with :func:`utils.concepts.stakeholders.automation_value` and names the usual
slips (the automated share forgotten, a weekly figure, 52 weeks, hours instead of money, 80 for 80%).
Exercise 2: the learner ranks requests as Bill Inmon advises (value per week of effort, work nobody
asked for worth nothing); the grader compares with :func:`utils.concepts.stakeholders.prioritize`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from utils.concepts.stakeholders import LAB_STAKEHOLDERS, Project, automation_value, prioritize
from utils.teaching.grading import grader
from utils.teaching.registry import declare

# --- exercise 1: which way does each person face? ---------------------------------------------

DIRECTIONS = ("upstream", "downstream", "upstream and downstream", "not a stakeholder")
_DIRECTION_ALIASES = {
    "both": "upstream and downstream", "downstream and upstream": "upstream and downstream",
    "upstream & downstream": "upstream and downstream", "upstream/downstream": "upstream and downstream",
    "neither": "not a stakeholder", "none": "not a stakeholder",
    "not a stakeholder of this pipeline": "not a stakeholder",
}


def _direction(label: Any) -> str | None:
    text = " ".join(str(label).lower().replace("-", " ").split())
    text = _DIRECTION_ALIASES.get(text, text)
    return text if text in DIRECTIONS else None


def _expected_direction(number: int) -> str:
    found = LAB_STAKEHOLDERS[number - 1].direction
    return "not a stakeholder" if found.startswith("not") else found


@grader("l04_ex1_stakeholder_directions", max_score=1)
def grade_stakeholder_directions(stakeholder_directions: Mapping[int, str]) -> str:
    """``stakeholder_directions[k]`` must be the direction of person ``k`` of ``LAB_STAKEHOLDERS``."""
    if isinstance(stakeholder_directions, list | tuple):  # six directions in order: as clear as a dict
        stakeholder_directions = dict(enumerate(stakeholder_directions, start=1))
    assert isinstance(stakeholder_directions, Mapping), (
        "stakeholder_directions should be a dict from person number to a direction, like "
        f"{{1: 'upstream', ...}}, not a {type(stakeholder_directions).__name__}."
    )
    stakeholder_directions = {  # {"1": ...} is as clear as {1: ...}
        int(k.strip()) if isinstance(k, str) and k.strip().isdigit() else k: v
        for k, v in stakeholder_directions.items()
    }
    assert set(stakeholder_directions) != set(range(len(LAB_STAKEHOLDERS))), (
        f"stakeholder_directions is keyed 0 to {len(LAB_STAKEHOLDERS) - 1}: number the people as printed "
        f"above, from 1 to {len(LAB_STAKEHOLDERS)}."
    )
    missing = [k for k in range(1, len(LAB_STAKEHOLDERS) + 1) if k not in stakeholder_directions]
    assert not missing, (
        f"No direction for person(s) {missing}: give one for each of the {len(LAB_STAKEHOLDERS)} people."
    )
    wrong = []
    for number, case in enumerate(LAB_STAKEHOLDERS, start=1):
        label = stakeholder_directions[number]
        got = _direction(label)
        assert got is not None, (
            f"Person {number}: {label!r} is not a direction; use one of "
            + ", ".join(map(repr, DIRECTIONS)) + "."
        )
        expected = _expected_direction(number)
        if got == expected:
            continue
        if expected == "upstream and downstream":
            wrong.append(f"person {number} faces BOTH ways, not only {got}: {case.why}")
        else:
            wrong.append(f"person {number} is {expected}, not {got}: {case.why}")
    assert not wrong, f"{len(wrong)} of {len(LAB_STAKEHOLDERS)} people misplaced: " + "; ".join(wrong) + "."
    return (
        "Everyone is placed. Ask the upstream people how the data is made and changes; ask the downstream "
        "people what decision it supports and how fresh it must be; the sales reps get both sets of "
        "questions."
    )


# --- exercise 3: the value of giving the data scientists their time back ---------------------

LESSON_CASE = (3, 40, 0.8, 0.75, 60, 46)
"""The lesson's parameters: 3 data scientists, 40 h/week, 80% wrangling, 75% automated, $60/h, 46 weeks."""
VALUE_CASES: tuple[tuple[float, ...], ...] = (
    LESSON_CASE,
    (1, 40, 0.8, 1.0, 75, 46),
    (5, 37.5, 0.6, 0.5, 90, 44),
    (4, 40, 0.8, 0.0, 60, 46),
)


def _value_hint(got: float, args: tuple[float, ...], expected: float) -> str:
    team, hours, wrangling, automated, cost, weeks = args
    if expected and math.isclose(got, expected / weeks, rel_tol=1e-9):
        return " That is the value of one week: multiply by working_weeks for a year."
    if expected and math.isclose(got, expected / weeks * 52, rel_tol=1e-9):
        return f" That uses 52 weeks: people work working_weeks ({weeks}) weeks a year, not 52."
    if automated and math.isclose(got, expected / automated, rel_tol=1e-9):
        return (" That assumes ALL the wrangling is automated: only share_automated of it is, so multiply "
                "by share_automated too.")
    if expected and math.isclose(got, expected / cost, rel_tol=1e-9):
        return " That is hours per year, not money: multiply by hourly_cost."
    return ""


@grader("l04_ex3_automation_value", max_score=1)
def grade_automation_value(automation_value_per_year: Callable[..., float]) -> str:
    """``automation_value_per_year(...)`` must agree with :func:`automation_value` and refuse bad shares."""
    assert callable(automation_value_per_year), (
        "automation_value_per_year should be a function (def automation_value_per_year(team_size, "
        f"hours_per_week, ...): ...), not {type(automation_value_per_year).__name__}."
    )
    for args in VALUE_CASES:
        expected = automation_value(*args)
        try:
            got = automation_value_per_year(*args)
        except ValueError as error:
            raise AssertionError(
                f"automation_value_per_year{args} raised ValueError ({error}), but both shares are between 0 "
                "and 1: 0 and 1 themselves are valid shares (nothing automated, everything automated); "
                "refuse only a share below 0 or above 1."
            ) from None
        assert isinstance(got, int | float | Decimal | Fraction) and not isinstance(got, bool), (
            f"automation_value_per_year{args} returned {got!r}: return a number (dollars per year)."
        )
        got = float(got)
        assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=0.5), (  # rounded to the dollar is fine
            f"automation_value_per_year{args} returned {got:,.2f}, expected {expected:,.2f}."
            + _value_hint(got, args, expected)
        )
    for bad, why in (((3, 40, 80, 0.75, 60, 46), "a share of 80 is a percentage typed as a whole number, "
                      "and gives a value 100 times too big"),
                     ((3, 40, 0.8, 75, 60, 46), "a share_automated of 75 is a percentage typed as a whole "
                      "number"),
                     ((3, 40, 0.8, -0.25, 60, 46), "a negative share means nothing: a share below 0 is as "
                      "wrong as one above 1")):
        try:
            got = automation_value_per_year(*bad)
        except ValueError:
            continue
        except Exception as error:
            raise AssertionError(
                f"automation_value_per_year{bad} raised {type(error).__name__} ({error}): {why}. Raise "
                "ValueError for it (raise ValueError('...')), the error Python uses for a bad value."
            ) from None
        raise AssertionError(
            f"automation_value_per_year{bad} returned {got!r}: {why}. Raise ValueError when a share is not "
            "between 0 and 1 (80% is 0.8)."
        )
    return (
        f"On the lesson's team the pipeline is worth ${automation_value(*LESSON_CASE):,.0f} a year: a "
        "figure a business leader can weigh against the cost of building it."
    )


# --- exercise 2: rank requests the way Inmon advises ------------------------------------------


def _names(projects: Sequence[Project]) -> list[str]:
    return [name for name, _ in prioritize(list(projects))]


def _project_sets() -> list[tuple[str, list[Project]]]:
    lesson = [
        Project("Rewrite batch jobs in a trendy engine", 250_000, 12, None),
        Project("Automated daily sales tables for analysts", 120_000, 3, "marketing analysts"),
        Project("Clean features for churn model", 180_000, 6, "data scientists"),
        Project("Alert when source schema changes", 40_000, 1, "data engineering on-call"),
    ]
    shiny = [
        Project("Move everything to a streaming engine", 400_000, 4, None),
        Project("Country revenue table for finance", 90_000, 2, "finance team"),
        Project("Nightly data-quality report", 30_000, 1, "data analysts"),
        Project("Product recommendations feed", 300_000, 10, "marketing"),
    ]
    # The other requests come first: on the lesson's four, worst-first and by-value give the same list.
    return [("four other requests", shiny), ("the lesson's four projects", lesson)]


@grader("l04_ex2_rank_projects", max_score=1)
def grade_rank_projects(rank_projects: Callable[[list[Project]], list[str]]) -> str:
    """``rank_projects(projects)`` must order project names as :func:`prioritize` does."""
    assert callable(rank_projects), (
        "rank_projects should be a function (def rank_projects(projects): ...), not "
        f"{type(rank_projects).__name__}."
    )
    for label, projects in _project_sets():
        expected = _names(projects)
        got = rank_projects(list(projects))
        assert isinstance(got, list | tuple), (
            f"rank_projects should return a list of names, not {type(got).__name__}."
        )
        got = list(got)
        if got and not all(isinstance(name, str) for name in got):
            raise AssertionError(
                f"rank_projects returned {got[:2]!r}...: return only the project names, best first."
            )
        if got == expected:
            continue
        by_value = [p.name for p in sorted(projects, key=lambda p: (-p.annual_value_usd, p.name))]
        per_week = {p.name: p.annual_value_usd / p.effort_weeks for p in projects}
        ignoring_askers = sorted(per_week, key=lambda name: (-per_week[name], name))
        assert got != expected[::-1], f"On {label} you ranked the worst first; put the most valuable first."
        assert got != by_value, (
            f"On {label} you ranked by yearly value alone ({got}); rank by value per week of effort "
            "(annual_value_usd / effort_weeks), so a small project that pays back fast comes first."
        )
        unasked = [p.name for p in projects if not p.stakeholder]
        assert got != ignoring_askers, (
            f"On {label} a project nobody asked for ({', '.join(unasked)}) ranks by its claimed value. "
            "As Inmon advises, work with no stakeholder delivers no business value yet: count it as 0, so it "
            "goes last."
        )
        assert sorted(got) == sorted(expected), (
            f"On {label} rank_projects returned {got}: it should hold each of the {len(projects)} names once."
        )
        worth = prioritize(list(projects))
        tied = [name for name, value in worth if [w for _, w in worth].count(value) > 1]
        assert not tied or [n for n in got if n in tied] == [n for n in expected if n in tied], (
            f"On {label} {', '.join(tied)} deliver the same value per week; break the tie by name "
            f"(alphabetically), as the task says. Expected {expected}, you returned {got}."
        )
        raise AssertionError(f"On {label} rank_projects returned {got}, expected {expected}.")
    return (
        "rank_projects ranks like prioritize: requested work that pays back fast comes first, and the shiny "
        "work nobody asked for comes last."
    )


declare("04_stakeholders_and_business_value", grade_stakeholder_directions, grade_rank_projects,
        grade_automation_value)
