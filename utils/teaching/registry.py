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

Context (the keyword-only parameters) is built by the grading side with the providers that
grader modules register with :func:`provide` (``conn``: a read-only connection to the source;
``truth``: the ground truth computed once per batch...). A keyword-only parameter with a
default needs no provider.

The gradebook matches a submission to its notebook with :func:`identify`: the notebook
metadata field ``metadata.delab.notebook`` (:data:`METADATA_KEY`, written by the notebook
generators) first, then the file name, then the cells that call a declared grader.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterable
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

    @property
    def context_names(self) -> tuple[str, ...]:
        """The context the grading side must build: keyword-only parameters without a default."""
        params = inspect.signature(self.grader).parameters.values()
        return tuple(p.name for p in params if p.kind == p.KEYWORD_ONLY and p.default is p.empty)

    @property
    def submission_names(self) -> tuple[str, ...]:
        """Keyword-only parameters the gradebook fills per submission (see :data:`SUBMISSION_CONTEXT`)."""
        params = inspect.signature(self.grader).parameters.values()
        return tuple(p.name for p in params if p.kind == p.KEYWORD_ONLY and p.name in SUBMISSION_CONTEXT)

    @property
    def grader_name(self) -> str:
        """The name a notebook's grader cell calls (``grade_dim_locations``)."""
        return getattr(self.grader, "__name__", self.exercise)


_DECLARED: dict[str, dict[str, Exercise]] = {}

METADATA_KEY = "delab"
SUBMISSION_CONTEXT = ("target_path",)
"""Keyword-only grader parameters (with a default, for use in the notebook) that the gradebook sets
for each submission: ``target_path``, where the ETL job runs that submission's kernel started
published (``s3://<lake>/grading/<id>/gold``), so a grader looks at that submission's runs only."""
"""``nb.metadata["delab"]["notebook"]``: the declared notebook a file is a copy of."""


@dataclass(frozen=True)
class Provider:
    """Builds one context value for graders; ``get`` fetches other context values by name."""

    name: str
    build: Callable[[Callable[[str], Any]], Any]
    per_worker: bool = False
    """True for what cannot be shared between processes (a database connection)."""


_PROVIDERS: dict[str, Provider] = {}


def provide(name: str, build: Callable[[Callable[[str], Any]], Any], *, per_worker: bool = False) -> None:
    """Register how the grading side builds the context value ``name`` (a grader's keyword-only parameter).

    ``build(get)`` may call ``get("other")`` for another context value. Values built once per
    batch (``per_worker=False``) are computed before any submission runs and must pickle.
    """
    _PROVIDERS[name] = Provider(name, build, per_worker)


def provider(name: str) -> Provider | None:
    """The provider of context ``name``, or None."""
    load_all()
    return _PROVIDERS.get(name)


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


def _calls(source: str, name: str) -> bool:
    """True when ``source`` calls ``name(...)`` (a ``def name(`` is a definition, not a call)."""
    import re

    for match in re.finditer(rf"(?<![\w.]){re.escape(name)}\s*\(", source):
        if not re.search(r"\bdef\s+$", source[: match.start()]):
            return True
    return False


def graders_called(cells: list[str], exercises: list[Exercise]) -> dict[str, list[int]]:
    """Exercise -> indexes of the code cells (sources given) that call its grader."""
    return {ex.exercise: [i for i, source in enumerate(cells) if _calls(source, ex.grader_name)]
            for ex in exercises}


def identify(metadata: Any, file_stem: str, code_cells: list[str],
             course: Iterable[str] = ()) -> tuple[str | None, str]:
    """Which course notebook a submission is, and how that was decided (for the report).

    In order: ``metadata.delab.notebook`` when it names a declared notebook or one of
    ``course`` (the names of the course's notebooks, declared or not: a notebook without
    graded exercises is still recognised); the file name; the declared notebook most of whose
    graders the code cells call (at least one, no tie). Returns ``(None, why not)`` when
    nothing matches.
    """
    declared = all_exercises()
    known = set(declared) | set(course)
    tagged = metadata.get(METADATA_KEY, {}) if isinstance(metadata, dict) else {}
    named = tagged.get("notebook") if isinstance(tagged, dict) else None
    if isinstance(named, str) and named in known:
        return named, f"notebook metadata {METADATA_KEY}.notebook = {named!r}"
    if file_stem in known:
        return file_stem, "file name"
    scores = {nb: sum(1 for ex in exercises if any(_calls(c, ex.grader_name) for c in code_cells))
              for nb, exercises in declared.items()}
    best = max(scores.values(), default=0)
    winners = [nb for nb, score in scores.items() if score == best]
    if best and len(winners) == 1:
        return winners[0], f"its cells call {best} grader(s) of {winners[0]}"
    if best:
        return None, f"its grader cells match several notebooks ({', '.join(sorted(winners))})"
    return None, (f"no {METADATA_KEY}.notebook metadata, {file_stem!r} is not a declared notebook and "
                  "no cell calls a declared grader")
