"""The lessons as a learner meets them: JupyterLab in headless Chromium, one exercise solved.

JupyterLab is served on 127.0.0.1 (a free port, a random token) from a temporary copy of three
learner lessons (``notebooks/``), so nothing the browser saves touches the repository. The test
opens the three lessons, types the solution of lesson 12's first exercise into its answer cell
(as a paste: the editor would re-indent typed lines), runs it and the grader cell with
Shift+Enter, and checks the rendered feedback (``✓ l12_ex1_design_availability 1/1``). Kernels
record progress as a learner's do (``DELAB_PROGRESS`` auto, in a temporary record), so the test
also checks that the grade landed in the record. Screenshots go to ``test-artifacts/lessons/``.
Chromium is Debian's (``/usr/bin/chromium``) driven by the ``playwright`` package, as in
``tests/labs/test_dashboard_browser.py``; no browser is downloaded.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import CHROMIUM_FLAGS, jupyter_lab, require_chromium
from tests.conftest import BASE_ENVIRONMENT

ROOT = Path(__file__).resolve().parents[2]
LESSONS = ("01_what_is_data_engineering", "03_history_of_data_engineering",
           "12_principles_of_good_data_architecture")
SOLVED = LESSONS[2]
ANSWER_CELL, GRADE_CELL = "ex1-answer", "ex1-grade"
EXERCISE = "l12_ex1_design_availability"
SOLUTION = '''### START CODE HERE ### (about 4 lines)
def design_availability(stages):
    available = 1.0
    for one_copy, copies in stages:
        available *= 1 - (1 - one_copy) ** copies
    return available
### END CODE HERE ###'''
ARTIFACTS = ROOT / "test-artifacts" / "lessons"
KERNEL_READY_JS = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const session = panel && panel.sessionContext && panel.sessionContext.session;
  return !!(session && session.kernel && session.kernel.connectionStatus === 'connected'
            && panel.sessionContext.kernelDisplayStatus === 'idle');
}"""
# Make the cell with this id the active one, scrolled into view, marked data-delab-cell=<id>;
# return the notebook panel's DOM id.
ACTIVATE_CELL_JS = """(cellId) => {
  const panel = window.jupyterapp.shell.currentWidget;
  const notebook = panel.content;
  const index = notebook.widgets.findIndex(cell => cell.model.id === cellId);
  if (index < 0) throw new Error('no cell ' + cellId);
  notebook.activeCellIndex = index;
  notebook.scrollToItem(index);
  notebook.widgets[index].node.dataset.delabCell = cellId;  // a stable handle for the locators
  return panel.id;
}"""
SOURCE_OF_CELL_JS = """(cellId) => window.jupyterapp.shell.currentWidget.content.widgets
  .find(cell => cell.model.id === cellId).model.sharedModel.getSource()"""


@pytest.fixture
def chromium() -> Path:
    return require_chromium()


@pytest.fixture
def lessons_lab(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """(base URL, token, progress record) of a JupyterLab serving copies of the three lessons."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for stem in LESSONS:
        shutil.copy(ROOT / "notebooks" / f"{stem}.ipynb", folder)
    record = tmp_path / "progress.jsonl"
    env = dict(BASE_ENVIRONMENT)
    # Kernels record as a learner's do (auto: in a Jupyter kernel), into a temporary record.
    env.update(DELAB_PROGRESS="auto", DELAB_PROGRESS_FILE=str(record))
    with jupyter_lab(tmp_path, env) as (base, token):
        yield base, token, record


@pytest.mark.timeout(300)
def test_a_learner_opens_three_lessons_and_solves_an_exercise(
        chromium: Path, lessons_lab: tuple[str, str, Path]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, token, record = lessons_lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):  # only this run's screenshots are checked below
        old.unlink()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/lab/tree/notebooks/{LESSONS[0]}.ipynb?token={token}")
            for stem in LESSONS:
                if stem != LESSONS[0]:
                    page.evaluate("(path) => window.jupyterapp.commands.execute('docmanager:open', {path})",
                                  f"notebooks/{stem}.ipynb")
                page.wait_for_function(
                    "(path) => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                    " && window.jupyterapp.shell.currentWidget.context"
                    " && window.jupyterapp.shell.currentWidget.context.path === path",
                    arg=f"notebooks/{stem}.ipynb", timeout=120_000)
                panel = page.locator("#" + page.evaluate("() => window.jupyterapp.shell.currentWidget.id"))
                # The lesson's title and its stored outputs render (the learner copy is executed).
                expect(panel.locator(".jp-MarkdownCell h1").first).to_be_visible(timeout=60_000)
                expect(panel.locator(".jp-OutputArea-output").first).to_be_attached(timeout=60_000)
                news = page.get_by_role("alert").get_by_role("button", name="No")
                if news.count():  # JupyterLab's "get notified about Jupyter news?" toast covers the page
                    news.first.click()
                page.screenshot(path=str(ARTIFACTS / f"{stem[:2]}_opened.png"))

            page.wait_for_function(KERNEL_READY_JS, timeout=120_000)
            panel = page.locator("#" + page.evaluate(ACTIVATE_CELL_JS, ANSWER_CELL))
            answer = panel.locator(f"[data-delab-cell='{ANSWER_CELL}']")
            expect(answer).to_contain_text("design_availability = None", timeout=30_000)
            answer.locator(".cm-content").click()
            page.keyboard.press("Control+A")
            page.keyboard.insert_text(SOLUTION)  # what a paste does
            assert page.evaluate(SOURCE_OF_CELL_JS, ANSWER_CELL).strip() == SOLUTION
            page.keyboard.press("Shift+Enter")  # run the answer; the grader cell becomes active
            page.evaluate(ACTIVATE_CELL_JS, GRADE_CELL)
            grade = panel.locator(f"[data-delab-cell='{GRADE_CELL}']")
            expect(grade).to_contain_text("grade_design_availability(design_availability)")
            page.keyboard.press("Shift+Enter")
            feedback = grade.locator(".jp-OutputArea-output")
            expect(feedback).to_contain_text(f"✓ {EXERCISE}", timeout=60_000)
            expect(feedback).to_contain_text("1/1")
            assert "Not done yet" not in feedback.inner_text()
            grade.scroll_into_view_if_needed()
            page.wait_for_timeout(300)  # let the output paint
            page.screenshot(path=str(ARTIFACTS / f"{SOLVED[:2]}_solved.png"))
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "failure.png"))  # what the learner would have seen
            raise
        finally:
            browser.close()

    events = [json.loads(line) for line in record.read_text().splitlines()]
    assert [(e["notebook"], e["exercise"], e["passed"]) for e in events] == [(SOLVED, EXERCISE, True)], events
    shots = sorted(p.name for p in ARTIFACTS.glob("*.png"))
    assert shots == ["01_opened.png", "03_opened.png", "12_opened.png", "12_solved.png"]
    assert all((ARTIFACTS / name).stat().st_size > 10_000 for name in shots)
