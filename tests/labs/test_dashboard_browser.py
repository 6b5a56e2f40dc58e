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

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import CHROMIUM_FLAGS, require_chromium
from tests.browser import jupyter_lab as browser_lab

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "solutions" / "C1W2_3_dashboard.ipynb"
ARTIFACT = ROOT / "test-artifacts" / "dashboard.png"
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


@pytest.fixture
def chromium() -> Path:
    return require_chromium()


@pytest.fixture
def jupyter_lab(tmp_path: Path, kernel_environment: dict[str, str]) -> Iterator[tuple[str, str]]:
    """(base URL, token) of a JupyterLab serving a temporary copy of the dashboard notebook.

    Its kernels get ``kernel_environment``: the local cloud daemon (or the configured target).
    """
    shutil.copy(NOTEBOOK, tmp_path / NOTEBOOK.name)
    with browser_lab(tmp_path, kernel_environment) as served:
        yield served


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
