"""Grade a folder of learners' lab notebooks: ``python -m utils.teaching.gradebook SUBMISSIONS_DIR``.

Each submission (``*.ipynb``, found recursively) is executed with papermill in a fresh
kernel that never touches the original: the kernel runs in its own temporary directory
holding only a copy of the submission (plus ``--include`` files), with ``HOME`` and
``TMPDIR`` there, a scrubbed environment (no database passwords or other secrets unless
``--pass-env`` names them), a wall-clock limit per notebook (the kernel is killed), and a
limit on the total size of its outputs. On Linux the kernel is also put in a Landlock
sandbox that lets it *write* only inside its temporary directory, so it cannot change the
repository, the other submissions or anything else (reads stay allowed). Kernels run as
the same OS user as the grader; see docs/instructors.md for what that means.

The results displayed by the graders (``application/vnd.delab.grade+json`` bundles, see
:mod:`utils.teaching.grading`) are collected from the executed notebook. When a pristine
lab notebook is known (``labs/<same name>.ipynb`` or ``--lab``), the cells without an
answer region are restored from it before running (so an edited grader cell does not
count) and only results displayed by those cells are accepted.

Writes ``grades.csv`` (one row per learner x exercise, plus a ``TOTAL`` row per learner),
``report.html`` (self-contained) and the executed notebooks under ``executed/``.

The module is structured like papermill: :func:`find_submissions` (what to grade),
:func:`grade_submission` (one notebook, in a worker process), :func:`grade_all` (the
batch, in parallel), :func:`write_csv` / :func:`write_html` (the reports).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import ctypes
import dataclasses
import html
import json
import os
import platform
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from utils.teaching.grading import GradeResult, collect

if TYPE_CHECKING:  # nbformat is imported lazily: the kernel launcher must start fast
    import nbformat

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024
DEFAULT_TIMEOUT_S = 300.0
DEFAULT_OUTPUT_LIMIT = 5 * MB
MAX_SUBMISSION_BYTES = 50 * MB
ENGINE_NAME = "delab-grading"
START_MARKER = "### START CODE HERE ###"

# Environment handed to learner kernels: only what a lab needs.
_ENV_ALWAYS = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "VIRTUAL_ENV", "SYSTEMROOT")
_ENV_PREFIXES = ("DELAB_", "AWS_")
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|SESSION|CREDENTIAL|PRIVATE|_KEY$", re.IGNORECASE)

# Submission statuses (one word each; the reason says more).
GRADED = "graded"
TIMED_OUT = "timed out"
OUTPUT_TOO_LARGE = "output too large"
KERNEL_DIED = "kernel died"
INVALID = "invalid notebook"
ERROR = "not graded"


@dataclass(frozen=True)
class GradingOptions:
    """How to run each submission."""

    timeout: float = DEFAULT_TIMEOUT_S
    output_limit: int = DEFAULT_OUTPUT_LIMIT
    parameters: Mapping[str, Any] = field(default_factory=dict)
    kernel_name: str = "python3"
    pass_env: tuple[str, ...] = ()
    target_env: Mapping[str, str] = field(default_factory=dict)
    include: tuple[Path, ...] = ()
    labs_dir: Path | None = PROJECT_ROOT / "labs"
    lab: Path | None = None
    sandbox: bool = True
    executed_dir: Path | None = None
    start_timeout: float = 60.0


@dataclass(frozen=True)
class Submission:
    """One notebook to grade: its path, the learner and the lab (file stem, or "" when flat)."""

    path: Path
    learner: str
    lab: str

    @property
    def label(self) -> str:
        """``learner/lab`` for messages."""
        return f"{self.learner}/{self.lab}" if self.lab else self.learner


@dataclass
class SubmissionGrade:
    """The outcome of grading one submission."""

    learner: str
    lab: str
    path: str
    status: str
    reason: str = ""
    results: list[GradeResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    sandboxed: bool = False
    executed_path: str | None = None

    @property
    def score(self) -> float:
        """Sum of the exercise scores."""
        return sum(r.score for r in self.results)

    @property
    def max_score(self) -> float:
        """Sum of the exercise maximum scores."""
        return sum(r.max_score for r in self.results)


# --- finding submissions -------------------------------------------------------------------


def find_submissions(root: Path, exclude: Iterable[Path] = ()) -> list[Submission]:
    """Every ``*.ipynb`` under ``root`` (checkpoints and ``exclude`` folders skipped), sorted.

    ``root/alice.ipynb`` is learner ``alice``; ``root/alice/C1_W2_Lab.ipynb`` (any depth) is
    learner ``alice``, lab ``C1_W2_Lab``.
    """
    root = Path(root)
    excluded = [Path(p).resolve() for p in exclude]
    found = []
    for path in sorted(root.rglob("*.ipynb")):
        relative = path.relative_to(root)
        if ".ipynb_checkpoints" in relative.parts or not path.is_file():
            continue
        if any(path.resolve().is_relative_to(folder) for folder in excluded):
            continue
        if len(relative.parts) == 1:
            found.append(Submission(path, learner=path.stem, lab=""))
        else:
            found.append(Submission(path, learner=relative.parts[0], lab=path.stem))
    return found


# --- the kernel's environment and sandbox ----------------------------------------------------


def kernel_environment(
    job_dir: Path,
    pass_env: Iterable[str] = (),
    source: Mapping[str, str] | None = None,
    target_env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a learner kernel: scrubbed of secrets, HOME and TMPDIR in ``job_dir``.

    Kept: PATH, locale, ``DELAB_*`` and ``AWS_*`` settings whose names do not look secret
    (``*PASSWORD*``, ``*SECRET*``, ``*TOKEN*``, ``*_KEY``...), plus every name in ``pass_env``,
    then ``target_env`` (see :func:`target_environment`) on top.
    """
    source = os.environ if source is None else source
    explicit = set(pass_env)
    env = {}
    for name, value in source.items():
        wanted = name in _ENV_ALWAYS or (name.startswith(_ENV_PREFIXES) and not _SECRET_NAME.search(name))
        if wanted or name in explicit:
            env[name] = value
    env.update(target_env or {})
    home = job_dir / "home"
    env.update(
        HOME=str(home),
        TMPDIR=str(job_dir / "tmp"),
        IPYTHONDIR=str(home / ".ipython"),
        MPLCONFIGDIR=str(home / ".matplotlib"),
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
        JUPYTER_DATA_DIR=str(home / ".local" / "share" / "jupyter"),
        JUPYTER_RUNTIME_DIR=str(job_dir / "runtime"),
        JUPYTER_PATH=str(job_dir / "jupyter"),
        PYTHONDONTWRITEBYTECODE="1",
        DELAB_GRADING="1",
    )
    return env


def target_environment() -> dict[str, str]:
    """What a lab needs to reach the target, without secrets: for the local cloud, its endpoint,
    region and fixed test credentials (``Settings.aws_environment``, as ``make lab`` gives kernels).

    Empty for ``DELAB_TARGET=aws``: real credentials are passed only on request (``--pass-env``).
    """
    from utils.config import get_settings

    settings = get_settings()
    return settings.aws_environment() if settings.is_local else {}


# Landlock (Linux >= 5.13): unprivileged, inherited by children, cannot be lifted.
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_PR_SET_NO_NEW_PRIVS = 38
_FS_WRITE_RIGHTS_V1 = sum(1 << bit for bit in (1, 4, 5, 6, 7, 8, 9, 10, 11, 12))  # write, remove, make_*
_FS_REFER, _FS_TRUNCATE = 1 << 13, 1 << 14


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


def landlock_abi() -> int:
    """The Landlock ABI version of the running kernel, 0 when unavailable."""
    if sys.platform != "linux" or platform.machine() not in {"x86_64", "aarch64", "arm64"}:
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    version = libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return max(int(version), 0)


def restrict_writes_to(writable: Sequence[Path]) -> int:
    """Forbid this process and its future children to write outside ``writable`` (Landlock).

    Reading and executing stay allowed everywhere. Returns the Landlock ABI used, or 0
    (nothing done) when the OS has no Landlock. Call it before starting threads.
    """
    abi = landlock_abi()
    if abi < 1:
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    rights = _FS_WRITE_RIGHTS_V1 | (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0)
    handled = ctypes.c_uint64(rights)
    ruleset = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(handled), ctypes.c_size_t(8), ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        for path in writable:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                rule = _PathBeneath(rights, fd)
                if (
                    libc.syscall(
                        _SYS_ADD_RULE,
                        ctypes.c_int(ruleset),
                        ctypes.c_int(1),
                        ctypes.byref(rule),
                        ctypes.c_uint32(0),
                    )
                    < 0
                ):
                    raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
            finally:
                os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if libc.syscall(_SYS_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    return abi


def _kernel_launcher_main(argv: Sequence[str]) -> int:
    """Kernel launcher: ``--kernel-launcher JOB_DIR [--no-landlock] -- KERNEL ARGV...``.

    Sends the kernel's own stdout/stderr (not the notebook's outputs) to ``JOB_DIR/kernel.log``,
    applies the Landlock write sandbox, then execs the real kernel command.
    """
    job_dir, rest = Path(argv[0]), list(argv[1:])
    landlock = "--no-landlock" not in rest[: rest.index("--") if "--" in rest else len(rest)]
    if "--" in rest:
        rest = rest[rest.index("--") + 1 :]
    log_fd = os.open(job_dir / "kernel.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    abi = restrict_writes_to([job_dir, Path("/dev")]) if landlock else 0
    (job_dir / "sandbox.json").write_text(json.dumps({"landlock_abi": abi}))
    os.execv(rest[0], rest)  # noqa: S606 - the kernelspec argv, no shell involved
    return 1  # not reached


def _write_kernelspec(job_dir: Path, kernel_name: str, sandbox: bool) -> None:
    """Shadow ``kernel_name`` in ``job_dir/jupyter`` (first on JUPYTER_PATH) with our launcher in front."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        raise RuntimeError(
            f"no Jupyter kernel named {kernel_name!r}; run `make venv` (it registers `python3`) "
            "or pass --kernel with a name from `jupyter kernelspec list`"
        ) from None
    launcher = [sys.executable, "-m", "utils.teaching.gradebook", "--kernel-launcher", str(job_dir)]
    argv = [*launcher, *([] if sandbox else ["--no-landlock"]), "--", *spec.argv]
    folder = job_dir / "jupyter" / "kernels" / kernel_name
    folder.mkdir(parents=True)
    document = {
        "argv": argv,
        "display_name": spec.display_name,
        "language": spec.language,
        "env": dict(spec.env or {}),
        "metadata": dict(spec.metadata or {}),
    }
    (folder / "kernel.json").write_text(json.dumps(document, indent=1))


@contextlib.contextmanager
def _swapped_environ(env: Mapping[str, str]) -> Iterator[None]:
    """Replace os.environ for the duration (worker processes grade one notebook at a time)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


# --- the papermill engine: output limit, deadline, errors allowed ---------------------------


@dataclass
class _RunState:
    output_limit: int
    deadline: float
    output_bytes: int = 0
    output_exceeded_in_cell: int | None = None
    kernel_pgid: int | None = None
    kernel_pid: int | None = None
    nb: Any = None


def _payload_size(value: Any) -> int:
    """Approximate size in bytes of a message's content (strings dominate)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Mapping):
        return sum(_payload_size(k) + _payload_size(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return sum(_payload_size(v) for v in value)
    return 8


def _kill_process_group(pgid: int | None, pid: int | None) -> None:
    for kill, target in ((os.killpg, pgid), (os.kill, pid)):
        if target:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill(target, signal.SIGKILL)


def _register_engine() -> None:
    """Register the ``delab-grading`` papermill engine (imported lazily: papermill is heavy)."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger

    if ENGINE_NAME in papermill_engines._engines:
        return

    class GradingClient(PapermillNotebookClient):
        """Counts output bytes; over the limit, drops outputs and kills the kernel."""

        def __init__(self, nb_man: Any, run_state: _RunState, **kw: Any) -> None:
            super().__init__(nb_man, **kw)
            self.run_state = run_state

        def process_message(self, msg: dict[str, Any], cell: Any, cell_index: int) -> Any:
            state = self.run_state
            if state.kernel_pid is None and self.km is not None and getattr(self.km, "provisioner", None):
                state.kernel_pid = getattr(self.km.provisioner, "pid", None)
                state.kernel_pgid = getattr(self.km.provisioner, "pgid", None)
            if msg["msg_type"] in {
                "stream",
                "display_data",
                "execute_result",
                "error",
                "update_display_data",
            }:
                state.output_bytes += _payload_size(msg.get("content"))
                if state.output_bytes > state.output_limit:
                    if state.output_exceeded_in_cell is None:
                        state.output_exceeded_in_cell = cell_index
                        _kill_process_group(state.kernel_pgid, state.kernel_pid)
                    return None
            return super().process_message(msg, cell, cell_index)

    class GradingEngine(NBClientEngine):
        """NBClientEngine with errors allowed, a notebook-wide deadline and an output limit."""

        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man: Any,
            kernel_name: str,
            log_output: bool = False,
            stdout_file: Any = None,
            stderr_file: Any = None,
            start_timeout: int = 60,
            execution_timeout: Any = None,
            **kwargs: Any,
        ) -> Any:
            run_state: _RunState = kwargs.pop("run_state")
            kwargs.pop("input_path", None)
            run_state.nb = nb_man.nb
            client = GradingClient(
                nb_man,
                run_state=run_state,
                timeout_func=lambda cell: max(1, int(run_state.deadline - time.monotonic()) + 1),
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logger,
                log_output=False,
                allow_errors=True,
                **kwargs,
            )
            return client.execute()

    papermill_engines.register(ENGINE_NAME, GradingEngine)


# --- grading one submission ----------------------------------------------------------------


def _read_submission(path: Path) -> nbformat.NotebookNode:
    """Parse and validate a submission; ValueError with a clear reason when it is not a notebook."""
    import nbformat

    size = path.stat().st_size
    if size > MAX_SUBMISSION_BYTES:
        raise ValueError(f"the file is {size / MB:.0f} MB, over the {MAX_SUBMISSION_BYTES // MB} MB limit")
    text = path.read_bytes().decode("utf-8", errors="replace")
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"notebook is not valid JSON: {error}") from None
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"file is JSON but not a valid Jupyter notebook: {first_line}") from None
    return nb


def _has_answer_region(cell: Mapping[str, Any]) -> bool:
    return START_MARKER in cell.get("source", "")


def protect_cells(
    nb: nbformat.NotebookNode, lab: nbformat.NotebookNode
) -> tuple[nbformat.NotebookNode, set[str] | None, list[str]]:
    """Restore the lab's code cells without an answer region (matched by cell id) in a submission.

    Returns the protected notebook, the ids of those trusted cells (``None`` when no cell
    could be matched: then every cell's results are accepted) and notes for the report.
    """
    pristine = {
        cell["id"]: cell.source
        for cell in lab.cells
        if cell.cell_type == "code" and cell.get("id") and not _has_answer_region(cell)
    }
    trusted: set[str] = set()
    edited = 0
    for cell in nb.cells:
        source = pristine.get(cell.get("id")) if cell.cell_type == "code" else None
        if source is None:
            continue
        if cell.source != source:
            cell.source = source
            edited += 1
        trusted.add(cell["id"])
    if not trusted:
        return (
            nb,
            None,
            ["no cell matched the lab's cells by id: results displayed by any cell were accepted"],
        )
    notes = []
    if edited:
        notes.append(
            f"{edited} read-only cell(s) edited by the learner were restored from the lab before running"
        )
    return nb, trusted, notes


def _find_lab(submission: Submission, options: GradingOptions) -> nbformat.NotebookNode | None:
    import nbformat

    candidate = options.lab
    if candidate is None and options.labs_dir is not None:
        candidate = Path(options.labs_dir) / submission.path.name
    if candidate is None or not Path(candidate).is_file():
        return None
    return nbformat.read(candidate, as_version=4)


def _kernel_log_tail(path: Path, lines: int = 5) -> list[str]:
    """The last lines the kernel process itself wrote (ipykernel's own noise left out)."""
    try:
        text = path.read_text(errors="replace")[-20_000:]
    except OSError:
        return []
    kept = [line for line in text.splitlines() if line.strip() and "without encryption" not in line]
    return [f"kernel log: {line[:300]}" for line in kept[-lines:]]


def _error_notes(nb: Mapping[str, Any]) -> list[str]:
    """One note per cell that raised, e.g. ``cell 7 raised NameError: name 'x' is not defined``."""
    notes = []
    for index, cell in enumerate(nb.get("cells", [])):
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            name, value = output.get("ename", "Error"), str(output.get("evalue", ""))[:300]
            if name == "SystemExit":
                notes.append(
                    f"called sys.exit({value}){_cell_label(nb, index)}; it was ignored, the next cells ran"
                )
            else:
                notes.append(f"{name}: {value}{_cell_label(nb, index)}")
    return notes


def _copy_into(sources: Iterable[Path], work: Path) -> None:
    for source in sources:
        source = Path(source)
        target = work / source.name
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        elif source.is_file():
            shutil.copy2(source, target)
        else:
            raise FileNotFoundError(f"--include {source}: no such file or folder")


def grade_submission(submission: Submission, options: GradingOptions) -> SubmissionGrade:
    """Execute one submission in an isolated working copy and collect its grade results.

    Never raises for anything the notebook does: problems become ``status`` and ``reason``.
    """
    import nbformat

    started = time.monotonic()
    grade = SubmissionGrade(submission.learner, submission.lab, str(submission.path), status=GRADED)
    try:
        nb = _read_submission(submission.path)
    except (ValueError, OSError) as error:
        grade.status, grade.reason = INVALID, str(error)
        grade.seconds = time.monotonic() - started
        return grade

    trusted: set[str] | None = None
    try:
        lab = _find_lab(submission, options)
    except Exception as error:
        lab = None
        grade.notes.append(f"the lab notebook could not be read ({error}); grader cells were not checked")
    if lab is not None:
        nb, trusted, notes = protect_cells(nb, lab)
        grade.notes.extend(notes)
    else:
        grade.notes.append("no lab notebook to compare with: grader cells were not checked")

    job = Path(tempfile.mkdtemp(prefix="delab-grade-"))
    work = job / "work"
    state = _RunState(output_limit=options.output_limit, deadline=time.monotonic() + options.timeout)
    try:
        for folder in (work, job / "home", job / "tmp", job / "runtime"):
            folder.mkdir(parents=True)
        _copy_into(options.include, work)
        nbformat.write(nb, work / submission.path.name)
        _write_kernelspec(job, options.kernel_name, options.sandbox)
        env = kernel_environment(job, options.pass_env, target_env=options.target_env)
        _execute(nb, work, env, options, state)
    except Exception as error:
        _classify_failure(grade, error, state, options)
    finally:
        _kill_process_group(state.kernel_pgid, state.kernel_pid)
        with contextlib.suppress(Exception):
            grade.sandboxed = json.loads((job / "sandbox.json").read_text()).get("landlock_abi", 0) > 0
        if grade.status in {KERNEL_DIED, ERROR}:
            grade.notes.extend(_kernel_log_tail(job / "kernel.log"))
        shutil.rmtree(job, ignore_errors=True)

    executed = state.nb if state.nb is not None else nb
    if state.output_exceeded_in_cell is not None:
        grade.status = OUTPUT_TOO_LARGE
        where = _cell_label(executed, state.output_exceeded_in_cell)
        grade.reason = (
            f"output exceeded {options.output_limit / MB:g} MB{where}; the kernel was stopped there"
        )
    if state.nb is not None:
        trusted_cells = (
            None if trusted is None else [i for i, c in enumerate(executed.cells) if c.get("id") in trusted]
        )
        grade.results = collect(executed, cells=trusted_cells)
    if state.nb is not None:
        notes = _error_notes(executed)
        if grade.status == TIMED_OUT:  # the kernel is interrupted on timeout: not the learner's error
            notes = [note for note in notes if not note.startswith("KeyboardInterrupt")]
        grade.notes.extend(notes)
    if options.executed_dir is not None and state.nb is not None:
        target = Path(options.executed_dir) / f"{_safe_name(submission.label)}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):
            nbformat.write(executed, target)
            grade.executed_path = str(target)
    grade.seconds = time.monotonic() - started
    return grade


def _execute(
    nb: nbformat.NotebookNode, work: Path, env: Mapping[str, str], options: GradingOptions, state: _RunState
) -> None:
    import papermill as pm

    _register_engine()
    with _swapped_environ(env):
        pm.execute_notebook(
            nb,
            None,
            parameters=dict(options.parameters),
            engine_name=ENGINE_NAME,
            kernel_name=options.kernel_name,
            cwd=str(work),
            progress_bar=False,
            log_output=False,
            start_timeout=int(options.start_timeout),
            run_state=state,
        )


def _classify_failure(
    grade: SubmissionGrade, error: Exception, state: _RunState, options: GradingOptions
) -> None:
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if isinstance(error, PapermillExecutionError):
        return  # cells raised, the notebook still ran to the end: noted per cell
    if state.output_exceeded_in_cell is not None:
        return  # reported by the caller
    where = _cell_label(state.nb, _current_cell(state))
    if isinstance(error, CellTimeoutError | TimeoutError):
        grade.status = TIMED_OUT
        grade.reason = f"timed out after {options.timeout:g} s{where}; the kernel was stopped"
    elif isinstance(error, DeadKernelError):
        grade.status = KERNEL_DIED
        grade.reason = (
            f"kernel died{where} (os._exit, a crash or running out of memory); the cells after it did not run"
        )
    elif isinstance(error, RuntimeError) and "Kernel didn't respond" in str(error):
        grade.status = ERROR
        grade.reason = f"the kernel did not start within {options.start_timeout:g} s: {error}"
    else:
        grade.status = ERROR
        grade.reason = f"grading failed: {type(error).__name__}: {error}"


def _current_cell(state: _RunState) -> int | None:
    """Index of the last cell that started running (papermill records its start time)."""
    if state.nb is None:
        return None
    last = None
    for index, cell in enumerate(state.nb.cells):
        if cell.get("metadata", {}).get("papermill", {}).get("start_time"):
            last = index
    return last


def _cell_label(nb: Any, index: int | None) -> str:
    """`` in cell 7 (`while True:`)``: the index in the executed notebook and its first line."""
    if index is None or nb is None or index >= len(nb.cells):
        return ""
    first = next((line.strip() for line in nb.cells[index].source.splitlines() if line.strip()), "")
    first = first if len(first) <= 50 else first[:47] + "..."
    return f" in cell {index} (`{first}`)" if first else f" in cell {index}"


def _safe_name(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "__", label).strip("_") or "submission"


# --- the batch -----------------------------------------------------------------------------


def grade_all(
    submissions: Sequence[Submission],
    options: GradingOptions,
    jobs: int | None = None,
    on_done: Callable[[int, int, SubmissionGrade], None] | None = None,
) -> list[SubmissionGrade]:
    """Grade every submission in parallel worker processes; results in submission order.

    One bad submission never stops the batch: if a worker process itself dies, the
    submissions it took down are re-graded one at a time in fresh processes.
    """
    jobs = max(1, jobs or os.cpu_count() or 1)
    grades: dict[int, SubmissionGrade] = {}
    done = 0

    def finished(index: int, grade: SubmissionGrade) -> None:
        nonlocal done
        grades[index] = grade
        done += 1
        if on_done:
            on_done(done, len(submissions), grade)

    pending = list(range(len(submissions)))
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    broken: list[int] = []
    with ProcessPoolExecutor(max_workers=min(jobs, max(1, len(pending))), mp_context=context) as pool:
        futures: dict[Future[SubmissionGrade], int] = {
            pool.submit(grade_submission, submissions[i], options): i for i in pending
        }
        for future in as_completed(futures):
            index = futures[future]
            try:
                finished(index, future.result())
            except BrokenProcessPool:
                broken.append(index)
            except Exception as error:
                finished(index, _crashed(submissions[index], error))
    for index in sorted(broken):  # isolate the culprit: one fresh process each
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            try:
                finished(index, pool.submit(grade_submission, submissions[index], options).result())
            except Exception as error:
                finished(index, _crashed(submissions[index], error))
    return _fill_missing_exercises([grades[i] for i in range(len(submissions))])


def _crashed(submission: Submission, error: BaseException) -> SubmissionGrade:
    return SubmissionGrade(
        submission.learner,
        submission.lab,
        str(submission.path),
        status=ERROR,
        reason=f"the grading process crashed ({type(error).__name__}: {error})",
    )


def _fill_missing_exercises(grades: list[SubmissionGrade]) -> list[SubmissionGrade]:
    """Give every submission a row for each exercise seen in any submission of the same lab."""
    expected: dict[str, dict[str, float]] = {}
    for grade in grades:
        exercises = expected.setdefault(grade.lab, {})
        for result in grade.results:
            exercises[result.exercise] = max(exercises.get(result.exercise, 0.0), result.max_score)
    for grade in grades:
        have = {r.exercise for r in grade.results}
        for exercise, max_score in expected.get(grade.lab, {}).items():
            if exercise in have:
                continue
            why = grade.reason if grade.status != GRADED else "its grader cell did not display a result"
            grade.results.append(GradeResult(exercise, False, 0.0, max_score, f"No result: {why}."))
    return grades


# --- reports -------------------------------------------------------------------------------

CSV_COLUMNS = ("learner", "lab", "exercise", "score", "max_score", "passed", "status", "feedback")


def write_csv(grades: Sequence[SubmissionGrade], path: Path) -> Path:
    """``grades.csv``: one row per learner x exercise, then a ``TOTAL`` row per learner."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for learner, learner_grades in _by_learner(grades).items():
            for grade in learner_grades:
                if not grade.results:
                    writer.writerow([learner, grade.lab, "", 0, 0, False, grade.status, grade.reason])
                for result in grade.results:
                    writer.writerow(
                        [
                            learner,
                            grade.lab,
                            result.exercise,
                            f"{result.score:g}",
                            f"{result.max_score:g}",
                            result.passed,
                            grade.status,
                            result.feedback,
                        ]
                    )
            score = sum(g.score for g in learner_grades)
            max_score = sum(g.max_score for g in learner_grades)
            problems = "; ".join(
                f"{g.lab or g.learner}: {g.reason}" for g in learner_grades if g.status != GRADED
            )
            status = (
                GRADED
                if not problems
                else ", ".join(sorted({g.status for g in learner_grades if g.status != GRADED}))
            )
            passed = bool(max_score) and score >= max_score and not problems
            writer.writerow([learner, "", "TOTAL", f"{score:g}", f"{max_score:g}", passed, status, problems])
    return path


def _by_learner(grades: Sequence[SubmissionGrade]) -> dict[str, list[SubmissionGrade]]:
    grouped: dict[str, list[SubmissionGrade]] = {}
    for grade in sorted(grades, key=lambda g: (g.learner.lower(), g.lab.lower())):
        grouped.setdefault(grade.learner, []).append(grade)
    return grouped


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:70em;color:#1f2328}
table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}th,td{border:1px solid #d0d7de;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f6f8fa}.ok{color:#1a7f37}.bad{color:#cf222e}.warn{color:#9a6700}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:.85em;background:#eee}
.badge.graded{background:#dafbe1}.badge.problem{background:#ffebe9}section{border-top:1px solid #d0d7de;
padding-top:.5em}.notes{color:#57606a;font-size:.9em}.feedback{white-space:pre-wrap}
"""


def write_html(grades: Sequence[SubmissionGrade], path: Path, title: str = "Grades") -> Path:
    """``report.html``: a self-contained page, a summary table then one section per learner."""
    esc = html.escape
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title>",
        f"<style>{_CSS}</style></head><body><h1>{esc(title)}</h1>",
    ]
    graded = sum(1 for g in grades if g.status == GRADED)
    sandboxed = sum(1 for g in grades if g.sandboxed)
    parts.append(
        f"<p>{len(grades)} submission(s): {graded} graded, {len(grades) - graded} with a problem. "
        f"Write-sandbox (Landlock) active for {sandboxed} of them.</p>"
    )
    parts.append("<table><tr><th>Learner</th><th>Lab</th><th>Score</th><th>Status</th><th>Reason</th></tr>")
    for learner, learner_grades in _by_learner(grades).items():
        for grade in learner_grades:
            anchor = _safe_name(f"{learner}-{grade.lab}")
            parts.append(
                f"<tr><td><a href='#{esc(anchor)}'>{esc(learner)}</a></td><td>{esc(grade.lab)}</td>"
                f"<td>{grade.score:g} / {grade.max_score:g}</td><td>{_badge(grade.status)}</td>"
                f"<td>{esc(grade.reason)}</td></tr>"
            )
    parts.append("</table>")
    for learner, learner_grades in _by_learner(grades).items():
        for grade in learner_grades:
            anchor = _safe_name(f"{learner}-{grade.lab}")
            heading = f"{learner} — {grade.lab}" if grade.lab else learner
            parts.append(
                f"<section id='{esc(anchor)}'><h2>{esc(heading)}: {grade.score:g} / {grade.max_score:g}</h2>"
            )
            parts.append(
                f"<p>{_badge(grade.status)} {esc(grade.reason)} "
                f"<span class='notes'>({esc(Path(grade.path).name)}, {grade.seconds:.1f} s)</span></p>"
            )
            if grade.results:
                parts.append("<table><tr><th>Exercise</th><th>Score</th><th>Feedback</th></tr>")
                for result in grade.results:
                    mark = "<span class='ok'>✅</span>" if result.passed else "<span class='bad'>❌</span>"
                    parts.append(
                        f"<tr><td>{mark} {esc(result.exercise)}</td><td>{result.score:g} / "
                        f"{result.max_score:g}</td><td class='feedback'>{esc(result.feedback)}</td></tr>"
                    )
                parts.append("</table>")
            if grade.notes:
                items = "".join(f"<li>{esc(note)}</li>" for note in grade.notes)
                parts.append(f"<ul class='notes'>{items}</ul>")
            parts.append("</section>")
    parts.append("</body></html>")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _badge(status: str) -> str:
    kind = "graded" if status == GRADED else "problem"
    return f"<span class='badge {kind}'>{html.escape(status)}</span>"


# --- CLI -----------------------------------------------------------------------------------


def _parameter_value(text: str) -> Any:
    """Like papermill's ``-p``: True/False/None, ints and floats are converted; the rest is a string."""
    if text in {"True", "False", "None"}:
        return {"True": True, "False": False, "None": None}[text]
    for convert in (int, float):
        with contextlib.suppress(ValueError):
            return convert(text)
    return text


def _progress_line(done: int, total: int, grade: SubmissionGrade) -> None:
    label = f"{grade.learner}/{grade.lab}" if grade.lab else grade.learner
    detail = grade.status if grade.status == GRADED else f"{grade.status}: {grade.reason}"
    print(
        f"[{done:>{len(str(total))}}/{total}] {label}: {grade.score:g}/{grade.max_score:g} ({detail}, "
        f"{grade.seconds:.1f} s)",
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point (see ``--help``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--kernel-launcher"]:
        return _kernel_launcher_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m utils.teaching.gradebook",
        description="Grade a folder of learners' lab notebooks; write grades.csv and report.html.",
    )
    parser.add_argument("submissions", type=Path, help="folder of submitted notebooks (searched recursively)")
    parser.add_argument("--out", type=Path, default=None, help="report folder (default: SUBMISSIONS-grades/)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds per notebook before its kernel is killed (default {DEFAULT_TIMEOUT_S:g})",
    )
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="parallel notebooks (default: cores)"
    )
    parser.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("KEY", "VALUE"),
        help="papermill parameter for every notebook, e.g. -p TARGET local (names of the parameters cell)",
    )
    parser.add_argument(
        "--output-limit-mb",
        type=float,
        default=DEFAULT_OUTPUT_LIMIT / MB,
        help="stop a notebook whose outputs exceed this many MB (default 5)",
    )
    parser.add_argument(
        "--labs",
        type=Path,
        default=PROJECT_ROOT / "labs",
        help="folder of pristine labs matched by file name (default: labs/)",
    )
    parser.add_argument("--lab", type=Path, default=None, help="pristine lab notebook for every submission")
    parser.add_argument(
        "--include",
        type=Path,
        action="append",
        default=[],
        help="file or folder copied into every working directory (repeatable)",
    )
    parser.add_argument(
        "--pass-env",
        action="append",
        default=[],
        metavar="NAME",
        help="also pass this environment variable to learner kernels (repeatable)",
    )
    parser.add_argument("--kernel", default="python3", help="Jupyter kernel name (default python3)")
    parser.add_argument("--no-sandbox", action="store_true", help="do not apply the Landlock write sandbox")
    args = parser.parse_args(argv)

    if not args.submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder of submissions")
    out = args.out or args.submissions.resolve().parent / f"{args.submissions.resolve().name}-grades"
    submissions = find_submissions(args.submissions, exclude=[out])
    if not submissions:
        print(f"error: no *.ipynb found under {args.submissions}", file=sys.stderr)
        return 2
    if args.lab is not None and not args.lab.is_file():
        parser.error(f"--lab {args.lab}: no such notebook")
    options = GradingOptions(
        timeout=args.timeout,
        output_limit=int(args.output_limit_mb * MB),
        parameters={key: _parameter_value(value) for key, value in args.parameter},
        kernel_name=args.kernel,
        pass_env=tuple(args.pass_env),
        include=tuple(p.resolve() for p in args.include),
        labs_dir=args.labs.resolve() if args.labs else None,
        lab=args.lab.resolve() if args.lab else None,
        sandbox=not args.no_sandbox,
        executed_dir=out / "executed",
    )
    try:
        options = dataclasses.replace(options, target_env=target_environment())
    except Exception as error:
        print(f"warning: could not read the target's settings ({error}); kernels get none", file=sys.stderr)
    if options.sandbox and landlock_abi() < 1:
        print("warning: this OS has no Landlock: kernels are isolated by working copy only", file=sys.stderr)
    print(f"grading {len(submissions)} submission(s) with {args.jobs} job(s), {args.timeout:g} s each")
    started = time.monotonic()
    grades = grade_all(submissions, options, jobs=args.jobs, on_done=_progress_line)
    csv_path = write_csv(grades, out / "grades.csv")
    html_path = write_html(grades, out / "report.html", title=f"Grades: {args.submissions.name}")
    print(f"done in {time.monotonic() - started:.1f} s: wrote {csv_path} and {html_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
