"""Lesson 01's graders: the solution passes, the placeholder is not done, mistakes are named."""

from __future__ import annotations

import re
from dataclasses import replace

from tests.lessons.exercise_helpers import assert_grader_proven
from utils.concepts.datacentric import Session
from utils.concepts.pipeline import PAGES, Event
from utils.teaching.exercises.lesson01 import grade_clean_sessions, grade_funnel_counts, grade_parse_event

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


# --- exercise 3: clean_sessions ------------------------------------------------------------


def clean_sessions(sessions):
    seen, cleaned = set(), []
    for session in sessions:
        if session.session_id in seen:
            continue
        seen.add(session.session_id)
        if session.server == "web-2":
            session = replace(session, duration=session.duration / 60)
        cleaned.append(session)
    return cleaned


def clean_sessions_with_a_set(sessions):
    unique = set(sessions)  # the copies of a retried visit are identical, so a set drops them
    return [Session(s.session_id, s.server, s.duration / 60 if s.server == "web-2" else s.duration, s.bought)
            for s in unique]


def clean_sessions_keeping_seconds(sessions):
    return list({s.session_id: s for s in sessions}.values())


def clean_sessions_multiplying(sessions):
    return [replace(s, duration=s.duration * 60) if s.server == "web-2" else s
            for s in clean_sessions_keeping_seconds(sessions)]


def clean_sessions_keeping_copies(sessions):
    return [replace(s, duration=s.duration / 60) if s.server == "web-2" else s for s in sessions]


def clean_sessions_converting_every_server(sessions):
    return [replace(s, duration=s.duration / 60) for s in clean_sessions_keeping_seconds(sessions)]


def clean_sessions_returning_durations(sessions):
    return [s.duration for s in clean_sessions(sessions)]


def test_clean_sessions():
    assert_grader_proven(
        grade_clean_sessions,
        solution=clean_sessions,
        mistakes=[
            (clean_sessions_keeping_seconds, "divide its durations by 60"),
            (clean_sessions_multiplying, "you multiplied the seconds by 60"),
            (clean_sessions_keeping_copies, "a retry logged it again"),
            (clean_sessions_converting_every_server, "only web-2 logs seconds"),
            (clean_sessions_returning_durations, "return a list of Session objects"),
        ],
        equivalents=[clean_sessions_with_a_set],
    )
