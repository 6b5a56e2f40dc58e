"""The dashboard, for real: JupyterLab in headless Chromium runs the notebook and we use the widgets.

JupyterLab is served on 127.0.0.1 (a free port, a random token) from a temporary copy of
``solutions/C1W2_3_dashboard.ipynb``; its kernels inherit an environment pointing at the
running local cloud (or the configured target). Chromium is Debian's (``/usr/bin/chromium``),
driven by the ``playwright`` Python package: no browser is ever downloaded. The test runs
all cells, checks the chart title and that the static picture meant for HTML exports is
hidden (one chart shows), changes the country dropdown, checks that the title follows, and
saves ``test-artifacts/dashboard.png``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "solutions" / "C1W2_3_dashboard.ipynb"
ARTIFACT = ROOT / "test-artifacts" / "dashboard.png"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TITLE = ".delab-dashboard-title"
RUN_ALL_TIMEOUT_MS = 300_000
# True when a code cell of the open notebook holds the static picture utils.teaching.widgets adds:
# a PNG with an empty widget view (model_id ""), which JupyterLab renders as nothing.
STATIC_PICTURE_STORED_JS = """() => {
  const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    for (let j = 0; j < cell.outputs.length; j++) {
      const data = cell.outputs.get(j).data;
      const view = data['application/vnd.jupyter.widget-view+json'];
      if (data['image/png'] && view && view.model_id === '') return true;
    }
  }
  return false;
}"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium; the test FAILS (not skips) without it, saying how to install it."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: this test drives Debian's Chromium. Install it with "
                    "`apt-get install -y chromium` (as root), then run the test again.", pytrace=False)
    return CHROMIUM


@pytest.fixture
def jupyter_lab(tmp_path: Path, kernel_environment: dict[str, str]) -> Iterator[tuple[str, str]]:
    """(base URL, token) of a JupyterLab serving a temporary copy of the dashboard notebook.

    Its kernels get ``kernel_environment``: the local cloud daemon (or the configured target).
    """
    shutil.copy(NOTEBOOK, tmp_path / NOTEBOOK.name)
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(kernel_environment)
    # Keep JupyterLab's own state (workspaces, settings, runtime files) inside the temporary folder.
    for name in ("JUPYTER_RUNTIME_DIR", "JUPYTERLAB_WORKSPACES_DIR", "JUPYTERLAB_SETTINGS_DIR"):
        env[name] = str(tmp_path / ".jupyter" / name.lower())
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    log = tmp_path / "jupyter.log"
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           "--ServerApp.port_retries=0", f"--ServerApp.root_dir={tmp_path}",
           f"--IdentityProvider.token={token}", "--LabApp.expose_app_in_browser=True",
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:  # CI containers run as root; JupyterLab refuses that unless told
        cmd.append("--allow-root")
    with log.open("w") as out:
        process = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
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


@pytest.mark.timeout(600)
def test_dashboard_in_jupyterlab(chromium: Path, jupyter_lab: tuple[str, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, token = jupyter_lab
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/lab/tree/{NOTEBOOK.name}?token={token}")
            page.wait_for_function(
                "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                " && window.jupyterapp.shell.currentWidget.sessionContext"
                " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel",
                timeout=120_000)
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")

            title = page.locator(TITLE)
            expect(title).to_contain_text("Top 5 products by sales: all countries",
                                          timeout=RUN_ALL_TIMEOUT_MS)
            before = title.inner_text()

            # The static picture for HTML exports is in the cell's outputs, and JupyterLab hides it:
            # only the live chart shows.
            assert page.evaluate(STATIC_PICTURE_STORED_JS), "the dashboard cell has no static picture output"
            charts = page.locator(".jp-Cell", has=title).locator(".jp-OutputArea-output img")
            expect(charts.first).to_be_visible(timeout=60_000)
            shown = [i for i in range(charts.count()) if charts.nth(i).is_visible()]
            assert len(shown) == 1, f"JupyterLab shows {len(shown)} charts: the static picture is not hidden"

            country = page.locator(".widget-dropdown", has=page.locator("label", has_text="Country"))
            select = country.locator("select")
            options = [o for o in select.locator("option").all_inner_texts() if o != "ALL"]
            assert options, "the country dropdown has no countries"
            chosen = "France" if "France" in options else options[0]
            select.select_option(label=chosen)
            expect(title).to_contain_text(f"Top 5 products by sales: {chosen},", timeout=60_000)
            assert title.inner_text() != before

            cell = page.locator(".jp-Cell", has=title)
            cell.scroll_into_view_if_needed()
            page.wait_for_timeout(500)  # let the new chart image paint
            ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
            cell.screenshot(path=str(ARTIFACT))
        finally:
            browser.close()
    assert ARTIFACT.stat().st_size > 10_000
