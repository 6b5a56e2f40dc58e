"""Start, stop and inspect the local cloud as a background process.

The process's pid is kept in ``.delab/cloud/cloud.pid``; ``stop`` signals exactly
that pid and nothing else. Starting twice is harmless: a running local cloud is
reused.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from utils.config import PROJECT_ROOT, STATE_DIR, Settings, get_settings
from utils.services.mariadb import pid_alive, port_answers

CLOUD_DIR = STATE_DIR / "cloud"
PID_FILE = CLOUD_DIR / "cloud.pid"
LOG_FILE = CLOUD_DIR / "cloud.log"


class CloudError(RuntimeError):
    """The local cloud could not be started or reached; the message says why and what to do."""


def running_pid() -> int | None:
    """Pid of the local cloud we started, if it is alive."""
    try:
        pid = int(PID_FILE.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid_alive(pid) else None


def answers(settings: Settings | None = None, timeout: float = 2.0) -> bool:
    """True when the local cloud endpoint answers HTTP (moto's health URL)."""
    s = settings or get_settings()
    try:
        with urllib.request.urlopen(f"{s.endpoint_url}/moto-api/", timeout=timeout) as resp:  # noqa: S310
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start(settings: Settings | None = None, timeout: float = 60.0) -> int:
    """Start the local cloud in the background (or reuse it); return its pid."""
    s = settings or get_settings()
    pid = running_pid()
    if pid and answers(s):
        return pid
    if port_answers("127.0.0.1", s.cloud_port):
        raise CloudError(
            f"Port {s.cloud_port} on 127.0.0.1 is taken by another program, so the local cloud "
            "cannot start. Set DELAB_CLOUD_PORT to a free port (in the environment or .env) "
            "or stop that program.")
    CLOUD_DIR.mkdir(parents=True, exist_ok=True)
    log = LOG_FILE.open("ab")
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "utils.cloud", "serve", "--port", str(s.cloud_port)],
        cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        env=env, start_new_session=True,
    )
    PID_FILE.write_text(str(proc.pid))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            PID_FILE.unlink(missing_ok=True)
            tail = LOG_FILE.read_text()[-1500:]
            raise CloudError(f"The local cloud exited during start-up:\n{tail}")
        if answers(s, timeout=0.5):
            return proc.pid
        time.sleep(0.2)
    raise CloudError(f"The local cloud did not answer within {timeout:.0f}s; see {LOG_FILE}.")


def stop(timeout: float = 15.0) -> bool:
    """Stop the local cloud we started (by pid); return whether one was running."""
    pid = running_pid()
    PID_FILE.unlink(missing_ok=True)
    if pid is None:
        return False
    try:
        os.killpg(pid, signal.SIGTERM)  # its own session: Glue job subprocesses go too
    except OSError:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    return True


def log_path() -> Path:
    """Where the local cloud writes its log."""
    return LOG_FILE
