"""Graders of lesson 03 (``03_history_of_data_engineering``): placing things on the timeline.

Exercise 1: the learner writes the rule that turns ONE table of era start years into the era of
any year; the grader compares it with :func:`utils.concepts.history.era_name_from_starts` (the
rule that builds the lesson's own eras) on every year around the lesson's table and on another
table, and names the boundary it gets wrong. Exercise 2: the learner dates each part of the lab's
stack to its era; the grader checks each part against :data:`utils.concepts.history.LAB_STACK`,
whose eras are computed from the same table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from utils.concepts.history import (
    ERA_STARTS,
    ERAS,
    LAB_STACK,
    LAST_YEAR,
    era_name_from_starts,
    era_of,
    era_span,
)
from utils.teaching.grading import grader
from utils.teaching.registry import declare

# --- exercise 1: the era of a year, from one table -------------------------------------------

OTHER_TIMELINE: tuple[tuple[str, int, str], ...] = (
    ("Stone", 100, "a made-up timeline"),
    ("Bronze", 150, "an era of one year"),
    ("Iron", 151, "open until last_year"),
)
"""A second table (with a one-year era) so an answer must use ``starts``, not the lesson's years."""
OTHER_LAST_YEAR = 160


def _timelines() -> list[tuple[str, Sequence[tuple[str, int, str]], int, range]]:
    return [
        ("the lesson's table", ERA_STARTS, LAST_YEAR, range(ERA_STARTS[0][1] - 5, LAST_YEAR + 6)),
        ("another timeline (Stone 100, Bronze 150, Iron 151, last year 160)", OTHER_TIMELINE,
         OTHER_LAST_YEAR, range(95, 166)),
    ]


def _boundary_hint(year: int, starts: Sequence[tuple[str, int, str]], last_year: int, got: Any) -> str:
    """Name the rule a wrong answer broke at ``year``."""
    first_years = {first: name for name, first, _ in starts}
    if got is not None and not isinstance(got, str):
        return (f" Return the era's name, a str such as {starts[0][0]!r}, not the era's row "
                "or its position.")
    if year == last_year:
        return (f" {year} is last_year, the last year of the last era: it belongs to {starts[-1][0]!r} "
                "(compare with <=, not <).")
    if year in first_years and got != first_years[year]:
        return (f" {year} is the FIRST year of {first_years[year]!r}: an era includes the year it starts "
                "(compare with >=, not >). On the lesson's table this is the 2006 mistake: S3 and EC2 "
                "launched in 2006, the first year of 'Cloud & streaming'.")
    if year > last_year:
        return f" {year} is after last_year ({last_year}): the timeline stops there, so return None."
    if year < starts[0][1]:
        return f" {year} is before the first era starts ({starts[0][1]}): return None."
    return ""


@grader("l03_ex1_era_of_year", max_score=1)
def grade_era_of_year(era_of_year: Callable[[int, Sequence[tuple[str, int, str]], int], str | None]) -> str:
    """``era_of_year(year, starts, last_year)`` must apply the one-table rule of the lesson."""
    assert callable(era_of_year), (
        "era_of_year should be a function (def era_of_year(year, starts, last_year): ...), "
        f"not {type(era_of_year).__name__}."
    )
    for label, starts, last_year, years in _timelines():
        for year in years:
            expected = era_name_from_starts(year, starts, last_year)
            try:
                got = era_of_year(year, starts, last_year)
            except Exception as error:
                raise AssertionError(
                    f"On {label}, era_of_year({year}, ...) raised {type(error).__name__}: {error}; expected "
                    f"{expected!r}." + (" Return None for a year outside the timeline instead of raising."
                                        if expected is None else "")
                ) from None
            if got == expected:
                continue
            if starts is OTHER_TIMELINE and era_name_from_starts(year, ERA_STARTS, LAST_YEAR) == got:
                raise AssertionError(
                    f"On {label}, era_of_year({year}, ...) returned {got!r}, expected {expected!r}: that is "
                    "the answer of the lesson's table. "
                    "Use the starts and last_year you are given, not history.ERA_STARTS, so the same "
                    "function works for any timeline."
                )
            raise AssertionError(
                f"On {label}, era_of_year({year}, ...) returned {got!r}, expected {expected!r}."
                + _boundary_hint(year, starts, last_year, got)
            )
    years = _timelines()[0][3]
    return (
        f"era_of_year agrees with the lesson's eras on every year from {years[0]} to {years[-1]}, first "
        "years included, and works on another timeline too: one table, one rule, no disagreeing boundaries."
    )


# --- exercise 2: date the lab's stack ---------------------------------------------------------


def _normalise(name: Any) -> str:
    return " ".join(str(name).lower().replace("&", " and ").split())


def _era_by_name(name: Any) -> str | None:
    """The lesson's era called ``name`` (case, '&' or 'and' and spaces do not matter)."""
    return next((era.name for era in ERAS if _normalise(era.name) == _normalise(name)), None)


@grader("l03_ex2_lab_stack_eras", max_score=1)
def grade_lab_stack_eras(lab_stack_eras: Sequence[str]) -> str:
    """``lab_stack_eras`` must list, for each part of ``LAB_STACK`` in order, the era of its idea."""
    if isinstance(lab_stack_eras, dict) and sorted(map(str, lab_stack_eras)) == sorted(
        str(k) for k in range(1, len(LAB_STACK) + 1)
    ):  # {1: "Databases", ...}, keyed by the printed part numbers: as clear as a list
        lab_stack_eras = [value for _, value in sorted(lab_stack_eras.items(), key=lambda item: int(item[0]))]
    assert isinstance(lab_stack_eras, list | tuple), (
        f"lab_stack_eras should be a list of {len(LAB_STACK)} era names, one per part of the lab, "
        f"not a {type(lab_stack_eras).__name__}."
    )
    assert len(lab_stack_eras) == len(LAB_STACK), (
        f"lab_stack_eras has {len(lab_stack_eras)} entries; give one era name for each of the "
        f"{len(LAB_STACK)} parts, in the order of the table."
    )
    names = ", ".join(repr(era.name) for era in ERAS)
    wrong = []
    for number, (answer, idea) in enumerate(zip(lab_stack_eras, LAB_STACK, strict=True), 1):
        era = _era_by_name(answer)
        assert era is not None, f"Part {number}: {answer!r} is not an era of the lesson; use one of {names}."
        expected = era_of(idea.year)
        if era != expected.name:
            wrong.append(
                f"part {number} ({idea.part}) rests on {idea.origin}, which is in {expected.name!r} "
                f"({era_span(expected)}), not {era!r}"
            )
    assert not wrong, f"{len(wrong)} of {len(LAB_STACK)} parts misplaced: " + "; ".join(wrong) + "."
    older = sum(idea.year < era_of(2006).start for idea in LAB_STACK)
    return (
        f"Every part of the lab is on the right era. {older} of its {len(LAB_STACK)} ideas are older than "
        "the cloud: each era kept what worked before."
    )


declare("03_history_of_data_engineering", grade_era_of_year, grade_lab_stack_eras)
