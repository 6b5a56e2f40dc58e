"""make labs: each transform, placeholders, determinism, sync check, CLI, and the lab runs."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import papermill as pm
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from utils.teaching import labgen
from utils.teaching.grading import collect
from utils.teaching.labgen import (
    END_MARKER,
    START_MARKER,
    CleanMetadata,
    ClearOutputs,
    ClearSolutions,
    DropSolutionOnlyCells,
    LabGenError,
    StripSolutionMarkdown,
    check_in_sync,
    clear_answer_regions,
    generate_labs,
    make_lab,
)

ROOT = Path(__file__).resolve().parents[2]


def _nb(*cells, **metadata):
    return new_notebook(cells=list(cells), metadata=metadata)


# --- ClearSolutions and the placeholders ----------------------------------------------------


def test_assignment_becomes_none_placeholder_and_markers_stay():
    source = f"x = 1\n{START_MARKER} (about 1 line)\nanswer = x + 41\n{END_MARKER}\nprint(answer)"
    assert clear_answer_regions(source) == (
        f"x = 1\n{START_MARKER} (about 1 line)\nanswer = None  # YOUR CODE HERE\n{END_MARKER}\nprint(answer)"
    )


def test_multi_line_assignments_triple_quoted_sql_and_parenthesised_call():
    source = (
        f"{START_MARKER}\n"
        'sql = """\nSELECT customer,\n       SUM(amount)\nFROM orders\n"""\n'
        "df = pd.read_sql(\n    sql,\n    connection,\n)\n"
        f"{END_MARKER}\n"
    )
    assert clear_answer_regions(source) == (
        f"{START_MARKER}\nsql = None  # YOUR CODE HERE\ndf = None  # YOUR CODE HERE\n{END_MARKER}\n"
    )


def test_indentation_is_kept_inside_a_function():
    body = "    out = (\n        df + 1\n    )\n"
    source = f"def f(df):\n    {START_MARKER}\n{body}    {END_MARKER}\n    return out\n"
    cleared = clear_answer_regions(source)
    assert cleared == (
        f"def f(df):\n    {START_MARKER}\n    out = None  # YOUR CODE HERE\n"
        f"    {END_MARKER}\n    return out\n"
    )
    ast.parse(cleared)


def test_other_statements_become_comment_lines_and_a_block_keeps_a_statement():
    source = (
        f"for i in range(3):\n    {START_MARKER}\n    if i:\n        print(i)\n"
        f"    total += i\n    {END_MARKER}\n"
        f"{START_MARKER}\nprint('top')\nx = 1\nplot(x)\ndf['a'] = 2\n{END_MARKER}\n"
    )
    cleared = clear_answer_regions(source)
    assert cleared == (
        f"for i in range(3):\n    {START_MARKER}\n    pass  # YOUR CODE HERE\n    {END_MARKER}\n"
        f"{START_MARKER}\n# YOUR CODE HERE\nx = None  # YOUR CODE HERE\n# YOUR CODE HERE\n{END_MARKER}\n"
    )
    ast.parse(cleared)


def test_function_with_only_a_return_still_compiles():
    source = f"def f():\n    {START_MARKER}\n    return 42\n    {END_MARKER}\n"
    cleared = clear_answer_regions(source)
    assert "pass  # YOUR CODE HERE" in cleared and "42" not in cleared
    ast.parse(cleared)


def test_tuple_chained_and_annotated_assignments():
    source = f"{START_MARKER}\na, b = 1, 2\nc = d = 3\ne: int = 4\n(f,) = [5]\n{END_MARKER}\n"
    assert clear_answer_regions(source).splitlines()[1:-1] == [
        "a, b = None, None  # YOUR CODE HERE",
        "c = d = None  # YOUR CODE HERE",
        "e = None  # YOUR CODE HERE",
        "f = None,  # YOUR CODE HERE",
    ]


def test_comments_and_blank_lines_of_the_answer_are_dropped():
    source = f"{START_MARKER}\n# join on customerNumber\n\nx = 1  # the answer\n{END_MARKER}"
    assert clear_answer_regions(source) == f"{START_MARKER}\nx = None  # YOUR CODE HERE\n{END_MARKER}"


def test_empty_region_gets_a_placeholder():
    assert (
        clear_answer_regions(f"{START_MARKER}\n{END_MARKER}\n")
        == f"{START_MARKER}\n# YOUR CODE HERE\n{END_MARKER}\n"
    )


def test_code_without_regions_is_untouched():
    source = "import pandas as pd\n%matplotlib inline\nx = 1"
    assert clear_answer_regions(source) == source


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (f"{START_MARKER}\nx = 1\n", "has no matching"),
        (f"x = 1\n{END_MARKER}\n", "without a"),
        (f"{START_MARKER}\n{START_MARKER}\n{END_MARKER}\n", "inside the region"),
        (f"{START_MARKER}\nelse:\n    x = 1\n{END_MARKER}\n", "not valid Python"),
    ],
)
def test_malformed_regions_raise_a_clear_error(source, message):
    with pytest.raises(LabGenError, match=message):
        clear_answer_regions(source)


def test_clear_solutions_names_the_cell_in_errors():
    nb = _nb(new_code_cell("x = 1"), new_code_cell(f"{START_MARKER}\nx = 1"))
    with pytest.raises(LabGenError, match="cell 1: line 1"):
        ClearSolutions()(nb)


def test_transforms_do_not_modify_their_input(sample_solution):
    before = nbformat.writes(sample_solution)
    make_lab(sample_solution)
    assert nbformat.writes(sample_solution) == before


# --- the other transforms ---------------------------------------------------------------------


def test_drop_solution_only_cells():
    nb = _nb(new_code_cell("a"), new_code_cell("b", metadata={"tags": ["solution-only"]}))
    assert [c.source for c in DropSolutionOnlyCells()(nb).cells] == ["a"]


def test_strip_solution_markdown_keeps_the_rest_and_drops_emptied_cells():
    nb = _nb(
        new_markdown_cell("Intro\n<!-- BEGIN SOLUTION -->\nSecret hint\n<!-- END SOLUTION -->\nOutro"),
        new_markdown_cell("<!-- BEGIN SOLUTION -->only the answer<!-- END SOLUTION -->"),
        new_code_cell("# <!-- BEGIN SOLUTION --> in code is left alone"),
    )
    out = StripSolutionMarkdown()(nb)
    assert [c.source for c in out.cells] == [
        "Intro\nOutro",
        "# <!-- BEGIN SOLUTION --> in code is left alone",
    ]


def test_strip_solution_markdown_rejects_unbalanced_markers():
    with pytest.raises(LabGenError, match="unbalanced"):
        StripSolutionMarkdown()(_nb(new_markdown_cell("<!-- BEGIN SOLUTION -->\nno end")))


def test_clear_outputs():
    cell = new_code_cell(
        "print(1)", execution_count=3, outputs=[new_output("stream", name="stdout", text="1\n")]
    )
    out = ClearOutputs()(_nb(cell, new_markdown_cell("m"))).cells[0]
    assert out.outputs == [] and out.execution_count is None


def test_clean_metadata_keeps_kernelspec_language_info_and_tags():
    nb = _nb(
        new_code_cell(
            "x", metadata={"tags": ["parameters"], "papermill": {"duration": 1}, "collapsed": True}
        ),
        new_code_cell("y", metadata={"tags": [], "scrolled": True}),
        kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"},
        language_info={"name": "python"},
        papermill={"start_time": "2024-01-01"},
        widgets={"state": {}},
    )
    out = CleanMetadata()(nb)
    assert set(out.metadata) == {"kernelspec", "language_info"}
    assert out.cells[0].metadata == {"tags": ["parameters"]} and out.cells[1].metadata == {}


# --- the sample lab -------------------------------------------------------------------------


def test_sample_lab_hides_every_answer_and_keeps_markers(sample_solution):
    lab = make_lab(sample_solution)
    sources = [c.source for c in lab.cells]
    text = "\n".join(sources) + str([c.metadata for c in lab.cells])
    for secret in (
        "SUM(quantity * price) AS revenue",
        'order["quantity"] * order["price"]',
        "Instructor note",
        "solution-only",
        "assert check_total_revenue",
    ):
        assert secret not in text
    assert sum(START_MARKER in s for s in sources) == 2 and sum(END_MARKER in s for s in sources) == 2
    assert any("revenue_by_customer_sql = None  # YOUR CODE HERE" in s for s in sources)
    assert any("    total = None  # YOUR CODE HERE\n    # YOUR CODE HERE\n" in s for s in sources)
    assert all(c.get("outputs", []) == [] for c in lab.cells)


def test_generated_lab_runs_top_to_bottom_and_graders_say_not_done(tmp_path, sample_solution):
    lab_path = tmp_path / "sample_lab.ipynb"
    nbformat.write(make_lab(sample_solution), lab_path)
    executed = pm.execute_notebook(
        str(lab_path),
        str(tmp_path / "out.ipynb"),
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
        execution_timeout=120,
    )
    results = {r.exercise: r for r in collect(executed)}
    assert set(results) == {"ex1_total_revenue", "ex2_revenue_by_customer"}
    assert all(r.not_done and not r.passed for r in results.values())


def test_solution_runs_and_passes_every_grader(tmp_path):
    executed = pm.execute_notebook(
        str(labgen.PROJECT_ROOT / "tests/data/teaching/sample_solution.ipynb"),
        str(tmp_path / "out.ipynb"),
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
        execution_timeout=120,
    )
    results = collect(executed)
    assert len(results) == 2 and all(r.passed for r in results)


# --- folders, determinism, sync and CLI -----------------------------------------------------


def _solutions_dir(tmp_path, sample_solution):
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    nbformat.write(sample_solution, solutions / "C1_W9_Sample.ipynb")
    return solutions


def test_generate_labs_is_deterministic_and_in_sync(tmp_path, sample_solution):
    solutions, labs = _solutions_dir(tmp_path, sample_solution), tmp_path / "labs"
    written = generate_labs(solutions, labs)
    assert written == [labs / "C1_W9_Sample.ipynb"]
    first = written[0].read_bytes()
    generate_labs(solutions, labs)
    assert written[0].read_bytes() == first
    assert json.loads(first)["metadata"] == {
        "kernelspec": sample_solution.metadata.kernelspec,
        "language_info": {"name": "python"},
    }
    assert first.endswith(b"\n") and b'"cells": [' in first  # nbformat's sorted, indented JSON
    assert check_in_sync(solutions, labs) == []


def test_check_in_sync_reports_out_of_date_missing_and_extra(tmp_path, sample_solution):
    solutions, labs = _solutions_dir(tmp_path, sample_solution), tmp_path / "labs"
    assert check_in_sync(solutions, labs) == ["C1_W9_Sample.ipynb (missing)"]
    generate_labs(solutions, labs)
    lab = labs / "C1_W9_Sample.ipynb"
    lab.write_text(lab.read_text().replace("YOUR CODE HERE", "my answer", 1))
    (labs / "Old.ipynb").write_text("{}")
    assert check_in_sync(solutions, labs) == [
        "C1_W9_Sample.ipynb (out of date)",
        "Old.ipynb (extra: no solutions/ twin)",
    ]
    generate_labs(solutions, labs)
    assert check_in_sync(solutions, labs) == [] and not (labs / "Old.ipynb").exists()


def test_cli_check_exits_1_with_clear_message_then_generates(tmp_path, sample_solution, capsys):
    solutions, labs = _solutions_dir(tmp_path, sample_solution), tmp_path / "labs"
    args = ["--solutions", str(solutions), "--labs", str(labs)]
    assert labgen.main([*args, "--check"]) == 1
    assert "labs/ is out of date: run `make labs`" in capsys.readouterr().err
    assert labgen.main(args) == 0
    assert labgen.main([*args, "--check"]) == 0


def test_cli_reports_a_broken_solution(tmp_path, capsys):
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    nbformat.write(_nb(new_code_cell(f"{START_MARKER}\nx = 1")), solutions / "Broken.ipynb")
    assert labgen.main(["--solutions", str(solutions), "--labs", str(tmp_path / "labs")]) == 2
    assert "Broken.ipynb: cell 0: line 1" in capsys.readouterr().err


def test_labs_in_sync():
    """Every solutions/*.ipynb has a labs/ twin identical to the generated one (run `make labs`)."""
    solutions, labs = ROOT / "solutions", ROOT / "labs"
    problems = check_in_sync(solutions, labs)
    assert problems == [], f"{labgen.OUT_OF_DATE_MESSAGE}: {problems}"
    for solution in sorted(solutions.glob("*.ipynb")):
        twin = labs / solution.name
        assert twin.is_file(), f"labs/{solution.name} is missing: run `make labs`"
        assert twin.read_text(encoding="utf-8") == labgen.render_lab(solution)
