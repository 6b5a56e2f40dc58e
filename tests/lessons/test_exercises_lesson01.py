"""Lesson 01's graders: the solution passes, the placeholder is not done, mistakes are named."""

from __future__ import annotations

import re

from tests.lessons.exercise_helpers import assert_grader_proven
from utils.concepts.pipeline import PAGES, Event
from utils.teaching.exercises.lesson01 import grade_funnel_counts, grade_parse_event

# --- exercise 1: parse_event ---------------------------------------------------------------


def parse_event(line):
    fields = [field.strip() for field in line.split("|")]
    if len(fields) != 3:
        return None
    minute, user, page = fields
    if not minute.isdigit() or not user or page not in PAGES:
        return None
    return Event(int(minute), user, page)


def parse_event_with_a_regex(line):
    match = re.fullmatch(r"\s*(\d+)\s*\|\s*(\S+)\s*\|\s*(\S+)\s*", line)
    if match is None or match.group(3) not in PAGES:
        return None
    return Event(int(match.group(1)), match.group(2), match.group(3))


def parse_event_without_strip(line):
    fields = line.split("|")
    if len(fields) != 3 or not fields[0].isdigit() or not fields[1] or fields[2] not in PAGES:
        return None
    return Event(int(fields[0]), fields[1], fields[2])


def parse_event_trusting_the_field_count(line):
    minute, user, page = (field.strip() for field in line.split("|"))  # ValueError on a truncated line
    return Event(int(minute), user, page) if minute.isdigit() and user and page in PAGES else None


def parse_event_keeping_blank_users(line):
    fields = [field.strip() for field in line.split("|")]
    if len(fields) != 3 or not fields[0].isdigit() or fields[2] not in PAGES:
        return None
    return Event(int(fields[0]), fields[1], fields[2])


def parse_event_returning_a_tuple(line):
    event = parse_event(line)
    return None if event is None else (event.minute, event.user, event.page)


def parse_event_with_a_text_minute(line):
    event = parse_event(line)
    return None if event is None else Event(str(event.minute), event.user, event.page)


def test_parse_event():
    assert_grader_proven(
        grade_parse_event,
        solution=parse_event,
        mistakes=[
            (parse_event_without_strip, "spaces around the fields must be stripped"),
            (parse_event_trusting_the_field_count, "raised ValueError"),
            (parse_event_keeping_blank_users, "user is blank"),
            (parse_event_returning_a_tuple, "return an Event"),
            (parse_event_with_a_text_minute, "convert the minute with int()"),
            ("12|u3|cart", "should be a function"),
        ],
        equivalents=[parse_event_with_a_regex],
    )


# --- exercise 2: funnel_counts -------------------------------------------------------------


def funnel_counts(events):
    steps = ("product", "cart", "checkout")
    return {step: len({event.user for event in events if event.page.startswith(step)}) for step in steps}


def funnel_counts_with_a_loop(events):
    users = {"checkout": set(), "cart": set(), "product": set()}
    for event in events:
        step = event.page.split("/")[0]
        if step in users:
            users[step].add(event.user)
    return {step: len(who) for step, who in users.items()}


def funnel_counting_views(events):
    steps = ("product", "cart", "checkout")
    return {step: sum(event.page.startswith(step) for event in events) for step in steps}


def funnel_matching_product_exactly(events):
    return {step: len({event.user for event in events if event.page == step})
            for step in ("product", "cart", "checkout")}


def funnel_with_the_pipeline_keys(events):
    return {f"users who reached {step}": n for step, n in funnel_counts(events).items()}


def test_funnel_counts():
    assert_grader_proven(
        grade_funnel_counts,
        solution=funnel_counts,
        mistakes=[
            (funnel_counting_views, "you counted page views"),
            (funnel_matching_product_exactly, "startswith('product')"),
            (funnel_with_the_pipeline_keys, "keys should be exactly"),
        ],
        equivalents=[funnel_counts_with_a_loop],
    )
