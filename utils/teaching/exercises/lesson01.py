"""Graders of lesson 01 (``01_what_is_data_engineering``): the pocket pipeline's core.

The lesson runs :func:`utils.concepts.pipeline.run_pipeline`; in the exercises the learner
writes two of its steps, and each grader compares the learner's function with the reference
in :mod:`utils.concepts.pipeline` on the lesson's own raw data plus hand-picked edge cases,
naming the first kind of line (or event) the learner's function gets wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

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


declare("01_what_is_data_engineering", grade_parse_event, grade_funnel_counts)
