"""Shared fixtures: the sample solution notebook (two exercises, graders defined inline)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "teaching"
SAMPLE_SOLUTION = DATA / "sample_solution.ipynb"


@pytest.fixture
def sample_solution() -> nbformat.NotebookNode:
    """A fresh copy of the sample solution notebook."""
    return nbformat.read(SAMPLE_SOLUTION, as_version=4)
