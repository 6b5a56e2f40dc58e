"""Processes known by identity: what we started, recorded so we never signal a stranger.

A bare pid file is not an identity: after a crash or a reboot the pid can belong to any
other program, and signalling it (or worse, its process group) harms the machine. Every
process the lab starts (the local cloud, our own MariaDB server) is therefore recorded in
a small JSON file under ``.delab/run/`` with

- ``pid`` and ``start_ticks`` (field 22 of ``/proc/<pid>/stat``: the start time in clock
  ticks since boot) plus the kernel's ``boot_id``: together unique for the machine's life;
- ``cmdline``: the command line as the kernel reports it;
- ``cwd``: the directory the process works in (the project root for the cloud, the data
  directory for mariadbd, which changes into it);
- ``port``, ``data_dir``, ``project_root`` and a random ``tag`` put in the process's
  environment (its children inherit it: that is how Glue job subprocesses are known).

:func:`check` compares a record with the live process; only a record whose every field
matches, written by THIS project root, is ``ours``. Anything else is reported in one line
and never signalled. Records are written atomically (temporary file, fsync, rename), so a
crash leaves the old record or the new one, never half of one.

Where ``/proc`` is missing (macOS) the start time and command come from ``ps``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path

from utils.config import PROJECT_ROOT, STATE_DIR

RUN_DIR = STATE_DIR / "run"
TAG_VARIABLE = "DELAB_PROCESS_TAG"
PROC = Path("/proc")


# ------------------------------------------------------------------ /proc facts

def pid_alive(pid: int) -> bool:
    """True when the process exists and is not a zombie (killed but not yet reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user (mariadbd runs as mysql)
    except OSError:
        return False
    fields = _stat_fields(pid)
    if fields is None:
        return not PROC.is_dir()  # no /proc (macOS): trust kill(0); with /proc: it just exited
    return fields[0] != "Z"


def _stat_fields(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/<pid>/stat (after the command name, which may hold spaces)."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    try:
        return text.rsplit(")", 1)[1].split()
    except IndexError:
        return None


def start_ticks(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot (/proc/<pid>/stat field 22)."""
    fields = _stat_fields(pid)
    if fields is None or len(fields) < 20:
        return None
    return int(fields[19])  # field 22 overall; fields[0] is field 3 (state)


def parent_pid(pid: int) -> int | None:
    """Parent pid (field 4 of /proc/<pid>/stat)."""
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else None


def boot_id() -> str:
    """The kernel's id of this boot (changes at every restart); empty where unknown."""
    try:
        return (PROC / "sys" / "kernel" / "random" / "boot_id").read_text().strip()
    except OSError:
        return ""


def started_at(pid: int) -> str:
    """Wall-clock start time of ``pid`` (local, to the second); empty where unknown."""
    ticks = start_ticks(pid)
    if ticks is not None:
        try:
            btime = next(int(line.split()[1]) for line in (PROC / "stat").read_text().splitlines()
                         if line.startswith("btime "))
        except (OSError, StopIteration, ValueError):
            return ""
        moment = btime + ticks / os.sysconf("SC_CLK_TCK")
        return datetime.fromtimestamp(moment).isoformat(sep=" ", timespec="seconds")
    return _ps(pid, "lstart") or ""


def cmdline(pid: int) -> list[str] | None:
    """The command line of ``pid`` as the kernel reports it (None when unreadable)."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        text = _ps(pid, "command")
        return text.split() if text else None
    if not raw:
        return None  # kernel thread, or a zombie
    return [part.decode(errors="replace") for part in raw.rstrip(b"\0").split(b"\0")]


def cwd(pid: int) -> str | None:
    """The working directory of ``pid`` (None when not ours to read)."""
    try:
        return os.readlink(PROC / str(pid) / "cwd")
    except OSError:
        return None


def environ_value(pid: int, name: str) -> str | None:
    """Value of environment variable ``name`` in ``pid``'s start-up environment (None if unreadable)."""
    try:
        raw = (PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return None
    prefix = name.encode() + b"="
    for item in raw.split(b"\0"):
        if item.startswith(prefix):
            return item[len(prefix):].decode(errors="replace")
    return None


def _ps(pid: int, column: str) -> str | None:
    """One ``ps`` column for ``pid`` (systems without /proc)."""
    if PROC.is_dir():
        return None
    try:
        out = subprocess.run(["ps", "-o", f"{column}=", "-p", str(pid)], capture_output=True,
                             text=True, timeout=5, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out or None


def all_pids() -> list[int]:
    """Every pid visible in /proc."""
    try:
        return [int(p.name) for p in PROC.iterdir() if p.name.isdigit()]
    except OSError:
        return []


def describe(pid: int) -> str:
    """``pid 123 (mariadbd --datadir=...)``: enough to recognise a process."""
    cmd = cmdline(pid)
    if not cmd:
        return f"pid {pid}"
    text = " ".join(cmd)
    return f"pid {pid} ({text[:100]}{'...' if len(text) > 100 else ''})"


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (children first), from the parent links in /proc."""
    children: dict[int, list[int]] = {}
    for other in all_pids():
        parent = parent_pid(other)
        if parent is not None:
            children.setdefault(parent, []).append(other)
    found, queue = [], list(children.get(pid, []))
    while queue:
        child = queue.pop(0)
        found.append(child)
        queue.extend(children.get(child, []))
    return found


# ------------------------------------------------------------------ records

@dataclass
class ProcessRecord:
    """What we know about a process we started (see the module docstring)."""

    service: str
    pid: int
    start_ticks: int | None
    started_at: str
    boot_id: str
    cmdline: list[str]
    cwd: str
    port: int
    data_dir: str
    project_root: str
    tag: str
    log: str = ""

    @classmethod
    def of(cls, service: str, pid: int, *, port: int, data_dir: str | Path, tag: str,
           expected_cwd: str | Path, log: str | Path = "") -> ProcessRecord:
        """A record of the live process ``pid``, with the facts read from the kernel now.

        A child that ``Popen`` just started has exec'd, but the kernel closes the
        close-on-exec pipe that tells Popen so *before* it lays out the new program's
        arguments: for a moment ``/proc/<pid>/cmdline`` is empty. On a busy machine that
        moment is long enough to record an empty command line, which every later check would
        read as "runs another command". So the command line is read until it is there.
        """
        return cls(service=service, pid=pid, start_ticks=start_ticks(pid), started_at=started_at(pid),
                   boot_id=boot_id(), cmdline=_settled_cmdline(pid), cwd=str(expected_cwd), port=port,
                   data_dir=str(data_dir), project_root=str(PROJECT_ROOT), tag=tag, log=str(log))


def _settled_cmdline(pid: int, patience_s: float = 5.0) -> list[str]:
    """``pid``'s command line once the kernel shows one (a fresh exec shows none for a moment)."""
    deadline = time.monotonic() + patience_s
    while True:
        found = cmdline(pid)
        if found or time.monotonic() >= deadline or not pid_alive(pid):
            return found or []
        time.sleep(0.01)


def record_path(service: str, run_dir: Path | None = None) -> Path:
    """Where the record of ``service`` lives (``.delab/run/<service>.json``)."""
    return (run_dir or RUN_DIR) / f"{service}.json"


def save_record(record: ProcessRecord, run_dir: Path | None = None) -> Path:
    """Write the record atomically: a crash leaves the previous record or this one."""
    path = record_path(record.service, run_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as fh:
        json.dump(asdict(record), fh, indent=2)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return path
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return path


def load_record(service: str, run_dir: Path | None = None) -> ProcessRecord | None:
    """The record of ``service``, or None when there is none (or it cannot be read)."""
    path = record_path(service, run_dir)
    try:
        data = json.loads(path.read_text())
        known = {f.name for f in fields(ProcessRecord)}
        return ProcessRecord(**{k: v for k, v in data.items() if k in known})
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def remove_record(service: str, run_dir: Path | None = None) -> None:
    """Forget the record of ``service`` (the process itself is not touched)."""
    record_path(service, run_dir).unlink(missing_ok=True)


# ------------------------------------------------------------------ verification

@dataclass(frozen=True)
class Check:
    """The outcome of comparing a record with the machine.

    ``ours`` is True only when every recorded fact matches the live process. ``alive``
    says whether the recorded pid runs at all (ours or not). ``problem`` is the one-line
    reason when it is not ours.
    """

    record: ProcessRecord
    ours: bool
    alive: bool
    problem: str = ""


def check(record: ProcessRecord, expected_cwd: str | Path | None = None) -> Check:
    """Compare ``record`` with the live process; ``ours`` only when everything matches.

    ``expected_cwd``: where the caller's own process would work (the project root, the
    data directory); a record written by another checkout, or pointing at another
    checkout's process, fails here even when its pid and start time are right.
    """
    pid = record.pid
    label = f"{record.service} record (pid {pid})"
    if record.project_root != str(PROJECT_ROOT):
        return Check(record, False, pid_alive(pid),
                     f"{label} was written by another checkout ({record.project_root}): not ours")
    if not pid_alive(pid):
        return Check(record, False, False, f"{label} is stale: that process is no longer running")
    now_boot = boot_id()
    if record.boot_id and now_boot and record.boot_id != now_boot:
        return Check(record, False, True, f"{label} is from before the machine restarted; pid {pid} "
                     f"now belongs to another program: {describe(pid)}")
    ticks = start_ticks(pid)
    if record.start_ticks is not None and ticks is not None and ticks != record.start_ticks:
        return Check(record, False, True, f"{label} is stale: pid {pid} was reused by another program "
                     f"started {started_at(pid)}: {describe(pid)}")
    # No kernel start time to compare (no /proc): fall back on the wall-clock start.
    if (record.start_ticks is None or ticks is None) and (
            not record.started_at or record.started_at != started_at(pid)):
        return Check(record, False, True, f"{label}: cannot confirm the start time of pid {pid}; "
                         "treated as not ours")
    current = cmdline(pid)
    if current is not None and current != record.cmdline:
        return Check(record, False, True, f"{label} is stale: pid {pid} runs another command: "
                     f"{describe(pid)}")
    where = cwd(pid)
    wanted = str(expected_cwd) if expected_cwd is not None else record.cwd
    if where is not None and os.path.realpath(where) != os.path.realpath(wanted):
        return Check(record, False, True, f"{label}: pid {pid} works in {where}, not in {wanted}: "
                     "another checkout's process, not ours")
    if record.cwd and os.path.realpath(record.cwd) != os.path.realpath(wanted):
        return Check(record, False, True, f"{label} names {record.cwd}, not {wanted}: not ours")
    return Check(record, True, True)


def same_process(record: ProcessRecord, pid: int) -> bool:
    """True when ``pid`` is still the very process ``record`` describes (start time unchanged)."""
    ticks = start_ticks(pid)
    return pid_alive(pid) and (ticks is None or ticks == record.start_ticks)


def tagged_processes(record: ProcessRecord) -> list[int]:
    """Live processes that carry ``record``'s tag and started after it: its (orphaned) children.

    Used to stop Glue job subprocesses of a cloud that died (kill -9) before them: they
    are ours because they inherited the tag, which no other program has.
    """
    if not record.tag:
        return []
    found = []
    for pid in all_pids():
        if pid == record.pid or pid == os.getpid():
            continue
        if environ_value(pid, TAG_VARIABLE) != record.tag:
            continue
        ticks = start_ticks(pid)
        if record.start_ticks is not None and ticks is not None and ticks < record.start_ticks:
            continue
        found.append(pid)
    return found


def terminate(pids: list[int], verify: dict[int, int | None], timeout: float) -> list[int]:
    """SIGTERM each pid, wait, then SIGKILL the ones still alive; return those signalled.

    ``verify`` maps each pid to the start ticks it had when we identified it: a pid whose
    start time changed meanwhile (it exited and the number was reused) is never signalled.
    """
    def still_same(pid: int) -> bool:
        expected = verify.get(pid)
        ticks = start_ticks(pid)
        return pid_alive(pid) and (expected is None or ticks is None or ticks == expected)

    signalled = []
    for pid in pids:
        if still_same(pid):
            try:
                os.kill(pid, signal.SIGTERM)
                signalled.append(pid)
            except OSError:
                pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(still_same(p) for p in signalled):
        time.sleep(0.1)
    for pid in signalled:
        if still_same(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    return signalled
