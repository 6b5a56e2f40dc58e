"""make labs: each transform, placeholders, determinism, sync checks, CLI, the lab runs, and the
lessons' learner copies are generated, executed and in sync with their solution copies."""

from __future__ import annotations

import ast
import copy
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
    Collection,
    DropSolutionOnlyCells,
    LabGenError,
    NbvalMarkersToTags,
    Relink,
    StripSolutionMarkdown,
    check,
    check_in_sync,
    clear_answer_regions,
    default_collections,
    generate,
    generate_labs,
    make_lab,
    strip_solution,
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


def test_functions_and_classes_become_none_with_their_signature_as_a_comment():
    source = (
        f"{START_MARKER}\n@cache\ndef parse(line: str, *, strict: bool = False) -> int | None:\n"
        f"    return 1\nclass Parser(Base):\n    x = 1\n{END_MARKER}\n"
    )
    cleared = clear_answer_regions(source)
    assert cleared.splitlines()[1:-1] == [
        "# def parse(line: str, *, strict: bool=False) -> int | None:",
        "parse = None  # YOUR CODE HERE",
        "# class Parser(Base):",
        "Parser = None  # YOUR CODE HERE",
    ]
    ast.parse(cleared)


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


def test_clean_metadata_keeps_kernelspec_language_info_delab_and_tags():
    nb = _nb(
        new_code_cell(
            "x", metadata={"tags": ["parameters"], "papermill": {"duration": 1}, "collapsed": True}
        ),
        new_code_cell("y", metadata={"tags": [], "scrolled": True}),
        kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"},
        language_info={"name": "python"},
        papermill={"start_time": "2024-01-01"},
        widgets={"state": {}},
        delab={"notebook": "01_sample"},
    )
    out = CleanMetadata()(nb)
    assert set(out.metadata) == {"kernelspec", "language_info", "delab"}
    assert out.cells[0].metadata == {"tags": ["parameters"]} and out.cells[1].metadata == {}


def test_nbval_markers_become_tags_and_disappear():
    nb = _nb(
        new_code_cell("# NBVAL_IGNORE_OUTPUT\nprint(1)", metadata={"tags": ["parameters"]}),
        new_code_cell("x = 1\n  #  NBVAL_SKIP\n# NBVAL_SKIP\ny = 2\n# NBVAL_SKIP"),
        new_code_cell("# NBVAL_IGNORE_OUTPUT is explained here\nz = 3"),
        new_markdown_cell("# NBVAL_SKIP"),
    )
    out = NbvalMarkersToTags()(nb)
    assert [c.source for c in out.cells] == [
        "print(1)", "x = 1\ny = 2", "# NBVAL_IGNORE_OUTPUT is explained here\nz = 3", "# NBVAL_SKIP",
    ]
    assert [c.metadata.get("tags") for c in out.cells] == [
        ["parameters", "nbval-ignore-output"], ["nbval-skip"], None, None,
    ]


def test_relink_keeps_links_working_from_the_learner_folder(tmp_path):
    solutions, lessons, labs = tmp_path / "solutions", tmp_path / "notebooks", tmp_path / "labs"
    relink = Relink(solutions / "lessons", lessons, {solutions / "lessons": lessons, solutions: labs})
    cases = {
        "02_next.ipynb": "02_next.ipynb",
        "02_next.ipynb#Key-takeaways": "02_next.ipynb#Key-takeaways",
        "../C1W2_1_source_system.ipynb": "../labs/C1W2_1_source_system.ipynb",
        "../../docs/coverage.md#table": "../docs/coverage.md#table",
        "figures/flow.png": "../solutions/lessons/figures/flow.png",
        "https://example.org/x.ipynb": "https://example.org/x.ipynb",
        "#anchor": "#anchor",
        "/abs/file.md": "/abs/file.md",
    }
    assert {link: relink.relink(link) for link in cases} == cases
    cell = new_markdown_cell(
        'See [docs](../../docs/a.md), ![f](figures/f.png) and <img src="figures/g.png">.'
    )
    assert Relink(solutions / "lessons", lessons, {})(_nb(cell)).cells[0].source == (
        'See [docs](../docs/a.md), ![f](../solutions/lessons/figures/f.png) and '
        '<img src="../solutions/lessons/figures/g.png">.'
    )


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
        "delab": {"notebook": "C1_W9_Sample"},  # a renamed submission is still recognised
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


# --- lessons: solutions/lessons/ -> notebooks/, executed -----------------------------------


def _lesson_collection(tmp_path, *solutions):
    source, learners = tmp_path / "solutions" / "lessons", tmp_path / "notebooks"
    source.mkdir(parents=True)
    for name, nb in solutions:
        nbformat.write(nb, source / name)
    return Collection(source, learners, execute=True)


def test_lesson_learner_copies_are_executed_in_sync_and_left_alone_when_current(tmp_path, sample_solution):
    executed_solution = copy.deepcopy(sample_solution)  # as an author saves it after a run
    code = next(c for c in executed_solution.cells if c.cell_type == "code")
    code.outputs = [new_output("stream", name="stdout", text="x\n")]
    code.execution_count = 7
    executed_solution.metadata["widgets"] = {"state": {}}
    collection = _lesson_collection(tmp_path, ("01_sample.ipynb", executed_solution))
    assert check(collection) == [
        "lessons/01_sample.ipynb (solution copy stores outputs)", "01_sample.ipynb (missing)",
    ]

    [learner] = generate(collection)
    assert check(collection) == []
    assert not labgen.has_outputs(nbformat.read(collection.solutions / "01_sample.ipynb", as_version=4))
    stored = nbformat.read(learner, as_version=4)
    results = {r.exercise: r for r in collect(stored)}
    assert set(results) == {"ex1_total_revenue", "ex2_revenue_by_customer"}
    assert all(r.not_done for r in results.values())
    assert all(c.execution_count for c in stored.cells if c.cell_type == "code" and c.source.strip())
    assert "revenue_by_customer_sql = None  # YOUR CODE HERE" in learner.read_text()

    before = learner.stat().st_mtime_ns
    generate(collection)  # in sync: not re-executed, not rewritten
    assert learner.stat().st_mtime_ns == before
    assert stored.metadata["delab"] == {"notebook": "01_sample"}

    older = nbformat.read(learner, as_version=4)  # stored before labgen wrote the notebook's name
    del older.metadata["delab"]
    older.metadata["widgets"] = {"state": {"model": 1}}  # what a run of a widget cell stores
    nbformat.write(older, learner)
    assert check(collection) == ["01_sample.ipynb (out of date)"]
    logged = []
    generate(collection, log=logged.append)  # only the metadata differs: rewritten, not re-run
    assert logged == [f"updating the notebook metadata of {learner} (no run needed)"]
    updated = nbformat.read(learner, as_version=4)
    assert updated.metadata["delab"] == {"notebook": "01_sample"}
    assert updated.metadata["widgets"] == {"state": {"model": 1}}
    assert [c.get("outputs") for c in updated.cells] == [c.get("outputs") for c in stored.cells]
    assert check(collection) == []

    edited = nbformat.read(collection.solutions / "01_sample.ipynb", as_version=4)
    edited.cells.append(new_markdown_cell("A new closing remark."))
    nbformat.write(edited, collection.solutions / "01_sample.ipynb")
    assert check(collection) == ["01_sample.ipynb (out of date)"]

    never_run = _nb(new_code_cell("x = 1"))
    nbformat.write(never_run, collection.solutions / "01_sample.ipynb")
    never_run.metadata["delab"] = {"notebook": "01_sample"}
    nbformat.write(never_run, learner)  # the right cells, but no outputs
    assert check(collection) == ["01_sample.ipynb (not executed: outputs missing)"]


def test_a_learner_copy_that_crashes_is_a_clear_error_and_nothing_is_written(tmp_path, capsys):
    crashing = _nb(new_code_cell(f"{START_MARKER}\nanswer = 41\n{END_MARKER}"), new_code_cell("answer + 1"))
    collection = _lesson_collection(tmp_path, ("02_crash.ipynb", crashing))
    args = ["--lesson-solutions", str(collection.solutions), "--lessons", str(collection.learners)]
    assert labgen.main(args) == 2
    error = capsys.readouterr().err
    assert "02_crash.ipynb: its learner copy fails when run (TypeError" in error and "\n" not in error.strip()
    assert not (collection.learners / "02_crash.ipynb").exists()
    assert labgen.main([*args, "--check"]) == 1
    assert "notebooks/ is out of date: run `make labs` (02_crash.ipynb (missing))" in capsys.readouterr().err


def test_strip_solution_is_a_no_op_on_a_clean_copy(tmp_path, sample_solution):
    path = tmp_path / "s.ipynb"
    path.write_text(labgen._text(sample_solution))
    assert strip_solution(path) is False


def test_lessons_in_sync():
    """Every solutions/lessons/*.ipynb has an executed notebooks/ twin with the same cells (run `make labs`).

    Outputs are nbval's to check (it runs notebooks/ in the same `make test`).
    """
    lessons = default_collections()[1]
    problems = check(lessons)
    assert problems == [], f"{lessons.out_of_date_message}: {problems}"
