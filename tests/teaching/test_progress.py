"""The progress record (utils.teaching.progress): what is recorded, when, and the table.

Every test points ``DELAB_PROGRESS_FILE`` at a temporary file: the session's
``DELAB_PROGRESS=off`` (tests/conftest.py) keeps the machine's own record untouched.

PYTEST_DONT_REWRITE: the sample grader uses a plain assert, as in a notebook.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import ipywidgets
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from utils.teaching import progress
from utils.teaching.grading import grader
from utils.teaching.quizzes import get_quiz
from utils.teaching.registry import all_exercises

ROOT = Path(__file__).resolve().parents[2]
LESSONS = ROOT / "solutions" / "lessons"
LEARNER_GETTING_STARTED = ROOT / "notebooks" / "00_getting_started.ipynb"


@grader("lXX_ex1_sum", max_score=2)
def grade_sum(total):
    assert total == 3, f"total is {total}, expected 3."
    return "Right."


@pytest.fixture
def record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temporary record, recording on (as a learner's kernel would be)."""
    path = tmp_path / "state" / "progress.jsonl"
    monkeypatch.setenv("DELAB_PROGRESS", "on")
    monkeypatch.setenv("DELAB_PROGRESS_FILE", str(path))
    monkeypatch.delenv("DELAB_GRADING", raising=False)
    monkeypatch.setattr(progress, "_last_write_problem", "")
    yield path


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# --- which runs record -----------------------------------------------------------------------


@pytest.mark.parametrize(("switch", "grading", "expected"), [
    ("on", None, True),
    ("off", None, False),
    (None, None, False),  # auto: pytest is not a Jupyter kernel
    ("auto", None, False),
    ("on", "1", False),  # the instructor's gradebook never writes a learner's record
])
def test_which_runs_record(monkeypatch: pytest.MonkeyPatch, switch: str | None, grading: str | None,
                           expected: bool) -> None:
    for name, value in (("DELAB_PROGRESS", switch), ("DELAB_GRADING", grading)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert progress.recording() is expected


def test_the_test_session_records_nothing() -> None:
    assert os.environ["DELAB_PROGRESS"] == "off" and not progress.recording()


def test_default_record_is_git_ignored_under_the_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DELAB_PROGRESS_FILE", raising=False)
    assert progress.record_path() == ROOT / ".delab" / "progress.jsonl"
    ignored = subprocess.run(["git", "check-ignore", "-q", ".delab/progress.jsonl"], cwd=ROOT, check=False)
    assert ignored.returncode == 0, ".delab/progress.jsonl is not git-ignored"


def test_nothing_is_written_when_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELAB_PROGRESS_FILE", str(tmp_path / "progress.jsonl"))
    assert grade_sum(3).passed
    get_quiz(1).check({1: "a"})
    assert not (tmp_path / "progress.jsonl").exists()


# --- what is recorded ------------------------------------------------------------------------


def test_each_graded_result_is_one_line_and_not_done_is_not_recorded(record: Path) -> None:
    grade_sum(4)
    grade_sum(None)  # the placeholder: not an attempt
    grade_sum(3)
    lines = _lines(record)
    assert [(e["exercise"], e["passed"], e["score"], e["max_score"]) for e in lines] == [
        ("lXX_ex1_sum", False, 0.0, 2.0), ("lXX_ex1_sum", True, 2.0, 2.0)]
    assert {e["kind"] for e in lines} == {"exercise"}
    assert all(progress._parse_time(e["time"]) is not None for e in lines)


def test_a_lesson_grader_names_its_notebook_from_the_registry(record: Path) -> None:
    from utils.teaching.exercises.lesson12 import grade_design_availability

    assert grade_design_availability(lambda stages: 0.5).passed is False
    (event,) = _lines(record)
    assert event["notebook"] == "12_principles_of_good_data_architecture"
    assert event["exercise"] == "l12_ex1_design_availability" and event["passed"] is False


def test_a_lab_grader_records_through_its_wrapper(record: Path) -> None:
    import pandas as pd

    from utils.teaching.graders_c1w2 import grade_selection_filter

    result = grade_selection_filter(42, sales=pd.DataFrame({"x": [1]}))
    assert not result.passed
    (event,) = _lines(record)
    assert (event["notebook"], event["exercise"]) == ("C1W2_3_dashboard", "c1w2_ex5_selection_filter")


def test_quiz_check_records_each_answered_question(record: Path) -> None:
    quiz = get_quiz(3)
    key = quiz.answer_key()
    wrong = next(letter for letter in quiz.questions[1].letters if letter != key[2])
    quiz.check({1: key[1], 2: wrong})  # the others unanswered: not recorded
    lines = _lines(record)
    assert [(e["question"], e["answer"], e["passed"]) for e in lines] == [
        (1, key[1], True), (2, wrong, False)]
    assert {(e["kind"], e["lesson"], e["notebook"]) for e in lines} == {
        ("quiz", 3, "03_history_of_data_engineering")}


def test_the_quiz_widget_records_when_the_learner_checks(record: Path) -> None:
    quiz = get_quiz(5)
    box = quiz.render()
    radios = [w for w in box.children if isinstance(w, ipywidgets.RadioButtons)]
    button = next(w for w in box.children if isinstance(w, ipywidgets.Button))
    radios[0].value = quiz.answer_key()[1]
    button.click()
    (event,) = _lines(record)
    assert (event["lesson"], event["question"], event["passed"]) == (5, 1, True)


# --- never fatal -----------------------------------------------------------------------------


def test_a_corrupt_record_is_skipped_and_appending_starts_a_new_line(record: Path) -> None:
    record.parent.mkdir(parents=True)
    good = {"time": "2026-01-02T03:04:05+00:00", "kind": "exercise", "exercise": "l03_ex1_era_of_year",
            "passed": True, "score": 1.0, "max_score": 1.0}
    record.write_bytes(b"\x00\xffgarbage\n[1, 2]\n{\"kind\": \"quiz\"}\n" + json.dumps(good).encode()
                       + b"\n{\"time\": \"2026-01-02T03:0")  # the last line was cut short
    grade_sum(3)
    read = progress.read_record(record)
    assert read.skipped == 4
    assert [e["exercise"] for e in read.events] == ["l03_ex1_era_of_year", "lXX_ex1_sum"]
    text = progress.progress().text()
    assert "4 unreadable line(s) of the record were skipped" in text
    assert _row(text, "03_history_of_data_engineering")[0] == "1/2"


def test_an_unwritable_record_never_stops_grading(record: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("DELAB_PROGRESS_FILE", str(blocker / "progress.jsonl"))
    assert grade_sum(3).passed
    get_quiz(1).check({1: "a"})
    assert "your last result was not recorded: could not write" in progress.progress().text()


def test_an_unreadable_record_gives_an_empty_table_that_says_why(record: Path) -> None:
    record.mkdir(parents=True)  # a folder where the file should be
    text = progress.progress().text()
    assert "could not read" in text and "not started" in text


def test_a_missing_record_and_folder_are_created(record: Path) -> None:
    assert not record.parent.exists()
    grade_sum(3)
    assert len(_lines(record)) == 1


# --- the table -------------------------------------------------------------------------------


def _event(kind: str, when: str, passed: bool, **fields) -> dict:
    return {"time": f"2026-03-01T{when}+00:00", "kind": kind, "passed": passed, **fields}


DECLARED = {"01_a": ["l01_ex1_x", "l01_ex2_y"], "02_b": ["l02_ex1_z"], "C1W2_1_lab": ["c1w2_ex1_w"],
            "12_c": ["l12_ex1_v"]}
QUIZZES = {"01_a": 3, "02_b": 2, "06_no_exercises": 2, "12_c": 1}


def test_latest_attempt_counts_and_totals_come_from_the_declarations() -> None:
    events = [
        _event("exercise", "10:00:00", True, exercise="l01_ex1_x"),
        _event("exercise", "10:05:00", False, exercise="l01_ex1_x"),  # broken again later
        _event("exercise", "10:06:00", True, exercise="l01_ex2_y"),
        _event("quiz", "10:07:00", False, lesson=1, question=1),
        _event("quiz", "10:08:00", True, lesson=1, question=1),
        _event("quiz", "10:09:00", True, lesson=1, question=2),
        _event("exercise", "11:00:00", True, exercise="l02_ex1_z"),
        _event("exercise", "11:01:00", True, exercise="l99_ex1_gone"),  # no longer declared: ignored
        _event("quiz", "11:02:00", True, lesson=6, question=1),
        _event("quiz", "11:02:00", True, lesson=6, question=2),
    ]
    rows = {r.notebook: r for r in progress.summarize(events, DECLARED, QUIZZES)}
    assert [r.notebook for r in progress.summarize(events, DECLARED, QUIZZES)] == [
        "01_a", "02_b", "06_no_exercises", "C1W2_1_lab", "12_c"]  # the lab after lesson 11
    first = rows["01_a"]
    assert (first.passed, first.quiz_right, first.status) == (("l01_ex2_y",), 2, "in progress")
    assert rows["01_a"].first_unfinished == "l01_ex1_x"
    assert rows["01_a"].last_attempt.isoformat() == "2026-03-01T10:09:00+00:00"
    assert rows["02_b"].status == "complete" and rows["02_b"].quiz_right == 0
    assert rows["06_no_exercises"].status == "complete"  # no exercise: its quiz decides
    assert rows["C1W2_1_lab"].status == rows["12_c"].status == "not started"
    assert rows["12_c"].passed == () and rows["12_c"].last_attempt is None


def test_next_step_names_the_first_unfinished_exercise_with_its_heading() -> None:
    declared = {"03_history_of_data_engineering": ["l03_ex1_era_of_year", "l03_ex2_lab_stack_eras"]}
    events = [_event("exercise", "10:00:00", True, exercise="l03_ex1_era_of_year")]
    step = progress.next_step(progress.summarize(events, declared, {}))
    assert step.startswith(
        "Next: open notebooks/03_history_of_data_engineering.ipynb and finish Exercise 2 · ")
    assert step.endswith("(l03_ex2_lab_stack_eras).")
    done = [_event("exercise", "10:01:00", True, exercise="l03_ex2_lab_stack_eras"), *events]
    finished = progress.next_step(progress.summarize(done, declared, {}))
    assert finished == "Every exercise passes (2 of 2). Well done!"


def test_off_reads_no_record_and_the_table_is_deterministic(record: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    grade_sum(3)
    from utils.teaching.exercises.lesson12 import grade_design_availability

    grade_design_availability(lambda stages: 0.5)
    monkeypatch.setenv("DELAB_PROGRESS", "off")
    first, second = progress.progress(), progress.progress()
    assert first.text() == second.text() and first.html() == second.html()
    assert "not read (DELAB_PROGRESS=off" in first.text()
    assert all(row.last_attempt is None for row in first.rows)


def _row(text: str, notebook: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(notebook + " "))
    return line[len(notebook):].split()


def _run_every_code_cell(notebook: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a solution lesson top to bottom in this process, as its kernel would (cwd = its folder)."""
    import matplotlib.pyplot as plt

    monkeypatch.chdir(notebook.parent)
    namespace: dict = {"__name__": "__main__"}
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type == "code":
            exec(compile(cell.source, f"{notebook.name} cell {cell.get('id')}", "exec"), namespace)  # noqa: S102
    plt.close("all")


def test_make_progress_after_two_solution_lessons(record: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Acceptance (#13): two solution lessons run with recording on are complete; the rest not started."""
    done = ("03_history_of_data_engineering", "12_principles_of_good_data_architecture")
    for stem in done:
        _run_every_code_cell(LESSONS / f"{stem}.ipynb", monkeypatch)
    monkeypatch.chdir(ROOT)
    shown = subprocess.run([sys.executable, "-m", "utils.cli", "progress"], cwd=ROOT, capture_output=True,
                           text=True, timeout=120, check=False,
                           env={**os.environ, "DELAB_PROGRESS": "auto", "DELAB_PROGRESS_FILE": str(record)})
    assert shown.returncode == 0, shown.stderr
    # Other tests of the session may declare notebooks of their own (sample labs): only the
    # course's notebooks are in the table.
    course = {p.stem for p in [*(ROOT / "notebooks").glob("*.ipynb"), *(ROOT / "labs").glob("*.ipynb")]}
    declared = {stem: exercises for stem, exercises in all_exercises().items() if stem in course}
    for stem, exercises in declared.items():
        cells = _row(shown.stdout, stem)
        if stem in done:
            assert cells[0] == f"{len(exercises)}/{len(exercises)}" and cells[-1] == "complete", cells
        else:
            assert cells[0] == f"0/{len(exercises)}" and cells[-2:] == ["not", "started"], (stem, cells)
    first = next(stem for stem in sorted(declared) if stem not in done)
    assert f"Next: open notebooks/{first}.ipynb and start with Exercise 1" in shown.stdout


# --- the runs that must not record -----------------------------------------------------------


def test_make_labs_kernels_record_nothing(record: Path) -> None:
    """store_outputs.execute (make labs) turns recording off in its kernel, even when the caller has it on."""
    from utils.teaching.store_outputs import execute

    nb = new_notebook(cells=[new_code_cell(
        "from utils.teaching.exercises.lesson12 import grade_design_availability\n"
        "from utils.teaching.progress import recording\n"
        "print('recording:', recording())\n"
        "grade_design_availability(lambda stages: 0.5)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    execute(nb, ROOT, timeout=120)
    assert "recording: False" in nb.cells[0].outputs[0]["text"]
    assert not record.exists()


# --- 00_getting_started ----------------------------------------------------------------------


def _cell_source(notebook: Path, cell_id: str) -> str:
    return next(c.source for c in nbformat.read(notebook, as_version=4).cells if c.get("id") == cell_id)


def _no_aws(target: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "DELAB_AWS_ACCOUNT"}
    return {**env, "DELAB_TARGET": target, "AWS_CONFIG_FILE": "/nonexistent",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"}


@pytest.mark.parametrize("target", ["local", "aws"])
def test_getting_started_checks_aws_credentials_only_on_aws(target: str) -> None:
    source = "TARGET = None\n" + _cell_source(LESSONS / "00_getting_started.ipynb", "aws-check")
    done = subprocess.run([sys.executable, "-c", source], cwd=LESSONS, capture_output=True, text=True,
                          timeout=120, check=False, env=_no_aws(target))
    if target == "local":
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == ("Target: the local cloud on this machine. "
                                       "Nothing in this course costs money here.")
    else:  # no credentials: awscheck's one line, then the cell stops the notebook
        assert done.stdout.strip().startswith("No AWS credentials found: run `aws configure`"), done.stdout
        assert len(done.stdout.strip().splitlines()) == 1
        assert "AssertionError: Fix your AWS credentials" in done.stderr


def test_getting_started_learner_copy_shows_the_empty_table() -> None:
    cell = next(c for c in nbformat.read(LEARNER_GETTING_STARTED, as_version=4).cells
                if c.get("id") == "progress-table")
    assert "nbval-ignore-output" in cell.metadata.get("tags", [])  # other lessons' new exercises change it
    (output,) = cell.outputs
    text = output["data"]["text/plain"]
    assert "Next: open notebooks/01_" in text and "not read (DELAB_PROGRESS=off" in text
    assert "complete" not in text and "in progress" not in text
