"""Graders for the lab notebooks: results a learner can read and a harness can collect.

A grader takes the learner's answer object(s) and returns a :class:`GradeResult`.
Write one by decorating a small check function with :func:`grader`::

    from utils.teaching.grading import grader

    @grader("ex1_fact_orders", max_score=2)
    def grade_fact_orders(fact_orders):
        assert list(fact_orders.columns) == [...], "fact_orders should have the columns ..."
        return "fact_orders has the right grain: one row per order line."

The decorator turns a placeholder answer (``None``) into "Not done yet: ...", an
``AssertionError`` into a failure whose feedback is the assertion message, and any other
exception (bad SQL, a crashing function...) into a failure that names the error. It
never raises, so a grader cell always runs.

In a notebook, end the grader cell with the call (``grade_fact_orders(fact_orders)``):
Jupyter displays the result as friendly text/HTML *and* as the machine-readable bundle
``application/vnd.delab.grade+json``, which :func:`collect` (and the instructor's
``python -m utils.teaching.gradebook``) reads back from the executed notebook.
"""

from __future__ import annotations

import functools
import html
import inspect
import math
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MIME_TYPE = "application/vnd.delab.grade+json"
"""Mime type of the machine-readable grade bundle attached to every displayed result."""

NOT_DONE_PREFIX = "Not done yet"


@dataclass(frozen=True)
class GradeResult:
    """The outcome of grading one exercise.

    ``score`` is between 0 and ``max_score``; ``passed`` means full marks.
    ``feedback`` is a sentence or two a learner can act on.
    """

    exercise: str
    passed: bool
    score: float
    max_score: float
    feedback: str

    @property
    def not_done(self) -> bool:
        """True when the answer was still the placeholder (``None``)."""
        return self.feedback.startswith(NOT_DONE_PREFIX)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able dict stored in the ``application/vnd.delab.grade+json`` bundle."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GradeResult:
        """Rebuild a result from a bundle, validating it (the notebook is not trusted).

        Raises ``ValueError`` naming the bad field when the bundle is malformed.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"a grade bundle must be a JSON object, not {type(data).__name__}")
        exercise = data.get("exercise")
        if not isinstance(exercise, str) or not exercise.strip():
            raise ValueError(f"grade bundle has no valid 'exercise' name: {exercise!r}")
        numbers = {}
        for key in ("score", "max_score"):
            value = data.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"grade bundle for {exercise!r} has a non-numeric {key!r}: {value!r}")
            numbers[key] = float(value)
        if numbers["max_score"] < 0:
            raise ValueError(f"grade bundle for {exercise!r} has a negative max_score")
        score = min(max(numbers["score"], 0.0), numbers["max_score"])
        feedback = data.get("feedback", "")
        return cls(
            exercise=exercise,
            passed=bool(data.get("passed")) and score >= numbers["max_score"],
            score=score,
            max_score=numbers["max_score"],
            feedback=str(feedback),
        )

    def summary(self) -> str:
        """One line of friendly text, e.g. ``✓ ex1_fact_orders: 2/2. Well done.``."""
        mark = "✓" if self.passed else "✗"
        return f"{mark} {self.exercise}: {_fmt(self.score)}/{_fmt(self.max_score)}. {self.feedback}".rstrip()

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.passed else ("#9a6700" if self.not_done else "#cf222e")
        mark = "✓" if self.passed else "✗"
        feedback = html.escape(self.feedback).replace("\n", "<br>")
        return (
            f'<div style="border-left:4px solid {colour};padding:4px 10px;margin:4px 0">'
            f"<b>{mark} {html.escape(self.exercise)}</b> "
            f'<span style="color:{colour}">{_fmt(self.score)}/{_fmt(self.max_score)}</span>'
            f"<div>{feedback}</div></div>"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/plain": self.summary(), "text/html": self._repr_html_(), MIME_TYPE: self.to_dict()}

    def __str__(self) -> str:
        return self.summary()


def _fmt(number: float) -> str:
    return f"{number:g}"


def report(result: GradeResult) -> GradeResult:
    """Display ``result`` in the notebook: ✓/✗ text, HTML, and the machine-readable bundle.

    Use it when the grader call is not the last line of a cell (the last line is displayed
    automatically). Returns the result unchanged.
    """
    from IPython.display import display

    display(result._repr_mimebundle_(), raw=True)
    return result


def not_done(exercise: str, max_score: float, names: Iterable[str]) -> GradeResult:
    """The result for an answer that is still the placeholder ``None``."""
    listed = ", ".join(f"`{name}`" for name in names) or "your answer"
    verb = "is" if "," not in listed else "are"
    return GradeResult(
        exercise=exercise,
        passed=False,
        score=0.0,
        max_score=max_score,
        feedback=(
            f"{NOT_DONE_PREFIX}: {listed} {verb} still None. Write your answer between "
            "### START CODE HERE ### and ### END CODE HERE ###, run that cell, then run this one again."
        ),
    )


def _error_feedback(error: BaseException) -> str:
    """Name the error and where it came from (the innermost frame), without a wall of traceback."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" (in {frames[-1].name}, line {frames[-1].lineno})" if frames else ""
    if isinstance(getattr(error, "learner_where", None), str):  # raised in the grading sandbox (answers.py)
        where = f" ({error.learner_where})"
    message = str(error).strip() or "(no message)"
    return (
        f"Your answer raised {type(error).__name__}{where}: {message}. "
        "Fix the error in your answer cell, run it, then run this cell again."
    )


CheckOutcome = GradeResult | str | tuple[float, str] | None


def grader(
    exercise: str, max_score: float = 1.0
) -> Callable[[Callable[..., CheckOutcome]], Callable[..., GradeResult]]:
    """Decorate a check function into a grader that never raises.

    The check function receives the learner's answer(s) and either:

    - returns ``None`` or a ``str`` (feedback): passed, full marks;
    - returns ``(score, feedback)``: partial credit (passed only when ``score == max_score``);
    - returns a :class:`GradeResult`: used as is;
    - raises ``AssertionError("what is wrong and how to fix it")``: failed, score 0.

    The wrapped grader returns a :class:`GradeResult`: "Not done yet" when any answer is
    ``None`` (the lab's placeholder), and a failure naming the error when the check (or the
    learner's answer, e.g. bad SQL) raises anything else.
    """
    if max_score < 0:
        raise ValueError(f"max_score of {exercise!r} must be >= 0, not {max_score}")

    def decorate(check: Callable[..., CheckOutcome]) -> Callable[..., GradeResult]:
        signature = inspect.signature(check)
        grader_files = {_resolved(inspect.getsourcefile(check) or "")}

        @functools.wraps(check)
        def grade(*args: Any, **kwargs: Any) -> GradeResult:
            result = grade_once(*args, **kwargs)
            _record_progress(result)
            return result

        def grade_once(*args: Any, **kwargs: Any) -> GradeResult:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as error:
                return GradeResult(
                    exercise,
                    False,
                    0.0,
                    max_score,
                    f"This grader was called the wrong way ({error}). "
                    "Run the grader cell exactly as the lab wrote it.",
                )
            missing = [name for name, value in bound.arguments.items() if value is None]
            if missing:
                return not_done(exercise, max_score, missing)
            try:
                outcome = check(*args, **kwargs)
            except AssertionError as failure:
                if _raised_by_learner(failure, grader_files):  # the learner's own assert, not a verdict
                    return GradeResult(exercise, False, 0.0, max_score, _error_feedback(failure))
                message = str(failure).strip() or "Your answer is not right yet."
                return GradeResult(exercise, False, 0.0, max_score, message)
            except Exception as error:  # a crashing answer is feedback, never a crash
                return GradeResult(exercise, False, 0.0, max_score, _error_feedback(error))
            try:
                return _to_result(exercise, max_score, outcome)
            except Exception as error:  # a bug in the grader itself: still never raise
                return GradeResult(
                    exercise,
                    False,
                    0.0,
                    max_score,
                    f"The grader of {exercise} is broken ({error}). "
                    "This is not your fault: tell your instructor.",
                )

        grade.exercise = exercise  # type: ignore[attr-defined]
        grade.max_score = max_score  # type: ignore[attr-defined]
        return grade

    return decorate


_UTILS = Path(__file__).resolve().parents[1]
"""The ``utils/`` package: an assertion raised in its code is a grader's verdict."""


def _resolved(filename: str) -> Path | None:
    try:
        return Path(filename).resolve()
    except (OSError, ValueError):
        return None


def _raised_by_learner(error: AssertionError, grader_files: set[Path | None]) -> bool:
    """True when an ``AssertionError`` comes from the learner's code (an ``assert`` in their answer),
    not from the grader: its innermost frame is outside ``utils/`` and the grader's own file, or the
    grading sandbox says it was the learner's (``learner_where``)."""
    if isinstance(getattr(error, "learner_where", None), str):
        return True
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return False
    innermost = _resolved(frames[-1].filename)
    if innermost is None or innermost in grader_files:
        return False
    return not innermost.is_relative_to(_UTILS)


def _record_progress(result: GradeResult) -> None:
    """Append ``result`` to the learner's progress record (:mod:`utils.teaching.progress`).

    Recording is on only in a learner's Jupyter kernel (``DELAB_PROGRESS``); it never raises.
    """
    try:
        from utils.teaching.progress import record_grade
    except Exception:  # noqa: S110 - the record is a convenience: grading never depends on it
        return
    record_grade(result)


def _to_result(exercise: str, max_score: float, outcome: CheckOutcome) -> GradeResult:
    if isinstance(outcome, GradeResult):
        return outcome
    if outcome is None:
        return GradeResult(exercise, True, max_score, max_score, "Well done.")
    if isinstance(outcome, str):
        return GradeResult(exercise, True, max_score, max_score, outcome)
    if isinstance(outcome, tuple) and len(outcome) == 2:
        score, feedback = float(outcome[0]), str(outcome[1])
        score = min(max(score, 0.0), max_score)
        return GradeResult(exercise, score >= max_score, score, max_score, feedback)
    raise TypeError(
        f"the check function of {exercise!r} returned {type(outcome).__name__}; "
        "return None, a feedback string, (score, feedback) or a GradeResult"
    )


def iter_grade_bundles(notebook: Mapping[str, Any]) -> Iterable[tuple[int, dict[str, Any]]]:
    """Yield ``(cell_index, bundle)`` for every grade bundle in a notebook's outputs."""
    for index, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data") if isinstance(output, Mapping) else None
            if isinstance(data, Mapping) and MIME_TYPE in data:
                yield index, data[MIME_TYPE]


def collect(notebook: Mapping[str, Any], cells: Iterable[int] | None = None) -> list[GradeResult]:
    """Read the grade results displayed in an executed notebook (an nbformat node or dict).

    One result per exercise, in the order exercises first appear; when a grader ran more
    than once, its last result wins. Malformed bundles are skipped. ``cells``, when given,
    restricts collection to those cell indexes (the gradebook uses it to ignore results
    displayed by cells that the learner added).
    """
    allowed = None if cells is None else set(cells)
    results: dict[str, GradeResult] = {}
    for index, bundle in iter_grade_bundles(notebook):
        if allowed is not None and index not in allowed:
            continue
        try:
            result = GradeResult.from_dict(bundle)
        except ValueError:
            continue
        results[result.exercise] = result
    return list(results.values())
