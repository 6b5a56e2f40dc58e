"""Every solution copy runs top to bottom in a fresh kernel under papermill, every grader passing.

One test per notebook, found by globbing, so a new notebook is tested without new code:
the lessons' solution copies (``solutions/lessons/``) and the graded labs with answers
(``solutions/``), against the target of the environment (``make test`` points it at the
local cloud). Each must display one passed grade per exercise it declares (registry) and
no failed grade. The learner copies of the lessons (``notebooks/``) are run by nbval in the
same ``make test`` (which fails on any error and compares the stored outputs), so they are
not run twice. Executed copies land in ``test-artifacts/notebooks/`` for inspection.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill as pm
import pytest

from tests.conftest import BASE_ENVIRONMENT, environment
from utils.teaching.grading import GradeResult, iter_grade_bundles
from utils.teaching.registry import exercises_for

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted([*ROOT.glob("solutions/lessons/*.ipynb"), *ROOT.glob("solutions/*.ipynb")])
LEARNER_COPIES = sorted(ROOT.glob("notebooks/*.ipynb"))
ARTIFACTS = ROOT / "test-artifacts" / "notebooks"
CELL_TIMEOUT_S = 600


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[_id(p) for p in NOTEBOOKS])
def test_solution_runs_top_to_bottom_with_every_grader_passing(notebook: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    output = ARTIFACTS / _id(notebook).replace("/", "__")
    with environment(BASE_ENVIRONMENT):  # the kernel sees the daemon, not an in-process test cloud
        executed = pm.execute_notebook(
            str(notebook), str(output), kernel_name="python3", cwd=str(notebook.parent),
            execution_timeout=CELL_TIMEOUT_S, progress_bar=False, log_output=False,
        )
    results = [GradeResult.from_dict(bundle) for _, bundle in iter_grade_bundles(executed)]
    failed = [r.summary() for r in results if not r.passed]
    assert not failed, f"{notebook.name}: a grader does not pass the solution: {failed}"
    declared = {e.exercise for e in exercises_for(notebook.stem)}
    assert {r.exercise for r in results} == declared, (
        f"{notebook.name} displays grades for {sorted(r.exercise for r in results)}, "
        f"declares {sorted(declared)}"
    )


@pytest.mark.parametrize("notebook", [*NOTEBOOKS, *LEARNER_COPIES], ids=_id)
def test_every_notebook_has_a_parameters_cell(notebook: Path) -> None:
    nb = nbformat.read(notebook, as_version=4)
    assert any("parameters" in c.get("metadata", {}).get("tags", []) for c in nb.cells), (
        f"{_id(notebook)} has no papermill 'parameters' cell"
    )


def test_there_are_notebooks_to_run() -> None:
    folders = {p.parent.name for p in NOTEBOOKS}
    assert folders == {"lessons", "solutions"}
    assert len(LEARNER_COPIES) == sum(p.parent.name == "lessons" for p in NOTEBOOKS)
