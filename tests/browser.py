"""JupyterLab in headless Chromium, for the tests that use the product as a learner does.

Chromium is Debian's (``/usr/bin/chromium``), driven by the ``playwright`` Python package: no
browser is ever downloaded. JupyterLab is served on 127.0.0.1 (a free port, a random token) from
a temporary folder, with its own state (workspaces, settings, runtime files) kept inside it, so
nothing the browser saves touches the repository.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def require_chromium() -> Path:
    """Debian's Chromium; the calling test FAILS (not skips) without it, saying how to install it."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: this test drives Debian's Chromium. Install it with "
                    "`apt-get install -y chromium` (as root), then run the test again.", pytrace=False)
    return CHROMIUM


def _wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"jupyter lab exited with code {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our loopback server
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"jupyter lab did not answer within {timeout:.0f}s:\n{log.read_text()[-3000:]}")


@contextmanager
def jupyter_lab(root: Path, env: dict[str, str]) -> Iterator[tuple[str, str]]:
    """(base URL, token) of a JupyterLab serving ``root``; its kernels get ``env``."""
    port, token = free_port(), secrets.token_hex(16)
    env = dict(env)
    for name in ("JUPYTER_RUNTIME_DIR", "JUPYTERLAB_WORKSPACES_DIR", "JUPYTERLAB_SETTINGS_DIR"):
        env[name] = str(root / ".jupyter" / name.lower())
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    log = root / "jupyter.log"
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}",
           f"--IdentityProvider.token={token}", "--LabApp.expose_app_in_browser=True",
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:  # CI containers run as root; JupyterLab refuses that unless told
        cmd.append("--allow-root")
    with log.open("w") as out:
        process = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(f"{base}/api/status?token={token}", process, log)
        yield base, token
    finally:
        process.terminate()  # the server shuts its kernels down on SIGTERM
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
