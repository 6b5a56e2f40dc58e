"""A private MariaDB server for tests that must stop, kill or lock a server.

Started with the lab's own code (:func:`utils.services.mariadb.start_server`) on a fresh
data directory under /tmp (``mariadb-install-db`` takes about a second), on a free port,
with its record in a private run directory. The checkout's real server, its record and
its data are never touched. Everything started here is stopped in ``finally``, by the pid
we started.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from utils.config import Settings, get_settings
from utils.services import mariadb, processes


def server_port(taken: set[int] | frozenset[int] = frozenset()) -> int:
    """A free port for a test's server, BELOW the kernel's ephemeral range.

    A port from bind(0) is an ephemeral one: any outgoing connection on this busy machine
    may take it between the test choosing it and the server listening on it.
    """
    try:
        low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])  # noqa: SIM115, PTH123
    except (OSError, ValueError, IndexError):
        low = 32768
    for _ in range(200):
        port = random.randrange(20000, min(low, 32000))  # noqa: S311 - not security relevant
        if port in taken:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port in 20000-32000")


@dataclass
class PrivateServer:
    """What a test may use: the settings pointing at the server, its pid and directories."""

    settings: Settings
    pid: int
    root: Path
    run_dir: Path
    started: list[int]


@contextlib.contextmanager
def private_mariadb(provision: bool = True) -> Iterator[PrivateServer]:
    """Run a private server while the block runs; this process's settings point at it."""
    root = Path(tempfile.mkdtemp(prefix="delab-db-", dir="/tmp"))  # noqa: S108 - mysql must reach it
    root.chmod(0o755)
    run_dir = root / "run"
    patch = pytest.MonkeyPatch()
    patch.setattr(mariadb, "data_root", lambda: root)
    patch.setattr(processes, "RUN_DIR", run_dir)
    patch.setenv("DELAB_DB_PORT", str(server_port()))
    for name in ("DELAB_DB_SOCKET", "DELAB_DB_SUPERPASSWORD"):
        patch.delenv(name, raising=False)
    started: list[int] = []
    try:
        settings = get_settings()
        pid = mariadb.start_server(settings, mariadb.ensure_installed())
        started.append(pid)
        if provision:
            mariadb.provision_users(settings)
        yield PrivateServer(settings, pid, root, run_dir, started)
    finally:
        for pid in started:  # ours: started above; stop it cleanly, kill it if it hangs
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while processes.pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        patch.undo()
        shutil.rmtree(root, ignore_errors=True)


def restart(server: PrivateServer) -> int:
    """Start the private server again on its data (after a test killed it); return the new pid."""
    pid = mariadb.start_server(server.settings, mariadb.ensure_installed())
    server.started.append(pid)
    server.pid = pid
    return pid
