"""Every declared lesson exercise is proven, named by convention, and present in its notebooks.

Cheap static checks (no kernel): the papermill run of the solution copies
(tests/notebooks) checks that every grader passes there, nbval that every learner copy runs.
Every lesson 01-13 declares at least ``MIN_PER_LESSON`` exercises and the course at least
``MIN_TOTAL`` (issue #13): ``python -m utils.teaching.exercises --count --strict`` prints the table.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from utils.teaching.exercises import (
    LESSON_SOLUTIONS,
    MIN_PER_LESSON,
    MIN_TOTAL,
    count_by_lesson,
    lesson_number,
    lesson_stems,
)
from utils.teaching.exercises.__main__ import main as count_main
from utils.teaching.grading import GradeResult, iter_grade_bundles
from utils.teaching.registry import all_exercises

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests" / "lessons"
LEARNER_COPIES = ROOT / "notebooks"
DECLARED = {stem: exercises for stem, exercises in all_exercises().items() if lesson_number(stem) is not None}


def _proven_graders(test_file: Path) -> set[str]:
    """Names of the graders passed to ``assert_grader_proven`` in a test file."""
    names = set()
    for node in ast.walk(ast.parse(test_file.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "assert_grader_proven"
                and node.args and isinstance(node.args[0], ast.Name)):
            names.add(node.args[0].id)
    return names


def test_lesson_declarations_name_existing_lessons():
    assert set(DECLARED) <= set(lesson_stems()), (
        "declare() names a notebook that is not in solutions/lessons/: "
        f"{sorted(set(DECLARED) - set(lesson_stems()))}"
    )


@pytest.mark.parametrize("stem", sorted(DECLARED))
def test_lesson_exercises_follow_the_conventions(stem):
    number = lesson_number(stem)
    exercises = DECLARED[stem]
    assert number != 0, "00_getting_started has no graded exercises"
    assert len(exercises) >= MIN_PER_LESSON, (
        f"{stem} declares {len(exercises)} exercise(s); a lesson with exercises needs >= {MIN_PER_LESSON}"
    )
    for k, exercise in enumerate(exercises, 1):
        assert re.fullmatch(rf"l{number:02d}_ex{k}_[a-z0-9_]+", exercise.exercise), (
            f"{exercise.exercise!r}: name lesson exercises l{number:02d}_ex{k}_<what>, "
            "numbered in declaration order"
        )
        assert exercise.grader.__module__ == f"utils.teaching.exercises.lesson{number:02d}", (
            f"{exercise.exercise}: graders of lesson {number:02d} live in "
            f"utils/teaching/exercises/lesson{number:02d}.py"
        )

    test_file = TESTS / f"test_exercises_lesson{number:02d}.py"
    assert test_file.is_file(), f"{stem} declares exercises but {test_file.relative_to(ROOT)} is missing"
    unproven = {e.grader.__name__ for e in exercises} - _proven_graders(test_file)
    assert not unproven, f"{test_file.name} does not call assert_grader_proven for {sorted(unproven)}"

    solution = (LESSON_SOLUTIONS / f"{stem}.ipynb").read_text(encoding="utf-8")
    for exercise in exercises:
        call = f"{exercise.grader.__name__}({', '.join(exercise.answer_names)}"
        assert call in solution, f"solutions/lessons/{stem}.ipynb has no grader cell calling {call}...)"

    stored = nbformat.read(LEARNER_COPIES / f"{stem}.ipynb", as_version=4)
    results = [GradeResult.from_dict(bundle) for _, bundle in iter_grade_bundles(stored)]
    assert {r.exercise for r in results} == {e.exercise for e in exercises}, (
        f"notebooks/{stem}.ipynb does not display one grade per declared exercise: run `make labs`"
    )
    assert all(r.not_done for r in results), (
        f"notebooks/{stem}.ipynb stores a grade that is not 'Not done yet'"
    )


def test_count_script(capsys):
    assert count_main(["--count"]) == 0
    out = capsys.readouterr().out
    counts = count_by_lesson()
    assert f"{sum(counts.values()):3}" in out.splitlines()[-1] and len(out.splitlines()) == len(counts) + 1


def test_every_lesson_has_its_graded_exercises(capsys):
    counts = count_by_lesson()
    short = {s: n for s, n in counts.items() if lesson_number(s) and n < MIN_PER_LESSON}
    assert not short, f"lessons with fewer than {MIN_PER_LESSON} graded exercises: {short}"
    assert sum(counts.values()) >= MIN_TOTAL
    assert count_main(["--count", "--strict"]) == 0
