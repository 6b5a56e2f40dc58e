"""Start, stop and inspect the local cloud as a background process, known by identity.

The process is recorded in ``.delab/run/cloud.json`` (pid, kernel start time, command,
working directory, port, state directory, project root, and a random tag in its
environment: see :mod:`utils.services.processes`). The cloud also answers
``GET /delab-api/identity`` with its project root (:mod:`utils.cloud.identity`).

- :func:`start` reuses a running cloud only when the record matches the live process AND
  the cloud on our port says it belongs to this checkout; a stale record is reported and
  forgotten, never signalled; a port held by another program (or another checkout's cloud)
  is left alone and our cloud moves to the next free port (remembered in ``.env``).
- :func:`stop` signals the recorded pid only after verifying it, then its own descendants
  (Glue job subprocesses, each in a session of its own) and orphans that carry its tag.
  No process group is ever signalled.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from utils.cloud import identity as identity_api
from utils.config import PROJECT_ROOT, STATE_DIR, Settings, get_settings
from utils.services import ports, processes

CLOUD_DIR = STATE_DIR / "cloud"
LOG_FILE = CLOUD_DIR / "cloud.log"
LEGACY_PID_FILE = CLOUD_DIR / "cloud.pid"  # before records (issue #12): adopted once if verified
SERVICE = "cloud"


# How long a cloud verified as ours in /proc may take to answer its identity request.
IDENTITY_PATIENCE_S = 15.0


class CloudError(RuntimeError):
    """The local cloud could not be started or reached; the message says why and what to do."""


def identity_of(port: int, timeout: float = 2.0) -> dict[str, Any] | None:
    """What the local cloud on ``port`` says about itself; None when nothing of ours answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{identity_api.PATH}",  # noqa: S310
                                    timeout=timeout) as resp:
            if resp.status != 200:
                return None
            data = json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "project_root" in data else None


@dataclass(frozen=True)
class CloudState:
    """The local cloud as ``up``/``status``/``down`` see it."""

    record: processes.ProcessRecord | None
    check: processes.Check | None
    answer: dict[str, Any] | None  # the identity answer on the recorded port

    @property
    def ours(self) -> bool:
        """Recorded, verified in /proc, and answering with our project root and pid."""
        return bool(self.check and self.check.ours and self.answer
                    and self.answer.get("project_root") == str(PROJECT_ROOT)
                    and self.answer.get("pid") == self.record.pid)  # type: ignore[union-attr]


def _adopt(pid: int, port: int) -> bool:
    """Record a cloud that runs without a record (started before records existed, or its
    record was lost) when it is provably ours: our command, working in our project root,
    and answering on ``port`` with our root and its own pid."""
    cmd = processes.cmdline(pid) or []
    if not (processes.pid_alive(pid) and "utils.cloud" in cmd and "serve" in cmd
            and processes.cwd(pid) == str(PROJECT_ROOT)):
        return False
    answer = identity_of(port)
    if not (answer and answer.get("project_root") == str(PROJECT_ROOT) and answer.get("pid") == pid):
        return False
    processes.save_record(processes.ProcessRecord.of(
        SERVICE, pid, port=port, data_dir=CLOUD_DIR, tag=answer.get("tag") or "",
        expected_cwd=PROJECT_ROOT, log=LOG_FILE))
    return True


def _adopt_legacy() -> None:
    """A cloud started before records existed (bare ``cloud.pid``): record it if it is ours.

    Such a cloud has no identity endpoint, so the proof is the kernel's: our command, run in
    our project root, listening on the port its command names. It is recorded without a
    tag, which :func:`start` reads as "restart it" (and :func:`stop` may stop it).
    """
    try:
        pid = int(LEGACY_PID_FILE.read_text().strip())
    except (OSError, ValueError):
        return
    LEGACY_PID_FILE.unlink(missing_ok=True)
    if processes.load_record(SERVICE) is not None:
        return
    cmd = processes.cmdline(pid) or []
    port = int(cmd[cmd.index("--port") + 1]) if "--port" in cmd[:-1] else get_settings().cloud_port
    if (processes.pid_alive(pid) and cmd[1:3] == ["-m", "utils.cloud"] and "serve" in cmd
            and processes.cwd(pid) == str(PROJECT_ROOT) and pid in ports.holders(port)):
        processes.save_record(processes.ProcessRecord.of(
            SERVICE, pid, port=port, data_dir=CLOUD_DIR, tag="", expected_cwd=PROJECT_ROOT, log=LOG_FILE))
        return
    print(f"local cloud: ignoring the old pid file ({pid}): that process is not our cloud; "
          "left alone.", flush=True)


def state() -> CloudState:
    """Read the record and compare it with the machine (signals nothing, changes nothing)."""
    record = processes.load_record(SERVICE)
    if record is None:
        return CloudState(None, None, None)
    check = processes.check(record, expected_cwd=PROJECT_ROOT)
    answer = None
    if check.ours:
        # Our process by pid, start time, command and cwd: give it time to answer (a loaded
        # machine or a cloud still restoring its state can take seconds), so that a slow
        # answer is never taken for a stranger and its record forgotten.
        deadline = time.monotonic() + IDENTITY_PATIENCE_S
        answer = identity_of(record.port)
        while answer is None and time.monotonic() < deadline and processes.pid_alive(record.pid):
            time.sleep(0.5)
            answer = identity_of(record.port, timeout=5.0)
    return CloudState(record, check, answer)


def running_pid() -> int | None:
    """Pid of the local cloud we started, when its identity is verified."""
    s = state()
    return s.record.pid if s.ours and s.record else None


def answers(settings: Settings | None = None, timeout: float = 2.0) -> bool:
    """True when OUR local cloud answers on the configured port (any other cloud does not count)."""
    s = settings or get_settings()
    answer = identity_of(s.cloud_port, timeout)
    return bool(answer and answer.get("project_root") == str(PROJECT_ROOT))


def _forget_stale(current: CloudState) -> None:
    """Report a record that is not ours in one line and forget it; never signal its pid."""
    if current.record is None or current.check is None:
        return
    problem = current.check.problem or (
        f"cloud record (pid {current.record.pid}) does not answer as this checkout's cloud on "
        f"port {current.record.port}")
    print(f"local cloud: {problem}; left alone, record removed.", flush=True)
    if not current.check.alive:
        _stop_orphans(current.record)
    processes.remove_record(SERVICE)


def _stop_orphans(record: processes.ProcessRecord, timeout: float = 10.0) -> list[int]:
    """Stop job subprocesses left by a cloud that died first (they carry its tag)."""
    orphans = processes.tagged_processes(record)
    if not orphans:
        return []
    ticks = {pid: processes.start_ticks(pid) for pid in orphans}
    done = processes.terminate(orphans, ticks, timeout)
    if done:
        print(f"local cloud: stopped {len(done)} job process(es) left by the old cloud "
              f"(pids {', '.join(map(str, done))}; they carried its tag).", flush=True)
    return done


def _wait_for_answer(current: CloudState, timeout: float) -> CloudState:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not current.ours:
        time.sleep(0.3)
        current = state()
        if current.check is None or not current.check.ours:
            break
    return current


def start(settings: Settings | None = None, timeout: float = 60.0) -> int:
    """Start the local cloud in the background (or reuse OURS); return its pid.

    Changes ``DELAB_CLOUD_PORT`` in ``.env`` when the configured port is held by another
    program (see :func:`utils.services.ports.move_or_refuse`).
    """
    s = settings or get_settings()
    _adopt_legacy()
    current = state()
    if current.record is not None and current.check is not None and current.check.ours \
            and not current.record.tag:
        # Ours (verified in /proc) but started by a version without identity requests.
        print(f"local cloud: restarting pid {current.record.pid}, started by an older version "
              "of this checkout, so that it answers identity requests.", flush=True)
        stop()
        current = CloudState(None, None, None)
    if current.ours and current.answer is not None \
            and current.answer.get("code") != identity_api.code_fingerprint():
        # Ours, but its code is not this checkout's any more (a pull, a merge, an edit): the
        # state is durable, so a restart loses nothing and the tests see the code they test.
        print(f"local cloud: restarting pid {current.record.pid}: this checkout's code changed "  # type: ignore[union-attr]
              "since it started (its state is kept).", flush=True)
        stop()
        current = CloudState(None, None, None)
    if current.check is not None and current.check.ours and not current.ours:
        # Our process (verified in /proc) that does not answer as ours yet: starting, or hung.
        current = _wait_for_answer(current, timeout)
        if current.check is not None and current.check.ours and not current.ours:
            raise CloudError(
                f"Our local cloud (pid {current.check.record.pid}) runs but does not answer as this "
                f"checkout's cloud on port {current.check.record.port}; see {LOG_FILE}. "
                "`make down` stops it; then `make up`.")
    if current.ours and current.record is not None:
        if current.record.port == s.cloud_port:
            return current.record.pid
        raise CloudError(
            f"Our local cloud runs on port {current.record.port} (pid {current.record.pid}, state in "
            f"{current.record.data_dir}) but DELAB_CLOUD_PORT is now {s.cloud_port}. Run `make down` "
            f"first (it stops ours), then `make up` starts it on {s.cloud_port}; or set "
            f"DELAB_CLOUD_PORT={current.record.port} again.")
    if current.record is not None:
        _forget_stale(current)
    port = s.cloud_port
    answer = identity_of(port)
    if answer and answer.get("project_root") == str(PROJECT_ROOT) and isinstance(answer.get("pid"), int) \
            and _adopt(answer["pid"], port):
        print(f"local cloud: found ours running without a record (pid {answer['pid']}); recorded it.",
              flush=True)
        return int(answer["pid"])
    if not ports.port_is_free(port):
        try:
            port = ports.move_or_refuse("DELAB_CLOUD_PORT", port, ports.describe_holder(port),
                                        "local cloud")
        except ports.PortTaken as exc:
            raise CloudError(str(exc)) from None
    return _spawn(port, timeout)


def _spawn(port: int, timeout: float) -> int:
    CLOUD_DIR.mkdir(parents=True, exist_ok=True)
    tag = secrets.token_hex(16)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PYTHONUNBUFFERED": "1",
           processes.TAG_VARIABLE: tag, identity_api.DAEMON_DIR_VARIABLE: str(CLOUD_DIR),
           "DELAB_CLOUD_PORT": str(port)}
    with LOG_FILE.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "utils.cloud", "serve", "--port", str(port)],
            cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=env, start_new_session=True,  # survives the shell that ran `make up`
        )
    # Recorded at once (exec has happened when Popen returns): a start-up interrupted
    # half-way still leaves a record that `make down` can verify and act on.
    processes.save_record(processes.ProcessRecord.of(
        SERVICE, proc.pid, port=port, data_dir=CLOUD_DIR, tag=tag, expected_cwd=PROJECT_ROOT,
        log=LOG_FILE))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            processes.remove_record(SERVICE)
            tail = [line for line in LOG_FILE.read_text(errors="replace").splitlines()[-20:] if line]
            last = tail[-1] if tail else "(empty log)"
            raise CloudError(f"The local cloud exited during start-up: {last} (full log: {LOG_FILE}).")
        answer = identity_of(port, timeout=0.5)
        if answer and answer.get("tag") == tag:
            return proc.pid
        if answer:  # someone else's cloud took the port while ours was starting
            break
        time.sleep(0.2)
    stop()
    raise CloudError(f"The local cloud did not answer on port {port} within {timeout:.0f}s; "
                     f"see {LOG_FILE}.")


def stop(timeout: float = 30.0) -> bool:
    """Stop the local cloud we started, after verifying its identity; return whether it ran.

    SIGTERM first (the cloud writes what it still holds, then exits), SIGKILL after
    ``timeout``. Its descendants (Glue job subprocesses run in sessions of their own, so a
    process group would miss them) are listed before the cloud is signalled, then stopped
    with it; so are
    orphans of an earlier cloud that carry its tag. A record that does not verify is
    reported and forgotten: its pid is never signalled.
    """
    _adopt_legacy()
    record = processes.load_record(SERVICE)
    if record is not None:
        check = processes.check(record, expected_cwd=PROJECT_ROOT)
        if not check.ours:
            _forget_stale(CloudState(record, check, None))
            record = None
    if record is None:  # ours may still run without a record (lost): adopt it if it proves ours
        port = get_settings().cloud_port
        answer = identity_of(port, timeout=1.0)
        if not (answer and isinstance(answer.get("pid"), int) and _adopt(answer["pid"], port)):
            return False
        record = processes.load_record(SERVICE)
        if record is None:
            return False
    children = processes.descendants(record.pid)
    tagged = [p for p in processes.tagged_processes(record) if p not in children]
    ours = [record.pid, *children, *tagged]
    ticks = {pid: processes.start_ticks(pid) for pid in ours}
    ticks[record.pid] = record.start_ticks
    processes.terminate(ours, ticks, timeout)
    processes.remove_record(SERVICE)
    return True


def log_path() -> Path:
    """Where the local cloud writes its log."""
    return LOG_FILE
