"""Lessons and labs read well outside JupyterLab: `jupyter nbconvert --to html` shows what widgets stand for.

A reader on GitHub, in nbviewer or of an HTML export has no kernel: a widget output is empty
there (nbconvert renders it with JavaScript from a CDN when the notebook stores widget state,
and shows nothing offline). ``utils.teaching.widgets`` adds a static fallback output; these
tests export with nbconvert's own HTML exporter (in-process, no kernel) and check that

- every lesson learner copy (``notebooks/*.ipynb``, as stored, with the widget state nbclient
  stores) shows every question of its quiz as HTML outside any script;
- the dashboard (an executed copy of the lab's dashboard cell, from a fixture: ``labs/`` are
  stored without outputs) shows its chart as an ``<img>``;
- no export shows an nbval marker (``# NBVAL_IGNORE_OUTPUT``...): the generator turned them into tags.

Screenshots of two exported lessons and of the dashboard export, rendered by Debian's headless
Chromium with the network blocked (as a reader offline sees them), go to ``test-artifacts/exports/``.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from utils.teaching.quizzes import LESSONS, get_quiz
from utils.teaching.widgets import FALLBACK_CLASS

ROOT = Path(__file__).resolve().parents[2]
LESSON_COPIES = sorted(ROOT.glob("notebooks/*.ipynb"))
LAB_COPIES = sorted(ROOT.glob("labs/*.ipynb"))
DASHBOARD_LAB = ROOT / "labs" / "C1W2_3_dashboard.ipynb"
ARTIFACTS = ROOT / "test-artifacts" / "exports"
SCREENSHOT_LESSONS = ("01_", "06_")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]

_SCRIPT_RE = re.compile(r"<script\b.*?</script>", re.DOTALL | re.IGNORECASE)
_TAG_RE = re.compile(r"<[^>]+>")
_PNG_IMG_RE = re.compile(r'<img\s[^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"')

# A few days of sales with the lab's own product names (the longest ones, for the title and labels).
DASHBOARD_SETUP = '''
import pandas as pd
from utils.teaching import dashboard as dash

rows = [("2003-01-06", "Classic Cars", "1992 Ferrari 360 Spider red", "USA", 7200.5),
        ("2003-02-11", "Motorcycles", "2003 Harley-Davidson Eagle Drag Bike", "France", 5400.0),
        ("2004-07-01", "Vintage Cars", "18th Century Vintage Horse Carriage", "Norway  ", 3100.25),
        ("2005-05-31", "Trucks and Buses", "1957 Chevy Pickup", "Philippines", 2500.0)]
sales = dash.prepare_sales(pd.DataFrame(rows, columns=list(dash.SALES_COLUMNS)))
in_selection = None  # as in the learner copy before exercise 5
'''


def lesson_number(path: Path) -> int:
    """The lesson number of ``notebooks/NN_*.ipynb``."""
    return int(path.name.split("_", 1)[0])


def visible_html(page: str) -> str:
    """The exported page without its scripts (widget state and widget views are JSON in scripts)."""
    return _SCRIPT_RE.sub("", page)


def visible_text(page: str) -> str:
    """The text a reader sees: no scripts, no tags, entities decoded, runs of whitespace as one space."""
    return " ".join(html.unescape(_TAG_RE.sub(" ", visible_html(page))).split())


@pytest.fixture(scope="module")
def exporter():
    """nbconvert's HTML exporter with its defaults (the lab template), as `jupyter nbconvert --to html`."""
    from nbconvert import HTMLExporter

    return HTMLExporter()


@pytest.fixture(scope="module")
def exports(exporter) -> dict[str, str]:
    """Every stored lesson and lab learner copy exported to HTML, by file name."""
    return {path.name: exporter.from_notebook_node(nbformat.read(path, as_version=4))[0]
            for path in [*LESSON_COPIES, *LAB_COPIES]}


@pytest.fixture(scope="module")
def dashboard_notebook() -> nbformat.NotebookNode:
    """The lab's dashboard cell, as the learner copy has it, executed in a kernel after a small setup.

    nbclient stores the widget state, as papermill does: the case where nbconvert prefers the
    widget view over anything else in the same output.
    """
    from nbclient import NotebookClient

    lab = nbformat.read(DASHBOARD_LAB, as_version=4)
    cell = next(c for c in lab.cells if c.cell_type == "code" and "dash.Dashboard(" in c.source)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(DASHBOARD_SETUP), cell])
    nb.metadata.update({key: lab.metadata[key] for key in ("kernelspec", "language_info")
                        if key in lab.metadata})
    NotebookClient(nb, kernel_name="python3", timeout=120,
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    assert nb.metadata.get("widgets"), "the executed notebook should store widget state, as papermill does"
    return nb


@pytest.fixture(scope="module")
def dashboard_export(exporter, dashboard_notebook: nbformat.NotebookNode) -> str:
    """The executed dashboard notebook exported to HTML."""
    return exporter.from_notebook_node(dashboard_notebook)[0]


def test_there_are_notebooks_to_export() -> None:
    assert {lesson_number(p) for p in LESSON_COPIES} >= set(LESSONS)
    assert DASHBOARD_LAB in LAB_COPIES


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda n: f"lesson{n:02d}")
def test_the_export_of_each_lesson_shows_its_quiz_questions(exports: dict[str, str], lesson: int) -> None:
    name = next(p.name for p in LESSON_COPIES if lesson_number(p) == lesson)
    page = visible_html(exports[name])
    assert FALLBACK_CLASS in page, (
        f"{name}: its export has no static quiz; re-run the lessons: python -m utils.teaching.labgen --force")
    text = visible_text(exports[name])
    quiz = get_quiz(lesson)
    missing = [q.prompt for q in quiz.questions if " ".join(q.prompt.split()) not in text]
    assert not missing, (
        f"{name}: its export lacks the quiz questions {missing}: its stored outputs predate the quiz; "
        f"re-run it: python -m utils.teaching.store_outputs notebooks/{name}")
    assert f"a) {' '.join(quiz.questions[0].choices[0].text.split())}" in text


def test_the_export_of_the_dashboard_shows_its_chart(dashboard_export: str) -> None:
    page = visible_html(dashboard_export)
    pictures = [base64.b64decode(data) for data in _PNG_IMG_RE.findall(page)]
    assert pictures, "the dashboard's export has no <img>: the chart is missing"
    assert all(p.startswith(b"\x89PNG") for p in pictures)
    assert max(len(p) for p in pictures) > 10_000  # a chart, not a blank image


@pytest.mark.parametrize("name", [p.name for p in [*LESSON_COPIES, *LAB_COPIES]])
def test_no_export_shows_nbval_markers(exports: dict[str, str], name: str) -> None:
    assert "NBVAL" not in exports[name], f"{name}: an nbval marker shows in its HTML export"


def test_the_dashboard_export_shows_no_nbval_markers(dashboard_export: str) -> None:
    assert "NBVAL" not in dashboard_export


@pytest.fixture
def browser() -> Iterator[object]:
    """Debian's headless Chromium through playwright, every request except file:// blocked."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` (as root).",
                    pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _open_offline(browser, path: Path):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
               else route.abort())
    page.goto(path.as_uri(), wait_until="load")
    return page


@pytest.mark.timeout(300)
def test_screenshots_of_exported_lessons_and_the_dashboard(exports: dict[str, str], dashboard_export: str,
                                                           browser, tmp_path: Path) -> None:
    """Chromium renders the static quiz of two lessons and the dashboard's chart; screenshots are saved."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    names = [next(p.name for p in LESSON_COPIES if p.name.startswith(prefix))
             for prefix in SCREENSHOT_LESSONS]
    for name in names:
        source = tmp_path / f"{Path(name).stem}.html"
        source.write_text(exports[name], encoding="utf-8")
        page = _open_offline(browser, source)
        quiz = page.locator(f"div.{FALLBACK_CLASS}.delab-quiz").first
        assert quiz.is_visible(), f"{name}: Chromium does not show the static quiz"
        assert get_quiz(lesson_number(Path(name))).questions[0].prompt in quiz.inner_text()
        page.screenshot(path=str(ARTIFACTS / f"{Path(name).stem}.png"))  # the top of the lesson
        quiz.locator("details").evaluate("details => { details.open = true; }")  # the ✓/✗ marks show
        quiz.screenshot(path=str(ARTIFACTS / f"{Path(name).stem}_quiz.png"))
        page.close()
    source = tmp_path / "C1W2_3_dashboard.html"
    source.write_text(dashboard_export, encoding="utf-8")
    page = _open_offline(browser, source)
    chart = page.locator(".jp-OutputArea-output img").first
    assert chart.is_visible() and chart.evaluate("img => img.naturalWidth") > 400
    chart.screenshot(path=str(ARTIFACTS / "C1W2_3_dashboard.png"))
    page.close()
    shots = sorted(ARTIFACTS.glob("*.png"))
    assert len(shots) >= 2 * len(names) + 1 and all(s.stat().st_size > 5_000 for s in shots)
