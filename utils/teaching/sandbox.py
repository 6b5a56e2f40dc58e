"""Isolation of learner code while grading: namespaces, an unprivileged uid, limits (issue #15).

Every process that runs a learner's code during grading (the notebook's kernel, and the
process that re-runs a learner function's source for a grader) is started through
:func:`Job.launcher_argv`, which runs this file as a small launcher::

    python -I -S utils/teaching/sandbox.py launch SPEC.json -- ARGV...

The launcher (still the grader's user) joins the job's cgroup, sets rlimits and the
parent-death signal, drops to the job's own unprivileged uid (when the grader is root) and
execs **bubblewrap**: new user, pid, mount, network, IPC and UTS namespaces, a new session,
a root filesystem holding only the system directories, the Python installation, the
virtualenv and ``utils/`` (read-only) and the job's folder (read-write). Nothing else of the
machine exists inside: not the checkout's ``.env``, ``.delab``, ``solutions/`` or ``.git``, not
the submissions folder, not the other jobs. The pid namespace hides (and so protects) every
other process; when the job ends, killing bubblewrap kills every process the learner started,
whatever session or process group it made for itself.

With the grader running as root (this machine), each job also gets:

- its own uid (``1_000_000_000 + ...``, no account needed), so it can signal or read
  nothing of anyone else, even through a leak in the namespaces;
- a tmpfs of ``disk_mb`` as its folder, mounted in the worker's private mount namespace (so it
  disappears with the worker, even after ``kill -9``): the disk quota;
- a cgroup with ``memory_mb`` and ``processes`` limits: cgroup v2 when a writable v2 hierarchy
  offers the memory and pids controllers, else the v1 memory and pids hierarchies (what this
  machine has), else rlimits (``RLIMIT_AS``, ``RLIMIT_NPROC``) as a fallback.

Inside the sandbox the network has only a loopback interface. When the lab needs services,
the launcher starts the helper ``inside`` first: it listens on ``127.0.0.1:PORT`` inside the
namespace and relays each connection to a unix socket in the job's folder, where the
grader's gateway (:mod:`utils.teaching.gateway`) decides what may pass.

Should the grader die (``kill -9``), its :class:`Reaper`, a watcher started before any worker,
kills everything the batch started: by its batch cgroup (every worker joins it first), by the
jobs' own uids, and by pid; parent-death signals alone leave races.

This module imports only the standard library at the top: the launcher and the helper run
with ``python -I -S`` and must start fast.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BWRAP = "/usr/bin/bwrap"
MB = 1024 * 1024
UID_BASE = 1_000_000_000
"""Jobs run as ``UID_BASE + (worker pid << 8) + job number``: no account, no overlap."""
STAGING_PREFIX = "delab-grade-"

_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE, _PR_SET_NO_NEW_PRIVS = 1, 4, 38
_CLONE_NEWNS = 0x00020000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = (
    1, 2, 4, 32, 4096, 16384, 1 << 18)
_MNT_DETACH = 2


def _libc() -> Any:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p)
    return libc


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent dies (PR_SET_PDEATHSIG)."""
    if sys.platform == "linux":
        _libc().prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)


# --- installing bubblewrap -------------------------------------------------------------------


def ensure_bubblewrap() -> str | None:
    """Debian's bubblewrap (``apt-get install bubblewrap`` when root and missing); its path or None.

    Like ``utils.cli.ensure_chromium``: never a download of our own, only the system's package.
    """
    found = shutil.which("bwrap") or (BWRAP if os.path.exists(BWRAP) else None)
    if found or sys.platform != "linux":
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    print("==> Installing Debian's bubblewrap for grading isolation (one time)", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "bubblewrap"]
    if subprocess.run(cmd, env=env, check=False, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=False, capture_output=True)
        subprocess.run(cmd, env=env, check=False, capture_output=True)
    return shutil.which("bwrap")


# --- limits and what this machine offers ------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """Per-job resource limits."""

    memory_mb: int = 2048
    processes: int = 128
    disk_mb: int = 512
    open_files: int = 4096

    def describe(self) -> str:
        """``2048 MB memory, 128 processes, 512 MB disk``."""
        return f"{self.memory_mb} MB memory, {self.processes} processes, {self.disk_mb} MB disk"


@dataclass(frozen=True)
class Capabilities:
    """What isolation this machine can give (probed once, in the grader's main process)."""

    bwrap: str | None
    root: bool
    cgroup: str  # "v2", "v1" or "" (rlimits only)
    error: str = ""

    @property
    def namespaces(self) -> bool:
        """True when bubblewrap can build a sandbox here."""
        return bool(self.bwrap) and not self.error

    def describe(self, limits: Limits) -> str:
        """One line for the report: what each kernel gets."""
        if not self.namespaces:
            why = self.error or "bubblewrap is not installed (apt-get install bubblewrap)"
            return f"no namespaces ({why}): Landlock write sandbox and rlimits only"
        parts = ["bubblewrap: own user, pid, mount, network, IPC namespaces"]
        if self.root:
            parts.append("own unprivileged uid")
            parts.append(f"tmpfs of {limits.disk_mb} MB as its only writable folder")
        else:
            parts.append(f"files up to {limits.disk_mb} MB (RLIMIT_FSIZE; no total quota without root)")
        if self.cgroup:
            parts.append(f"cgroup {self.cgroup}: {limits.memory_mb} MB memory, {limits.processes} processes")
        else:
            parts.append(f"rlimits: {limits.memory_mb} MB address space, {limits.processes} processes")
        return "; ".join(parts)


_CAPABILITIES: Capabilities | None = None


def capabilities(refresh: bool = False) -> Capabilities:
    """Probe bubblewrap (installing it when possible), root and cgroups; cached per process."""
    global _CAPABILITIES
    if _CAPABILITIES is not None and not refresh:
        return _CAPABILITIES
    root = sys.platform == "linux" and os.geteuid() == 0
    bwrap = ensure_bubblewrap()
    error = ""
    if bwrap:
        error = _try_bwrap(bwrap, uid=UID_BASE + 1 if root else None)
    _CAPABILITIES = Capabilities(bwrap, root, _cgroup_kind() if root else "", error)
    return _CAPABILITIES


def _try_bwrap(bwrap: str, uid: int | None) -> str:
    """Run ``true`` in a sandbox the way jobs will be run; "" when it works, else why not."""

    def demote() -> None:
        if uid is not None:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)

    argv = [bwrap, "--unshare-all", "--die-with-parent", *_system_binds(), "--proc", "/proc",
            "--dev", "/dev", "true"]
    try:
        done = subprocess.run(argv, preexec_fn=demote, capture_output=True, text=True, timeout=20,
                              check=False)
    except (OSError, subprocess.SubprocessError) as error:
        return f"bubblewrap does not start: {error}"
    if done.returncode != 0:
        return f"bubblewrap cannot create namespaces here: {done.stderr.strip()[:200]}"
    return ""


def _system_binds() -> list[str]:
    """Read-only system directories (merged-/usr symlinks kept as symlinks)."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib64", "lib32", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    if Path("/etc").is_dir():
        args += ["--ro-bind", "/etc", "/etc"]
    return args


# --- cgroups -------------------------------------------------------------------------------


def _mounts() -> list[tuple[str, str, str]]:
    """(mount point, fs type, options) of this process's mount namespace."""
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        parts = line.split()
        if len(parts) >= 4:
            found.append((parts[1], parts[2], parts[3]))
    return found


def _own_cgroups() -> dict[str, str]:
    """Controller (or "" for v2) -> this process's cgroup path, from /proc/self/cgroup."""
    paths = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                paths[controller] = path
    return paths


def _cgroup_dirs() -> tuple[str, dict[str, Path]]:
    """("v2"|"v1"|"", controller -> the folder under which job cgroups are created)."""
    own = _own_cgroups()
    mounts = _mounts()
    for point, kind, _ in mounts:
        if kind == "cgroup2" and "" in own:
            base = Path(point) / own[""].lstrip("/")
            try:
                controllers = (base / "cgroup.controllers").read_text().split()
            except OSError:
                continue
            if {"memory", "pids"} <= set(controllers) and os.access(base, os.W_OK):
                return "v2", {"": base}
    dirs = {}
    for controller in ("memory", "pids"):
        for point, kind, options in mounts:
            if kind == "cgroup" and controller in options.split(",") and controller in own:
                base = Path(point) / own[controller].lstrip("/")
                if os.access(base, os.W_OK):
                    dirs[controller] = base
    if len(dirs) == 2:
        return "v1", dirs
    return "", {}


def _cgroup_kind() -> str:
    kind, dirs = _cgroup_dirs()
    if kind == "v2":  # enabling controllers for children may still be refused: try once
        probe = Cgroup.create(f"{STAGING_PREFIX}probe-{os.getpid()}", Limits())
        if probe is None:
            return ""
        probe.remove()
    return kind


class Cgroup:
    """A job's cgroup: memory and process-count limits, and a reliable way to kill everything."""

    def __init__(self, kind: str, dirs: Mapping[str, Path]) -> None:
        self.kind = kind
        self.dirs = dict(dirs)

    @classmethod
    def create(cls, name: str, limits: Limits) -> Cgroup | None:
        """A new cgroup named ``name`` with ``limits``; None when cgroups cannot be used here."""
        kind, bases = _cgroup_dirs()
        if not kind:
            return None
        made: dict[str, Path] = {}
        try:
            if kind == "v2":
                base = bases[""]
                with contextlib.suppress(OSError):  # may already be enabled
                    (base / "cgroup.subtree_control").write_text("+memory +pids")
                path = base / name
                path.mkdir()
                made[""] = path
                (path / "memory.max").write_text(str(limits.memory_mb * MB))
                with contextlib.suppress(OSError):
                    (path / "memory.swap.max").write_text("0")
                (path / "pids.max").write_text(str(limits.processes))
            else:
                for controller, base in bases.items():
                    path = base / name
                    path.mkdir()
                    made[controller] = path
                (made["memory"] / "memory.limit_in_bytes").write_text(str(limits.memory_mb * MB))
                with contextlib.suppress(OSError):  # only with swap accounting
                    (made["memory"] / "memory.memsw.limit_in_bytes").write_text(str(limits.memory_mb * MB))
                (made["pids"] / "pids.max").write_text(str(limits.processes))
        except OSError:
            cls(kind, made).remove()
            return None
        return cls(kind, made)

    def attach(self, pid: int = 0) -> None:
        """Move ``pid`` (0: this process) into the cgroup; its future children follow."""
        for path in self.dirs.values():
            (path / "cgroup.procs").write_text(str(pid or os.getpid()))

    def pids(self) -> set[int]:
        """Processes in the cgroup and the cgroups below it (a batch's jobs) now."""
        found: set[int] = set()
        for path in self.dirs.values():
            for folder in _cgroup_tree(path):
                with contextlib.suppress(OSError, ValueError):
                    found |= {int(p) for p in (folder / "cgroup.procs").read_text().split()}
        return found

    def kill(self, timeout: float = 5.0) -> None:
        """SIGKILL every process in the cgroup (again, until it is empty)."""
        deadline = time.monotonic() + timeout
        while True:
            pids = self.pids()
            if not pids or time.monotonic() > deadline:
                return
            kill_file = self.dirs.get("", Path("/nonexistent")) / "cgroup.kill"
            if kill_file.exists():
                with contextlib.suppress(OSError):
                    kill_file.write_text("1")
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)

    def usage(self) -> dict[str, int]:
        """``oom_kills`` and ``process_limit_hits`` so far (0 when unknown)."""
        oom = hits = 0
        with contextlib.suppress(OSError, ValueError):
            if self.kind == "v2":
                memory = (self.dirs[""] / "memory.events").read_text().splitlines()
                events = dict(line.split() for line in memory)
                oom = int(events.get("oom_kill", 0))
                pids = dict(line.split() for line in (self.dirs[""] / "pids.events").read_text().splitlines())
                hits = int(pids.get("max", 0))
            else:
                control = (self.dirs["memory"] / "memory.oom_control").read_text().splitlines()
                oom = int(dict(line.split() for line in control).get("oom_kill", 0))
                hits = int(dict(line.split() for line in (self.dirs["pids"] / "pids.events").read_text()
                                .splitlines()).get("max", 0))
        return {"oom_kills": oom, "process_limit_hits": hits}

    def remove(self, timeout: float = 5.0) -> None:
        """Kill what is left and remove the cgroup folders (children first)."""
        self.kill(timeout)
        for path in self.dirs.values():
            for folder in _cgroup_tree(path):  # children first
                for _ in range(50):
                    try:
                        folder.rmdir()
                        break
                    except FileNotFoundError:
                        break
                    except OSError:
                        time.sleep(0.02)


def _cgroup_tree(path: Path) -> list[Path]:
    """``path`` and every cgroup folder below it, children before their parent."""
    below: list[Path] = []
    with contextlib.suppress(OSError):
        for entry in sorted(path.iterdir()):
            if entry.is_dir() and not entry.is_symlink():
                below += _cgroup_tree(entry)
    return [*below, path]


def remove_stale(tmp: Path = Path("/tmp")) -> None:  # noqa: S108 - our own staging folders
    """Remove what grading workers killed with ``kill -9`` left: empty cgroups and staging folders.

    Only ``delab-grade-<pid>...`` entries whose worker ``pid`` is gone are touched.
    """

    def owner_gone(name: str) -> bool:
        pid = name[len(STAGING_PREFIX):].split("-", 1)[0]
        if not pid.isdigit():
            return False
        try:  # a zombie (killed, not yet reaped) is gone too
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
        except (OSError, IndexError):
            return True

    kind, bases = _cgroup_dirs()
    stale: dict[str, dict[str, Path]] = {}
    for controller, base in bases.items():
        with contextlib.suppress(OSError):
            for entry in base.iterdir():
                if entry.name.startswith(STAGING_PREFIX) and owner_gone(entry.name):
                    stale.setdefault(entry.name, {})[controller] = entry
    for dirs in stale.values():  # a job whose worker was killed: kill what may be left, then remove
        Cgroup(kind, dirs).remove()
    with contextlib.suppress(OSError):
        for entry in tmp.iterdir():
            if entry.name.startswith(STAGING_PREFIX) and owner_gone(entry.name):
                shutil.rmtree(entry, ignore_errors=True)


# --- the reaper: nothing a batch started outlives the grader, whatever the race --------------


def _start_time(pid: int) -> str | None:
    """The start time of ``pid`` (clock ticks since boot): with the pid, one process, never a reused pid."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _tracking_base() -> Path | None:
    """Where a batch cgroup can be made: this process's cgroup in a writable v1 ``pids`` hierarchy.

    Not with cgroup v2: a v2 cgroup that holds the workers cannot also hold their jobs' limited
    cgroups (no processes in inner nodes), so there the reaper kills by pid only.
    """
    if sys.platform != "linux" or os.geteuid() != 0:
        return None
    own = _own_cgroups()
    for point, kind, options in _mounts():
        if kind == "cgroup" and "pids" in options.split(",") and "pids" in own:
            base = Path(point) / own["pids"].lstrip("/")
            if os.access(base, os.W_OK):
                return base
    return None


class Reaper:
    """Kills everything a grading batch started once the grader is gone, however it went (``kill -9``).

    Parent-death signals alone leave windows: a process forked but not yet armed (bubblewrap's
    sandbox init between its ``clone`` and its own ``prctl``, a launcher still starting Python), a
    set-uid ``bwrap`` whose exec clears the signal, a child of a thread that exited. So the grader
    starts this watcher first: ``sandbox.py reap``, in its own session, without a parent-death
    signal, reading a pipe only the grader holds (close-on-exec: no child inherits it).

    As root with a v1 ``pids`` hierarchy, the reaper's batch cgroup is joined by each worker as its
    first act; every process a worker then starts, from any thread, is born in it or in a job's
    cgroup below it (launchers, bubblewrap, kernels, function sandboxes), before any signal is
    armed, and cannot leave it (only root moves processes). At end-of-file without ``done`` (the
    grader died), the reaper kills the registered processes (workers, the resource tracker) and
    everything in the cgroup tree until it stays empty, removes it and the workers' staging
    folders, and exits. After a normal batch (``done``) it only removes the (empty) cgroup.
    """

    _batches = 0

    def __init__(self, process: subprocess.Popen[bytes], cgroup: Path | None) -> None:
        self.process = process
        self.cgroup = cgroup
        self._registered: set[int] = set()

    @classmethod
    def start(cls) -> Reaper:
        """Start the reaper (and its batch cgroup when possible)."""
        cls._batches += 1
        cgroup = None
        base = _tracking_base()
        if base is not None:
            cgroup = base / f"{STAGING_PREFIX}{os.getpid()}-batch{cls._batches}"
            try:
                cgroup.mkdir()
            except OSError:
                cgroup = None
        argv = [sys.executable, "-I", "-S", str(Path(__file__).resolve()), "reap"]
        if cgroup is not None:
            argv.append(f"--cgroup={cgroup}")
        process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,  # noqa: S603
                                   start_new_session=True)
        return cls(process, cgroup)

    @property
    def join(self) -> str:
        """The ``cgroup.procs`` file a worker writes its pid to first thing ("" without a cgroup)."""
        return str(self.cgroup / "cgroup.procs") if self.cgroup is not None else ""

    def _send(self, line: str) -> None:
        assert self.process.stdin is not None
        with contextlib.suppress(OSError):
            self.process.stdin.write(line.encode() + b"\n")
            self.process.stdin.flush()

    def register(self, pids: Iterable[int], *, workers: bool = False) -> None:
        """Processes to kill if the grader dies (checked by start time: a reused pid is spared).

        ``workers``: grading workers, whose jobs' own uids (root) the reaper also sweeps.
        """
        for pid in pids:
            start = _start_time(pid)
            if pid not in self._registered and start is not None:
                self._registered.add(pid)
                self._send(f"{'worker' if workers else 'kill'} {pid} {start}")

    def close(self, timeout: float = 30.0) -> None:
        """The batch ended normally: the reaper removes the batch cgroup and exits."""
        self._send("done")
        with contextlib.suppress(OSError):
            self.process.stdin.close()  # type: ignore[union-attr]
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def join_cgroup(procs_file: str) -> None:
    """Move this process into a batch cgroup (see :class:`Reaper`); its future children follow."""
    if procs_file:
        with contextlib.suppress(OSError):
            Path(procs_file).write_text(str(os.getpid()))


def _job_uid_owner(pid: int) -> int | None:
    """The worker pid (masked) whose job uid ``pid`` runs as, or None for any other uid."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Uid:"):
                uid = int(line.split()[1])
                return (uid - UID_BASE) >> 8 if uid >= UID_BASE else None
    except (OSError, ValueError, IndexError):
        return None
    return None


def _kill_job_uids(owners: set[int], timeout: float) -> None:
    """SIGKILL every process running as a job uid of one of ``owners`` (worker pids), until none is left."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [int(entry.name) for entry in Path("/proc").iterdir()
                 if entry.name.isdigit() and _job_uid_owner(int(entry.name)) in owners]
        alive = [pid for pid in found if (_read_state(pid) or "Z") != "Z"]
        if not alive:
            return
        for pid in alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)


def _read_state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _reap_main(argv: Sequence[str]) -> int:
    """``reap [--cgroup=DIR]``: wait for end-of-file on stdin, then kill what the batch left."""
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):  # a terminal's Ctrl-C must not stop it
        signal.signal(sig, signal.SIG_IGN)
    cgroup = next((Path(a.removeprefix("--cgroup=")) for a in argv if a.startswith("--cgroup=")), None)
    targets: dict[int, str] = {}
    workers: dict[int, str] = {}
    done = False
    pending = b""
    while chunk := os.read(0, 4096):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            words = line.decode(errors="replace").split()
            if len(words) == 3 and words[0] in ("kill", "worker") and words[1].isdigit():
                targets[int(words[1])] = words[2]
                if words[0] == "worker":
                    workers[int(words[1])] = words[2]
            elif words == ["done"]:
                done = True
    if not done:
        for pid, start in targets.items():
            if _start_time(pid) == start:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        # Without a batch cgroup (cgroup v2), what escaped still runs as its job's own uid: a worker's
        # jobs are UID_BASE + (worker pid << 8) + n. A worker pid now another process's is skipped.
        owners = {pid & 0x3FFFFF for pid, start in workers.items() if _start_time(pid) in (start, None)}
        if owners and os.geteuid() == 0:
            _kill_job_uids(owners, timeout=60.0)
    if cgroup is not None:
        # A process in uninterruptible sleep (e.g. while its tmpfs goes away) dies when it wakes.
        Cgroup("v1", {"pids": cgroup}).remove(timeout=60.0)
    if not done:
        remove_stale()
    return 0


# --- the worker's private mount namespace and the jobs ----------------------------------------


@dataclass(frozen=True)
class Policy:
    """How a batch isolates learner code (picklable: sent to every worker)."""

    isolate: bool = True
    limits: Limits = field(default_factory=Limits)
    read_only: tuple[str, ...] = ()
    """Trees visible read-only inside the sandbox at the same path (Python, venv, utils)."""


class Worker:
    """A grading worker's sandbox factory: a private mount namespace and staged read-only trees.

    As root, the worker unshares its mount namespace (so the job tmpfs and the staging bind
    mounts are invisible to the rest of the machine and vanish with the worker) and binds
    the read-only trees below a staging folder any uid can traverse (the Python installation
    may sit under a private ``/root``).
    """

    def __init__(self, policy: Policy, caps: Capabilities) -> None:
        self.policy = policy
        self.caps = caps
        self.private_mounts = False
        self.base = Path("/tmp") / f"{STAGING_PREFIX}{os.getpid()}"  # noqa: S108
        self.base.mkdir(mode=0o755, exist_ok=True)
        os.chmod(self.base, 0o755)  # noqa: S103 - job uids must traverse it
        self.binds: list[tuple[str, str]] = [(p, p) for p in policy.read_only]
        self.jobs = 0
        if policy.isolate and caps.namespaces and caps.root:
            try:
                self._private_mount_namespace()
                self.private_mounts = True
                self.binds = self._stage(policy.read_only)
            except OSError:
                self.private_mounts = False

    def _private_mount_namespace(self) -> None:
        libc = _libc()
        _check(libc.unshare(_CLONE_NEWNS), "unshare(CLONE_NEWNS)")
        _check(libc.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None), "mount --make-rprivate /")

    def _stage(self, trees: Iterable[str]) -> list[tuple[str, str]]:
        libc = _libc()
        staged = []
        for index, tree in enumerate(trees):
            source = Path(tree)
            if not source.exists():
                continue
            target = self.base / "ro" / str(index)
            if source.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.touch()
            _check(libc.mount(str(source).encode(), str(target).encode(), None, _MS_BIND | _MS_REC, None),
                   f"bind {source}")
            flags = _MS_BIND | _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV
            _check(libc.mount(None, str(target).encode(), None, flags, None), f"read-only {source}")
            staged.append((str(target), str(source)))
        return staged

    def new_job(self) -> Job:
        """A fresh job: folder (tmpfs as root), uid, cgroup."""
        self.jobs += 1
        return Job(self, self.jobs)

    def close(self) -> None:
        """Unmount the staging binds and remove the staging folder."""
        if self.private_mounts:
            libc = _libc()
            with contextlib.suppress(OSError):
                for target in sorted((self.base / "ro").iterdir(), reverse=True):
                    libc.umount2(str(target).encode(), _MNT_DETACH)
        shutil.rmtree(self.base, ignore_errors=True)


LEARNER_DIRS = ("work", "home", "tmp", "runtime", "answers", "shm")
ANSWERS_MB = 64


class Job:
    """One submission's sandbox: its folder, uid and cgroup; every process run in it dies with it."""

    def __init__(self, worker: Worker, number: int) -> None:
        self.worker = worker
        self.policy = worker.policy
        self.limits = worker.policy.limits
        self.dir = worker.base / f"job-{number}"
        self.dir.mkdir(mode=0o755)
        self.tmpfs = False
        if worker.private_mounts:
            options = f"size={self.limits.disk_mb * MB},mode=0755,nr_inodes=100000".encode()
            flags = _MS_NOSUID | _MS_NODEV
            _check(_libc().mount(b"tmpfs", str(self.dir).encode(), b"tmpfs", flags, options), "mount tmpfs")
            self.tmpfs = True
        isolated = self.policy.isolate and worker.caps.namespaces
        self.isolated = isolated
        self.uid = (UID_BASE + ((os.getpid() & 0x3FFFFF) << 8) + (number & 0xFF)
                    if isolated and worker.caps.root else os.getuid())
        for name in LEARNER_DIRS:
            path = self.dir / name
            path.mkdir(mode=0o700)
            if self.uid != os.getuid():
                os.chown(path, self.uid, self.uid)
        if self.tmpfs:  # answers get their own small disk: a learner filling the job's stays gradable
            options = f"size={ANSWERS_MB * MB},mode=0700,uid={self.uid},gid={self.uid}".encode()
            answers = str(self.dir / "answers").encode()
            flags = _MS_NOSUID | _MS_NODEV
            _check(_libc().mount(b"tmpfs", answers, b"tmpfs", flags, options), "mount answers")
        (self.dir / "gw").mkdir(mode=0o755)  # gateway sockets: the grader's, the kernel may only connect
        self.cgroup = (Cgroup.create(f"{STAGING_PREFIX}{os.getpid()}-{number}", self.limits)
                       if isolated and worker.caps.cgroup else None)
        self._specs = 0

    # paths the gradebook uses
    @property
    def work(self) -> Path:
        """The kernel's working directory (holds the copy of the submission)."""
        return self.dir / "work"

    def path(self, name: str) -> Path:
        """A learner-writable folder of the job (``home``, ``tmp``, ``runtime``, ``answers``...)."""
        return self.dir / name

    def give(self, path: Path) -> None:
        """Hand ``path`` (made by the grader) to the job's uid."""
        if self.uid != os.getuid():
            os.chown(path, self.uid, self.uid)

    def launcher_argv(
        self,
        argv: Sequence[str],
        *,
        forwards: Mapping[int, str] | None = None,
        chown: Sequence[str] = (),
        log: Path | None = None,
        log_stdout: bool = True,
        cwd: Path | None = None,
    ) -> list[str]:
        """The command that runs ``argv`` in this job's sandbox (see the module docstring).

        ``forwards`` maps a loopback port inside the sandbox to a unix socket path (the
        gateway); ``chown`` lists files the grader makes that the learner's process must read
        (the kernel's connection file, with the placeholder kept); ``log`` receives the
        process's own stderr, and its stdout too unless ``log_stdout`` is false (a process
        that answers on its stdout).
        """
        self._specs += 1
        spec = {
            "isolate": self.isolated,
            "bwrap": self.worker.caps.bwrap,
            "uid": self.uid,
            "limits": asdict(self.limits),
            "cgroup": {k: str(v) for k, v in self.cgroup.dirs.items()} if self.cgroup else {},
            "job": str(self.dir),
            "binds": self.worker.binds,
            "cwd": str(cwd or self.work),
            "forwards": {str(port): path for port, path in (forwards or {}).items()},
            "chown": list(chown),
            "log": str(log) if log else "",
            "log_stdout": log_stdout,
            "python": sys.executable,
            "parent": os.getpid(),
        }
        path = self.dir / f"spec-{self._specs}.json"
        path.write_text(json.dumps(spec))
        os.chmod(path, 0o644)
        return [sys.executable, "-I", "-S", str(Path(__file__).resolve()), "launch", str(path), "--", *argv]

    def kill(self) -> None:
        """Kill every process of the job (cgroup sweep; the caller kills bubblewrap itself)."""
        if self.cgroup:
            self.cgroup.kill()

    def usage(self) -> dict[str, Any]:
        """What the job hit: OOM kills, process-limit hits, a full disk."""
        used = self.cgroup.usage() if self.cgroup else {"oom_kills": 0, "process_limit_hits": 0}
        with contextlib.suppress(OSError):
            stats = os.statvfs(self.dir)
            used["disk_full"] = self.tmpfs and stats.f_bavail * stats.f_frsize < 1 * MB
        return used

    def close(self) -> None:
        """Kill everything left, remove the cgroup, unmount and delete the folder."""
        if self.cgroup:
            self.cgroup.remove()
        if self.tmpfs:
            _libc().umount2(str(self.dir / "answers").encode(), _MNT_DETACH)
            _libc().umount2(str(self.dir).encode(), _MNT_DETACH)
        shutil.rmtree(self.dir, ignore_errors=True)


# --- the launcher (runs as the grader's user, execs bubblewrap) ------------------------------


def _bwrap_argv(spec: Mapping[str, Any], argv: Sequence[str]) -> list[str]:
    job = spec["job"]
    args = [spec["bwrap"], "--unshare-all", "--die-with-parent", "--new-session",
            "--unsetenv", "JPY_PARENT_PID", "--hostname", "grading", *_system_binds(),
            "--proc", "/proc", "--dev", "/dev",
            # /tmp and /dev/shm are folders of the job's tmpfs (its disk quota); bound first, since
            # the job's own folder may lie below /tmp and must stay visible at its path.
            "--bind", f"{job}/tmp", "/tmp", "--bind", f"{job}/shm", "/dev/shm"]  # noqa: S108
    for source, target in spec["binds"]:
        args += ["--ro-bind", source, target]
    args += ["--bind", job, job, "--chdir", spec["cwd"]]
    inner = list(argv)
    if spec["forwards"]:
        forwards = [f"--forward={port}={path}" for port, path in spec["forwards"].items()]
        inner = [spec["python"], "-I", "-S", str(Path(__file__).resolve()), "inside", *forwards, "--", *argv]
    return [*args, *inner]


def _launch_main(argv: Sequence[str]) -> int:
    """``launch SPEC -- ARGV``: limits, cgroup, uid, then exec bubblewrap (or, not isolated, ARGV)."""
    import resource

    libc = _libc()
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    spec = json.loads(Path(argv[0]).read_text())
    if os.getppid() != spec.get("parent", os.getppid()):  # the worker died before the signal was armed
        os._exit(1)
    command = list(argv[argv.index("--") + 1:])
    if spec["log"]:
        fd = os.open(spec["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        if spec.get("log_stdout", True):
            os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    limits = spec["limits"]
    for path in spec["cgroup"].values():
        (Path(path) / "cgroup.procs").write_text(str(os.getpid()))
    disk = limits["disk_mb"] * MB
    resource.setrlimit(resource.RLIMIT_FSIZE, (disk, disk))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"], limits["open_files"]))
    if not any(c in spec["cgroup"] for c in ("memory", "")):
        memory = limits["memory_mb"] * MB
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    if not any(c in spec["cgroup"] for c in ("pids", "")) and spec["uid"] != os.getuid():
        # RLIMIT_NPROC counts per uid: meaningful only with the job's own uid.
        resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"], limits["processes"]))
    for path in spec["chown"]:
        with contextlib.suppress(OSError):
            os.chown(path, spec["uid"], spec["uid"])
    if spec["uid"] != os.getuid():
        os.setgroups([])
        os.setgid(spec["uid"])
        os.setuid(spec["uid"])
        libc.prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0)  # bwrap reads /proc/self after the uid change
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # again: changing the uid cleared it
    if os.getppid() != spec.get("parent", os.getppid()):  # the worker died meanwhile: no orphan sandbox
        os._exit(1)
    if spec["isolate"]:
        os.execv(spec["bwrap"], _bwrap_argv(spec, command))  # noqa: S606 - our own argv
    # Not isolated (--no-isolation): the older Landlock write sandbox, same user.
    with contextlib.suppress(OSError):
        restrict_writes_to([Path(spec["job"]), Path("/dev")])
    os.chdir(spec["cwd"])
    os.execv(command[0], command)  # noqa: S606
    return 1


# --- inside the sandbox: loopback ports relayed to the gateway's unix sockets ----------------


def _relay(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""

    def pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)

    other = threading.Thread(target=pump, args=(b, a), daemon=True)
    other.start()
    pump(a, b)
    other.join()
    a.close()
    b.close()


def _serve_forward(port: int, path: str) -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(64)

    def handle(client: socket.socket) -> None:
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(path)
        except OSError:
            client.close()
            upstream.close()
            return
        _relay(client, upstream)

    while True:
        client, _ = server.accept()
        threading.Thread(target=handle, args=(client,), daemon=True).start()


def _inside_main(argv: Sequence[str]) -> int:
    """``inside --forward=PORT=SOCKET... -- ARGV``: relay the ports, run ARGV as a child, exit with it."""
    command = list(argv[argv.index("--") + 1:])
    for option in argv[: argv.index("--")]:
        port, path = option.removeprefix("--forward=").split("=", 1)
        threading.Thread(target=_serve_forward, args=(int(port), path), daemon=True).start()
    child = subprocess.Popen(command)  # noqa: S603 - the kernel's argv
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda s, _f: child.send_signal(s))
    return child.wait()


# --- Landlock (the write sandbox kept for --no-isolation and systems without namespaces) ------

_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_FS_WRITE_RIGHTS_V1 = sum(1 << bit for bit in (1, 4, 5, 6, 7, 8, 9, 10, 11, 12))  # write, remove, make_*
_FS_REFER, _FS_TRUNCATE = 1 << 13, 1 << 14


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


def landlock_abi() -> int:
    """The Landlock ABI version of the running kernel, 0 when unavailable."""
    import platform

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
                added = libc.syscall(_SYS_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(1),
                                     ctypes.byref(rule), ctypes.c_uint32(0))
                if added < 0:
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


def main(argv: Sequence[str] | None = None) -> int:
    """``launch SPEC -- ARGV`` (outside) or ``inside [--forward=PORT=SOCKET]... -- ARGV``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["launch"]:
        return _launch_main(args[1:])
    if args[:1] == ["inside"]:
        return _inside_main(args[1:])
    if args[:1] == ["reap"]:
        return _reap_main(args[1:])
    print("usage: sandbox.py launch SPEC -- ARGV | inside [--forward=PORT=SOCKET]... -- ARGV"
          " | reap [--cgroup=DIR]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
