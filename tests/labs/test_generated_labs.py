"""The learner's copies of the week-2 lab run top to bottom and report every exercise as not done.

The labs are generated here from ``solutions/`` (the same pipeline as ``make labs``) into a
temporary folder, so this test checks the solutions as they are now, then each lab runs under
papermill in a fresh kernel against the environment's target (``make test`` points it at the
local cloud). A placeholder answer must give "Not done yet", never a crash of a later cell.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from tests.conftest import environment
from utils.teaching import labgen
from utils.teaching.grading import collect

ROOT = Path(__file__).resolve().parents[2]
LABS = {
    "C1W2_1_source_system.ipynb": {"c1w2_ex1_postal_code_join", "c1w2_ex2_dim_locations"},
    "C1W2_2_etl_pipeline.ipynb": {"c1w2_ex3_revenue_by_country", "c1w2_ex4_top_products",
                                  "c1w2_ex6_fact_orders_transform", "c1w2_ex7_failed_check",
                                  "c1w2_ex8_dim_products_fix"},
    "C1W2_3_dashboard.ipynb": {"c1w2_ex5_selection_filter"},
}


@pytest.fixture(scope="module")
def generated_labs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The C1W2 labs generated from the current solutions into a temporary folder."""
    root = tmp_path_factory.mktemp("c1w2")
    solutions, labs = root / "solutions", root / "labs"
    solutions.mkdir()
    for name in LABS:
        shutil.copy(ROOT / "solutions" / name, solutions / name)
    assert labgen.main(["--solutions", str(solutions), "--labs", str(labs)]) == 0
    return labs


@pytest.mark.timeout(900)
@pytest.mark.parametrize("name", sorted(LABS))
def test_lab_runs_and_reports_not_done(generated_labs: Path, kernel_environment: dict[str, str],
                                       name: str) -> None:
    output = generated_labs / f"executed_{name}"
    with environment(kernel_environment):  # the kernel sees the daemon, not an in-process test cloud
        pm.execute_notebook(str(generated_labs / name), str(output), kernel_name="python3",
                            cwd=str(generated_labs), execution_timeout=600, progress_bar=False)
    results = collect(nbformat.read(output, as_version=4))
    assert {r.exercise for r in results} == LABS[name]
    for result in results:
        assert result.not_done and result.score == 0, result.summary()
