"""A local cloud in a subprocess with its own port and state directory (tests, benchmarks).

Unlike ``utils.cloud.daemon`` (the checkout's one cloud, ``make up``), any number of
these can run at once; none of them touches the checkout's cloud or its state.

    cloud = SubprocessCloud(tmp / "state", tmp / "cloud.log")
    cloud.start()            # python -m utils.cloud serve --port <free> --state-dir <tmp>
    cloud.kill(); cloud.start()
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from utils.config import PROJECT_ROOT


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SubprocessCloud:
    """``python -m utils.cloud serve`` in its own session, on a free port."""

    def __init__(self, state_dir: Path | None, log: Path, env: dict[str, str] | None = None) -> None:
        self.state_dir = state_dir
        self.log = log
        self.extra_env = dict(env or {})
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        """The cloud's URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """Environment variables pointing AWS clients (and job scripts) at this cloud."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "DELAB_CLOUD_PORT": str(self.port),
                "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",  # noqa: S105
                "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "DELAB_TARGET": "local"}

    def start(self, timeout: float = 90.0, base_env: dict[str, str] | None = None) -> float:
        """Start the cloud and wait until it answers; return how long that took (seconds)."""
        env = {**(base_env if base_env is not None else os.environ), **self.env,
               **self.extra_env, "PYTHONPATH": str(PROJECT_ROOT)}
        env.pop("AWS_PROFILE", None)
        where = ["--state-dir", str(self.state_dir)] if self.state_dir else ["--ephemeral"]
        started = time.monotonic()
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "utils.cloud", "serve", "--port", str(self.port), *where],
                cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"the cloud exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1):  # noqa: S310
                    return time.monotonic() - started
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"the cloud did not answer within {timeout:.0f}s; see {self.log}")

    def stop(self) -> None:
        """``make down``'s way: SIGTERM to the cloud's process group, then wait."""
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        """A crash: SIGKILL to the process group; nothing gets to clean up."""
        self._signal(signal.SIGKILL)

    def wait_dead(self, timeout: float = 30.0) -> None:
        """Wait for the process to end by itself."""
        if self.process is not None:
            self.process.wait(timeout=timeout)

    def _signal(self, signum: int) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signum)
        self.process.wait(timeout=30)

    def memory_mib(self) -> dict[str, float]:
        """The process's resident memory now and at its peak (``VmRSS``, ``VmHWM``), MiB."""
        assert self.process is not None
        values = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = round(int(rest.split()[0]) / 1024, 1)
        return values

    def cli(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """``python -m utils.cloud <args> --state-dir <this cloud's>``."""
        return subprocess.run([sys.executable, "-m", "utils.cloud", *args, "--state-dir",
                               str(self.state_dir)], cwd=PROJECT_ROOT, capture_output=True,
                              text=True, timeout=120, env={**(env or os.environ), **self.env})
