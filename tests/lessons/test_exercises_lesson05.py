"""Lesson 05's graders: the solution passes, the placeholder is not done, mistakes are named."""

from __future__ import annotations

import re

from tests.lessons.exercise_helpers import assert_grader_proven
from utils.concepts.requirements import VAGUE_TERMS, VP_SALES_NOTES, has_measure
from utils.teaching.exercises.lesson05 import MUST_MENTION, grade_requirements_brief, grade_vague_words

# --- exercise 1: vague_words ---------------------------------------------------------------


def vague_words(text):
    if has_measure(text):
        return []
    lowered = text.lower()
    return [term for term in VAGUE_TERMS if re.search(rf"\b{re.escape(term)}\b", lowered)]


def vague_words_by_scanning_words(text):
    if has_measure(text):
        return []
    words = " " + " ".join(re.findall(r"[a-z-]+", text.lower())) + " "
    return sorted({term for term in VAGUE_TERMS if f" {term} " in words}, reverse=True)


def vague_words_by_substring(text):
    if has_measure(text):
        return []
    return [term for term in VAGUE_TERMS if term in text.lower()]


def vague_words_case_sensitive(text):
    if has_measure(text):
        return []
    return [term for term in VAGUE_TERMS if re.search(rf"\b{re.escape(term)}\b", text)]


def vague_words_ignoring_measures(text):
    return [term for term in VAGUE_TERMS if re.search(rf"\b{re.escape(term)}\b", text.lower())]


def vague_words_per_occurrence(text):
    if has_measure(text):
        return []
    found = []
    for term in VAGUE_TERMS:
        found += re.findall(rf"\b{re.escape(term)}\b", text.lower())
    return found


def test_vague_words():
    assert_grader_proven(
        grade_vague_words,
        solution=vague_words,
        mistakes=[
            (vague_words_by_substring, "only appears inside a longer word"),
            (vague_words_case_sensitive, "Lower-case the text"),
            (vague_words_ignoring_measures, "the requirement states a figure"),
            (vague_words_per_occurrence, "list each term once"),
            (lambda text: ", ".join(vague_words(text)), "return a list"),
        ],
        equivalents=[vague_words_by_scanning_words],
    )


# --- exercise 2: requirements_brief --------------------------------------------------------

BRIEF = {
    "existing systems": ["the order system's database, run by the IT team",
                         "a spreadsheet of last week's orders, exported and emailed every Monday"],
    "pain points": ["the export costs the EMEA sales manager about 4 hours every week",
                    "by Friday the figures are 5 days old",
                    "2 offices were counted twice last quarter after a copy-paste slip"],
    "planned actions": ["move sales reps between territories in the Monday meeting",
                        "set each office's quarterly targets"],
    "other stakeholders": ["the managers of the other six offices, who want the same view",
                           "the IT team that runs the order database and its 01:00-03:00 backup"],
    "max_age_minutes": 240,
}

TERSE_BRIEF = {
    "Existing_Systems": ("orders DB (MariaDB)", "Monday Excel export by email"),
    "pain_points": ["4 hours of manual work a week", "data up to 5 days stale", "2 offices double-counted"],
    "planned_actions": "reallocate reps across territories; set quarterly quotas",
    "other_stakeholders": ["6 office managers", "DBA / IT team (source owners)"],
    "Max_Age_Minutes": 240.0,
}


def test_requirements_brief():
    assert_grader_proven(
        grade_requirements_brief,
        solution=BRIEF,
        mistakes=[
            ({**BRIEF, "max_age_minutes": "always up to date"}, "that is the vague requirement"),
            ({**BRIEF, "max_age_minutes": 4}, "the VP's answer in hours"),
            ({**BRIEF, "max_age_minutes": 0}, "true real time"),
            ({**BRIEF, "planned actions": ["a sales dashboard per office"]},
             "a dashboard is what YOU will build"),
            ({**BRIEF, "other stakeholders": ["the VP Sales", "the IT team"]}, "list who ELSE"),
            ({**BRIEF, "pain points": ["the weekly export is slow and manual", *BRIEF["pain points"][1:]]},
             "says what hurts but not what it costs"),
            ({**BRIEF, "existing systems": ["the order system's database"]}, "the weekly spreadsheet export"),
            ({**BRIEF, "other stakeholders": ["the office managers"]},
             "the IT team that runs the order database"),
            ({k: v for k, v in BRIEF.items() if k != "pain points"},
             "requirements_brief has no 'pain points'"),
            ({**BRIEF, "planned actions": []}, "should be a non-empty list"),
        ],
        equivalents=[TERSE_BRIEF],
    )


def test_what_the_grader_looks_for_is_in_the_notes():
    """Every element the grader requires is something the VP's notes actually say."""
    notes = " ".join(VP_SALES_NOTES).lower()
    for element, groups in MUST_MENTION.items():
        for words, what in groups:
            assert any(word.strip() in notes for word in words), (element, what)
    assert "four hours" in notes  # the freshness the grader expects (240 minutes)


# --- review (issue 13): adversarial and equivalent answers ------------------------------------


def vague_words_as_a_set(text):
    if has_measure(text):
        return set()
    return {term for term in VAGUE_TERMS if re.search(rf"(?<![\w-]){re.escape(term)}(?![\w-])", text, re.I)}


def vague_words_by_splitting_on_spaces(text):  # phrases can never match a single word
    return [] if has_measure(text) else [term for term in VAGUE_TERMS if term in text.lower().split()]


def test_vague_words_review():
    assert_grader_proven(
        grade_vague_words,
        solution=vague_words,
        mistakes=[
            (vague_words_by_splitting_on_spaces, "phrases count too"),
            (lambda text: ["real-time"], "expected []"),
        ],
        equivalents=[vague_words_as_a_set, lambda text: dict.fromkeys(vague_words(text)).keys()],
    )


def test_requirements_brief_review():
    in_other_words = {
        "Existing_Systems": ("Order DB (MariaDB)", "Monday Excel export sent by email"),
        "Pain points": ["manual export eats four hours of the EMEA manager's week",
                        "figures are five days stale by Friday", "two offices double-counted last quarter"],
        "planned-actions": ["reassign salespeople to territories on Mondays",
                            "set quarterly targets per office"],
        "other stakeholders": ["six other office managers", "IT, who run the order database"],
        "max_age_minutes": 240.0,
    }
    assert_grader_proven(
        grade_requirements_brief,
        solution=BRIEF,
        mistakes=[
            ({**BRIEF, "max_age_minutes": "240 minutes"}, "give the number of minutes alone"),
            ({**BRIEF, "max_age_minutes": 5}, "orders up to four hours old are fine"),
            ({**BRIEF, "pain points": ["the Monday export is slow and error-prone"]}, "not what it costs"),
            ({**BRIEF, "other stakeholders": ["the other office managers, who want it too"]},
             "the IT team that runs the order database"),
        ],
        equivalents=[in_other_words, {**BRIEF, "max_age_minutes": __import__("numpy").int64(240)},
                     {"existing systems": "order database + Monday spreadsheet",  # one string per element
                      "pain points": "4h of manual work a week; 5-day-old figures; 2 offices double counted",
                      "planned actions": "move reps between territories; set quarterly targets",
                      "other stakeholders": "the other office managers; IT",
                      "max_age_minutes": 240}],
    )
