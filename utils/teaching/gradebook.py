"""Grade a folder of learners' notebooks: ``python -m utils.teaching.gradebook SUBMISSIONS_DIR``.

What is graded comes from the grader registry (:mod:`utils.teaching.registry`), never from
what a notebook displays (issue #15):

1. **Which notebook.** Each submission (``*.ipynb``, found recursively) is matched to a
   declared notebook by its ``metadata.delab.notebook`` field, else its file name, else the
   cells that call a declared grader (so renamed files, new cell ids and nbformat 4.4 without
   ids still match). No match: ``needs review``, score 0, and why.
2. **Its cells.** With the pristine copy (``labs/<name>.ipynb``, ``notebooks/<name>.ipynb`` or
   ``--lab``), every code cell without an answer region is restored, matched by id or, without
   ids, by the grader it calls. A declared exercise whose grader cell is gone scores 0 and
   the submission is ``needs review``.
3. **Run.** The notebook runs with papermill in a fresh kernel inside the job's sandbox
   (:mod:`utils.teaching.sandbox`: bubblewrap namespaces, its own uid, cgroup limits, a tmpfs
   as its only writable folder; services only through :mod:`utils.teaching.gateway`), with a
   wall-clock limit and a limit on the size of its outputs.
4. **Answers, then grades, outside the kernel.** Right after each grader cell ran (and at the
   end for the rest), the kernel is asked for the exercise's answers as data
   (:mod:`utils.teaching.answers`). The kernel is then killed, with everything it started, and
   the declared graders run here, in the worker, a process the learner's code never shares;
   a learner's function is re-run from its source in a fresh sandbox. Scores are clamped to
   the declared maxima; unknown exercises do not exist.

Writes ``grades.csv`` (one row per learner x exercise plus a ``TOTAL`` row per learner,
rewritten after every submission so a crash loses nothing already graded), ``report.html``
and the executed notebooks under ``executed/``.

The module is structured like papermill: :func:`find_submissions` (what to grade),
:func:`grade_submission` (one notebook, in a worker process), :func:`grade_all` (the batch, in
parallel), :func:`write_csv` / :func:`write_html` (the reports).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from utils.teaching import registry
from utils.teaching.grading import GradeResult
from utils.teaching.sandbox import Capabilities, Limits, Policy, landlock_abi, restrict_writes_to

if TYPE_CHECKING:  # heavy modules are imported lazily: workers and the launcher must start fast
    import nbformat

    from utils.teaching.gateway import CloudPolicy
    from utils.teaching.sandbox import Job

__all__ = ["landlock_abi", "restrict_writes_to"]  # kept importable from here for older callers

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024
DEFAULT_TIMEOUT_S = 300.0
DEFAULT_OUTPUT_LIMIT = 5 * MB
MAX_SUBMISSION_BYTES = 50 * MB
ENGINE_NAME = "delab-grading"
START_MARKER = "### START CODE HERE ###"
EXTRACT_TIMEOUT_S = 30.0
EXTRACT_MARK = "delab_export_answers"

# Environment handed to learner kernels: only what a lab needs.
_ENV_ALWAYS = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "VIRTUAL_ENV", "SYSTEMROOT")
_ENV_PREFIXES = ("DELAB_", "AWS_")
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|SESSION|CREDENTIAL|PRIVATE|_KEY$", re.IGNORECASE)

# Submission statuses (one or two words each; the reason says more).
GRADED = "graded"
NEEDS_REVIEW = "needs review"
TIMED_OUT = "timed out"
OUTPUT_TOO_LARGE = "output too large"
KERNEL_DIED = "kernel died"
INVALID = "invalid notebook"
ERROR = "not graded"
NO_EXERCISES = "no graded exercises"
"""A course notebook that declares no graded exercise: 0 of 0, not a problem."""
_FINE = {GRADED, NO_EXERCISES}


@dataclass(frozen=True)
class Services:
    """What graded kernels may reach, through the gateway (picklable: sent to the workers)."""

    db: tuple[str, int] | None = None
    db_user: str = ""
    cloud: tuple[str, int] | None = None
    policy: CloudPolicy | None = None
    share_network: bool = False
    """True for a real-AWS target: kernels keep the host's network (no gateway)."""


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
    notebooks_dir: Path | None = PROJECT_ROOT / "notebooks"
    lab: Path | None = None
    sandbox: bool = True
    """Landlock write sandbox when kernels are not isolated (``--no-sandbox`` turns it off too)."""
    isolate: bool = True
    """Namespaces, own uid, cgroup, tmpfs (``--no-isolation`` turns them off, for comparison)."""
    limits: Limits = field(default_factory=Limits)
    services: Services = field(default_factory=Services)
    executed_dir: Path | None = None
    start_timeout: float = 60.0
    grader_modules: tuple[str, ...] = ()


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
    notebook: str | None = None

    @property
    def score(self) -> float:
        """Sum of the exercise scores."""
        return sum(r.score for r in self.results)

    @property
    def max_score(self) -> float:
        """Sum of the exercise maximum scores."""
        return sum(r.max_score for r in self.results)

    def review(self, reason: str) -> None:
        """Mark the submission ``needs review`` (unless a harder status is set) with ``reason``."""
        if self.status == GRADED:
            self.status = NEEDS_REVIEW
        self.reason = f"{self.reason}; {reason}" if self.reason else reason


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


# --- the kernel's environment ----------------------------------------------------------------


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
        USER="learner",
        LOGNAME="learner",
    )
    return env


def target_environment() -> dict[str, str]:
    """What a lab needs to reach the target, without secrets: for the local cloud, its endpoint,
    region and fixed test credentials (``Settings.aws_environment``, as ``make lab`` gives kernels).

    Empty for ``DELAB_TARGET=aws``: real credentials are passed only on request (``--pass-env``).
    """
    from utils.config import get_settings

    settings = get_settings()
    # Where things are (not who may use them): lessons' code reads these through get_settings().
    places = {"DELAB_DB_HOST": settings.db_host, "DELAB_DB_PORT": str(settings.db_port),
              "DELAB_DB_NAME": settings.db_name, "DELAB_DB_ETL_USER": settings.db_etl_user,
              "DELAB_CLOUD_PORT": str(settings.cloud_port)}
    return {**places, **settings.aws_environment()} if settings.is_local else places


def grading_services() -> Services:
    """The services of the configured target that graded kernels may use, through the gateway.

    Local target: the source database (read-only user only) and the local cloud (filtered by
    :class:`~utils.teaching.gateway.CloudPolicy`, the ETL script pinned to the shipped one).
    Real AWS: no gateway can filter AWS; kernels keep the network (see docs/instructors.md).
    """
    from utils.cloud.provision import JOB_SCRIPT
    from utils.config import GLUE_CRAWLER, GLUE_DATABASE, GLUE_JOB, get_settings
    from utils.teaching.gateway import CloudPolicy, sha256_file

    settings = get_settings()
    if not settings.is_local:
        return Services(share_network=True)
    policy = CloudPolicy(
        job_name=GLUE_JOB,
        crawler_name=GLUE_CRAWLER,
        glue_database=GLUE_DATABASE,
        data_lake_bucket=settings.data_lake_bucket,
        scripts_bucket=settings.scripts_bucket,
        shipped_script_sha256=sha256_file(JOB_SCRIPT) if JOB_SCRIPT.exists() else None,
        endpoint_url=settings.endpoint_url,
        region=settings.region,
    )
    return Services(db=(settings.db_host, settings.db_port), db_user=settings.db_etl_user,
                    cloud=("127.0.0.1", settings.cloud_port), policy=policy)


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


# --- the papermill engine: output limit, deadline, answers taken after the grader cells ---------


@dataclass
class _RunState:
    output_limit: int
    deadline: float
    output_bytes: int = 0
    output_exceeded_in_cell: int | None = None
    kernel_pgid: int | None = None
    kernel_pid: int | None = None
    nb: Any = None
    answers_dir: Path | None = None
    extract_after: dict[str, list[str]] = field(default_factory=dict)
    """Exercise -> answer names to export right after its grader cell (marked in the cell's metadata)."""
    extract_at_end: list[str] = field(default_factory=list)
    extractions: int = 0
    km: Any = None


_OUTPUT_MESSAGES = {"stream", "display_data", "execute_result", "error", "update_display_data"}


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

    from utils.teaching.notebook_client import quiet_output_widgets

    if ENGINE_NAME in papermill_engines._engines:
        return

    class GradingClient(PapermillNotebookClient):
        """Counts output bytes (over the limit: kernel killed) and exports answers as it goes."""

        def __init__(self, nb_man: Any, run_state: _RunState, **kw: Any) -> None:
            super().__init__(nb_man, **kw)
            self.run_state = run_state
            quiet_output_widgets(self)

        def process_message(self, msg: dict[str, Any], cell: Any, cell_index: int) -> Any:
            state = self.run_state
            if state.kernel_pid is None and self.km is not None and getattr(self.km, "provisioner", None):
                state.kernel_pid = getattr(self.km.provisioner, "pid", None)
                state.kernel_pgid = getattr(self.km.provisioner, "pgid", None)
            if msg["msg_type"] in _OUTPUT_MESSAGES:
                state.output_bytes += _payload_size(msg.get("content"))
                if state.output_bytes > state.output_limit:
                    if state.output_exceeded_in_cell is None:
                        state.output_exceeded_in_cell = cell_index
                        _kill_process_group(state.kernel_pgid, state.kernel_pid)
                    return None
            return super().process_message(msg, cell, cell_index)

        def papermill_execute_cells(self) -> None:
            """Run the cells; after each grader cell (and at the end) have the kernel export answers."""
            from nbclient.exceptions import CellTimeoutError

            state = self.run_state
            if state.kernel_pid is None and self.km is not None and getattr(self.km, "provisioner", None):
                state.kernel_pid = getattr(self.km.provisioner, "pid", None)
                state.kernel_pgid = getattr(self.km.provisioner, "pgid", None)
            pending = {name for names in state.extract_after.values() for name in names}
            pending |= set(state.extract_at_end)
            try:
                for index, cell in enumerate(self.nb.cells):
                    try:
                        self.nb_man.cell_start(cell, index)
                        self.execute_cell(cell, index)
                    finally:
                        self.nb_man.cell_complete(self.nb.cells[index], cell_index=index)
                    marked = cell.get("metadata", {}).pop(EXTRACT_MARK, None)
                    names = sorted({n for ex in marked or () for n in state.extract_after.get(ex, ())})
                    if names and self._export(names):
                        pending -= set(names)
            except (CellTimeoutError, TimeoutError):
                # Interrupt the loop the learner left running, then still ask for the answers.
                # (The manager is asynchronous: a bare call made a coroutine nobody awaited, so the
                # kernel kept looping and the export below waited its 10 s for nothing.)
                with contextlib.suppress(Exception):
                    self._interrupt()
                if pending:
                    self._export(sorted(pending), timeout=10)
                raise
            if pending:
                self._export(sorted(pending))

        def _interrupt(self) -> None:
            """Interrupt the kernel (an ``interrupt_request`` message: signals cannot enter its sandbox)."""
            from jupyter_core.utils import run_sync
            from nbclient.util import ensure_async

            async def interrupt() -> None:
                await ensure_async(self.km.interrupt_kernel())

            run_sync(interrupt)()

        def _export(self, names: Sequence[str], timeout: float = EXTRACT_TIMEOUT_S) -> bool:
            """Have the kernel write ``names`` to ``answers/NNNN.json``; True when it replied in time."""
            from utils.teaching.answers import extraction_code

            state = self.run_state
            if state.answers_dir is None or state.output_exceeded_in_cell is not None:
                return False
            state.extractions += 1
            path = str(state.answers_dir / f"{state.extractions:04d}.json")
            try:
                return bool(self._run_silently(extraction_code(names, path), timeout))
            except Exception:  # a dead or hijacked kernel: its answers are whatever it wrote
                return False

        def _run_silently(self, code: str, timeout: float) -> bool:
            from jupyter_core.utils import run_sync

            async def run() -> bool:
                import queue

                from nbclient.util import ensure_async

                msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False,
                                         stop_on_error=False)
                deadline = time.monotonic() + timeout
                while (remaining := deadline - time.monotonic()) > 0:
                    try:
                        reply = await ensure_async(self.kc.get_shell_msg(timeout=remaining))
                    except queue.Empty:
                        return False
                    if reply.get("parent_header", {}).get("msg_id") == msg_id:
                        return reply.get("content", {}).get("status") == "ok"
                return False

            return run_sync(run)()

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
                km=run_state.km,
                run_state=run_state,
                timeout_func=lambda cell: max(1, int(run_state.deadline - time.monotonic()) + 1),
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logger,
                log_output=False,
                allow_errors=True,
                # The answers are exported before the end; the sandbox dies next anyway: no 5 s grace.
                shutdown_kernel="immediate",
                **kwargs,
            )
            return client.execute()

    papermill_engines.register(ENGINE_NAME, GradingEngine)


# --- reading and protecting a submission ------------------------------------------------------


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


@dataclass
class Protection:
    """What :func:`protect_cells` did to a submission."""

    notes: list[str] = field(default_factory=list)
    grader_cells: dict[str, int] = field(default_factory=dict)
    """Exercise -> index of the (restored) cell calling its grader."""
    missing: dict[str, str] = field(default_factory=dict)
    """Exercise -> the grader call the pristine notebook has and the submission lacks."""


def protect_cells(
    nb: nbformat.NotebookNode, lab: nbformat.NotebookNode | None, exercises: Sequence[registry.Exercise] = ()
) -> tuple[nbformat.NotebookNode, Protection]:
    """Restore the pristine notebook's code cells that hold no answer, and find the grader cells.

    A cell is matched by id when ids match; otherwise (new ids, nbformat 4.4 without ids) a
    submission cell calling a declared grader is matched to the pristine cell calling the same
    grader. Matched cells get the pristine source back. An exercise whose grader the pristine
    notebook calls but no submission cell does is reported in ``missing``.
    """
    protection = Protection()
    cells = lab.cells if lab is not None else []
    code = [c for c in cells if c.cell_type == "code" and not _has_answer_region(c)]
    pristine_by_id = {c["id"]: c.source for c in code if c.get("id")}
    pristine_calls = registry.graders_called([c.source for c in code], list(exercises))
    edited = 0
    for cell in nb.cells:
        if cell.cell_type != "code" or _has_answer_region(cell):
            continue
        source = pristine_by_id.get(cell.get("id"))
        if source is None:
            called = registry.graders_called([cell.source], list(exercises))
            for exercise, hits in called.items():
                if hits and pristine_calls.get(exercise):
                    source = code[pristine_calls[exercise][0]].source
                    break
        if source is not None and cell.source != source:
            cell.source = source
            edited += 1
    if edited:
        protection.notes.append(
            f"{edited} read-only cell(s) edited by the learner were restored from the pristine notebook "
            "before running"
        )
    sources = [c.source if c.cell_type == "code" and not _has_answer_region(c) else "" for c in nb.cells]
    for exercise in exercises:
        hits = registry.graders_called(sources, [exercise])[exercise.exercise]
        if hits:
            protection.grader_cells[exercise.exercise] = hits[0]
        elif pristine_calls.get(exercise.exercise):
            protection.missing[exercise.exercise] = f"{exercise.grader_name}(...)"
    return nb, protection


def course_notebooks(options: GradingOptions) -> set[str]:
    """Names of the course's notebooks (the pristine copies' file stems), declared or not."""
    names = {Path(options.lab).stem} if options.lab is not None else set()
    for folder in (options.labs_dir, options.notebooks_dir):
        if folder is not None and Path(folder).is_dir():
            names |= {path.stem for path in Path(folder).glob("*.ipynb")}
    return names


def _find_pristine(notebook: str, options: GradingOptions) -> tuple[nbformat.NotebookNode | None, str]:
    """The learner copy the notebook was handed out as (labs/, notebooks/ or --lab), and its path."""
    import nbformat

    candidates = [options.lab] if options.lab is not None else []
    for folder in (options.labs_dir, options.notebooks_dir):
        if folder is not None:
            candidates.append(Path(folder) / f"{notebook}.ipynb")
    for candidate in candidates:
        if candidate is not None and Path(candidate).is_file():
            return nbformat.read(candidate, as_version=4), str(candidate)
    return None, ""


def _kernel_log_tail(path: Path, lines: int = 5) -> list[str]:
    """The last lines the kernel process itself wrote (ipykernel's own noise left out)."""
    from utils.teaching.answers import read_file

    try:
        text = read_file(path.parent, path.name, limit=MB)[-20_000:].decode("utf-8", errors="replace")
    except (OSError, ValueError):
        return []
    noise = ("without encryption", "To connect another client", "--existing", "ipython/issues/2049",
             "WARNING | ", "Ctrl-\\", "\"quit\" from a client")
    kept = [line for line in text.splitlines() if line.strip() and not any(n in line for n in noise)]
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


# --- the graders' context and the worker processes ----------------------------------------------


@dataclass
class BatchContext:
    """Context values built once before the batch (ground truth...), or why they could not be."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    source_fingerprint: str | None = None
    caps: Capabilities | None = None


class ContextError(RuntimeError):
    """A grader's context could not be built: not the learner's fault."""


class _WorkerState:
    """What a worker process keeps between submissions."""

    def __init__(self, batch: BatchContext) -> None:
        self.batch = batch
        self.local: dict[str, Any] = {}
        self.failed: dict[str, str] = {}
        self.sandbox: Any = None

    def get(self, name: str) -> Any:
        """The context value ``name`` (batch-wide, or built once in this worker)."""
        if name in self.batch.values:
            return self.batch.values[name]
        if name in self.local:
            value = self.local[name]
            ping = getattr(value, "ping", None)
            if callable(ping):  # a database connection idle since the last submission
                with contextlib.suppress(Exception):
                    ping(reconnect=True)
            return value
        provider = registry.provider(name)
        if provider is None:
            raise ContextError(f"no grading-side provider for `{name}` (see utils.teaching.registry.provide)")
        if name in self.failed:  # tried here already (or before the batch, then once here): give up
            raise ContextError(self.failed[name])
        try:  # a batch-wide value that failed before the batch may exist now (a lab built it)
            self.local[name] = provider.build(self.get)
        except ContextError as error:
            self.failed[name] = str(error)
            raise
        except Exception as error:
            self.failed[name] = f"{name} could not be built ({type(error).__name__}: {str(error)[:300]})"
            raise ContextError(self.failed[name]) from None
        return self.local[name]


_WORKER: _WorkerState | None = None


def _init_worker(batch: BatchContext, parent: int, modules: Sequence[str], join: str = "") -> None:
    """Worker start: join the batch cgroup, die with the grader (PR_SET_PDEATHSIG), load the graders."""
    import importlib

    from utils.teaching.sandbox import die_with_parent, join_cgroup

    join_cgroup(join)  # first: whatever this worker starts is born in the reaper's cgroup
    die_with_parent()
    if os.getppid() != parent:  # the grader died before the signal was armed
        os._exit(1)
    global _WORKER
    _WORKER = _WorkerState(batch)
    for module in modules:
        importlib.import_module(module)


def _worker_state() -> _WorkerState:
    global _WORKER
    if _WORKER is None:  # grading in this process (tests, one submission)
        _WORKER = _WorkerState(BatchContext())
    return _WORKER


def build_batch_context(exercises: Iterable[registry.Exercise], services: Services | None = None,
                        caps: Capabilities | None = None) -> BatchContext:
    """Build, once, the context values the batch's graders need that can be shared (see ``provide``)."""
    batch = BatchContext(caps=caps)
    built: dict[str, Any] = {}

    def get(name: str) -> Any:
        if name not in built:
            provider = registry.provider(name)
            if provider is None:
                raise ContextError(f"no grading-side provider for `{name}`")
            built[name] = provider.build(get)
        return built[name]

    needed = sorted({name for ex in exercises for name in ex.context_names})
    for name in needed:
        provider = registry.provider(name)
        if provider is None or provider.per_worker:
            continue
        try:
            batch.values[name] = get(name)
        except Exception as error:
            batch.errors[name] = f"{name} could not be built ({type(error).__name__}: {str(error)[:300]})"
    if services is not None and services.db is not None:
        batch.source_fingerprint = _source_fingerprint()
    for value in built.values():
        if hasattr(value, "ping") and hasattr(value, "close"):  # connections stay per process
            with contextlib.suppress(Exception):
                value.close()
    return batch


def _source_fingerprint() -> str | None:
    """When each table of the source database was created and last written (read-only user), or None.

    MariaDB updates these on any write, DDL or TRUNCATE, and reading them costs nothing whatever
    the scale factor (a CHECKSUM TABLE would read every row after every submission).
    """
    try:
        from utils.services.mariadb import connect

        conn = connect("etl", connect_timeout=5)
    except Exception:
        return None
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT TABLE_NAME, CREATE_TIME, UPDATE_TIME FROM information_schema.TABLES "
                        "WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME")
            return json.dumps([list(row) for row in cur.fetchall()], default=str)
    except Exception:
        return None
    finally:
        conn.close()


# --- grading one submission ----------------------------------------------------------------


def grade_submission(submission: Submission, options: GradingOptions) -> SubmissionGrade:
    """Identify, run (sandboxed) and grade one submission from its exported answers.

    Never raises for anything the notebook does: problems become ``status`` and ``reason``.
    """
    started = time.monotonic()
    grade = SubmissionGrade(submission.learner, submission.lab, str(submission.path), status=GRADED)
    try:
        nb = _read_submission(submission.path)
    except (ValueError, OSError) as error:
        grade.status, grade.reason = INVALID, str(error)
        grade.seconds = time.monotonic() - started
        return grade
    code_cells = [c.source for c in nb.cells if c.cell_type == "code"]
    notebook, how = registry.identify(dict(nb.metadata), submission.path.stem, code_cells,
                                      course_notebooks(options))
    if notebook is None:
        grade.status = NEEDS_REVIEW
        grade.reason = f"not graded: could not tell which notebook this is ({how})"
        grade.seconds = time.monotonic() - started
        return grade
    grade.notebook = notebook
    if how != "file name" or notebook != submission.path.stem:
        grade.notes.append(f"graded as {notebook} (matched by {how})")
    exercises = registry.exercises_for(notebook)
    if not exercises:  # a course notebook without graded exercises: nothing to run, nothing to review
        grade.status = NO_EXERCISES
        grade.reason = f"{notebook} has no graded exercises"
        grade.seconds = time.monotonic() - started
        return grade
    try:
        pristine, _ = _find_pristine(notebook, options)
        if pristine is None:
            grade.notes.append(f"no pristine copy of {notebook} (labs/, notebooks/ or --lab): "
                               "cells were not restored")
    except Exception as error:
        pristine = None
        grade.notes.append(f"the pristine notebook could not be read ({error}); cells were not restored")
    nb, protection = protect_cells(nb, pristine, exercises)
    grade.notes.extend(protection.notes)

    try:
        grade.notes.extend(_run_and_collect(nb, submission, options, grade, exercises, protection))
    except Exception as error:  # the grading machinery itself failed: say so, never crash the batch
        grade.status = ERROR
        grade.reason = f"grading failed: {type(error).__name__}: {error}"
    grade.seconds = time.monotonic() - started
    return grade if grade.results else _without_results(grade, exercises)


def _without_results(grade: SubmissionGrade, exercises: Sequence[registry.Exercise]) -> SubmissionGrade:
    why = grade.reason or "no answers could be read"
    grade.results = [GradeResult(ex.exercise, False, 0.0, ex.max_score, f"No result: {why}.")
                     for ex in exercises]
    return grade


def _run_and_collect(
    nb: nbformat.NotebookNode,
    submission: Submission,
    options: GradingOptions,
    grade: SubmissionGrade,
    exercises: Sequence[registry.Exercise],
    protection: Protection,
) -> list[str]:
    """Run the notebook in a fresh sandboxed job, then grade its answers; fill ``grade``; notes."""
    import nbformat

    from utils.teaching import sandbox
    from utils.teaching.answers import read_answers

    state = _worker_state()
    if state.sandbox is None:
        caps = state.batch.caps or sandbox.capabilities()
        policy = Policy(isolate=options.isolate, limits=options.limits, read_only=_read_only_trees())
        state.sandbox = sandbox.Worker(policy, caps)
    job = state.sandbox.new_job()
    gateway = None
    notes: list[str] = []
    env = kernel_environment(job.dir, options.pass_env, target_env=options.target_env)
    run = _RunState(output_limit=options.output_limit, deadline=time.monotonic() + options.timeout,
                    answers_dir=job.path("answers"))
    # Papermill may insert a parameters cell: the grader cells are marked, not counted.
    by_name = {ex.exercise: ex for ex in exercises}
    for exercise, index in protection.grader_cells.items():
        nb.cells[index].metadata.setdefault(EXTRACT_MARK, []).append(exercise)
        run.extract_after[exercise] = list(by_name[exercise].answer_names)
    run.extract_at_end = sorted({n for ex in exercises if ex.exercise not in protection.grader_cells
                                 and ex.exercise not in protection.missing for n in ex.answer_names})
    try:
        _copy_into(options.include, job.work)
        for item in job.work.iterdir():
            job.give(item)
        nbformat.write(nb, job.work / submission.path.name)
        job.give(job.work / submission.path.name)
        services = options.services
        if job.isolated and not services.share_network and (services.db or services.cloud):
            from utils.teaching.gateway import Gateway

            gateway = Gateway(job.dir / "gw", db=services.db, db_user=services.db_user,
                              cloud=services.cloud, policy=services.policy,
                              scratch=f"{os.getpid()}-{job.dir.name}-{os.urandom(4).hex()}")
        run.km = _kernel_manager(job, options, gateway)
        grade.sandboxed = job.isolated or (options.sandbox and landlock_abi() > 0)
        config = Path(env.get("AWS_CONFIG_FILE", ""))
        if job.isolated and config.is_file():  # .delab/ is not in the sandbox: a copy of the aws config
            shutil.copyfile(config, job.path("home") / "aws-config")
            job.give(job.path("home") / "aws-config")
            env["AWS_CONFIG_FILE"] = str(job.path("home") / "aws-config")
        _execute(nb, job.work, env, options, run)
    except Exception as error:
        _classify_failure(grade, error, run, options)
    finally:
        _kill_process_group(run.kernel_pgid, run.kernel_pid)
        job.kill()
    try:
        usage = job.usage()
        _explain_limits(grade, usage, options.limits)
        if grade.status in {KERNEL_DIED, ERROR}:
            notes.extend(_kernel_log_tail(job.dir / "kernel.log"))
        names = {n for ex in exercises for n in ex.answer_names}
        raw: dict[str, Any] = {}
        answers, problems = read_answers(job.path("answers"), names, raw)
        notes.extend(problems)
        executed = run.nb if run.nb is not None else nb
        if run.output_exceeded_in_cell is not None:
            grade.status = OUTPUT_TOO_LARGE
            where = _cell_label(executed, run.output_exceeded_in_cell)
            grade.reason = (f"output exceeded {options.output_limit / MB:g} MB{where}; "
                            "the kernel was stopped there")
        if run.nb is not None:
            errors = _error_notes(executed)
            if grade.status == TIMED_OUT:  # the kernel is interrupted on timeout: not the learner's error
                errors = [note for note in errors if not note.startswith("KeyboardInterrupt")]
            notes.extend(errors)
        sandboxes = _Sandboxes(job, env, gateway, options)
        grade.results = _grade_answers(exercises, answers, raw, protection, grade, state, sandboxes)
        notes.extend(sandboxes.notes)
        _check_source(grade, options, state)
        if options.executed_dir is not None and run.nb is not None:
            target = Path(options.executed_dir) / f"{_safe_name(submission.label)}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(Exception):
                nbformat.write(executed, target)
                grade.executed_path = str(target)
    finally:
        job.kill()
        if gateway is not None:
            gateway.close()
            notes.extend(f"refused: {why}" for why in dict.fromkeys(gateway.refused))
            if gateway.policy is not None:  # the job runs' scratch output, once graded
                with contextlib.suppress(Exception):
                    gateway.policy.remove_scratch()
        job.close()
    return notes


def _read_only_trees() -> tuple[str, ...]:
    """What kernels see of this machine besides the system: Python, the virtualenv, ``utils/``."""
    return tuple(dict.fromkeys([sys.base_prefix, sys.prefix, str(PROJECT_ROOT / "utils")]))


def _kernel_manager(job: Job, options: GradingOptions, gateway: Any) -> Any:
    """A kernel manager whose kernel starts in ``job``'s sandbox and talks over unix sockets."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    from jupyter_client.manager import AsyncKernelManager

    try:
        spec = KernelSpecManager().get_kernel_spec(options.kernel_name)
    except NoSuchKernel:
        raise RuntimeError(
            f"no Jupyter kernel named {options.kernel_name!r}; run `make venv` (it registers `python3`) "
            "or pass --kernel with a name from `jupyter kernelspec list`"
        ) from None
    runtime = job.path("runtime")
    connection_file = runtime / "kernel.json"
    argv = job.launcher_argv(list(spec.argv), forwards=gateway.forwards if gateway else None,
                             chown=[str(connection_file)], log=job.dir / "kernel.log")
    folder = job.dir / "jupyter" / "kernels" / options.kernel_name
    folder.mkdir(parents=True)
    # Signals cannot reach a kernel in its own pid namespace: interrupt it with a message.
    document = {"argv": argv, "display_name": spec.display_name, "language": spec.language,
                "env": dict(spec.env or {}), "metadata": dict(spec.metadata or {}),
                "interrupt_mode": "message"}
    (folder / "kernel.json").write_text(json.dumps(document, indent=1))
    specs = KernelSpecManager(kernel_dirs=[str(job.dir / "jupyter" / "kernels")])
    return AsyncKernelManager(kernel_name=options.kernel_name, transport="ipc", ip=str(runtime / "kernel"),
                              connection_file=str(connection_file), kernel_spec_manager=specs)


def _explain_limits(grade: SubmissionGrade, usage: Mapping[str, Any], limits: Limits) -> None:
    """Name the limit a dead or failing kernel hit."""
    extra = []
    if usage.get("oom_kills"):
        extra.append(f"it ran out of memory (limit {limits.memory_mb} MB) and was killed")
    if usage.get("process_limit_hits"):
        extra.append(f"it hit the limit of {limits.processes} processes")
    if usage.get("disk_full"):
        extra.append(f"it filled its {limits.disk_mb} MB of disk")
    if extra:
        text = "; ".join(extra)
        grade.reason = f"{grade.reason} ({text})" if grade.reason else text
        grade.notes.append(f"resource limits: {text}")


@dataclass
class _Sandboxes:
    """How a submission's graders start sandboxed processes after its kernel is gone."""

    job: Job
    env: Mapping[str, str]
    gateway: Any
    options: GradingOptions
    notes: list[str] = field(default_factory=list)

    @property
    def submission_context(self) -> dict[str, Any]:
        """Per-submission grader context (:data:`registry.SUBMISSION_CONTEXT`): the job runs' target."""
        policy = getattr(self.gateway, "policy", None)
        target = getattr(policy, "scratch_target", None)
        return {"target_path": target} if target else {}

    def start(self, *, network: bool) -> subprocess.Popen[bytes]:
        """``python -m utils.teaching.answers serve`` in the job's sandbox, with the kernel's environment.

        ``network``: the gateway's database and cloud, as the kernel had them (for graders that
        run in the sandbox), plus the read-only user's password, so such a grader connects as that
        user (the gateway lets no other through; kernels read the same password from the lab's
        Secrets Manager secret anyway); a learner function called by a grader outside gets none.
        """
        forwards = self.gateway.forwards if network and self.gateway is not None else None
        env = dict(self.env)
        if forwards and self.options.services.db is not None:
            with contextlib.suppress(Exception):
                from utils.config import get_settings

                env["DELAB_DB_ETL_PASSWORD"] = get_settings().db_etl_password or ""
        argv = self.job.launcher_argv([sys.executable, "-I", "-m", "utils.teaching.answers", "serve"],
                                      forwards=forwards, log=self.job.dir / "functions.log", log_stdout=False)
        return subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,  # noqa: S603
                                cwd=self.job.dir, env=env)


def _grade_answers(
    exercises: Sequence[registry.Exercise],
    answers: Mapping[str, Any],
    raw: Mapping[str, Any],
    protection: Protection,
    grade: SubmissionGrade,
    state: _WorkerState,
    sandboxes: _Sandboxes,
) -> list[GradeResult]:
    """Run each declared grader here, on the exported answers; results clamped to the declared maxima."""
    from utils.teaching.answers import (
        FunctionDefinition,
        FunctionRunner,
        LearnerFunction,
        Missing,
        NeedsSandbox,
        Unreadable,
    )

    runner = FunctionRunner(lambda: sandboxes.start(network=False))
    results = []
    try:
        for exercise in exercises:
            def failed(feedback: str, ex: registry.Exercise = exercise) -> GradeResult:
                return GradeResult(ex.exercise, False, 0.0, ex.max_score, feedback)

            if exercise.exercise in protection.missing:
                call = protection.missing[exercise.exercise]
                results.append(failed(f"Not graded: the grader cell `{call}` is missing from the notebook."))
                grade.review(f"grader cell of {exercise.exercise} missing")
                continue
            args: list[Any] = []
            problem = None
            for name in exercise.answer_names:
                value = answers.get(name)
                if name not in answers:
                    why = grade.reason or "the kernel did not answer when its answers were asked for"
                    problem = f"No result: {why}."
                elif isinstance(value, Missing) and grade.status != GRADED:
                    problem = f"No result: {grade.reason} (`{name}` was never defined)."
                elif isinstance(value, Missing):
                    problem = f"No answer: `{name}` was not defined when its grader cell ran."
                elif isinstance(value, Unreadable):
                    problem = (f"Your answer `{name}` (a {value.type_name}) could not be read as data"
                               f"{': ' + value.reason if value.reason else ''}.")
                elif isinstance(value, FunctionDefinition):
                    if value.imported_from:
                        problem = (f"`{name}` is {value.imported_from}, imported from the course's library, "
                                   "not a function written in the notebook.")
                        grade.review(f"{name} is {value.imported_from}")
                    value = LearnerFunction(value, runner)
                args.append(value)
                if problem:
                    break
            if problem:
                results.append(failed(problem))
                continue
            try:
                context = {name: state.get(name) for name in exercise.context_names}
                context.update({name: sandboxes.submission_context[name] for name in exercise.submission_names
                                if name in sandboxes.submission_context})
            except ContextError as error:
                results.append(failed(f"Could not grade this exercise (not a mistake in your answer): "
                                      f"{error}."))
                grade.review(f"{exercise.exercise} could not be graded: {error}")
                continue
            try:
                results.append(_validated(exercise, exercise.grader(*args, **context)))
            except NeedsSandbox as why:
                results.append(_grade_in_sandbox(exercise, raw, grade, sandboxes, str(why)))
    finally:
        runner.close()
    return results


def _grade_in_sandbox(exercise: registry.Exercise, raw: Mapping[str, Any], grade: SubmissionGrade,
                      sandboxes: _Sandboxes, why: str) -> GradeResult:
    """Grade an exercise whose grader hands the learner's function live objects: both run in a sandbox.

    The sandbox has what the kernel had (the gateway's database and cloud, no secrets). The
    result comes back as data and is clamped to the declared maximum; since the learner's code
    shares that process, the report says so.
    """
    from utils.teaching.answers import FunctionRunner, LearnerError

    def failed(feedback: str) -> GradeResult:
        return GradeResult(exercise.exercise, False, 0.0, exercise.max_score, feedback)

    if exercise.context_names:
        grade.review(f"{exercise.exercise} needs live objects and context: grade it by hand")
        return failed(f"Not graded: its grader passes your function things that are not data ({why}) and "
                      "needs grading context; the instructor grades it by hand.")
    runner = FunctionRunner(lambda: sandboxes.start(network=True))
    try:
        data = runner.grade(grade.notebook or "", exercise.exercise,
                            {name: raw[name] for name in exercise.answer_names if name in raw},
                            timeout=sandboxes.options.timeout, modules=sandboxes.options.grader_modules)
        result = GradeResult.from_dict(data)
        if data.get("grader_failed"):
            grade.review(f"the grader of {exercise.exercise} failed in the sandbox: grade it by hand")
            return failed(f"Not graded: its grader could not run in the grading sandbox ({result.feedback}) "
                          "The instructor grades it by hand.")
    except (LearnerError, ValueError) as error:
        grade.review(f"{exercise.exercise} could not be graded in the sandbox")
        return failed(f"Could not grade this exercise in the sandbox ({type(error).__name__}: {error}).")
    finally:
        runner.close()
    sandboxes.notes.append(f"{exercise.exercise} was graded in the sandbox, its grader sharing the process "
                           f"with the learner's code (it passes the function live objects: {why})")
    return _validated(exercise, result)


def _validated(exercise: registry.Exercise, result: Any) -> GradeResult:
    """The grader's result under the registry's name and maximum, its score clamped."""
    if not isinstance(result, GradeResult):
        return GradeResult(exercise.exercise, False, 0.0, exercise.max_score,
                           f"The grader of {exercise.exercise} returned {type(result).__name__}: "
                           "tell the instructor.")
    score = min(max(float(result.score), 0.0), exercise.max_score)
    return GradeResult(exercise.exercise, bool(result.passed) and score >= exercise.max_score, score,
                       exercise.max_score, str(result.feedback))


def _check_source(grade: SubmissionGrade, options: GradingOptions, state: _WorkerState) -> None:
    """Verify the source database is unchanged since the batch started (no table written)."""
    expected = state.batch.source_fingerprint
    if not expected or options.services.db is None:
        return
    now = _source_fingerprint()
    if now is not None and now != expected:
        grade.review("the source database changed while this notebook ran (a table was written): "
                     "this and later grades may be wrong; reseed and grade again")


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


def plan_exercises(submissions: Sequence[Submission]) -> list[registry.Exercise]:
    """The declared exercises of every notebook the submissions will be graded as (for the context)."""
    exercises: dict[tuple[str, str], registry.Exercise] = {}
    for submission in submissions:
        try:
            nb = json.loads(submission.path.read_bytes()[:MAX_SUBMISSION_BYTES])
            cells = nb.get("cells", []) if isinstance(nb, dict) else []
            code = ["".join(map(str, c["source"])) if isinstance(c.get("source"), list)
                    else str(c.get("source", ""))
                    for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]
            metadata = nb.get("metadata", {}) if isinstance(nb, dict) else {}
        except (OSError, ValueError):
            continue
        metadata = metadata if isinstance(metadata, dict) else {}
        notebook, _ = registry.identify(metadata, submission.path.stem, code)
        for exercise in registry.exercises_for(notebook) if notebook else []:
            exercises[(notebook, exercise.exercise)] = exercise
    return list(exercises.values())


def grade_all(
    submissions: Sequence[Submission],
    options: GradingOptions,
    jobs: int | None = None,
    on_done: Callable[[int, int, SubmissionGrade], None] | None = None,
    batch: BatchContext | None = None,
    csv_path: Path | None = None,
) -> list[SubmissionGrade]:
    """Grade every submission in parallel worker processes; results in submission order.

    Workers die with this process (PR_SET_PDEATHSIG), and their kernels with them; should a
    parent-death signal miss (see :class:`~utils.teaching.sandbox.Reaper`), the reaper started
    first kills every process of the batch once this process is gone.
    ``csv_path``, when given, is rewritten after every finished submission. One bad
    submission never stops the batch: if a worker process itself dies, the submissions it
    took down are re-graded one at a time in fresh processes.
    """
    import multiprocessing

    jobs = max(1, jobs or os.cpu_count() or 1)
    batch = batch or BatchContext()
    grades: dict[int, SubmissionGrade] = {}
    done = 0

    def finished(index: int, grade: SubmissionGrade) -> None:
        nonlocal done
        grades[index] = grade
        done += 1
        if csv_path is not None:
            write_csv([grades[i] for i in sorted(grades)], csv_path)
        if on_done:
            on_done(done, len(submissions), grade)

    from utils.teaching.sandbox import Reaper

    context = multiprocessing.get_context("spawn")
    reaper = Reaper.start()  # before any worker: it kills what they start if this process dies
    init = (batch, os.getpid(), tuple(options.grader_modules), reaper.join)
    broken: list[int] = []
    workers = min(jobs, max(1, len(submissions)))

    def watched(pool: ProcessPoolExecutor) -> None:
        """Register the pool's workers and the resource tracker with the reaper."""
        from multiprocessing import resource_tracker

        tracker = getattr(resource_tracker._resource_tracker, "_pid", None)
        reaper.register(getattr(pool, "_processes", {}), workers=True)
        reaper.register([tracker] if tracker else [])

    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                                 initargs=init) as pool:
            futures: dict[Future[SubmissionGrade], int] = {
                pool.submit(grade_submission, submissions[i], options): i for i in range(len(submissions))
            }
            watched(pool)
            for future in as_completed(futures):
                index = futures[future]
                try:
                    finished(index, future.result())
                except BrokenProcessPool:
                    broken.append(index)
                except Exception as error:
                    finished(index, _crashed(submissions[index], error))
        for index in sorted(broken):  # isolate the culprit: one fresh process each
            with ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_init_worker,
                                     initargs=init) as pool:
                future = pool.submit(grade_submission, submissions[index], options)
                watched(pool)
                try:
                    finished(index, future.result())
                except Exception as error:
                    finished(index, _crashed(submissions[index], error))
    finally:
        reaper.close()
    return [grades[i] for i in range(len(submissions))]


def _crashed(submission: Submission, error: BaseException) -> SubmissionGrade:
    return SubmissionGrade(
        submission.learner,
        submission.lab,
        str(submission.path),
        status=ERROR,
        reason=f"the grading process crashed ({type(error).__name__}: {error})",
    )


# --- reports -------------------------------------------------------------------------------

CSV_COLUMNS = ("learner", "lab", "exercise", "score", "max_score", "passed", "status", "feedback")


def write_csv(grades: Sequence[SubmissionGrade], path: Path) -> Path:
    """``grades.csv``: one row per learner x exercise, then a ``TOTAL`` row per learner.

    Written to a temporary file then renamed: a reader (or a crash) never sees half a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", newline="", encoding="utf-8") as handle:
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
                f"{g.lab or g.learner}: {g.reason}" for g in learner_grades if g.status not in _FINE
            )
            status = (
                GRADED
                if not problems
                else ", ".join(sorted({g.status for g in learner_grades if g.status not in _FINE}))
            )
            passed = bool(max_score) and score >= max_score and not problems
            writer.writerow([learner, "", "TOTAL", f"{score:g}", f"{max_score:g}", passed, status, problems])
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
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


def write_html(
    grades: Sequence[SubmissionGrade], path: Path, title: str = "Grades", isolation: str = ""
) -> Path:
    """``report.html``: a self-contained page, a summary table then one section per learner."""
    esc = html.escape
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title>",
        f"<style>{_CSS}</style></head><body><h1>{esc(title)}</h1>",
    ]
    graded = sum(1 for g in grades if g.status in _FINE)
    sandboxed = sum(1 for g in grades if g.sandboxed)
    parts.append(
        f"<p>{len(grades)} submission(s): {graded} graded, {len(grades) - graded} with a problem. "
        f"Sandboxed: {sandboxed} of them.</p>"
    )
    if isolation:
        parts.append(f"<p class='notes'>Isolation of each kernel: {esc(isolation)}.</p>")
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
    kind = "graded" if status in _FINE else "problem"
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
    detail = grade.status if grade.status in _FINE else f"{grade.status}: {grade.reason}"
    print(
        f"[{done:>{len(str(total))}}/{total}] {label}: {grade.score:g}/{grade.max_score:g} ({detail}, "
        f"{grade.seconds:.1f} s)",
        flush=True,
    )


def summary_table(grades: Sequence[SubmissionGrade]) -> str:
    """A plain-text table: one row per learner x notebook (points, status, seconds), then totals."""
    rows = [("learner", "notebook", "points", "status", "time")]
    for learner, learner_grades in _by_learner(grades).items():
        for grade in learner_grades:
            rows.append((learner, grade.notebook or grade.lab or Path(grade.path).stem,
                         f"{grade.score:g}/{grade.max_score:g}", grade.status, f"{grade.seconds:.1f} s"))
        rows.append((learner, "TOTAL", f"{sum(g.score for g in learner_grades):g}/"
                     f"{sum(g.max_score for g in learner_grades):g}", "",
                     f"{sum(g.seconds for g in learner_grades):.1f} s"))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(cell.rjust(width) if i in (2, 4) else cell.ljust(width)
                       for i, (cell, width) in enumerate(zip(row, widths, strict=True))).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point (see ``--help``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="python -m utils.teaching.gradebook",
        description="Grade a folder of learners' notebooks; write grades.csv and report.html.",
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
        help="folder of pristine labs, by declared notebook name (default: labs/)",
    )
    parser.add_argument(
        "--notebooks",
        type=Path,
        default=PROJECT_ROOT / "notebooks",
        help="folder of pristine lesson notebooks (default: notebooks/)",
    )
    parser.add_argument("--lab", type=Path, default=None, help="pristine notebook for every submission")
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
    parser.add_argument(
        "--graders",
        action="append",
        default=[],
        metavar="MODULE",
        help="also import this module of graders (it calls registry.declare); repeatable",
    )
    parser.add_argument("--kernel", default="python3", help="Jupyter kernel name (default python3)")
    parser.add_argument("--memory-mb", type=int, default=Limits.memory_mb, help="memory per kernel (2048)")
    parser.add_argument("--processes", type=int, default=Limits.processes, help="processes per kernel (128)")
    parser.add_argument("--disk-mb", type=int, default=Limits.disk_mb, help="disk per kernel (512)")
    parser.add_argument("--no-services", action="store_true",
                        help="kernels reach no database and no cloud (labs that need them fail)")
    parser.add_argument(
        "--no-isolation",
        action="store_true",
        help="run kernels as this user, without namespaces, cgroups or gateway (only to compare; unsafe)",
    )
    parser.add_argument("--no-sandbox", action="store_true",
                        help="with --no-isolation: do not apply the Landlock write sandbox either")
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
    import importlib

    for module in args.graders:
        try:
            importlib.import_module(module)
        except Exception as error:
            parser.error(f"--graders {module}: cannot import it ({type(error).__name__}: {error})")
    options = GradingOptions(
        timeout=args.timeout,
        output_limit=int(args.output_limit_mb * MB),
        parameters={key: _parameter_value(value) for key, value in args.parameter},
        kernel_name=args.kernel,
        pass_env=tuple(args.pass_env),
        include=tuple(p.resolve() for p in args.include),
        labs_dir=args.labs.resolve() if args.labs else None,
        notebooks_dir=args.notebooks.resolve() if args.notebooks else None,
        lab=args.lab.resolve() if args.lab else None,
        sandbox=not args.no_sandbox,
        isolate=not args.no_isolation,
        limits=Limits(memory_mb=args.memory_mb, processes=args.processes, disk_mb=args.disk_mb),
        executed_dir=out / "executed",
        grader_modules=tuple(args.graders),
    )
    try:
        options = dataclasses.replace(options, target_env=target_environment())
        if not args.no_services:
            options = dataclasses.replace(options, services=grading_services())
    except Exception as error:
        print(f"warning: could not read the target's settings ({error}); kernels get none", file=sys.stderr)
    from utils.teaching import sandbox

    sandbox.remove_stale()
    caps = sandbox.capabilities() if options.isolate else Capabilities(None, False, "", "--no-isolation")
    isolation = caps.describe(options.limits) if options.isolate else "none (--no-isolation)"
    if options.isolate and not caps.namespaces:
        print(f"warning: kernels are not isolated: {isolation}", file=sys.stderr)
    print(f"grading {len(submissions)} submission(s) with {args.jobs} job(s), {args.timeout:g} s each")
    print(f"isolation: {isolation}")
    started = time.monotonic()
    batch = build_batch_context(plan_exercises(submissions), options.services, caps)
    for problem in batch.errors.values():
        print(f"warning: {problem}; the exercises that need it are marked needs review", file=sys.stderr)
    grades = grade_all(submissions, options, jobs=args.jobs, on_done=_progress_line, batch=batch,
                       csv_path=out / "grades.csv")
    csv_path = write_csv(grades, out / "grades.csv")
    html_path = write_html(grades, out / "report.html", title=f"Grades: {args.submissions.name}",
                           isolation=isolation)
    print(summary_table(grades))
    print(f"done in {time.monotonic() - started:.1f} s: wrote {csv_path} and {html_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
