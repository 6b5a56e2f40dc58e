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


# --- review (issue 13): adversarial and equivalent answers ------------------------------------


def parse_event_with_int_and_try(line):
    parts = line.split("|")
    if len(parts) != 3:
        return None
    minute, user, page = map(str.strip, parts)
    try:
        minute = int(minute)
    except ValueError:
        return None
    return Event(minute, user, page) if user and page in PAGES else None


def parse_event_unpacking_in_a_try(line):
    try:
        minute, user, page = (field.strip() for field in line.split("|"))
    except ValueError:
        return None
    if not (minute.isdecimal() and user and page in set(PAGES)):
        return None
    return Event(minute=int(minute), page=page, user=user)


def parse_event_for_the_examples_only(line):
    return {"12|u3|cart": Event(12, "u3", "cart")}.get(line)


def parse_event_printing(line):
    print(parse_event(line))


def parse_event_accepting_any_page(line):
    fields = [field.strip() for field in line.split("|")]
    if len(fields) != 3 or not fields[0].isdigit() or not fields[1]:
        return None
    return Event(int(fields[0]), fields[1], fields[2])


def test_parse_event_review():
    assert_grader_proven(
        grade_parse_event,
        solution=parse_event,
        mistakes=[
            (parse_event_for_the_examples_only, "minute 0 is a valid minute"),
            (parse_event_printing, "returned None, expected Event(minute=12"),
            (parse_event_accepting_any_page, "not one of PAGES"),
        ],
        equivalents=[parse_event_with_int_and_try, parse_event_unpacking_in_a_try],
    )


def funnel_counts_with_pairs_and_a_counter(events):
    from collections import Counter

    steps = Counter(step for _, step in {(e.user, e.page.partition("/")[0]) for e in events})
    return {"product": steps["product"], "cart": steps["cart"], "checkout": steps["checkout"]}


def funnel_counts_with_pandas_and_numpy_ints(events):
    import pandas as pd

    frame = pd.DataFrame([(e.minute, e.user, e.page) for e in events], columns=["minute", "user", "page"])
    users = frame.groupby(frame["page"].str.split("/").str[0])["user"].nunique()
    return {step: users.get(step, 0) for step in ("product", "cart", "checkout")}  # numpy ints


def funnel_for_the_example_only(events):
    return {"product": 2, "cart": 1, "checkout": 0}


def funnel_leaving_out_empty_steps(events):
    users = {}
    for event in events:
        step = event.page.split("/")[0]
        if step in ("product", "cart", "checkout"):
            users.setdefault(step, set()).add(event.user)
    return {step: len(who) for step, who in users.items()}


def funnel_asserting_a_non_empty_log(events):  # the learner's own assert fails on the empty log
    assert events, "there are no events"
    return funnel_counts(events)


def test_funnel_counts_review():
    assert_grader_proven(
        grade_funnel_counts,
        solution=funnel_counts,
        mistakes=[
            (funnel_for_the_example_only, "returned {'product': 2, 'cart': 1, 'checkout': 0}, expected"),
            (funnel_leaving_out_empty_steps, "keys should be exactly"),
            # named as the learner's error (where it was raised), not passed off as the grader's verdict
            (funnel_asserting_a_non_empty_log, "raised AssertionError (in funnel_asserting_a_non_empty_log"),
        ],
        equivalents=[funnel_counts_with_pairs_and_a_counter, funnel_counts_with_pandas_and_numpy_ints],
    )


def clean_sessions_keeping_the_last_copy_sorted(sessions):
    latest = {s.session_id: replace(s, duration=s.duration * (1 / 60)) if s.server == "web-2" else s
              for s in sessions}
    return tuple(sorted(latest.values(), key=lambda s: s.duration))


def clean_sessions_rounding_to_cents_of_a_minute(sessions):
    return [replace(s, duration=round(s.duration, 2)) for s in clean_sessions(sessions)]


def clean_sessions_in_place(sessions):
    for i, session in enumerate(sessions):
        if session.server == "web-2":
            sessions[i] = replace(session, duration=session.duration / 60)
    seen, i = set(), 0
    while i < len(sessions):
        if sessions[i].session_id in seen:
            del sessions[i]
        else:
            seen.add(sessions[i].session_id)
            i += 1
    return sessions


def clean_sessions_with_floor_division(sessions):
    return [replace(s, duration=s.duration // 60) if s.server == "web-2" else s
            for s in clean_sessions_keeping_seconds(sessions)]


def clean_sessions_rounding_to_whole_minutes(sessions):
    return [replace(s, duration=round(s.duration)) for s in clean_sessions(sessions)]


def clean_sessions_dropping_every_retried_visit(sessions):
    ids = [s.session_id for s in sessions]
    return [s for s in clean_sessions(sessions) if ids.count(s.session_id) == 1]


def test_clean_sessions_review():
    assert_grader_proven(
        grade_clean_sessions,
        solution=clean_sessions,
        mistakes=[
            (clean_sessions_in_place, "changed the list it was given"),
            (clean_sessions_with_floor_division, "floor division"),
            (clean_sessions_rounding_to_whole_minutes, "you rounded to 0 decimal"),
            (clean_sessions_dropping_every_retried_visit, "drop only repeated copies"),
        ],
        equivalents=[clean_sessions_keeping_the_last_copy_sorted,
                     clean_sessions_rounding_to_cents_of_a_minute],
    )
