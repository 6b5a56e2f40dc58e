"""docs/coverage.md maps every course topic to a notebook section; keep it true.

Headings are read from the lessons' solution copies (``solutions/lessons/``, the source);
their learner copies in ``notebooks/`` have the same cells (tests/teaching/test_labgen.py).
"""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
COVERAGE = ROOT / "docs" / "coverage.md"
NOTEBOOKS = ROOT / "solutions" / "lessons"


def coverage_table() -> list[tuple[str, str, str, str]]:
    """Parse the markdown table into (topic, notebook, section, activity) rows."""
    rows = []
    for line in COVERAGE.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("Topic", "") or set(cells[0]) <= {"-"}:
            continue
        rows.append((cells[0], cells[1], cells[2], cells[3]))
    return rows


def coverage_rows() -> list[tuple[str, str, str]]:
    """(topic, notebook, section) of every row."""
    return [row[:3] for row in coverage_table()]


def headings(notebook: Path) -> set[str]:
    """Every markdown heading text in a notebook, without the leading #s."""
    nb = nbformat.read(notebook, as_version=4)
    found = set()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
                if match:
                    found.add(match.group(1))
    return found


def test_table_is_not_empty():
    assert len(coverage_rows()) >= 60


@pytest.mark.parametrize(("topic", "notebook", "section"), coverage_rows())
def test_listed_notebook_and_section_exist(topic, notebook, section):
    path = NOTEBOOKS / notebook
    assert path.exists(), f"{topic!r}: notebook {notebook} is missing"
    assert section in headings(path), f"{topic!r}: no heading {section!r} in {notebook}"


def test_every_lesson_notebook_is_listed():
    listed = {notebook for _, notebook, _ in coverage_rows()}
    lessons = {
        p.name for p in NOTEBOOKS.glob("[01][0-9]_*.ipynb") if p.name[:2] != "00" and "lab" not in p.name
    }
    assert lessons <= listed, f"lessons missing from docs/coverage.md: {sorted(lessons - listed)}"


@pytest.mark.parametrize(("topic", "notebook", "section", "activity"), coverage_table())
def test_every_topic_has_an_activity(topic, notebook, section, activity):
    """Issue #14: each topic is taught by something the learner DOES, not only read."""
    from utils.teaching.registry import exercises_for

    assert activity, f"{topic!r} ({notebook}) has no activity in docs/coverage.md"
    # "Exercise K" of this notebook (not "lesson NN, Exercise K" of another) must exist.
    own = re.sub(r"[Ll]esson \d\d,? Exercises? [\d\-]+", "", activity)
    declared = len(exercises_for(notebook.removesuffix(".ipynb")))
    for match in re.finditer(r"Exercises? (\d+)(?:-(\d+))?", own):
        last = int(match.group(2) or match.group(1))
        assert last <= declared, f"{topic!r}: {match.group(0)} but {notebook} declares {declared}"
