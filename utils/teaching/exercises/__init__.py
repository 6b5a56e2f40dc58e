"""Graders of the lessons' coding exercises: one module per lesson, ``lessonNN.py``.

Each module builds its graders with :func:`utils.teaching.grading.grader` and declares them
at the bottom with :func:`utils.teaching.registry.declare` under the lesson's notebook stem
(``declare("01_what_is_data_engineering", grade_a, grade_b)``), in the order the exercises
appear. :func:`utils.teaching.registry.load_all` imports every module of this package, so a
new ``lessonNN.py`` is picked up without registering it anywhere. Conventions: see
``docs/authoring.md``. ``python -m utils.teaching.exercises --count`` prints the count of
declared exercises per lesson.
"""

from __future__ import annotations

import re
from pathlib import Path

from utils.teaching.registry import all_exercises

PROJECT_ROOT = Path(__file__).resolve().parents[3]
LESSON_SOLUTIONS = PROJECT_ROOT / "solutions" / "lessons"
MIN_PER_LESSON = 2
"""Each lesson 01-13 needs at least this many graded exercises (issue #13)."""
MIN_TOTAL = 35
"""...and all of them together at least this many."""
_LESSON_RE = re.compile(r"^(\d\d)_")


def lesson_stems(solutions: Path = LESSON_SOLUTIONS) -> list[str]:
    """The stems of the lesson notebooks (``00_getting_started`` ... ``13_...``), in order."""
    return sorted(p.stem for p in solutions.glob("*.ipynb") if _LESSON_RE.match(p.name))


def lesson_number(stem: str) -> int | None:
    """``1`` for ``01_what_is_data_engineering``; ``None`` for a notebook that is not a lesson."""
    match = _LESSON_RE.match(stem)
    return int(match.group(1)) if match else None


def count_by_lesson(solutions: Path = LESSON_SOLUTIONS) -> dict[str, int]:
    """Declared exercises per lesson stem, every lesson listed (0 when it declares none)."""
    declared = all_exercises()
    return {stem: len(declared.get(stem, [])) for stem in lesson_stems(solutions)}
