"""Graders of lesson 02 (``02_lifecycle_and_undercurrents``): the lifecycle applied to the lab.

Exercise 1: the learner writes the lineage walk that turns a change in one source table into
everything it can break downstream; the grader compares it with
:func:`utils.concepts.lineage.downstream_of` on the lineage read from the lab's own SQL and on
small hand-made lineages, and names direct-only, upstream and self-including answers.
Exercise 2: the learner labels each event of the week-2 lab
(:data:`utils.concepts.lifecycle.LAB_EVENTS`) with the stage or undercurrent it is about; the
grader names every mislabelled event and, when the learner gave the stage an undercurrent event
happens in, says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from utils.concepts.lifecycle import LAB_EVENTS, STAGES, UNDERCURRENTS
from utils.concepts.lineage import downstream_of, lab_lineage, source_tables
from utils.teaching.grading import grader
from utils.teaching.registry import declare

# --- exercise 2: stage or undercurrent? ------------------------------------------------------

CONCERNS = (*STAGES, *UNDERCURRENTS)
_ALIASES = {"architecture": "data architecture", "management": "data management",
            "software": "software engineering", "data ops": "DataOps"}


def _concern(label: Any) -> str | None:
    """The concern ``label`` names (case and spaces do not matter), or None."""
    text = " ".join(str(label).replace("_", " ").replace("-", " ").split()).lower()
    text = _ALIASES.get(text, text)
    return next((c for c in CONCERNS if c.lower() == text.lower()), None)


def _as_numbered(answer: Any) -> dict[int, Any]:
    if isinstance(answer, Mapping):
        numbered = {int(k.strip()) if isinstance(k, str) and k.strip().isdigit() else k: v
                    for k, v in answer.items()}  # {"1": ...} is as clear as {1: ...}
        assert set(numbered) != set(range(len(LAB_EVENTS))), (
            f"lab_concerns is keyed 0 to {len(LAB_EVENTS) - 1}: number the events as printed above, "
            f"from 1 to {len(LAB_EVENTS)} (event 1 is the first one)."
        )
        return numbered
    if isinstance(answer, list | tuple):
        return dict(enumerate(answer, start=1))
    raise AssertionError(
        "lab_concerns should be a dict from event number to a stage or undercurrent, like "
        f"{{1: 'security', 2: 'generation', ...}}, not a {type(answer).__name__}."
    )


@grader("l02_ex2_lab_concerns", max_score=1)
def grade_lab_concerns(lab_concerns: Mapping[int, str]) -> str:
    """``lab_concerns[k]`` must be the concern of event ``k`` of ``LAB_EVENTS`` (1-based)."""
    answers = _as_numbered(lab_concerns)
    missing = [k for k in range(1, len(LAB_EVENTS) + 1) if k not in answers]
    assert not missing, (
        f"lab_concerns has no label for event(s) {missing}: give one for each of the {len(LAB_EVENTS)} "
        "events, keyed by their numbers 1, 2, ..."
    )
    allowed = ", ".join(CONCERNS)
    wrong = []
    for number, event in enumerate(LAB_EVENTS, start=1):
        label = answers[number]
        concern = _concern(label)
        assert concern is not None, (
            f"Event {number}: {label!r} is neither a stage nor an undercurrent; use one of {allowed}."
        )
        if concern == event.concern:
            continue
        if concern == event.during:
            wrong.append(f"event {number} happens during {event.during}, but what it is about is "
                         f"{event.concern}, an undercurrent: {event.why}")
        else:
            wrong.append(f"event {number} is {event.concern}, not {concern}: {event.why}")
    assert not wrong, f"{len(wrong)} of {len(LAB_EVENTS)} events mislabelled: " + "; ".join(wrong) + "."
    return (
        f"All {len(LAB_EVENTS)} events placed: five move or change the data (the stages) and six protect, "
        "describe or coordinate it (the undercurrents) whatever stage they happen in."
    )


# --- exercise 1: what does a change upstream break? -------------------------------------------

CHAIN = {"b": {"a"}, "c": {"b"}, "d": {"c"}, "report": {"d"}}
DIAMOND = {"left": {"src"}, "right": {"src"}, "joined": {"left", "right"}, "other": {"elsewhere"}}


def _cases() -> list[tuple[str, str, dict[str, set[str]]]]:
    lab = lab_lineage()
    cases = [("a chain a -> b -> c -> d -> report, a change in c", "c", CHAIN)]  # up- and downstream
    cases += [(f"the lab's lineage, a change in {table}", table, lab)
              for table in sorted(source_tables(lab) | set(lab))]
    cases += [
        ("a chain a -> b -> c -> d -> report, a change in a", "a", CHAIN),
        ("a diamond src -> left/right -> joined, a change in src", "src", DIAMOND),
        ("a table nothing reads (report in the chain)", "report", CHAIN),
    ]
    return cases


def _upstream_of(table: str, lineage: Mapping[str, set[str]]) -> set[str]:
    found: set[str] = set()
    frontier = [table]
    while frontier:
        for parent in lineage.get(frontier.pop(), set()):
            if parent not in found:
                found.add(parent)
                frontier.append(parent)
    return found


def _describe(names: Iterable[str]) -> str:
    return "{" + ", ".join(sorted(names)) + "}" if names else "nothing (an empty set)"


@grader("l02_ex1_affected_by", max_score=1)
def grade_affected_by(affected_by: Callable[[str, Mapping[str, set[str]]], Iterable[str]]) -> str:
    """``affected_by(table, lineage)`` must return everything built, directly or not, from ``table``."""
    assert callable(affected_by), (
        f"affected_by should be a function (def affected_by(table, lineage): ...), not "
        f"{type(affected_by).__name__}."
    )
    for label, table, lineage in _cases():
        expected = downstream_of(table, lineage)
        got = affected_by(table, {name: set(inputs) for name, inputs in lineage.items()})
        assert got is not None and not isinstance(got, str | bytes), (
            f"On {label}, affected_by returned {got!r}: return a set of table names, e.g. {{'fact_orders'}}."
        )
        got = set(got)
        if got == expected:
            continue
        direct = {name for name, inputs in lineage.items() if table in inputs}
        assert not (got == direct and direct != expected), (
            f"On {label} you returned only the tables that read {table} directly ({_describe(got)}); "
            f"expected {_describe(expected)}. A table built from a broken table breaks too: keep following "
            "the chain until no new table is found."
        )
        assert got != expected | {table}, (
            f"On {label} your answer includes {table} itself: list what is built from it, not the "
            "changed table."
        )
        upstream = _upstream_of(table, lineage)
        assert not (got and got <= upstream), (
            f"On {label} you returned what {table} is built from ({_describe(got)}), i.e. upstream; a change "
            f"in {table} breaks what reads it, downstream: look for tables whose inputs contain {table}."
        )
        raise AssertionError(
            f"On {label} affected_by returned {_describe(got)}, expected {_describe(expected)}."
        )
    return (
        "affected_by follows the lineage all the way down: a change in customers reaches "
        f"{len(downstream_of('customers', lab_lineage()))} tables and views, the dashboard included."
    )


declare("02_lifecycle_and_undercurrents", grade_affected_by, grade_lab_concerns)
