"""Glue job runs that really run: the job's script, in a subprocess, against the local cloud.

moto stores job definitions (CreateJob, GetJob, ... stay moto's) and records runs
without running anything. Here :class:`JobRunner` makes ``StartJobRun`` real:

1. the script named by the job's ``Command.ScriptLocation`` is read from the local
   S3 in-process, into a fresh temporary working directory;
2. it runs as ``python script.py --JOB_NAME <job> --JOB_RUN_ID <id> --key value ...``
   (the job's DefaultArguments, overridden by the run's Arguments, then the job's
   NonOverridableArguments, as Glue merges them), with an environment that points
   boto3 / awswrangler / the aws CLI at this local cloud;
3. its stdout and stderr stream to CloudWatch Logs (``/aws-glue/jobs/output`` and
   ``/aws-glue/jobs/error``, stream = the run id), as AWS Glue writes them;
4. the run's state follows the process: STARTING -> RUNNING -> SUCCEEDED (exit 0),
   FAILED (with the script's error line), TIMEOUT (killed after the job's Timeout)
   or STOPPED (BatchStopJobRun).

Runs are :class:`LocalJobRun` objects kept in moto's own ``FakeJob.job_runs`` list, so
DeleteJob forgets them and moto's concurrency bookkeeping stays consistent.
No HTTP here: :mod:`utils.cloud.glue.responses` is the wire format.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from moto.glue.models import FakeJob, FakeJobRun

from utils.cloud import persistence
from utils.cloud.backends import NoSuchBucket, split_s3_uri
from utils.cloud.glue import logs
from utils.cloud.glue.exceptions import ConcurrentRunsExceeded, EntityNotFound, InvalidInput, from_moto
from utils.cloud.glue.regional import RealState, RegionalGlue
from utils.config import PROJECT_ROOT, get_settings

# Folder holding the ``awsglue`` compatibility package every run can import.
RUNTIME_DIR = Path(__file__).resolve().parent / "runtime"

# AWS Glue's default job timeout (48 hours), in minutes.
DEFAULT_TIMEOUT_MINUTES = 2880

# Length of a Timeout "minute". Tests shrink it to check TIMEOUT without waiting
# minutes; nothing else should change it.
SECONDS_PER_MINUTE = 60.0

# After SIGTERM, how long a stopped or timed-out script may clean up before SIGKILL.
KILL_GRACE_SECONDS = 3.0

ACTIVE_STATES = ("STARTING", "RUNNING", "STOPPING", "WAITING")
FINAL_STATES = ("SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR", "EXPIRED")

# One lock for every run's state changes: StartJobRun's concurrency check and a
# finishing run must not interleave (werkzeug serves requests on threads).
_LOCK = threading.RLock()


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LocalJobRun(RealState, FakeJobRun):
    """A job run whose state is the state of a real process (moto's run model, made real)."""

    def __init__(self, job: FakeJob, arguments: dict[str, str], timeout_minutes: int,
                 attempt: int = 0, previous_run_id: str | None = None) -> None:
        super().__init__(job_name=job.name, arguments=arguments,
                         allocated_capacity=job.allocated_capacity,
                         max_capacity=job.max_capacity, timeout=timeout_minutes,
                         worker_type=job.worker_type,
                         number_of_workers=job.number_of_workers,
                         notification_property=job.notification_property,
                         security_configuration=job.security_configuration)
        self.previous_run_id = previous_run_id
        self.attempt = attempt
        self.glue_version = job.glue_version
        self.execution_class = job.execution_class
        self.state = "STARTING"
        self.started_on = _utcnow()
        self.modified_on = self.started_on
        self.completed_on: datetime | None = None
        self.error_message: str | None = None
        self.execution_seconds = 0.0
        self.exit_code: int | None = None
        self.stop_requested = False
        self.process: subprocess.Popen[str] | None = None
        # The script's identity, so a run orphaned by a crash of the cloud can be stopped.
        self.pid: int | None = None
        self.process_start: int | None = None
        self.finished = threading.Event()

    @property
    def is_active(self) -> bool:
        """True until the run reached a final state."""
        return self.state in ACTIVE_STATES

    def set_state(self, state: str, error_message: str | None = None) -> None:
        """Move to ``state``; a final state also stamps CompletedOn."""
        with _LOCK:
            self.state = state
            self.modified_on = _utcnow()
            if error_message:
                self.error_message = error_message
            if state in FINAL_STATES:
                self.completed_on = self.modified_on
                self.finished.set()
        persistence.changed("glue", wait=False)

    def __getstate__(self) -> dict[str, Any]:
        """Saved without the live process and event (persistence pickles runs)."""
        state = self.__dict__.copy()
        state.pop("process", None)
        state.pop("finished", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.process = None
        self.finished = threading.Event()
        if self.state in FINAL_STATES:
            self.finished.set()

    def as_dict(self) -> dict[str, Any]:
        """The run as GetJobRun's ``JobRun`` structure."""
        out: dict[str, Any] = {
            "Id": self.job_run_id,
            "Attempt": self.attempt,
            "JobName": self.job_name,
            "StartedOn": self.started_on,
            "LastModifiedOn": self.modified_on,
            "JobRunState": self.state,
            "Arguments": dict(self.arguments or {}),
            "PredecessorRuns": [],
            "ExecutionTime": int(round(self.execution_seconds)),
            "Timeout": self.timeout,
            "LogGroupName": logs.JOB_LOG_GROUP,
            "ExecutionClass": self.execution_class,
        }
        optional = {
            "CompletedOn": self.completed_on,
            "ErrorMessage": self.error_message,
            "PreviousRunId": self.previous_run_id,
            "GlueVersion": self.glue_version,
            "AllocatedCapacity": self.allocated_capacity,
            "MaxCapacity": self.max_capacity,
            "WorkerType": self.worker_type,
            "NumberOfWorkers": self.number_of_workers,
            "SecurityConfiguration": self.security_configuration,
            "NotificationProperty": self.notification_property,
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        return out


def local_endpoint() -> str:
    """URL of this local cloud, for job scripts' AWS clients.

    The server publishes itself through ``AWS_ENDPOINT_URL`` / ``DELAB_CLOUD_PORT``
    in its own environment; a non-loopback ``AWS_ENDPOINT_URL`` is not ours.
    """
    url = os.environ.get("AWS_ENDPOINT_URL", "")
    if urlparse(url).hostname in ("127.0.0.1", "localhost", "::1"):
        return url
    return get_settings().endpoint_url


def job_environment(endpoint: str, region: str, extra_paths: list[str]) -> dict[str, str]:
    """The environment a job script runs with: the server's, pointed at the local cloud.

    The project folder is removed from ``PYTHONPATH`` (AWS Glue would not have
    ``utils``); the ``awsglue`` compatibility package and any ``--extra-py-files``
    are added.
    """
    env = dict(os.environ)
    kept = [p for p in env.get("PYTHONPATH", "").split(os.pathsep)
            if p and Path(p).resolve() != PROJECT_ROOT]
    env["PYTHONPATH"] = os.pathsep.join([str(RUNTIME_DIR), *extra_paths, *kept])
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        env.pop(key, None)
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_DEFAULT_REGION=region,
        AWS_REGION=region,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - the local cloud's fixed test key
        DELAB_TARGET="local",
        PYTHONUNBUFFERED="1",  # so output reaches CloudWatch while the script runs
    )
    return env


def script_argv(script: Path, job_name: str, run_id: str, arguments: dict[str, str]) -> list[str]:
    """``python script.py --JOB_NAME <job> --JOB_RUN_ID <id> --key value ...`` as Glue calls it."""
    argv = [sys.executable, str(script), "--JOB_NAME", job_name, "--JOB_RUN_ID", run_id]
    for key, value in arguments.items():
        argv += [key if key.startswith("--") else f"--{key}", str(value)]
    return argv


def error_line(stderr_tail: list[str], exit_code: int, limit: int = 2000) -> str:
    """What best says why a script failed: its traceback's last line.

    Without a traceback, the script's last message: its last unindented stderr
    line with the indented lines that follow it (a headline and its details,
    as the ETL job prints them), joined into one line. Else AWS Glue's wording.
    """
    lines = [line.rstrip() for line in stderr_tail if line.strip()]
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].startswith("Traceback (most recent call last)"):
            after = [line for line in lines[index + 1:] if not line[:1].isspace()]
            if after:
                return after[-1]
    if lines:
        starts = [i for i, line in enumerate(lines) if not line[:1].isspace()]
        message = " ".join(line.strip() for line in lines[starts[-1] if starts else -1:])
        return message if len(message) <= limit else message[:limit - 3] + "..."
    return f"Command failed with exit code {exit_code}"


class JobRunner(RegionalGlue):
    """Starts, tracks and stops real Glue job runs for one region of the local cloud."""

    def _job(self, job_name: str) -> FakeJob:
        try:
            return self.catalog.backend.get_job(job_name)
        except Exception as exc:  # moto's EntityNotFoundException
            raise from_moto(exc) from None

    def start_job_run(self, job_name: str, arguments: dict[str, str] | None = None,
                      timeout_minutes: int | None = None,
                      previous_run_id: str | None = None) -> LocalJobRun:
        """Start a run of ``job_name`` in the background and return it (state STARTING).

        ``previous_run_id`` (StartJobRun's ``JobRunId``) marks the run as a retry of that run.
        """
        job = self._job(job_name)
        if timeout_minutes is not None and timeout_minutes < 1:
            raise InvalidInput("Timeout must be at least 1 minute.")
        with _LOCK:
            limit = int((job.execution_property or {}).get("MaxConcurrentRuns", 1))
            active = [r for r in job.job_runs if r.status in ACTIVE_STATES]
            if len(active) >= limit:
                raise ConcurrentRunsExceeded(
                    f"Concurrent runs exceeded for {job_name}: {len(active)} run(s) active and "
                    f"ExecutionProperty.MaxConcurrentRuns is {limit}. Wait for run "
                    f"{active[-1].job_run_id} to finish (aws glue get-job-run), stop it "
                    "(aws glue batch-stop-job-run), or raise MaxConcurrentRuns.")
            run = LocalJobRun(job, dict(arguments or {}),
                              timeout_minutes or job.timeout or DEFAULT_TIMEOUT_MINUTES,
                              previous_run_id=previous_run_id)
            job.job_runs.append(run)
        persistence.changed("glue", wait=False)
        self._launch(job, run)
        return run

    def update_job(self, job_name: str, update: dict[str, Any]) -> None:
        """UpdateJob: the job's definition becomes ``update`` (Glue overwrites it whole).

        Fields not given are reset to their defaults, as on AWS; Role and Command are
        required. Runs already started keep their settings; new runs (and StartJobRun's
        concurrency check) use the new ones, e.g. a raised MaxConcurrentRuns.
        """
        job = self._job(job_name)
        missing = [name for name in ("Role", "Command") if not update.get(name)]
        if missing:
            raise InvalidInput(
                f"JobUpdate.{' and JobUpdate.'.join(missing)} {'is' if len(missing) == 1 else 'are'} "
                "required: UpdateJob replaces the whole job definition. Start from the current "
                f"one (`aws glue get-job --job-name {job_name}`) and change what you need.")
        limit = (update.get("ExecutionProperty") or {}).get("MaxConcurrentRuns", 1)
        if not isinstance(limit, int) or limit < 1:
            raise InvalidInput("ExecutionProperty.MaxConcurrentRuns must be a whole number of at least 1.")
        timeout = update.get("Timeout")
        if timeout is not None and (not isinstance(timeout, int) or timeout < 1):
            raise InvalidInput("Timeout must be at least 1 minute.")
        with _LOCK:
            for field, attribute, default in _JOB_FIELDS:
                value = update.get(field)
                setattr(job, attribute, default() if value is None and default else value)
            job.last_modified_on = _utcnow()
        persistence.changed("glue", wait=False)

    def _launch(self, job: FakeJob, run: LocalJobRun) -> None:
        thread = threading.Thread(target=self._execute, args=(job, run),
                                  name=f"glue-run-{run.job_run_id[:12]}", daemon=True)
        thread.start()

    def get_job_run(self, job_name: str, run_id: str) -> LocalJobRun:
        """One run of a job (EntityNotFoundException when unknown)."""
        for run in self._job(job_name).job_runs:
            if run.job_run_id == run_id:
                return run
        raise EntityNotFound(f"Job run {run_id} of job {job_name} not found. List the job's runs "
                             f"with `aws glue get-job-runs --job-name {job_name}`.")

    def get_job_runs(self, job_name: str) -> list[LocalJobRun]:
        """Every run of a job, newest first (as GetJobRuns lists them)."""
        return sorted(self._job(job_name).job_runs, key=lambda r: r.started_on, reverse=True)

    def stop_job_runs(self, job_name: str, run_ids: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
        """Stop active runs; return (stopped ids, [(id, why not)])."""
        stopped, errors = [], []
        for run_id in run_ids:
            try:
                run = self.get_job_run(job_name, run_id)
            except EntityNotFound as exc:
                errors.append((run_id, exc.message))
                continue
            with _LOCK:
                if not run.is_active or run.state == "STOPPING":
                    errors.append((run_id, f"Job run {run_id} is {run.state}; only STARTING or "
                                           "RUNNING runs can be stopped."))
                    continue
                run.stop_requested = True
                run.set_state("STOPPING")
            terminate(run.process)
            stopped.append(run_id)
        return stopped, errors

    # -- execution (a background thread per run) ----------------------------------

    def _execute(self, job: FakeJob, run: LocalJobRun) -> None:
        workdir = Path(tempfile.mkdtemp(prefix="glue-job-run-"))
        output = logs.StreamWriter(logs.JOB_OUTPUT_GROUP, run.job_run_id, self.region)
        errors = logs.StreamWriter(logs.JOB_ERROR_GROUP, run.job_run_id, self.region)
        for group in (logs.JOB_OUTPUT_GROUP, logs.JOB_ERROR_GROUP):
            logs.ensure_stream(group, run.job_run_id, self.region)
        try:
            merged = {**(job.default_arguments or {}), **(run.arguments or {}),
                      **(job.non_overridable_arguments or {})}
            try:
                script = self._fetch_script(job, workdir)
                extra_paths = self._fetch_extra_py_files(merged.get("--extra-py-files", ""), workdir)
            except _SetupError as exc:
                errors.write(str(exc))
                run.set_state("FAILED", str(exc))
                return
            if merged.get("--additional-python-modules"):
                # pip would need the internet; the local cloud is offline by design.
                errors.write("WARN --additional-python-modules is not installed by the local cloud; "
                             "the job uses the packages of the lab's Python environment.")
            if run.stop_requested:
                run.set_state("STOPPED")
                return
            self._run_process(run, script, merged, extra_paths, workdir, output, errors)
        except Exception as exc:  # a bug of ours must not leave a run RUNNING forever
            run.set_state("FAILED", f"Local Glue could not run the job: {exc!r}")
        finally:
            output.flush()
            errors.flush()
            shutil.rmtree(workdir, ignore_errors=True)
            self._after(job, run)

    def _fetch_script(self, job: FakeJob, workdir: Path) -> Path:
        location = (job.command or {}).get("ScriptLocation")
        if not location:
            raise _SetupError(f"Job {job.name} has no Command.ScriptLocation. Update the job with the "
                              "s3:// path of its script.")
        try:
            bucket, key = split_s3_uri(location)
            body = self.store.get(bucket, key)
        except (ValueError, KeyError, NoSuchBucket):
            body = None
        if body is None or not key:
            raise _SetupError(
                f"Script {location} not found in S3 (Command.ScriptLocation of job {job.name}). "
                f"Upload it first, e.g. `aws s3 cp my_job.py {location}`, or fix the job's "
                "ScriptLocation.")
        script = workdir / (Path(key).name or "script.py")
        script.write_bytes(body)
        return script

    def _fetch_extra_py_files(self, spec: str, workdir: Path) -> list[str]:
        """Download ``--extra-py-files`` (comma-separated s3 paths: .py files or .zip/.whl)."""
        paths: list[str] = []
        if not spec:
            return paths
        extra = workdir / "extra-py-files"
        extra.mkdir()
        for uri in (u.strip() for u in spec.split(",")):
            if not uri:
                continue
            try:
                bucket, key = split_s3_uri(uri)
                data = self.store.get(bucket, key)
            except (ValueError, KeyError, NoSuchBucket):
                raise _SetupError(f"--extra-py-files: {uri} not found in S3. Upload it or remove it "
                                  "from the job's arguments.") from None
            target = extra / Path(key).name
            target.write_bytes(data)
            # .py files are importable from their folder; archives are importable as path entries
            paths.append(str(extra) if target.suffix == ".py" else str(target))
        return list(dict.fromkeys(paths))

    def _run_process(self, run: LocalJobRun, script: Path, arguments: dict[str, str],
                     extra_paths: list[str], workdir: Path, output: logs.StreamWriter,
                     errors: logs.StreamWriter) -> None:
        argv = script_argv(script, run.job_name, run.job_run_id, arguments)
        env = job_environment(local_endpoint(), self.region, extra_paths)
        started = time.monotonic()
        # A new session makes the script's children part of one process group we can kill.
        process = subprocess.Popen(argv, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   encoding="utf-8", errors="replace", start_new_session=True)
        with _LOCK:
            run.process = process
            run.pid, run.process_start = process.pid, process_start_ticks(process.pid)
            if run.stop_requested:
                terminate(process)
            else:
                run.set_state("RUNNING")
        stderr_tail: deque[str] = deque(maxlen=60)
        readers = [
            threading.Thread(target=_pump, args=(process.stdout, output, None), daemon=True),
            threading.Thread(target=_pump, args=(process.stderr, errors, stderr_tail), daemon=True),
        ]
        for reader in readers:
            reader.start()
        timeout_s = (run.timeout or DEFAULT_TIMEOUT_MINUTES) * SECONDS_PER_MINUTE
        timed_out = False
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            terminate(process)
            process.wait()
        run.execution_seconds = time.monotonic() - started
        for reader in readers:
            reader.join(timeout=5)
        run.exit_code = process.returncode
        if run.stop_requested:
            run.set_state("STOPPED")
        elif timed_out:
            message = (f"Job run timed out after {run.timeout} minute(s) (the job's Timeout) and "
                       "was stopped. Make the script faster or raise the Timeout.")
            errors.write(message)
            run.set_state("TIMEOUT", message)
        elif process.returncode == 0:
            run.set_state("SUCCEEDED")
        else:
            line = error_line(list(stderr_tail), process.returncode)
            run.set_state("FAILED", f"{line} (exit code {process.returncode}; full output in "
                                    f"CloudWatch Logs {logs.JOB_ERROR_GROUP}, stream {run.job_run_id})")

    def _after(self, job: FakeJob, run: LocalJobRun) -> None:
        """Retry a failed run when the job allows it (MaxRetries)."""
        if run.state == "FAILED" and run.attempt < int(job.max_retries or 0) \
                and self.catalog.backend.jobs.get(job.name) is job:
            with _LOCK:
                retry = LocalJobRun(job, dict(run.arguments or {}), run.timeout or DEFAULT_TIMEOUT_MINUTES,
                                    attempt=run.attempt + 1, previous_run_id=run.job_run_id)
                job.job_runs.append(retry)
            persistence.changed("glue", wait=False)
            self._launch(job, retry)


# JobUpdate field -> moto's FakeJob attribute, and the default when the field is left out.
_JOB_FIELDS: list[tuple[str, str, Any]] = [
    ("Description", "description", None), ("LogUri", "log_uri", None), ("Role", "role", None),
    ("ExecutionProperty", "execution_property", dict), ("Command", "command", None),
    ("DefaultArguments", "default_arguments", dict),
    ("NonOverridableArguments", "non_overridable_arguments", None),
    ("Connections", "connections", None), ("MaxRetries", "max_retries", None),
    ("AllocatedCapacity", "allocated_capacity", None), ("Timeout", "timeout", None),
    ("MaxCapacity", "max_capacity", None), ("WorkerType", "worker_type", None),
    ("NumberOfWorkers", "number_of_workers", None),
    ("SecurityConfiguration", "security_configuration", None),
    ("NotificationProperty", "notification_property", None), ("GlueVersion", "glue_version", None),
    ("CodeGenConfigurationNodes", "code_gen_configuration_nodes", None),
    ("ExecutionClass", "execution_class", lambda: "STANDARD"),
    ("SourceControlDetails", "source_control_details", None),
]


class _SetupError(Exception):
    """The run cannot start (script or extra files missing): the run FAILS with this text."""


def _pump(pipe: Any, writer: logs.StreamWriter, tail: deque[str] | None) -> None:
    """Copy a process pipe line by line to a log stream (and keep the last lines)."""
    for line in pipe:
        writer.write(line)
        if tail is not None:
            tail.append(line)
    pipe.close()


def process_start_ticks(pid: int) -> int | None:
    """When the process started (clock ticks since boot, ``/proc/<pid>/stat``), None if gone.

    A pid alone can be reused by an unrelated process; pid + start time cannot.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22; the command name (field 2, in parentheses) may itself contain spaces.
    return int(stat.rsplit(")", 1)[1].split()[19])


def terminate(process: subprocess.Popen[str] | None) -> None:
    """SIGTERM the script's process group; SIGKILL it if it is still there after a grace period."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return

    def kill_later() -> None:
        try:
            process.wait(timeout=KILL_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

    threading.Thread(target=kill_later, daemon=True).start()


_RUNNERS: dict[str, JobRunner] = {}


def runner(region: str | None = None) -> JobRunner:
    """The job runner of a region (one per process)."""
    region = region or get_settings().region
    with _LOCK:
        if region not in _RUNNERS:
            _RUNNERS[region] = JobRunner(region)
        return _RUNNERS[region]
