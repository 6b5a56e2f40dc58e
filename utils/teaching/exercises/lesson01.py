"""Graders of lesson 01 (``01_what_is_data_engineering``): the pocket pipeline's core.

The lesson runs :func:`utils.concepts.pipeline.run_pipeline`; in exercises 1-2 the learner
writes two of its steps, and each grader compares the learner's function with the reference
in :mod:`utils.concepts.pipeline` on the lesson's own raw data plus hand-picked edge cases,
naming the first kind of line (or event) the learner's function gets wrong. In exercise 3
(data-centric AI) the learner fixes a model's training log; the grader compares it with
:func:`utils.concepts.datacentric.clean_sessions` and names the defect left in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from utils.concepts.datacentric import SECONDS_SERVER, Session, accuracy, fit_threshold, generate_sessions
from utils.concepts.datacentric import clean_sessions as reference_clean
from utils.concepts.pipeline import Event, generate_raw_events, parse_line, run_pipeline
from utils.teaching.grading import grader
from utils.teaching.registry import declare

# --- exercise 1: ingest one raw line ---------------------------------------------------------

PARSE_CASES: tuple[tuple[str, str], ...] = (
    ("12|u3|cart", "a well-formed line becomes an event"),
    ("0|u1|home", "minute 0 is a valid minute"),
    ("7|u2|product/1952-alpine", "product pages are named product/<model>"),
    (" 7 | u2 | home ", "spaces around the fields must be stripped"),
    ("12|u3", "a truncated line (2 fields) is unusable"),
    ("12|u3|home|extra", "a line with 4 fields is unusable"),
    ("", "an empty line is unusable"),
    ("??|u5|home", "a corrupted timestamp (not a whole number) is unusable"),
    ("4.5|u1|home", "the minute must be a whole number"),
    ("78| |catalog", "a line whose user is blank is unusable"),
    ("78||catalog", "a line without a user is unusable"),
    ("9|u1|basket", "a page that is not one of PAGES is unusable"),
)
"""Hand-picked lines and what each one tests (quoted in the feedback)."""


def _parse_lines() -> list[tuple[str, str]]:
    generated = generate_raw_events(200, seed=7)  # the lesson's generator, other seed: ~20 damaged lines
    return [*PARSE_CASES, *((line, "a line from the shop's log") for line in generated)]


def _describe(value: Any) -> str:
    if isinstance(value, Event):
        return f"Event(minute={value.minute!r}, user={value.user!r}, page={value.page!r})"
    return repr(value)


@grader("l01_ex1_parse_event", max_score=1)
def grade_parse_event(parse_event: Callable[[str], Event | None]) -> str:
    """``parse_event(line)`` must ingest a line exactly as :func:`parse_line` does."""
    assert callable(parse_event), (
        f"parse_event should be a function (def parse_event(line): ...), not {type(parse_event).__name__}."
    )
    lines = _parse_lines()
    for line, why in lines:
        expected = parse_line(line)
        try:
            got = parse_event(line)
        except Exception as error:
            raise AssertionError(
                f"parse_event({line!r}) raised {type(error).__name__}: {error}. {why[0].upper()}{why[1:]}: "
                "return None for such a line instead of failing, so one bad line cannot stop the pipeline."
            ) from None
        if expected is None:
            assert got is None, (
                f"parse_event({line!r}) returned {_describe(got)}, expected None: {why}."
            )
            continue
        assert got is not None, f"parse_event({line!r}) returned None, expected {_describe(expected)}: {why}."
        assert isinstance(got, Event), (
            f"parse_event({line!r}) returned {got!r}, a {type(got).__name__}; return an "
            "Event(minute, user, page) so the later stages can use event.minute, event.user, event.page."
        )
        assert isinstance(got.minute, int), (
            f"parse_event({line!r}) returned minute={got.minute!r}, a {type(got.minute).__name__}: "
            "convert the minute with int() so events can be sorted and compared in time."
        )
        assert got == expected, (
            f"parse_event({line!r}) returned {_describe(got)}, expected {_describe(expected)}: {why}."
        )
    return (
        f"parse_event ingests all {len(lines)} test lines like the pipeline does: good lines become "
        "events, damaged ones are set aside (None) without an error."
    )


# --- exercise 2: the funnel ------------------------------------------------------------------

FUNNEL_STEPS = ("product", "cart", "checkout")


def _reference_funnel(events: Sequence[Event]) -> dict[str, int]:
    """The lesson pipeline's funnel for ``events``, keyed by step."""
    run = run_pipeline([f"{e.minute}|{e.user}|{e.page}" for e in events])
    return {step: run.funnel[f"users who reached {step}"] for step in FUNNEL_STEPS}


def _funnel_datasets() -> list[tuple[str, list[Event]]]:
    revisits = [  # u1 views the cart twice; nobody checks out
        Event(1, "u1", "home"), Event(2, "u1", "product/1952-alpine"), Event(3, "u2", "product/1969-ford"),
        Event(4, "u1", "cart"), Event(5, "u1", "cart"), Event(6, "u2", "catalog"),
    ]
    return [
        ("the lesson's events (seed 42)", run_pipeline(generate_raw_events(40, seed=42)).stored),
        ("a small log where u1 views the cart twice and nobody checks out", revisits),
        ("a longer log (500 lines, seed 3)", run_pipeline(generate_raw_events(500, seed=3)).stored),
        ("an empty list of events", []),
    ]


@grader("l01_ex2_funnel_counts", max_score=1)
def grade_funnel_counts(funnel_counts: Callable[[list[Event]], dict[str, int]]) -> str:
    """``funnel_counts(events)`` must count distinct users per step as :func:`run_pipeline` does."""
    assert callable(funnel_counts), (
        "funnel_counts should be a function (def funnel_counts(events): ...), "
        f"not {type(funnel_counts).__name__}."
    )
    for label, events in _funnel_datasets():
        expected = _reference_funnel(events)
        got = funnel_counts(list(events))
        assert isinstance(got, dict), (
            f"funnel_counts should return a dict like {{'product': 2, 'cart': 1, 'checkout': 0}}, "
            f"not a {type(got).__name__}."
        )
        assert set(got) == set(FUNNEL_STEPS), (
            f"The keys should be exactly 'product', 'cart' and 'checkout'; yours are {sorted(got)!r}."
        )
        if got == expected:
            continue
        views = {step: sum(e.page.startswith(step) for e in events) for step in FUNNEL_STEPS}
        assert not (got == views and views != expected), (
            f"On {label} you counted page views ({got}), not users ({expected}): a user who views a step "
            "twice still counts once. Collect the users of each step in a set and count the set."
        )
        assert not (got["product"] == 0 and expected["product"] > 0), (
            f"On {label} no user reached 'product' in your count, but {expected['product']} did: product "
            "pages are named product/<model> (e.g. product/1952-alpine), so test page.startswith('product'), "
            "not page == 'product'."
        )
        raise AssertionError(f"On {label} funnel_counts returned {got}, expected {expected}.")
    return "funnel_counts agrees with the pipeline's funnel on every test log, the empty one included."


# --- exercise 3: data-centric AI, fix the data ------------------------------------------------


def _session_logs() -> list[tuple[str, list[Session]]]:
    retried = Session("r-1", SECONDS_SERVER, 600.0, True)
    small = [Session("a-1", "web-1", 4.5, False), retried, retried,
             Session("a-2", "web-1", 15.0, True), retried]
    return [
        ("the lesson's training log (seed 1)", generate_sessions(300, seed=1)),
        ("a small log where a web-2 visit was logged three times", small),
        ("another month's log (seed 11)", generate_sessions(500, seed=11)),
        ("an empty log", []),
    ]


def _duration_hint(label: str, want: Session, have: Session) -> str:
    """Name what a learner did to one session's duration."""
    where = f"On {label} session {want.session_id} from {want.server}"
    if want.server == SECONDS_SERVER and math.isclose(have.duration, want.duration * 60, rel_tol=1e-9):
        return (f"{where} still says {have.duration:g}: {SECONDS_SERVER} logs seconds, so divide its "
                "durations by 60 to get minutes.")
    if want.server == SECONDS_SERVER and math.isclose(have.duration, want.duration * 3600, rel_tol=1e-9):
        return (f"{where} became {have.duration:g} minutes: you multiplied the seconds by 60; divide by 60 "
                "to turn seconds into minutes.")
    if want.server == SECONDS_SERVER and have.duration == (want.duration * 60) // 60:
        return (f"{where} became {have.duration:g} minutes, expected {want.duration:g}: `//` is floor "
                "division and drops the fraction of a minute; divide with `/ 60`.")
    for digits in (0, 1):
        if math.isclose(have.duration, round(want.duration, digits), abs_tol=1e-9):
            return (f"{where} became {have.duration:g} minutes, expected {want.duration:g}: you rounded to "
                    f"{digits} decimal(s), which changes the data the model learns from; keep the exact "
                    "quotient (or at least 2 decimals).")
    if want.server != SECONDS_SERVER:
        return (f"{where} changed from {want.duration:g} to {have.duration:g}: only {SECONDS_SERVER} logs "
                "seconds; the other server's minutes are right as they are.")
    return f"{where} came back as {have}, expected {want}."


ROUNDING = 0.005 + 1e-9
"""Minutes rounded to 2 decimals (at most 0.005 off, i.e. 0.3 s) are still right."""


@grader("l01_ex3_clean_sessions", max_score=1)
def grade_clean_sessions(clean_sessions: Callable[[list[Session]], list[Session]]) -> str:
    """``clean_sessions(sessions)`` must fix the log as the reference ``datacentric.clean_sessions`` does."""
    assert callable(clean_sessions), (
        "clean_sessions should be a function (def clean_sessions(sessions): ...), not "
        f"{type(clean_sessions).__name__}."
    )
    for label, sessions in _session_logs():
        expected = sorted(reference_clean(sessions), key=lambda s: s.session_id)
        given = list(sessions)
        got = clean_sessions(given)
        assert given == sessions, (
            f"On {label} clean_sessions changed the list it was given (now {len(given)} sessions, was "
            f"{len(sessions)}): build and return a new list, so the raw log (the lesson's `train`) stays as "
            "it was and running the cell twice does not clean it twice."
        )
        assert isinstance(got, list | tuple) and all(isinstance(s, Session) for s in got), (
            f"On {label} clean_sessions returned {type(got).__name__} {str(got)[:80]}: return a list of "
            "Session objects (build a changed one with dataclasses.replace(session, duration=...))."
        )
        got = sorted(got, key=lambda s: s.session_id)
        ids = [s.session_id for s in got]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        assert not repeated, (
            f"On {label} session {repeated[0]} is still there {ids.count(repeated[0])} times: a retry logged "
            "it again. Keep each session_id once, or the model learns from that visit twice."
        )
        assert [s.session_id for s in expected] == ids, (
            f"On {label} you kept {len(ids)} sessions, expected {len(expected)}: drop only repeated copies."
        )
        for want, have in zip(expected, got, strict=True):
            same_duration = math.isclose(have.duration, want.duration, rel_tol=1e-9, abs_tol=ROUNDING)
            if same_duration and have == replace(want, duration=have.duration):
                continue
            raise AssertionError(_duration_hint(label, want, have))
    fixed = reference_clean(generate_sessions(300, seed=1))
    test = generate_sessions(1000, seed=2, defects=False)
    return (
        "clean_sessions fixes the log: each visit once, every duration in minutes. Trained on it, the same "
        f"simple model gets {accuracy(fit_threshold(fixed), test):.0%} of a clean test log right."
    )


declare("01_what_is_data_engineering", grade_parse_event, grade_funnel_counts, grade_clean_sessions)
