"""Nothing in the lab notebooks assumes the local cloud (design.md section 8)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
LAB_NOTEBOOKS = sorted([*ROOT.glob("solutions/*.ipynb"), *ROOT.glob("labs/*.ipynb")])
FORBIDDEN = {
    "an endpoint URL": re.compile(r"endpoint_url|AWS_ENDPOINT_URL|127\.0\.0\.1|localhost|:4566"),
    "a direct DuckDB call": re.compile(r"\bimport duckdb\b|\bduckdb\."),
    "a direct moto call": re.compile(r"\bmoto\b"),
    "the local cloud's internals": re.compile(r"utils\.cloud\.(backends|server|athena|glue)"),
    "a password": re.compile(r"password\s*=\s*['\"]", re.IGNORECASE),
}


@pytest.mark.parametrize("notebook", LAB_NOTEBOOKS, ids=[f"{p.parent.name}/{p.name}" for p in LAB_NOTEBOOKS])
def test_lab_notebook_is_target_agnostic(notebook: Path) -> None:
    nb = nbformat.read(notebook, as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for what, pattern in FORBIDDEN.items():
            match = pattern.search(cell.source)
            assert match is None, f"{notebook.name} cell {index} contains {what}: {match.group(0)!r}"


def test_there_are_lab_notebooks() -> None:
    assert len(LAB_NOTEBOOKS) >= 6
