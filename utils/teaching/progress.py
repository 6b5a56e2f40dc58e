"""The learner's progress record: every graded result and quiz answer, kept on this machine.

    make progress                      # or: python -m utils.teaching.progress

Each graded result (any grader built with :func:`utils.teaching.grading.grader`) and each
quiz answer checked (:meth:`utils.teaching.quiz.Quiz.check`, which the quiz widget's button
calls) appends one JSON line to ``.delab/progress.jsonl`` under the project (git-ignored;
``DELAB_PROGRESS_FILE`` names another file)::

    {"time": "2026-10-04T09:12:03+00:00", "kind": "exercise", "notebook": "03_history_of_data_engineering",
     "exercise": "l03_ex1_era_of_year", "passed": true, "score": 1.0, "max_score": 1.0}
    {"time": "...", "kind": "quiz", "notebook": "03_history_of_data_engineering", "lesson": 3,
     "question": 2, "answer": "b", "passed": false, "score": 0, "max_score": 1}

:func:`summarize` turns the record into one row per lesson and lab (exercises passed out of
those the registry declares, quiz score, last attempt) and names what to do next.

**Which runs record** (``DELAB_PROGRESS``):

- unset (or ``auto``): a grader or quiz run *in a Jupyter kernel* records (a learner working in
  JupyterLab), except in the instructor's gradebook (its kernels have ``DELAB_GRADING=1``).
  Plain Python never records: pytest, scripts, the gradebook's own process, ``make demo``.
- ``off``: nothing is recorded and the table reads no record (every lesson "not started").
  ``tests/conftest.py`` sets it for the whole test session (papermill, nbval, JupyterLab);
  :func:`utils.teaching.store_outputs.execute` sets it for the kernels of ``make labs``, so a
  stored learner copy never shows anyone's progress.
- ``on``: record everywhere, even outside a kernel (a script; a test with ``DELAB_PROGRESS_FILE``).

Nothing here may stop a notebook: a missing file or folder is created, an unwritable one is
skipped (the table says why), unreadable lines (a truncated last line, garbage) are skipped,
and a write after a truncated line starts a new line. One ``O_APPEND`` write per check, no lock:
lines shorter than ``PIPE_BUF`` from two kernels never interleave. "Not done yet" results
(the placeholder) and a lab grader's "cannot grade" results (an environment problem, not an
attempt) are not recorded.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from utils.config import PROJECT_ROOT, STATE_DIR

if TYPE_CHECKING:  # imported lazily at run time: recording must stay cheap
    from utils.teaching.grading import GradeResult
    from utils.teaching.quiz import Quiz, Result

SWITCH_ENV = "DELAB_PROGRESS"
"""``on``, ``off`` or ``auto`` (the default): see the module docstring."""
FILE_ENV = "DELAB_PROGRESS_FILE"
"""Another path for the record (tests point it at a temporary file)."""
GRADING_ENV = "DELAB_GRADING"
"""Set to ``1`` by the instructor's gradebook in the kernels it runs: those never record."""
DEFAULT_RECORD = STATE_DIR / "progress.jsonl"
LAB_AFTER_LESSON = 11
"""The C1W2 lab comes after lesson 11 in teaching order (00_getting_started, "What comes next")."""

_ON = {"on", "1", "true", "yes"}
_OFF = {"off", "0", "false", "no"}
_LESSON_RE = re.compile(r"^(\d\d)_")
_EXERCISE_NUMBER_RE = re.compile(r"_ex(\d+)(?:_|$)")
_LESSON_EXERCISE_RE = re.compile(r"^l(\d\d)_ex\d+")
_EPOCH = datetime.min.replace(tzinfo=UTC)
_last_write_problem: str = ""  # why the last append failed, shown by the table; "" when fine


# --- which runs record, and where ------------------------------------------------------------


def record_path() -> Path:
    """The record file: ``DELAB_PROGRESS_FILE``, else ``.delab/progress.jsonl`` of the project."""
    override = os.environ.get(FILE_ENV, "").strip()
    return Path(override).expanduser() if override else DEFAULT_RECORD


def mode() -> str:
    """``"on"``, ``"off"`` or ``"auto"``, from ``DELAB_PROGRESS`` (anything else counts as auto)."""
    value = os.environ.get(SWITCH_ENV, "").strip().lower()
    return "on" if value in _ON else "off" if value in _OFF else "auto"


def _in_jupyter_kernel() -> bool:
    if "ipykernel" not in sys.modules:  # cheap first: plain Python never imported it
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def recording() -> bool:
    """Whether this process appends to the record now (see the module docstring)."""
    if os.environ.get(GRADING_ENV, "").strip() not in ("", "0"):
        return False  # the instructor's gradebook: never the learner's record
    current = mode()
    if current != "auto":
        return current == "on"
    return _in_jupyter_kernel()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _append(events: Sequence[Mapping[str, Any]]) -> None:
    """Append ``events`` as JSON lines in one write; never raises (the failure is remembered)."""
    global _last_write_problem
    if not events:
        return
    data = "".join(json.dumps(dict(e), ensure_ascii=False, separators=(",", ":")) + "\n"
                   for e in events).encode("utf-8")
    path = record_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":  # a truncated last line: start a new one
                data = b"\n" + data
            os.write(fd, data)
        finally:
            os.close(fd)
        _last_write_problem = ""
    except OSError as error:
        _last_write_problem = f"could not write {path} ({error.strerror or error})"


# --- notebooks of lessons, quizzes and exercises ---------------------------------------------


def _lesson_notebook(lesson: int) -> str:
    """``03_history_of_data_engineering`` for 3: the learner copy's stem (or the solution's)."""
    for folder in (PROJECT_ROOT / "notebooks", PROJECT_ROOT / "solutions" / "lessons"):
        found = sorted(folder.glob(f"{lesson:02d}_*.ipynb"))
        if found:
            return found[0].stem
    return f"{lesson:02d}_lesson"


def _notebook_of_exercise(exercise: str) -> str | None:
    """The notebook declaring ``exercise``, from declarations already made (no module is imported:
    the grader being run was declared when its module was imported), else from its name."""
    from utils.teaching import registry

    declared = getattr(registry, "_DECLARED", {})
    for notebook, exercises in declared.items():
        if exercise in exercises:
            return notebook
    match = _LESSON_EXERCISE_RE.match(exercise)
    return _lesson_notebook(int(match.group(1))) if match else None


def _lesson_of_quiz(quiz: Quiz) -> int | None:
    from utils.teaching.quizzes import LESSONS, get_quiz

    for lesson in LESSONS:
        candidate = get_quiz(lesson)
        if candidate is quiz or candidate.title == quiz.title:
            return lesson
    return None


# --- the hooks: grading.py and quiz.py call these ---------------------------------------------


def record_grade(result: GradeResult) -> None:
    """Append one graded result to the record when this run records; never raises.

    "Not done yet" (the placeholder) is not an attempt and is not recorded.
    """
    try:
        if result.not_done or _cannot_grade(result) or not recording():
            return
        _append([{
            "time": _now(), "kind": "exercise", "notebook": _notebook_of_exercise(result.exercise),
            "exercise": result.exercise, "passed": bool(result.passed),
            "score": float(result.score), "max_score": float(result.max_score),
        }])
    except Exception:  # noqa: S110 - the record is a convenience: grading never fails because of it
        pass


def _cannot_grade(result: GradeResult) -> bool:
    """A lab grader's "Could not grade" (the database or cloud was unreachable): not an attempt."""
    lab = sys.modules.get("utils.teaching.graders_c1w2")  # loaded whenever one of its graders ran
    prefix = getattr(lab, "GRADING_BLOCKED", None)
    return isinstance(prefix, str) and result.feedback.startswith(prefix)


def record_quiz(quiz: Quiz, results: Iterable[Result]) -> None:
    """Append one line per answered question of a lesson's ``quiz`` (one write); never raises."""
    try:
        if not recording():
            return
        lesson = _lesson_of_quiz(quiz)
        if lesson is None:  # not one of the lessons' quizzes: nothing to count it in
            return
        notebook = _lesson_notebook(lesson)
        now = _now()
        _append([{
            "time": now, "kind": "quiz", "notebook": notebook, "lesson": lesson, "quiz": quiz.title,
            "question": r.number, "answer": r.answered, "passed": bool(r.correct),
            "score": int(r.correct), "max_score": 1,
        } for r in results if r.answered is not None])
    except Exception:  # noqa: S110 - the record is a convenience: a quiz never fails because of it
        pass


# --- reading ---------------------------------------------------------------------------------


@dataclass
class Record:
    """The events read from the record, and what could not be read."""

    path: Path
    events: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0  # unreadable lines (truncated, garbage, not an event)
    problem: str = ""  # why the file could not be read at all ("" when fine or missing)
    read: bool = True  # False when DELAB_PROGRESS=off: the record was not looked at


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _valid(event: Any) -> bool:
    if not isinstance(event, dict) or not isinstance(event.get("passed"), bool):
        return False
    if _parse_time(event.get("time")) is None:
        return False
    if event.get("kind") == "exercise":
        return isinstance(event.get("exercise"), str) and bool(event["exercise"])
    if event.get("kind") == "quiz":
        return all(isinstance(event.get(k), int) and not isinstance(event.get(k), bool)
                   for k in ("lesson", "question"))
    return False


def read_record(path: Path | None = None) -> Record:
    """Every valid event of the record, in file order; bad lines are counted, never fatal."""
    path = record_path() if path is None else path
    record = Record(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return record
    except OSError as error:
        record.problem = f"could not read {path} ({error.strerror or error})"
        return record
    for line in raw.decode("utf-8", errors="replace").split("\n"):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            record.skipped += 1
            continue
        if _valid(event):
            record.events.append(event)
        else:
            record.skipped += 1
    return record


# --- the table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One lesson or lab part: what it declares and where the learner stands."""

    notebook: str
    exercises: tuple[str, ...]  # declared, in order
    passed: tuple[str, ...]  # those whose latest attempt passed
    quiz_questions: int  # 0: no quiz
    quiz_right: int  # questions whose latest answer is right
    last_attempt: datetime | None

    @property
    def status(self) -> str:
        """``complete``, ``in progress`` or ``not started``."""
        if self.last_attempt is None:
            return "not started"
        if self.exercises:
            done = len(self.passed) == len(self.exercises)
        else:  # no exercise: the quiz decides
            done = self.quiz_questions > 0 and self.quiz_right == self.quiz_questions
        return "complete" if done else "in progress"

    @property
    def first_unfinished(self) -> str | None:
        """The first declared exercise not passed yet (None when all are)."""
        return next((e for e in self.exercises if e not in self.passed), None)


def _order(notebook: str) -> tuple[float, str]:
    """Teaching order: lessons by number, the lab right after lesson LAB_AFTER_LESSON."""
    match = _LESSON_RE.match(notebook)
    return (float(match.group(1)) if match else LAB_AFTER_LESSON + 0.5, notebook)


def _declared() -> dict[str, list[str]]:
    from utils.teaching.registry import all_exercises

    return {nb: [e.exercise for e in exercises] for nb, exercises in all_exercises().items()}


def _quiz_sizes() -> dict[str, int]:
    from utils.teaching.quizzes import LESSONS, get_quiz

    return {_lesson_notebook(lesson): len(get_quiz(lesson).questions) for lesson in LESSONS}


def summarize(events: Iterable[Mapping[str, Any]], declared: Mapping[str, Sequence[str]] | None = None,
              quiz_sizes: Mapping[str, int] | None = None) -> list[Row]:
    """One row per notebook with exercises or a quiz, in teaching order.

    Each exercise and each quiz question counts by its **latest** attempt (a passed exercise
    broken later counts as not passed again, as the notebook now stands). Totals come from
    the registry's declarations, so an untouched lesson shows 0/N; events of exercises no
    longer declared are ignored for the counts.
    """
    declared = _declared() if declared is None else declared
    quiz_sizes = _quiz_sizes() if quiz_sizes is None else quiz_sizes
    notebook_of = {exercise: nb for nb, exercises in declared.items() for exercise in exercises}
    quiz_of_lesson = {int(nb[:2]): nb for nb in quiz_sizes if _LESSON_RE.match(nb)}
    latest_exercise: dict[str, bool] = {}
    latest_answer: dict[tuple[str, int], bool] = {}
    last: dict[str, datetime] = {}
    for event in sorted(events, key=lambda e: _parse_time(e["time"]) or _EPOCH):
        moment = _parse_time(event["time"])
        if event["kind"] == "exercise":
            notebook = notebook_of.get(event["exercise"]) or event.get("notebook")
            latest_exercise[event["exercise"]] = event["passed"]
        else:
            notebook = quiz_of_lesson.get(event["lesson"]) or event.get("notebook")
            latest_answer[(notebook, event["question"])] = event["passed"]
        if isinstance(notebook, str) and moment is not None:
            last[notebook] = moment
    rows = []
    for notebook in sorted(set(declared) | set(quiz_sizes), key=_order):
        exercises = tuple(declared.get(notebook, ()))
        questions = quiz_sizes.get(notebook, 0)
        if not exercises and not questions:
            continue
        right = sum(ok for (nb, number), ok in latest_answer.items()
                    if nb == notebook and number <= questions)
        rows.append(Row(notebook, exercises, tuple(e for e in exercises if latest_exercise.get(e)),
                        questions, right, last.get(notebook)))
    return rows


def _exercise_heading(notebook: str, exercise: str) -> str | None:
    """``Exercise 2 · Order the eras`` from the learner copy's task heading, if it can be found."""
    match = _EXERCISE_NUMBER_RE.search(exercise)
    if not match:
        return None
    for folder in ("notebooks", "labs"):
        path = PROJECT_ROOT / folder / f"{notebook}.ipynb"
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError, AttributeError):  # no copy, or not a notebook
            continue
        for cell in cells:
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else str(source)
            heading = re.search(rf"^#+\s*(Exercise {match.group(1)}\b.*)$", source, re.MULTILINE)
            if cell.get("cell_type") == "markdown" and heading:
                return heading.group(1).strip()
    return None


def _folder_of(notebook: str) -> str:
    return "notebooks" if _LESSON_RE.match(notebook) else "labs"


def next_step(rows: Sequence[Row]) -> str:
    """What to do next: the first notebook (teaching order) with an exercise not passed yet."""
    for row in rows:
        exercise = row.first_unfinished
        if exercise is None:
            continue
        heading = _exercise_heading(row.notebook, exercise)
        what = f"{heading} ({exercise})" if heading else exercise
        verb = "start with" if row.last_attempt is None else "finish"
        return f"Next: open {_folder_of(row.notebook)}/{row.notebook}.ipynb and {verb} {what}."
    total = sum(len(row.exercises) for row in rows)
    return f"Every exercise passes ({total} of {total}). Well done!"


def _local(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else "-"


HEADERS = ("Notebook", "Exercises", "Quiz", "Last attempt", "Status")
COUNTING_NOTE = "Each exercise and quiz question counts by its latest attempt."


def _cells(row: Row) -> tuple[str, ...]:
    quiz = f"{row.quiz_right}/{row.quiz_questions}" if row.quiz_questions else "-"
    exercises = f"{len(row.passed)}/{len(row.exercises)}" if row.exercises else "-"
    return (row.notebook, exercises, quiz, _local(row.last_attempt), row.status)


@dataclass(frozen=True)
class ProgressReport:
    """The table and the next step; displays as text in a terminal and as HTML in a notebook."""

    rows: tuple[Row, ...]
    record: Record

    def notes(self) -> list[str]:
        """Lines under the table: where the record is, what was skipped, what could not be done."""
        if not self.record.read:
            return [f"The record was not read ({SWITCH_ENV}=off, as in tests and the stored copy of "
                    "00_getting_started): every lesson shows as not started. Run this yourself to see yours."]
        try:
            shown = self.record.path.relative_to(PROJECT_ROOT)
        except ValueError:
            shown = self.record.path
        notes = [f"Your record: {shown} (on this machine only). {COUNTING_NOTE}"]
        if self.record.problem:
            notes.append(f"Note: {self.record.problem}; the table starts from nothing.")
        if self.record.skipped:
            notes.append(f"Note: {self.record.skipped} unreadable line(s) of the record were skipped.")
        if _last_write_problem:
            notes.append(f"Note: your last result was not recorded: {_last_write_problem}.")
        return notes

    def text(self) -> str:
        """The plain-text table (what ``make progress`` prints)."""
        table = [HEADERS, *(_cells(row) for row in self.rows)]
        widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
                 for line in table]
        lines.insert(1, "  ".join("-" * width for width in widths))
        return "\n".join([*lines, "", next_step(self.rows), *self.notes()])

    def html(self) -> str:
        """The same as an HTML table (a notebook shows it)."""
        head = "".join(f"<th style='text-align:left'>{h}</th>" for h in HEADERS)
        body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{html.escape(cell)}</td>"
                                        for cell in _cells(row)) + "</tr>" for row in self.rows)
        notes = "".join(f"<p>{html.escape(n)}</p>" for n in self.notes())
        return (f"<table class='delab-progress'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
                f"<p><b>{html.escape(next_step(self.rows))}</b></p>{notes}")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": self.text(), "text/html": self.html()}

    def __str__(self) -> str:
        return self.text()


def progress(path: Path | None = None) -> ProgressReport:
    """The learner's progress: read the record (unless ``DELAB_PROGRESS=off``) and summarize it."""
    record = Record(record_path(), read=False) if mode() == "off" and path is None else read_record(path)
    return ProgressReport(tuple(summarize(record.events)), record)


def main(argv: Sequence[str] | None = None) -> int:
    """``make progress``: print the table; ``--record FILE`` reads another record."""
    parser = argparse.ArgumentParser(prog="python -m utils.teaching.progress",
                                     description="Exercises passed and quiz scores per lesson.")
    parser.add_argument("--record", type=Path, default=None,
                        help=f"the record to read (default: {FILE_ENV} or .delab/progress.jsonl)")
    args = parser.parse_args(argv)
    print(progress(args.record).text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
