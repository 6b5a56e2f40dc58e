"""Quiz content for the lessons: one module per lesson (``lesson01`` ... ``lesson13``).

Each module defines ``QUIZ``, a :class:`utils.teaching.quiz.Quiz`. Use
:func:`get_quiz` to load one by lesson number.
"""

from __future__ import annotations

import importlib

from utils.teaching.quiz import Quiz

LESSONS = tuple(range(1, 14))


def get_quiz(lesson: int) -> Quiz:
    """Return the quiz of lesson ``lesson`` (1-13)."""
    if lesson not in LESSONS:
        raise KeyError(f"No quiz for lesson {lesson}; lessons with quizzes: {LESSONS[0]}-{LESSONS[-1]}.")
    return importlib.import_module(f"{__name__}.lesson{lesson:02d}").QUIZ
