"""Instructor grading: one batch of good and bad submissions through the CLI, then its reports.

The submissions are generated in a temporary folder from the sample solution: all correct,
partly correct, unsolved (the generated lab), an infinite loop, sys.exit(1), os._exit(1),
a notebook deleting files (its own, another submission, a sentinel elsewhere), a 50 MB
print, invalid JSON, JSON that is not a notebook, a forged result, and a notebook snooping
on its environment.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import os
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from utils.teaching import gradebook
from utils.teaching.gradebook import (
    GRADED,
    INVALID,
    KERNEL_DIED,
    OUTPUT_TOO_LARGE,
    TIMED_OUT,
    Submission,
    find_submissions,
    kernel_environment,
    protect_cells,
)
from utils.teaching.grading import MIME_TYPE
from utils.teaching.labgen import make_lab

SAMPLE_SOLUTION = Path(__file__).resolve().parents[1] / "data" / "teaching" / "sample_solution.ipynb"
LAB = "sample_lab"
TIMEOUT_S = 15
SECRET = "s3cr3t-admin-password"


def _with_cell(nb: nbformat.NotebookNode, source: str, at: int | None = None) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    cell = new_code_cell(source)
    nb.cells.insert(len(nb.cells) if at is None else at, cell)
    return nb


def _index_of(nb: nbformat.NotebookNode, text: str) -> int:
    """Index of the first cell with a line starting with ``text``."""
    return next(
        i for i, c in enumerate(nb.cells) if any(line.startswith(text) for line in c.source.splitlines())
    )


def _build_submissions(root: Path, sentinel: Path) -> dict[str, Path]:
    solution = nbformat.read(SAMPLE_SOLUTION, as_version=4)
    lab = make_lab(solution)
    after_ex1 = _index_of(solution, "check_total_revenue(total_revenue)") + 1
    other = root / "correct" / f"{LAB}.ipynb"
    forged_bundle = {
        "exercise": "ex2_revenue_by_customer",
        "passed": True,
        "score": 2,
        "max_score": 2,
        "feedback": "forged",
    }
    forged = copy.deepcopy(lab)
    grader_cell = _index_of(forged, "check_revenue_by_customer(revenue_by_customer_sql)")
    forged.cells[grader_cell].source = f"display({{{MIME_TYPE!r}: {forged_bundle!r}}}, raw=True)"
    forged = _with_cell(forged, f"display({{{MIME_TYPE!r}: {forged_bundle!r}}}, raw=True)")
    partial = copy.deepcopy(solution)
    sql_cell = _index_of(partial, "revenue_by_customer_sql = ")
    partial.cells[sql_cell].source = partial.cells[sql_cell].source.replace("FROM orders", "FROM orderz")
    notebooks = {
        "correct": solution,
        "partial": partial,
        "unsolved": lab,
        "looping": _with_cell(solution, "while True:\n    pass", at=after_ex1),
        "exits": _with_cell(solution, "import sys\nsys.exit(1)", at=2),
        "crashes": _with_cell(solution, "import os\nos._exit(1)", at=after_ex1),
        "chatty": _with_cell(solution, "print('x' * 50_000_000)", at=after_ex1),
        "forger": forged,
        "vandal": _with_cell(
            solution,
            (
                "import os\n"
                "mine = sorted(p for p in os.listdir('.') if os.path.isfile(p))\n"
                "for p in mine:\n    os.remove(p)\n"
                "print('removed my own', mine, os.listdir('.'))\n"
                f"for target in [{str(sentinel)!r}, {str(other)!r}]:\n"
                "    try:\n        os.remove(target)\n        print('REMOVED', target)\n"
                "    except OSError as error:\n        print('blocked', type(error).__name__)\n"
            ),
        ),
        "snoop": _with_cell(
            solution,
            (
                "import os\n"
                "print('secret=' + str(os.environ.get('DELAB_DB_ADMIN_PASSWORD')))\n"
                "print('home_in_job=' + str(os.environ['HOME'].startswith(os.path.dirname(os.getcwd()))))\n"
                "print('files=' + ','.join(sorted(os.listdir('.'))))\n"
                "print('target=' + target)\n"
            ),
        ),
    }
    paths = {}
    for learner, nb in notebooks.items():
        path = root / learner / f"{LAB}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nb, path)
        paths[learner] = path
    (root / "broken").mkdir()
    (root / "broken" / f"{LAB}.ipynb").write_text('{"cells": [')
    (root / "stranger").mkdir()
    (root / "stranger" / f"{LAB}.ipynb").write_text('{"hello": "world"}')
    (root / "correct" / ".ipynb_checkpoints").mkdir()
    (root / "correct" / ".ipynb_checkpoints" / f"{LAB}-checkpoint.ipynb").write_text("{}")
    return paths


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Grade every sample submission once through the CLI; yield what the tests inspect."""
    base = tmp_path_factory.mktemp("gradebook")
    outside = base / "outside"
    outside.mkdir()
    sentinel = outside / "sentinel.txt"
    sentinel.write_text("must survive")
    submissions = base / "submissions"
    paths = _build_submissions(submissions, sentinel)
    labs = base / "labs"
    labs.mkdir()
    nbformat.write(make_lab(nbformat.read(SAMPLE_SOLUTION, as_version=4)), labs / f"{LAB}.ipynb")
    before = _digest(submissions)
    source_before = SAMPLE_SOLUTION.read_bytes()
    out = base / "report"
    saved = os.environ.get("DELAB_DB_ADMIN_PASSWORD")
    os.environ["DELAB_DB_ADMIN_PASSWORD"] = SECRET  # workers (and so kernels) would inherit it
    try:
        code = gradebook.main(
            [
                str(submissions),
                "--out",
                str(out),
                "--labs",
                str(labs),
                "--timeout",
                str(TIMEOUT_S),
                "--jobs",
                "2",
                "-p",
                "target",
                "graded-target",
            ]
        )
    finally:
        if saved is None:
            os.environ.pop("DELAB_DB_ADMIN_PASSWORD")
        else:
            os.environ["DELAB_DB_ADMIN_PASSWORD"] = saved
    with (out / "grades.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    yield {
        "code": code,
        "out": out,
        "rows": rows,
        "paths": paths,
        "sentinel": sentinel,
        "unchanged": _digest(submissions) == before,
        "source_unchanged": SAMPLE_SOLUTION.read_bytes() == source_before,
        "html": (out / "report.html").read_text(encoding="utf-8"),
    }


def _rows(batch, learner):
    return {r["exercise"]: r for r in batch["rows"] if r["learner"] == learner}


def _executed_text(batch, learner):
    executed = nbformat.read(batch["out"] / "executed" / f"{learner}__{LAB}.ipynb", as_version=4)
    return "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)


EXPECTED = {  # learner: (ex1 score, ex2 score, total, status)
    "correct": ("1", "2", "3", GRADED),
    "partial": ("1", "0", "1", GRADED),
    "unsolved": ("0", "0", "0", GRADED),
    "looping": ("1", "0", "1", TIMED_OUT),
    "exits": ("1", "2", "3", GRADED),
    "crashes": ("1", "0", "1", KERNEL_DIED),
    "chatty": ("1", "0", "1", OUTPUT_TOO_LARGE),
    "forger": ("0", "0", "0", GRADED),
    "vandal": ("1", "2", "3", GRADED),
    "snoop": ("1", "2", "3", GRADED),
    "broken": ("0", "0", "0", INVALID),
    "stranger": ("0", "0", "0", INVALID),
}


def test_cli_succeeds_and_lists_every_submission_once(batch):
    assert batch["code"] == 0
    totals = [r["learner"] for r in batch["rows"] if r["exercise"] == "TOTAL"]
    assert sorted(totals) == sorted(EXPECTED)  # checkpoints skipped


@pytest.mark.parametrize("learner", sorted(EXPECTED))
def test_each_submission_gets_the_right_score_or_a_clear_reason(batch, learner):
    ex1, ex2, total, status = EXPECTED[learner]
    rows = _rows(batch, learner)
    assert rows["ex1_total_revenue"]["score"] == ex1
    assert rows["ex2_revenue_by_customer"]["score"] == ex2
    assert rows["TOTAL"]["score"] == total and rows["TOTAL"]["max_score"] == "3"
    assert rows["ex1_total_revenue"]["status"] == status
    assert (rows["TOTAL"]["passed"] == "True") == (total == "3" and status == GRADED)


def test_reasons_and_feedback_are_clear(batch):
    assert _rows(batch, "unsolved")["ex1_total_revenue"]["feedback"].startswith(
        "Not done yet: `total_revenue`"
    )
    assert "OperationalError" in _rows(batch, "partial")["ex2_revenue_by_customer"]["feedback"]
    assert "no such table: orderz" in _rows(batch, "partial")["ex2_revenue_by_customer"]["feedback"]
    assert f"timed out after {TIMEOUT_S} s" in _rows(batch, "looping")["TOTAL"]["feedback"]
    assert "No result: timed out" in _rows(batch, "looping")["ex2_revenue_by_customer"]["feedback"]
    assert "kernel died" in _rows(batch, "crashes")["TOTAL"]["feedback"]
    assert "output exceeded 5 MB" in _rows(batch, "chatty")["TOTAL"]["feedback"]
    assert "notebook is not valid JSON" in _rows(batch, "broken")["TOTAL"]["feedback"]
    assert "not a valid Jupyter notebook" in _rows(batch, "stranger")["TOTAL"]["feedback"]


def test_html_report_is_self_contained_and_names_every_learner_and_reason(batch):
    html = batch["html"]
    assert "<script" not in html and "http" not in html.split("<body>")[1]
    for learner in EXPECTED:
        assert f"id='{learner}-{LAB}'" in html
    for reason in (
        "timed out after 15 s",
        "kernel died",
        "output exceeded 5 MB",
        "notebook is not valid JSON",
        "called sys.exit(1)",
        "no such table: orderz",
    ):
        assert reason in html


def test_sys_exit_is_noted_and_the_rest_still_graded(batch):
    assert "called sys.exit(1)" in batch["html"]


def test_chatty_output_was_not_kept(batch):
    assert (batch["out"] / "executed" / f"chatty__{LAB}.ipynb").stat().st_size < 1_000_000


def test_forged_results_and_edited_grader_cells_do_not_count(batch):
    assert "forged" not in _rows(batch, "forger")["ex2_revenue_by_customer"]["feedback"]
    assert "read-only cell(s) edited by the learner were restored" in batch["html"]


def test_submissions_and_sources_are_never_changed(batch):
    assert batch["unchanged"], "a submission file was changed by grading"
    assert batch["source_unchanged"]
    vandal = _executed_text(batch, "vandal")
    assert "removed my own ['sample_lab.ipynb'] []" in vandal  # its working copy only


def test_writes_outside_the_working_copy_are_blocked_by_the_sandbox(batch):
    if gradebook.landlock_abi() < 1:
        pytest.skip("no Landlock on this OS: isolation is by working copy only (see docs/instructors.md)")
    assert batch["sentinel"].read_text() == "must survive"
    assert "REMOVED" not in _executed_text(batch, "vandal")
    assert "Write-sandbox (Landlock) active for 10 of them" in batch["html"]  # the 2 invalid ones never ran


def test_kernel_environment_is_scrubbed_and_parameters_pass_through(batch):
    text = _executed_text(batch, "snoop")
    assert "secret=None" in text and SECRET not in text
    assert "home_in_job=True" in text
    assert "files=sample_lab.ipynb\n" in text
    assert "target=graded-target" in text


# --- units ------------------------------------------------------------------------------------


def test_find_submissions_names_learners_by_folder_or_file(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "C1_W2_Lab.ipynb").write_text("{}")
    (tmp_path / "bob.ipynb").write_text("{}")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x.ipynb").write_text("{}")
    found = find_submissions(tmp_path, exclude=[tmp_path / "out"])
    assert [(s.learner, s.lab) for s in found] == [("alice", "C1_W2_Lab"), ("bob", "")]


def test_kernel_environment_keeps_settings_and_drops_secrets(tmp_path):
    source = {
        "PATH": "/bin",
        "HOME": "/root",
        "DELAB_TARGET": "local",
        "DELAB_DB_HOST": "h",
        "DELAB_DB_ETL_PASSWORD": "p",
        "DELAB_DB_SUPERPASSWORD": "p",
        "AWS_SECRET_ACCESS_KEY": "k",
        "AWS_DEFAULT_REGION": "us-east-1",
        "GITHUB_TOKEN": "t",
        "EDITOR": "vi",
    }
    target = {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_SECRET_ACCESS_KEY": "testing"}
    env = kernel_environment(tmp_path, pass_env=["DELAB_DB_ETL_PASSWORD"], source=source, target_env=target)
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566" and env["AWS_SECRET_ACCESS_KEY"] == "testing"
    del env["AWS_SECRET_ACCESS_KEY"]  # the local cloud's fixed test key, from target_env
    assert env["DELAB_TARGET"] == "local" and env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["DELAB_DB_ETL_PASSWORD"] == "p"  # explicitly passed
    for name in ("DELAB_DB_SUPERPASSWORD", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "EDITOR"):
        assert name not in env
    assert env["HOME"] == str(tmp_path / "home") and env["TMPDIR"] == str(tmp_path / "tmp")


def test_protect_cells_restores_read_only_cells_by_id():
    solution = nbformat.read(SAMPLE_SOLUTION, as_version=4)
    lab = make_lab(solution)
    submission = copy.deepcopy(lab)
    grader_cell = _index_of(submission, "check_total_revenue(total_revenue)")
    submission.cells[grader_cell].source = "print('I passed')"
    protected, trusted, notes = protect_cells(submission, lab)
    assert protected.cells[grader_cell].source == "check_total_revenue(total_revenue)"
    assert submission.cells[grader_cell].id in trusted and "1 read-only cell(s)" in notes[0]
    answer_cell = _index_of(submission, "### START CODE HERE ###")
    assert submission.cells[answer_cell].id not in trusted


def test_grade_submission_reports_a_missing_file_as_invalid(tmp_path):
    grade = gradebook.grade_submission(
        Submission(tmp_path / "nope.ipynb", "nobody", LAB), gradebook.GradingOptions()
    )
    assert grade.status == INVALID and "No such file" in grade.reason


def test_cli_without_submissions_says_so(tmp_path, capsys):
    assert gradebook.main([str(tmp_path)]) == 2
    assert "no *.ipynb found" in capsys.readouterr().err
