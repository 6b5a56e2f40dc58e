"""Generate the learners' ``labs/`` from the instructor's ``solutions/`` (``make labs``).

``solutions/*.ipynb`` are the graded labs *with* answers and the single source of truth;
``labs/*.ipynb`` are generated from them and never edited by hand. Like nbgrader's
preprocessors, generation is a pipeline of small transforms over nbformat notebooks:

1. :class:`DropSolutionOnlyCells` drops cells tagged ``solution-only``.
2. :class:`ClearSolutions` replaces each answer region of a code cell (between
   ``### START CODE HERE ###`` and ``### END CODE HERE ###``, markers kept) with
   placeholders that still run: ``name = None  # YOUR CODE HERE`` for each top-level
   assignment, ``# YOUR CODE HERE`` for other statements (``pass  # YOUR CODE HERE``
   inside an indented block, which needs a statement).
3. :class:`StripSolutionMarkdown` removes ``<!-- BEGIN SOLUTION -->`` ...
   ``<!-- END SOLUTION -->`` text from markdown cells.
4. :class:`ClearOutputs` strips outputs and execution counts.
5. :class:`CleanMetadata` keeps only ``kernelspec`` and ``language_info`` (notebook) and
   ``tags`` (cells).

Output is deterministic: ``nbformat.writes`` (sorted keys, one-space indent), no
timestamps. ``python -m utils.teaching.labgen`` regenerates; ``--check`` exits 1 when
``labs/`` is out of date.
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
import sys
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_MARKER = "### START CODE HERE ###"
END_MARKER = "### END CODE HERE ###"
PLACEHOLDER = "# YOUR CODE HERE"
BEGIN_SOLUTION = "<!-- BEGIN SOLUTION -->"
END_SOLUTION = "<!-- END SOLUTION -->"
SOLUTION_ONLY_TAG = "solution-only"
KEPT_NOTEBOOK_METADATA = ("kernelspec", "language_info")
KEPT_CELL_METADATA = ("tags",)
OUT_OF_DATE_MESSAGE = "labs/ is out of date: run `make labs`"

_START_RE = re.compile(r"^[ \t]*" + re.escape(START_MARKER))
_END_RE = re.compile(r"^[ \t]*" + re.escape(END_MARKER))
_SOLUTION_BLOCK_RE = re.compile(
    r"[ \t]*" + re.escape(BEGIN_SOLUTION) + r".*?" + re.escape(END_SOLUTION) + r"[ \t]*\n?", re.DOTALL
)


class LabGenError(ValueError):
    """A solution notebook cannot be turned into a lab (the message says where and why)."""


class Transform:
    """One step of the pipeline: returns a transformed *copy* of the notebook.

    Subclasses override :meth:`transform_cell` (return ``None`` to drop the cell) or
    :meth:`transform_notebook` for notebook-level changes.
    """

    def __call__(self, nb: NotebookNode) -> NotebookNode:
        """Apply the transform to a deep copy of ``nb`` and return it."""
        nb = copy.deepcopy(nb)
        cells = []
        for index, cell in enumerate(nb.cells):
            new = self.transform_cell(cell, index)
            if new is not None:
                cells.append(new)
        nb.cells = cells
        return self.transform_notebook(nb)

    def transform_cell(self, cell: NotebookNode, index: int) -> NotebookNode | None:
        """Return the transformed cell, or ``None`` to drop it. Default: unchanged."""
        return cell

    def transform_notebook(self, nb: NotebookNode) -> NotebookNode:
        """Notebook-level change after the cells. Default: unchanged."""
        return nb


class DropSolutionOnlyCells(Transform):
    """Drop cells tagged ``solution-only`` (e.g. a cell asserting that the answer passes)."""

    def transform_cell(self, cell: NotebookNode, index: int) -> NotebookNode | None:
        """Drop the cell when it carries the ``solution-only`` tag."""
        return None if SOLUTION_ONLY_TAG in cell.get("metadata", {}).get("tags", []) else cell


class ClearSolutions(Transform):
    """Replace answer regions of code cells with runnable placeholders (markers kept)."""

    def transform_cell(self, cell: NotebookNode, index: int) -> NotebookNode | None:
        """Clear the answer regions of a code cell; other cells are unchanged."""
        if cell.cell_type == "code":
            try:
                cell.source = clear_answer_regions(cell.source)
            except LabGenError as error:
                raise LabGenError(f"cell {index}: {error}") from None
        return cell


class StripSolutionMarkdown(Transform):
    """Remove ``<!-- BEGIN SOLUTION -->`` ... ``<!-- END SOLUTION -->`` text from markdown cells."""

    def transform_cell(self, cell: NotebookNode, index: int) -> NotebookNode | None:
        """Strip solution text; a markdown cell left empty is dropped."""
        if (
            cell.cell_type != "markdown"
            or BEGIN_SOLUTION not in cell.source
            and END_SOLUTION not in cell.source
        ):
            return cell
        stripped = _SOLUTION_BLOCK_RE.sub("", cell.source)
        if BEGIN_SOLUTION in stripped or END_SOLUTION in stripped:
            raise LabGenError(
                f"cell {index}: unbalanced {BEGIN_SOLUTION} / {END_SOLUTION} in a markdown cell; "
                "every BEGIN needs an END after it"
            )
        if not stripped.strip():
            return None
        cell.source = stripped.rstrip("\n")
        return cell


class ClearOutputs(Transform):
    """Strip outputs and execution counts of code cells."""

    def transform_cell(self, cell: NotebookNode, index: int) -> NotebookNode | None:
        """Empty the outputs and clear the execution count."""
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        return cell


class CleanMetadata(Transform):
    """Keep only ``kernelspec``/``language_info`` (notebook) and ``tags`` (cells)."""

    def transform_cell(self, cell: NotebookNode, index: int) -> NotebookNode | None:
        """Drop every cell metadata key but the non-empty ``tags``; drop attachments of code cells."""
        metadata = cell.get("metadata", {})
        cell.metadata = nbformat.from_dict({k: metadata[k] for k in KEPT_CELL_METADATA if metadata.get(k)})
        return cell

    def transform_notebook(self, nb: NotebookNode) -> NotebookNode:
        """Drop every notebook metadata key but kernelspec and language_info."""
        nb.metadata = nbformat.from_dict(
            {k: nb.metadata[k] for k in KEPT_NOTEBOOK_METADATA if k in nb.metadata}
        )
        return nb


DEFAULT_PIPELINE: tuple[Transform, ...] = (
    DropSolutionOnlyCells(),
    ClearSolutions(),
    StripSolutionMarkdown(),
    ClearOutputs(),
    CleanMetadata(),
)


# --- answer regions ------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerRegion:
    """Lines ``start`` (the START marker) to ``end`` (the END marker) of a cell, 0-based."""

    start: int
    end: int


def find_answer_regions(lines: Sequence[str]) -> list[AnswerRegion]:
    """Locate the answer regions of a cell's lines; raise :class:`LabGenError` when unbalanced."""
    regions = []
    open_at: int | None = None
    for number, line in enumerate(lines):
        if _START_RE.match(line):
            if open_at is not None:
                raise LabGenError(
                    f"line {number + 1}: {START_MARKER} inside the region opened at line {open_at + 1}; "
                    f"close it with {END_MARKER} first"
                )
            open_at = number
        elif _END_RE.match(line):
            if open_at is None:
                raise LabGenError(f"line {number + 1}: {END_MARKER} without a {START_MARKER} before it")
            regions.append(AnswerRegion(open_at, number))
            open_at = None
    if open_at is not None:
        raise LabGenError(f"line {open_at + 1}: {START_MARKER} has no matching {END_MARKER}")
    return regions


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def placeholder_lines(body: Sequence[str], marker_indent: str = "") -> list[str]:
    """Placeholder lines (without newlines) for the body of one answer region.

    Each top-level assignment to plain names becomes ``name = None  # YOUR CODE HERE``
    (tuple targets get one ``None`` per name); each run of other statements becomes one
    ``# YOUR CODE HERE`` line. Comments and blank lines of the answer are dropped. In an
    indented region without an assignment, the first placeholder is ``pass  # YOUR CODE HERE``
    so the enclosing block keeps a statement.
    """
    code_lines = [line for line in body if line.strip() and not line.lstrip().startswith("#")]
    if not code_lines:  # an empty region (or only comments): nothing to hide
        return [f"{marker_indent}pass  {PLACEHOLDER}" if marker_indent else PLACEHOLDER]
    code = "".join(line if line.endswith("\n") else line + "\n" for line in body)
    dedented = textwrap.dedent(code)
    indent = _indent_of(code_lines[0])
    try:
        tree = ast.parse(dedented)
    except SyntaxError as error:
        raise LabGenError(
            f"the answer region is not valid Python on its own ({error.msg}, region line {error.lineno}); "
            "a region must hold whole statements"
        ) from None

    out: list[str] = []
    previous_was_other = False
    has_assignment = False
    for statement in tree.body:
        assignment = _assignment_placeholder(statement)
        if assignment is not None:
            out.append(f"{indent}{assignment}  {PLACEHOLDER}")
            has_assignment = True
            previous_was_other = False
        elif not previous_was_other:
            out.append(f"{indent}{PLACEHOLDER}")
            previous_was_other = True
    if indent and not has_assignment:
        out[0] = f"{indent}pass  {PLACEHOLDER}"
    return out


def _assignment_placeholder(statement: ast.stmt) -> str | None:
    """``"a = b = None"`` for an assignment to plain names, else ``None`` (another statement)."""
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
        targets = [statement.target]
    else:
        return None
    rendered = []
    for target in targets:
        if isinstance(target, ast.Name):
            rendered.append((target.id, "None"))
        elif isinstance(target, ast.Tuple | ast.List) and all(isinstance(e, ast.Name) for e in target.elts):
            names = ", ".join(e.id for e in target.elts)  # type: ignore[attr-defined]
            nones = ", ".join("None" for _ in target.elts)
            rendered.append((names, nones if len(target.elts) != 1 else "None,"))
        else:
            return None  # e.g. df["x"] = ...: a mutation, not a name to define
    values = {value for _, value in rendered}
    if len(values) != 1:  # a = b, c = ... : mixed shapes; keep it simple and safe
        return None
    return " = ".join(name for name, _ in rendered) + f" = {values.pop()}"


def clear_answer_regions(source: str) -> str:
    """Replace every answer region of a code cell's source with placeholders; markers stay."""
    lines = source.splitlines(keepends=True)
    regions = find_answer_regions(lines)
    if not regions:
        return source
    result: list[str] = []
    cursor = 0
    for region in regions:
        result.extend(lines[cursor : region.start + 1])
        marker_indent = _indent_of(lines[region.start])
        body = lines[region.start + 1 : region.end]
        result.extend(line + "\n" for line in placeholder_lines(body, marker_indent))
        cursor = region.end
    result.extend(lines[cursor:])
    return "".join(result)


# --- whole notebooks and folders -----------------------------------------------------------


def make_lab(solution: NotebookNode, pipeline: Iterable[Transform] = DEFAULT_PIPELINE) -> NotebookNode:
    """Return the lab notebook generated from a solution notebook (the input is not modified)."""
    nb = solution
    for transform in pipeline:
        nb = transform(nb)
    return nb


def render_lab(solution_path: Path) -> str:
    """The exact text of the lab generated from ``solution_path`` (what ``labs/`` must hold)."""
    try:
        solution = nbformat.read(solution_path, as_version=4)
    except Exception as error:
        raise LabGenError(f"{solution_path}: cannot read the notebook ({error})") from None
    try:
        lab = make_lab(solution)
    except LabGenError as error:
        raise LabGenError(f"{solution_path}: {error}") from None
    text = nbformat.writes(lab)
    return text if text.endswith("\n") else text + "\n"


def _solution_files(solutions_dir: Path) -> list[Path]:
    return sorted(p for p in Path(solutions_dir).glob("*.ipynb") if p.is_file())


def generate_labs(solutions_dir: Path, labs_dir: Path) -> list[Path]:
    """Write ``labs_dir/X.ipynb`` for each ``solutions_dir/X.ipynb``; return the paths written.

    Lab notebooks without a solution twin are removed (labs are generated, never edited).
    Files whose content is already right are left untouched (no spurious mtime changes).
    """
    solutions_dir, labs_dir = Path(solutions_dir), Path(labs_dir)
    labs_dir.mkdir(parents=True, exist_ok=True)
    written = []
    expected = set()
    for solution_path in _solution_files(solutions_dir):
        text = render_lab(solution_path)
        target = labs_dir / solution_path.name
        expected.add(target.name)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        written.append(target)
    for stale in labs_dir.glob("*.ipynb"):
        if stale.name not in expected:
            stale.unlink()
    return written


def check_in_sync(solutions_dir: Path, labs_dir: Path) -> list[str]:
    """Names of lab files that are out of date, missing, or extra (no solution twin); [] when in sync."""
    solutions_dir, labs_dir = Path(solutions_dir), Path(labs_dir)
    problems = []
    expected = set()
    for solution_path in _solution_files(solutions_dir):
        target = labs_dir / solution_path.name
        expected.add(target.name)
        if not target.exists():
            problems.append(f"{target.name} (missing)")
        elif target.read_text(encoding="utf-8") != render_lab(solution_path):
            problems.append(f"{target.name} (out of date)")
    if labs_dir.is_dir():
        for extra in sorted(labs_dir.glob("*.ipynb")):
            if extra.name not in expected:
                problems.append(f"{extra.name} (extra: no solutions/ twin)")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``python -m utils.teaching.labgen [--check] [--solutions DIR] [--labs DIR]``."""
    parser = argparse.ArgumentParser(
        prog="python -m utils.teaching.labgen", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--check", action="store_true", help="only check that labs/ is up to date (exit 1 if not)"
    )
    parser.add_argument(
        "--solutions", type=Path, default=PROJECT_ROOT / "solutions", help="default: solutions/"
    )
    parser.add_argument("--labs", type=Path, default=PROJECT_ROOT / "labs", help="default: labs/")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = check_in_sync(args.solutions, args.labs)
            if problems:
                print(f"{OUT_OF_DATE_MESSAGE} ({', '.join(problems)})", file=sys.stderr)
                return 1
            print(f"labs/ is up to date ({len(_solution_files(args.solutions))} notebooks)")
            return 0
        written = generate_labs(args.solutions, args.labs)
    except LabGenError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    print(f"{len(written)} lab notebook(s) generated in {args.labs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
