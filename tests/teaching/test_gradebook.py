"""Instructor grading: one cohort through the CLI, honest, broken and cheating notebooks together.

The submissions are generated from the sample lab (tests/teaching/attacks/notebooks.py): all
correct, partly correct, unsolved, an infinite loop, sys.exit(1), os._exit(1), a 50 MB print,
invalid JSON, JSON that is not a notebook, and one notebook per attack of issue #15 (forged
results, patched graders and hooks, renamed files, new ids, nbformat 4.4, reading secrets,
solutions and classmates, escaping processes, signals, memory, disk and process bombs).
Each must get its honest grade, the honest classmates theirs, and nothing outside a
submission's own folder may be read or written. One batch, shared by every test here.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import os
from pathlib import Path

import nbformat
import pytest

from tests.teaching.attacks import notebooks as sample
from utils.teaching import gradebook
from utils.teaching.gradebook import (
    GRADED,
    INVALID,
    KERNEL_DIED,
    NEEDS_REVIEW,
    OUTPUT_TOO_LARGE,
    TIMED_OUT,
    Submission,
    find_submissions,
    kernel_environment,
)

LAB = sample.LAB
TIMEOUT_S = 20
SECRET = "s3cr3t-admin-password"
GRADERS = "tests.teaching.attacks.sample_graders"


def _build(root: Path, outside: Path) -> dict[str, Path]:
    solution, lab = sample.solution(), sample.lab()
    ex1 = sample.after_ex1(solution)
    both_forged = sample.forged_display((("ex1_total_revenue", 1), ("ex2_revenue_by_customer", 2)))
    classmate = root / "correct" / f"{LAB}.ipynb"
    forger = copy.deepcopy(lab)  # the grader cell replaced by a forged result, and one more added
    forger.cells[sample.index_of(forger, "check_revenue_by_customer(")].source = sample.forged_display(
        (("ex2_revenue_by_customer", 2),))
    forger = sample.with_cell(forger, sample.forged_display((("ex2_revenue_by_customer", 2),)))
    partial = copy.deepcopy(solution)
    sql_cell = sample.index_of(partial, "revenue_by_customer_sql = ")
    partial.cells[sql_cell].source = partial.cells[sql_cell].source.replace("FROM orders", "FROM orderz")
    no_grader_cell = copy.deepcopy(solution)
    del no_grader_cell.cells[sample.index_of(no_grader_cell, "check_revenue_by_customer(")]
    secrets = [str(sample.ROOT / ".env"), str(sample.ROOT / ".delab"), str(sample.ROOT / "solutions"),
               str(sample.SAMPLE_SOLUTION), str(sample.ROOT / ".git"), "/work/main/solutions", str(root),
               "/etc/shadow"]
    notebooks: dict[str, tuple[str, object]] = {
        "correct": (f"{LAB}.ipynb", solution),
        "partial": (f"{LAB}.ipynb", partial),
        "unsolved": (f"{LAB}.ipynb", lab),
        "looping": (f"{LAB}.ipynb", sample.with_cell(solution, "while True:\n    pass", at=ex1)),
        "exits": (f"{LAB}.ipynb", sample.with_cell(solution, "import sys\nsys.exit(1)", at=2)),
        "crashes": (f"{LAB}.ipynb", sample.with_cell(solution, "import os\nos._exit(1)", at=ex1)),
        "chatty": (f"{LAB}.ipynb", sample.with_cell(solution, "print('x' * 6_000_000)", at=ex1)),  # > 5 MB
        "forger": (f"{LAB}.ipynb", forger),
        # issue #15's attacks, each on the unsolved lab unless said otherwise (honest grade 0)
        "hooker": (f"{LAB}.ipynb", sample.with_cell(lab, sample.hook_code(), at=sample.after_setup(lab))),
        "snoop": (f"{LAB}.ipynb", sample.with_cell(lab, sample.probe_code(classmate, outside, secrets),
                                                   at=sample.after_setup(lab))),
        "renamer": ("final answers (1).ipynb", sample.renumbered(sample.with_cell(lab, both_forged))),
        "oldjupyter": ("lab.ipynb", sample.as_v44(sample.with_cell(lab, both_forged))),
        "oldsolver": ("my_work.ipynb", sample.as_v44(solution)),  # honest: 3/3 whatever the file and format
        "nogradercell": (f"{LAB}.ipynb", no_grader_cell),
        "stranger2": ("notes.ipynb", sample.with_cell(nbformat.v4.new_notebook(), sample.forged_display(
            (("ex1_total_revenue", 1),)))),
        "escaper": (f"{LAB}.ipynb", sample.with_cell(lab, sample.escape_and_kill_code(os.getpid()),
                                                     at=sample.after_setup(lab))),
        "memoryhog": (f"{LAB}.ipynb", sample.with_cell(solution, sample.resource_code("memory"), at=ex1)),
        "diskhog": (f"{LAB}.ipynb", sample.with_cell(solution, sample.resource_code("disk"), at=ex1)),
        "forkbomb": (f"{LAB}.ipynb", sample.with_cell(solution, sample.resource_code("processes"), at=ex1)),
    }
    paths = {}
    for learner, (name, nb) in notebooks.items():
        path = root / learner / name
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(nb) if not isinstance(nb, nbformat.NotebookNode) else nbformat.writes(nb))
        paths[learner] = path
    (root / "broken").mkdir()
    (root / "broken" / f"{LAB}.ipynb").write_text('{"cells": [')
    (root / "stranger").mkdir()
    (root / "stranger" / f"{LAB}.ipynb").write_text('{"hello": "world"}')
    (root / "correct" / ".ipynb_checkpoints").mkdir()
    (root / "correct" / ".ipynb_checkpoints" / f"{LAB}-checkpoint.ipynb").write_text("{}")
    return paths


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _escaped_processes() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if sample.ESCAPE_MARKER.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Grade the whole cohort once through the CLI; yield what the tests inspect."""
    base = tmp_path_factory.mktemp("gradebook")
    outside = base / "outside"
    outside.mkdir()
    sentinel = outside / "sentinel.txt"
    sentinel.write_text("must survive")
    submissions = base / "submissions"
    paths = _build(submissions, outside)
    labs = base / "labs"
    labs.mkdir()
    nbformat.write(sample.lab(), labs / f"{LAB}.ipynb")
    before = _digest(submissions)
    repo_before = _digest(sample.ROOT / "utils")
    out = base / "report"
    saved = os.environ.get("DELAB_DB_ADMIN_PASSWORD")
    os.environ["DELAB_DB_ADMIN_PASSWORD"] = SECRET  # workers (and so kernels) would inherit it
    try:
        code = gradebook.main([str(submissions), "--out", str(out), "--labs", str(labs), "--graders", GRADERS,
                               "--timeout", str(TIMEOUT_S), "--jobs", "2", "--memory-mb", "768",
                               "--disk-mb", "256", "-p", "target", "graded-target"])
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
        "outside": outside,
        "sentinel": sentinel,
        "unchanged": _digest(submissions) == before,
        "repo_unchanged": _digest(sample.ROOT / "utils") == repo_before,
        "escaped": _escaped_processes(),
        "html": (out / "report.html").read_text(encoding="utf-8"),
    }


def _rows(batch, learner):
    return {r["exercise"]: r for r in batch["rows"] if r["learner"] == learner}


def _executed_text(batch, learner):
    path = next((batch["out"] / "executed").glob(f"{learner}__*.ipynb"))
    executed = nbformat.read(path, as_version=4)
    return "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)


def _isolated() -> bool:
    from utils.teaching import sandbox

    return sandbox.capabilities().namespaces


EXPECTED = {  # learner: (ex1 score, ex2 score, total, status)
    "correct": ("1", "2", "3", GRADED),
    "partial": ("1", "0", "1", GRADED),
    "unsolved": ("0", "0", "0", GRADED),
    "looping": ("1", "0", "1", TIMED_OUT),
    "exits": ("1", "2", "3", GRADED),
    "crashes": ("1", "0", "1", KERNEL_DIED),
    "chatty": ("1", "0", "1", OUTPUT_TOO_LARGE),
    "forger": ("0", "0", "0", GRADED),
    "hooker": ("0", "0", "0", GRADED),
    "snoop": ("0", "0", "0", GRADED),
    "renamer": ("0", "0", "0", GRADED),
    "oldjupyter": ("0", "0", "0", GRADED),
    "oldsolver": ("1", "2", "3", GRADED),
    "nogradercell": ("1", "0", "1", NEEDS_REVIEW),
    "escaper": ("0", "0", "0", GRADED),
    "memoryhog": ("1", "0", "1", KERNEL_DIED),
    "diskhog": ("1", "2", "3", GRADED),
    "forkbomb": ("1", "2", "3", GRADED),
    "broken": ("0", "0", "0", INVALID),
    "stranger": ("0", "0", "0", INVALID),
}


def test_cli_succeeds_and_lists_every_submission_once(batch):
    assert batch["code"] == 0
    totals = [r["learner"] for r in batch["rows"] if r["exercise"] == "TOTAL"]
    assert sorted(totals) == sorted([*EXPECTED, "stranger2"])  # checkpoints skipped


@pytest.mark.parametrize("learner", sorted(EXPECTED))
def test_each_submission_gets_its_honest_grade_or_a_clear_reason(batch, learner):
    ex1, ex2, total, status = EXPECTED[learner]
    rows = _rows(batch, learner)
    assert rows["TOTAL"]["score"] == total, rows
    if status != INVALID:
        assert rows["ex1_total_revenue"]["score"] == ex1, rows["ex1_total_revenue"]
        assert rows["ex2_revenue_by_customer"]["score"] == ex2, rows["ex2_revenue_by_customer"]
        assert rows["ex1_total_revenue"]["status"] == status, rows["ex1_total_revenue"]
        assert rows["TOTAL"]["max_score"] == "3"  # the registry's maxima, whatever was displayed
        feedback = rows["ex1_total_revenue"]["feedback"] + rows["ex2_revenue_by_customer"]["feedback"]
        assert sample.FORGED not in feedback
    assert (rows["TOTAL"]["passed"] == "True") == (total == "3" and status == GRADED)


def test_reasons_and_feedback_are_clear(batch):
    unsolved = _rows(batch, "unsolved")["ex1_total_revenue"]["feedback"]
    assert unsolved.startswith("Not done yet: `total_revenue`")
    assert "OperationalError" in _rows(batch, "partial")["ex2_revenue_by_customer"]["feedback"]
    assert "no such table: orderz" in _rows(batch, "partial")["ex2_revenue_by_customer"]["feedback"]
    assert f"timed out after {TIMEOUT_S} s" in _rows(batch, "looping")["TOTAL"]["feedback"]
    assert "timed out" in _rows(batch, "looping")["ex2_revenue_by_customer"]["feedback"]
    # The kernel was interrupted and answered when asked for its answers after the timeout.
    assert "was never defined" in _rows(batch, "looping")["ex2_revenue_by_customer"]["feedback"]
    assert "kernel died" in _rows(batch, "crashes")["TOTAL"]["feedback"]
    assert "output exceeded 5 MB" in _rows(batch, "chatty")["TOTAL"]["feedback"]
    assert "notebook is not valid JSON" in _rows(batch, "broken")["TOTAL"]["feedback"]
    assert "not a valid Jupyter notebook" in _rows(batch, "stranger")["TOTAL"]["feedback"]


def test_html_report_is_self_contained_and_names_every_learner_and_reason(batch):
    html = batch["html"]
    assert "<script" not in html and "http" not in html.split("<body>")[1]
    for learner in EXPECTED:
        assert f"{learner}-" in html
    for reason in ("timed out after 20 s", "kernel died", "output exceeded 5 MB",
                   "notebook is not valid JSON", "called sys.exit(1)", "no such table: orderz",
                   "Isolation of each kernel"):
        assert reason in html


def test_chatty_output_was_not_kept(batch):
    assert (batch["out"] / "executed" / f"chatty__{LAB}.ipynb").stat().st_size < 1_000_000


# --- issue #15, attack by attack ----------------------------------------------------------------


def test_forged_results_and_edited_grader_cells_do_not_count(batch):
    assert "read-only cell(s) edited by the learner were restored" in batch["html"]
    assert _rows(batch, "forger")["TOTAL"]["score"] == "0"


def test_redefined_graders_patched_serialisation_and_post_run_hooks_change_nothing(batch):
    rows = _rows(batch, "hooker")
    assert rows["TOTAL"]["score"] == "0" and rows["TOTAL"]["max_score"] == "3"
    assert "ex9_bonus" not in rows  # the invented 100-point exercise does not exist
    assert rows["ex1_total_revenue"]["feedback"].startswith("Not done yet")
    for learner in ("correct", "unsolved"):  # classmates' maxima and grades unchanged
        assert _rows(batch, learner)["TOTAL"]["max_score"] == "3"
    assert all(r["exercise"] in {"ex1_total_revenue", "ex2_revenue_by_customer", "TOTAL", ""}
               for r in batch["rows"])


def test_solutions_secrets_and_the_checkout_are_unreadable(batch):
    if not _isolated():
        pytest.skip("no bubblewrap namespaces here: see docs/instructors.md")
    text = _executed_text(batch, "snoop")
    assert "READ" not in text, text
    checkout = [sample.ROOT / name for name in (".env", ".delab", "solutions", ".git")]
    for path in [*checkout, sample.SAMPLE_SOLUTION, "/work/main/solutions"]:
        assert f"blocked {path} " in text, path
    assert "environ secrets: []" in text and SECRET not in text


def test_the_cohort_folder_and_classmates_are_unreachable(batch):
    if not _isolated():
        pytest.skip("no bubblewrap namespaces here")
    text = _executed_text(batch, "snoop")
    assert "READ classmate" not in text and "blocked classmate FileNotFoundError" in text
    visible = json.loads(text.split("processes visible:")[1].splitlines()[0].strip())
    assert len(visible) <= 4  # the sandbox's init, the port relay, the kernel, maybe its child
    assert _rows(batch, "snoop")["TOTAL"]["score"] == "0"


def test_nothing_outside_the_submission_is_writable(batch):
    text = _executed_text(batch, "snoop")
    assert "WROTE" not in text, text
    assert batch["unchanged"], "a submission file was changed by grading"
    assert batch["repo_unchanged"], "utils/ was changed by grading"
    assert batch["sentinel"].read_text() == "must survive"
    assert sorted(p.name for p in batch["outside"].iterdir()) == ["sentinel.txt"]


def test_kernel_environment_is_scrubbed_and_parameters_pass_through(batch):
    text = _executed_text(batch, "snoop")
    assert SECRET not in text
    assert "home_in_job=True" in text
    assert f"files={LAB}.ipynb\n" in text
    assert "target=graded-target" in text


def test_renamed_files_new_ids_and_nbformat_44_are_matched_by_their_grader_cells(batch):
    # No fallback to "results displayed by any cell": the forged bundles count for nothing.
    matched = "graded as sample_lab (matched by its cells call 2 grader(s) of sample_lab)"
    assert batch["html"].count(matched) == 3
    assert _rows(batch, "renamer")["TOTAL"]["score"] == "0"
    assert _rows(batch, "oldjupyter")["TOTAL"]["score"] == "0"
    assert _rows(batch, "oldsolver")["TOTAL"]["score"] == "3"


def test_unmatched_notebooks_and_grader_cells_need_review_with_a_reason(batch):
    rows = _rows(batch, "stranger2")
    assert rows["TOTAL"]["score"] == "0" and rows["TOTAL"]["status"] == NEEDS_REVIEW
    assert "could not tell which notebook this is" in rows["TOTAL"]["feedback"]
    missing = _rows(batch, "nogradercell")["ex2_revenue_by_customer"]
    assert missing["score"] == "0" and "check_revenue_by_customer(...)` is missing" in missing["feedback"]


def test_escaping_processes_are_gone_and_signals_reach_nobody(batch):
    if not _isolated():
        pytest.skip("no bubblewrap namespaces here")
    text = _executed_text(batch, "escaper")
    assert "KILLED" not in text, text
    assert batch["escaped"] == [], f"processes outlived their grading: {batch['escaped']}"
    assert _rows(batch, "correct")["TOTAL"]["score"] == "3"  # the grader and the classmates went on


def test_memory_disk_and_process_limits(batch):
    if not _isolated():
        pytest.skip("no bubblewrap namespaces here")
    memory = _rows(batch, "memoryhog")["TOTAL"]["feedback"]
    assert "ran out of memory (limit 768 MB)" in memory, memory
    assert "disk stopped at" in _executed_text(batch, "diskhog")
    assert "WROTE 2 GiB" not in _executed_text(batch, "diskhog")
    assert "processes stopped at" in _executed_text(batch, "forkbomb")
    assert "hit the limit of 128 processes" in batch["html"]


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


def test_grade_submission_reports_a_missing_file_as_invalid(tmp_path):
    grade = gradebook.grade_submission(
        Submission(tmp_path / "nope.ipynb", "nobody", LAB), gradebook.GradingOptions()
    )
    assert grade.status == INVALID and "No such file" in grade.reason


def test_cli_without_submissions_says_so(tmp_path, capsys):
    assert gradebook.main([str(tmp_path)]) == 2
    assert "no *.ipynb found" in capsys.readouterr().err
