"""Lesson 03's graders: the solution passes, the placeholder is not done, mistakes are named."""

from __future__ import annotations

import bisect

from tests.lessons.exercise_helpers import assert_grader_proven
from utils.concepts.history import ERA_STARTS, LAST_YEAR
from utils.teaching.exercises.lesson03 import grade_era_of_year, grade_lab_stack_eras

# --- exercise 1: era_of_year ---------------------------------------------------------------


def era_of_year(year, starts, last_year):
    if year < starts[0][1] or year > last_year:
        return None
    name = None
    for era_name, first_year, _theme in starts:
        if year >= first_year:
            name = era_name
    return name


def era_of_year_with_bisect(year, starts, last_year):
    firsts = [first for _, first, _ in starts]
    position = bisect.bisect_right(firsts, year) - 1
    return starts[position][0] if position >= 0 and year <= last_year else None


def era_of_year_with_ends(year, starts, last_year):
    ends = [nxt[1] - 1 for nxt in starts[1:]] + [last_year]
    for (name, first, _), end in zip(starts, ends, strict=True):
        if first <= year <= end:
            return name
    return None


def era_of_year_strict_start(year, starts, last_year):
    """The 2006 bug: an era's first year is given to the era before."""
    if year > last_year:
        return None
    name = None
    for era_name, first_year, _ in starts:
        if year > first_year:
            name = era_name
    return name


def era_of_year_without_an_end(year, starts, last_year):
    name = None
    for era_name, first_year, _ in starts:
        if year >= first_year:
            name = era_name
    return name


def era_of_year_on_the_lessons_table(year, starts, last_year):
    return era_of_year(year, ERA_STARTS, LAST_YEAR)


def era_of_year_raising_outside(year, starts, last_year):
    if year < starts[0][1] or year > last_year:
        raise ValueError(f"{year} is outside the timeline")
    return era_of_year(year, starts, last_year)


def test_era_of_year():
    assert_grader_proven(
        grade_era_of_year,
        solution=era_of_year,
        mistakes=[
            (era_of_year_strict_start, "is the FIRST year of 'Databases'"),
            (era_of_year_without_an_end, "after last_year"),
            (era_of_year_on_the_lessons_table, "not history.ERA_STARTS"),
            (era_of_year_raising_outside, "instead of raising"),
            ({1960: "Databases"}, "should be a function"),
        ],
        equivalents=[era_of_year_with_bisect, era_of_year_with_ends],
    )


def test_the_2006_mistake_is_named_on_the_cloud_boundary():
    # A learner who gets every first year right except the cloud era's is told about 2006.
    def off_at_2006(year, starts, last_year):
        if year == 2006 and starts is ERA_STARTS:
            return "Web & big data"
        return era_of_year(year, starts, last_year)

    feedback = grade_era_of_year(off_at_2006).feedback
    assert "FIRST year of 'Cloud & streaming'" in feedback and "S3 and EC2" in feedback


# --- exercise 2: lab_stack_eras ------------------------------------------------------------

SOLUTION = ["Databases", "Warehouses & BI", "Warehouses & BI", "Web & big data",
            "Cloud & streaming", "Cloud & streaming"]


def test_lab_stack_eras():
    spelled_differently = ["databases", "Warehouses and BI", "warehouses & bi", "WEB & BIG DATA",
                           "cloud and streaming", " Cloud & streaming "]
    assert_grader_proven(
        grade_lab_stack_eras,
        solution=SOLUTION,
        mistakes=[
            # S3 put in the era before its launch year (the timeline bug of issue 14)
            (SOLUTION[:4] + ["Web & big data", "Cloud & streaming"], "Amazon S3 (2006), which is in 'Cloud"),
            # the star schema taken for a modern invention
            (SOLUTION[:2] + ["Modern data engineering"] + SOLUTION[3:], "Kimball's dimensional modelling"),
            # Athena dated by its SQL, not by serverless SQL over rented storage
            (SOLUTION[:5] + ["Databases"], "Amazon Athena (2016)"),
            (SOLUTION[:5], "give one era name for each of the 6 parts"),
            (SOLUTION[:5] + ["The cloud"], "not an era of the lesson"),
        ],
        equivalents=[spelled_differently, tuple(SOLUTION)],
    )


# --- review (issue 13): adversarial and equivalent answers ------------------------------------


def era_of_year_from_spans(year, starts, last_year):
    ends = [first - 1 for _, first, _ in starts[1:]] + [last_year]
    for (name, first, _), end in zip(starts, ends, strict=True):
        if year in range(first, end + 1):
            return name
    return None


def era_of_year_returning_the_position(year, starts, last_year):
    name = era_of_year_with_bisect(year, starts, last_year)
    return None if name is None else [row[0] for row in starts].index(name)


def era_of_year_stopping_before_last_year(year, starts, last_year):
    return None if year >= last_year else era_of_year_with_bisect(year, starts, last_year)


def test_era_of_year_review():
    assert_grader_proven(
        grade_era_of_year,
        solution=era_of_year_with_bisect,
        mistakes=[
            (era_of_year_returning_the_position, "Return the era's name"),
            (era_of_year_stopping_before_last_year, "compare with <=, not <"),
            (lambda year, starts, last_year: None, "expected 'Databases'"),
        ],
        equivalents=[era_of_year_from_spans],
    )


def test_lab_stack_eras_review():
    assert_grader_proven(
        grade_lab_stack_eras,
        solution=SOLUTION,
        mistakes=[
            ({k: era for k, era in enumerate(SOLUTION)}, "should be a list of 6 era names"),  # keyed 0-5
            (["Cloud & streaming"] * 6, "4 of 6 parts misplaced"),
        ],
        equivalents=[{k: era for k, era in enumerate(SOLUTION, start=1)},
                     {str(k): era for k, era in enumerate(SOLUTION, start=1)}],
    )
