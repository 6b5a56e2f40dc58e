"""The grader registry: which exercises each notebook declares, and their maxima.

Instructors' grades come from here, never from what a notebook displays (issue #15):
the gradebook asks :func:`exercises_for` which exercises a notebook has and how many
points each is worth.

A grader module declares the exercises of a notebook once, at import time::

    from utils.teaching.registry import declare

    declare("06_the_aws_cloud_and_regions", grade_region_score, grade_instance_names)

Conventions every declared grader follows (so answers can be graded outside the
learner's kernel):

- it is built with :func:`utils.teaching.grading.grader` (or a wrapper of it), so it has
  ``.exercise`` and ``.max_score``;
- its positional parameters are named exactly as the learner's answer variables (or
  functions) in the notebook;
- its keyword-only parameters are context the grading side can build itself
  (``conn``, ``truth``...), never something only the learner's kernel has.

Grader modules live in :data:`GRADER_MODULES` and ``utils/teaching/exercises/``;
:func:`load_all` imports them so every declaration is made.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

GRADER_MODULES = ("utils.teaching.graders_c1w2",)
"""Grader modules outside ``utils/teaching/exercises/``."""


@dataclass(frozen=True)
class Exercise:
    """One declared exercise of a notebook."""

    notebook: str
    exercise: str
    max_score: float
    grader: Callable[..., Any]

    @property
    def answer_names(self) -> tuple[str, ...]:
        """The learner variables the grader reads (its positional parameters)."""
        params = inspect.signature(self.grader).parameters.values()
        return tuple(p.name for p in params
                     if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


_DECLARED: dict[str, dict[str, Exercise]] = {}


def declare(notebook: str, *graders: Callable[..., Any]) -> None:
    """Declare ``graders`` as the exercises of ``notebook`` (its file name without .ipynb)."""
    exercises = _DECLARED.setdefault(notebook, {})
    for grade in graders:
        name = getattr(grade, "exercise", None)
        max_score = getattr(grade, "max_score", None)
        if not isinstance(name, str) or not isinstance(max_score, int | float):
            raise TypeError(f"{grade!r} is not a grader (no .exercise/.max_score); "
                            "build it with utils.teaching.grading.grader")
        exercises[name] = Exercise(notebook, name, float(max_score), grade)


def load_all() -> None:
    """Import every grader module so that all declarations are made."""
    for module in GRADER_MODULES:
        importlib.import_module(module)
    try:
        package = importlib.import_module("utils.teaching.exercises")
    except ModuleNotFoundError:
        return
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")


def exercises_for(notebook: str) -> list[Exercise]:
    """The exercises ``notebook`` declares, in declaration order (empty when none)."""
    load_all()
    return list(_DECLARED.get(notebook, {}).values())


def all_exercises() -> dict[str, list[Exercise]]:
    """Every notebook's declared exercises."""
    load_all()
    return {nb: list(ex.values()) for nb, ex in sorted(_DECLARED.items())}
