"""One call proves a lesson grader: ``assert_grader_proven`` (used by ``test_exercises_lessonNN.py``).

    def test_parse_event():
        assert_grader_proven(
            grade_parse_event,
            solution=parse_event,
            mistakes=[(no_strip, "spaces around the fields"), (crashes_on_short_lines, "raised IndexError")],
            equivalents=[with_a_regex],
        )

An answer is the value of the learner's variable; for a grader of several variables, a tuple
in the order of the grader's positional parameters. ``context`` holds the keyword-only
arguments the grader needs (``conn=...``). ``tests/lessons/test_exercises.py`` checks that
every declared lesson exercise is proven this way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from utils.teaching.grading import GradeResult
from utils.teaching.registry import Exercise

MIN_MISTAKES = 2
MIN_EQUIVALENTS = 1


def _args(grade: Callable[..., GradeResult], answer: Any) -> tuple[Any, ...]:
    names = Exercise("", "", 0.0, grade).answer_names
    if len(names) == 1:
        return (answer,)
    assert isinstance(answer, tuple) and len(answer) == len(names), (
        f"{grade.__name__} takes {len(names)} answers {names}: give each answer as a tuple in that order"
    )
    return answer


def run_grader(grade: Callable[..., GradeResult], answer: Any,
               context: Mapping[str, Any] | None = None) -> GradeResult:
    """Grade one answer (a value, or a tuple for a grader of several variables)."""
    return grade(*_args(grade, answer), **dict(context or {}))


def assert_grader_proven(
    grade: Callable[..., GradeResult],
    *,
    solution: Any,
    mistakes: Sequence[tuple[Any, str]],
    equivalents: Sequence[Any],
    context: Mapping[str, Any] | None = None,
) -> None:
    """Fail unless ``grade`` passes ``solution`` and ``equivalents`` and fails each mistake by name.

    - ``solution`` passes with full marks;
    - the placeholder (every answer ``None``) gives "Not done yet";
    - each ``(answer, phrase)`` of ``mistakes`` (at least two) fails, is not "not done", and its
      feedback contains ``phrase`` (case-insensitive): the feedback names that mistake;
    - each answer of ``equivalents`` (at least one: right, but written differently) passes.
    """
    assert len(mistakes) >= MIN_MISTAKES, (
        f"prove {grade.__name__} with at least {MIN_MISTAKES} realistic mistakes"
    )
    assert len(equivalents) >= MIN_EQUIVALENTS, (
        f"prove {grade.__name__} with at least {MIN_EQUIVALENTS} right answer written differently"
    )
    result = run_grader(grade, solution, context)
    assert result.passed and result.score == result.max_score, f"the solution fails: {result.summary()}"

    names = Exercise("", "", 0.0, grade).answer_names
    placeholder = None if len(names) == 1 else (None,) * len(names)
    result = run_grader(grade, placeholder, context)
    assert result.not_done and not result.passed and result.score == 0, (
        f"the placeholder is not 'Not done yet': {result.summary()}"
    )

    for number, (answer, phrase) in enumerate(mistakes, 1):
        result = run_grader(grade, answer, context)
        assert not result.passed, f"mistake {number} ({phrase!r}) passes: {result.summary()}"
        assert not result.not_done, (
            f"mistake {number} ({phrase!r}) is reported as not done: {result.summary()}"
        )
        assert "grader of" not in result.feedback or "is broken" not in result.feedback, (
            f"the grader crashed on mistake {number}: {result.feedback}"
        )
        assert phrase.lower() in result.feedback.lower(), (
            f"mistake {number}: the feedback does not name it ({phrase!r} not in it): {result.feedback}"
        )

    for number, answer in enumerate(equivalents, 1):
        result = run_grader(grade, answer, context)
        assert result.passed, f"equivalent answer {number} fails: {result.summary()}"
