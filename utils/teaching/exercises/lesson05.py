"""Graders of lesson 05 (``05_requirements_and_thinking_like_a_de``): requirements you can test.

Exercise 1: the learner writes the core of :func:`utils.concepts.requirements.lint_requirement`,
``vague_words(text)``; the grader compares it with :func:`utils.concepts.requirements.vague_terms`
on the lesson's draft and final requirements and on tricky wording, and names substring matching,
case sensitivity and a forgotten measure rule.

Exercise 2: the learner turns the VP Sales' vague request
(:data:`utils.concepts.requirements.VP_SALES_NOTES`) into a structured brief: the four elements of
the requirements checklist plus the freshness as a number of minutes. The grader checks each
element for what the notes say and names the missing or vague one (a pain point without a figure,
the dashboard given as a planned action, the VP listed as "another" stakeholder, "real-time" or
hours where minutes are asked).
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from utils.concepts.requirements import has_measure, vague_terms
from utils.teaching.grading import grader
from utils.teaching.registry import declare

# --- exercise 1: which words make a requirement untestable? -----------------------------------

LESSON_TEXTS = (
    "Marketing wants a real-time dashboard of product sales",
    "Show product recommendations on the web shop",
    "Deliver only the sales tables the analysis needs, already cleaned",
    "The pipeline must be reliable when the source schema changes",
    "Dashboard data at most 60 minutes old during business hours",
    "Schema changes in the source are detected within 1 day and alerted to the data team",
)
TRICKY_TEXTS: tuple[tuple[str, str], ...] = (
    ("Sales of the breakfast range for the stores, refreshed daily", "'fast' in 'breakfast' is not a word"),
    ("A Real-Time view of stock that is Scalable", "vague words in capitals are still vague"),
    ("The dashboard must be fast: under 3 seconds to load", "a figure with a unit makes it testable"),
    ("Give analysts all the data, as soon as possible, and keep it cheap", "phrases count too"),
    ("Up-to-date, reliable and user-friendly exports for finance", "hyphenated terms count"),
    ("Orders reach the lake within 15 minutes of being placed", "a measured requirement has no vague words"),
    ("Fast, fast, fast: make the reports fast", "each term once"),
    ("Up-to-date figures that load quickly", "in any order"),
)


@grader("l05_ex1_vague_words", max_score=1)
def grade_vague_words(vague_words: Callable[[str], Sequence[str]]) -> str:
    """``vague_words(text)`` must return what :func:`vague_terms` returns."""
    assert callable(vague_words), (
        f"vague_words should be a function (def vague_words(text): ...), not {type(vague_words).__name__}."
    )
    cases = [(text, "a requirement from this lesson") for text in LESSON_TEXTS] + list(TRICKY_TEXTS)
    for text, why in cases:
        expected = vague_terms(text)
        got = vague_words(text)
        assert isinstance(got, list | tuple | AbstractSet), (
            f"vague_words({text!r}) returned {got!r}: return a list of the vague terms, e.g. ['real-time']."
        )
        got = list(got)
        if sorted(got) == expected:  # any order will do
            continue
        if sorted(set(got)) == expected:
            raise AssertionError(
                f"vague_words({text!r}) returned {got}, expected {expected}: list each term once, however "
                "often the text repeats it."
            )
        if has_measure(text) and got:
            raise AssertionError(
                f"vague_words({text!r}) returned {got}, expected []: {why}. When has_measure(text) is true "
                "the requirement states a figure, so nothing in it is vague."
            )
        extra = sorted(set(got) - set(expected))
        if extra and all(term in text.lower() for term in extra):
            raise AssertionError(
                f"vague_words({text!r}) returned {got}, expected {expected}: {', '.join(map(repr, extra))} "
                f"only appears inside a longer word ({why}). Match whole words, e.g. with "
                r"re.search(rf'\b{re.escape(term)}\b', text) or by splitting the text into words."
            )
        if set(expected) - set(got) and text != text.lower() and vague_words(text.lower()) == expected:
            raise AssertionError(
                f"vague_words({text!r}) returned {got}, expected {expected}: {why}. Lower-case the text "
                "before you look for the terms."
            )
        raise AssertionError(f"vague_words({text!r}) returned {got}, expected {expected} ({why}).")
    return (
        f"vague_words agrees with the lesson's linter on all {len(cases)} requirements: whole words, any "
        "case, and nothing is vague once a figure is stated."
    )


# --- exercise 2: from a vague request to a brief you can test ---------------------------------

LIST_ELEMENTS = ("existing systems", "pain points", "planned actions", "other stakeholders")
FRESHNESS = "max_age_minutes"
EXPECTED_MAX_AGE_MINUTES = 4 * 60
"""The VP's answer: "orders up to four hours old ... is fine"."""

# What each element must mention (any one word of a group), and how to say it is missing.
MUST_MENTION: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    "existing systems": (
        (("order system", "orders database", "order database", "database", "mariadb", " db",
          "ordering system", "classicmodels", "source system"),
         "the order system (its database) the figures come from"),
        (("spreadsheet", "export", "email", "e-mail", "excel", "csv", "sheet"),
         "the weekly spreadsheet export emailed every Monday, which the pipeline will replace"),
    ),
    "pain points": (
        (("hour", "4h", "4 h"), "the manual work, with its cost in hours (about 4 hours a week)"),
        (("days", " old", "-old", "stale", "late", "outdated", "out of date", "out-of-date", "behind"),
         "how old the figures get (5 days by Friday)"),
    ),
    "planned actions": (
        (("territor", "target", "quota", " reps", "sales rep", "salespe", "sales staff", "sales force",
          "goal"),
         "what the VP will DO with the figures: move reps between territories and set quarterly targets"),
    ),
    "other stakeholders": (
        (("manager", "office"), "the managers of the other six offices, who want the same view"),
        (("it team", "it department", "it staff", "dba", "database admin", "db admin", "administrator",
          "owner", "database team", "database", " db"),
         "the IT team that runs the order database (the source's owners)"),
    ),
}


def _key(name: Any) -> str:
    return " ".join(str(name).lower().replace("_", " ").replace("-", " ").split())


def _items(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple | set) and all(isinstance(item, str) for item in value):
        return [item for item in value if item.strip()]
    return None


_FIGURE = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twice|double|"
                     r"half|dozen)\b", re.IGNORECASE)
"""A figure written in digits or in words ("four hours", "counted twice")."""
_IT = re.compile(r"\bIT\b")
"""The IT team written "IT" (capitals only: "it" is a pronoun)."""


def _mentions(items: list[str], words: tuple[str, ...]) -> bool:
    text = " " + " ".join(items).lower() + " "
    if "it team" in words and any(_IT.search(item) for item in items):
        return True
    return any(word in text for word in words)


def _check_freshness(value: Any) -> None:
    if isinstance(value, str) and re.search(r"\d", value):
        raise AssertionError(
            f"max_age_minutes is the text {value!r}: give the number of minutes alone, as a number "
            "(e.g. 30, not '30 minutes'), so a test can compare the data's age with it."
        )
    if isinstance(value, str):
        raise AssertionError(
            f"max_age_minutes is {value!r}, a word: that is the vague requirement you were asked to replace. "
            "Give the number of minutes the VP accepted."
        )
    assert isinstance(value, numbers.Real) and not isinstance(value, bool), (
        f"max_age_minutes should be a number of minutes, not {type(value).__name__}."
    )
    if value == EXPECTED_MAX_AGE_MINUTES:
        return
    if value == EXPECTED_MAX_AGE_MINUTES / 60:
        raise AssertionError(
            f"max_age_minutes is {value}: that is the VP's answer in hours. The key asks for minutes "
            f"({value:g} hours = {EXPECTED_MAX_AGE_MINUTES} minutes)."
        )
    if value <= 0:
        raise AssertionError(
            f"max_age_minutes is {value}: data no older than {value} minutes is true real time, which the "
            "VP did not ask for once asked. Use the figure she gave."
        )
    raise AssertionError(
        f"max_age_minutes is {value}, but the VP said orders up to four hours old are fine: use her figure, "
        "not a guess."
    )


@grader("l05_ex2_requirements_brief", max_score=1)
def grade_requirements_brief(requirements_brief: Mapping[str, Any]) -> str:
    """``requirements_brief`` must hold the four checklist elements and the freshness in minutes."""
    assert isinstance(requirements_brief, Mapping), (
        "requirements_brief should be a dict with the keys 'existing systems', 'pain points', 'planned "
        f"actions', 'other stakeholders' and 'max_age_minutes', not a {type(requirements_brief).__name__}."
    )
    brief = {_key(name): value for name, value in requirements_brief.items()}
    missing = [name for name in (*LIST_ELEMENTS, _key(FRESHNESS)) if name not in brief]
    assert not missing, (
        "requirements_brief has no " + ", ".join(repr(m) for m in missing) + ": the brief needs every "
        "element of the checklist, and the freshness as a number."
    )
    for element in LIST_ELEMENTS:
        items = _items(brief[element])
        assert items, f"{element!r} should be a non-empty list of short sentences, not {brief[element]!r}."
        if element == "pain points":
            unmeasured = [item for item in items if not _FIGURE.search(item)]
            assert not unmeasured, (
                f"pain points: {unmeasured[0]!r} says what hurts but not what it costs. Write the figure "
                "from the notes (hours lost, days of delay, offices miscounted): a cost is what makes a pain "
                "point worth fixing."
            )
        if element == "planned actions" and not _mentions(items, MUST_MENTION[element][0][0]) and _mentions(
            items, ("dashboard", "report", "view", "page")
        ):
            raise AssertionError(
                "planned actions: a dashboard is what YOU will build, not what the VP will do with the data. "
                "Write her decisions: " + MUST_MENTION[element][0][1].split(": ", 1)[1] + "."
            )
        if element == "other stakeholders" and _mentions(items, ("vp", "vice president")) and not all(
            _mentions(items, words) for words, _ in MUST_MENTION[element]
        ):
            raise AssertionError(
                "other stakeholders: the VP is the person you are already talking to; list who ELSE you must "
                "talk to before building, from the notes."
            )
        for words, what in MUST_MENTION[element]:
            assert _mentions(items, words), f"{element}: your list does not mention {what}."
    _check_freshness(brief[_key(FRESHNESS)])
    return (
        f"A brief you can build and test: what exists, what it costs, what the VP will decide with it, who "
        f"else to ask, and data at most {EXPECTED_MAX_AGE_MINUTES} minutes old instead of 'always up to "
        "date'."
    )


declare("05_requirements_and_thinking_like_a_de", grade_vague_words, grade_requirements_brief)
