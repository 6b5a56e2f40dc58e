"""Every notebook runs top to bottom in a fresh kernel under papermill.

One test per notebook, found by globbing, so a new notebook is tested without
new code. Lessons (notebooks/) and graded labs with answers (solutions/) run
against the target of the environment (``make test`` points it at the local
cloud). Executed copies land in ``test-artifacts/notebooks/`` for inspection.
"""

from __future__ import annotations

from pathlib import Path

import papermill as pm
import pytest

from tests.conftest import BASE_ENVIRONMENT, environment

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted([*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("solutions/*.ipynb")])
ARTIFACTS = ROOT / "test-artifacts" / "notebooks"
CELL_TIMEOUT_S = 600


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[f"{p.parent.name}/{p.name}" for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(notebook: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    output = ARTIFACTS / f"{notebook.parent.name}__{notebook.name}"
    with environment(BASE_ENVIRONMENT):  # the kernel sees the daemon, not an in-process test cloud
        pm.execute_notebook(
            str(notebook), str(output), kernel_name="python3", cwd=str(notebook.parent),
            execution_timeout=CELL_TIMEOUT_S, progress_bar=False, log_output=False,
        )



def test_every_notebook_has_a_parameters_cell() -> None:
    import nbformat

    missing = []
    for notebook in NOTEBOOKS:
        nb = nbformat.read(notebook, as_version=4)
        if not any("parameters" in c.get("metadata", {}).get("tags", []) for c in nb.cells):
            missing.append(notebook.name)
    assert not missing, f"notebooks without a papermill 'parameters' cell: {missing}"


def test_there_are_notebooks_to_run() -> None:
    assert any(p.parent.name == "notebooks" for p in NOTEBOOKS)
