"""Generate learner copies from solution copies: ``labs/`` and ``notebooks/`` (``make labs``).

Two collections share one pipeline; the solution copies are the single source of truth and
the learner copies are generated, never edited by hand:

=====================  ==================  ==========================================
solution copies        learner copies      stored
=====================  ==================  ==========================================
``solutions/*.ipynb``  ``labs/``           without outputs
``solutions/lessons/`` ``notebooks/``      WITH the outputs of a learner's run (nbval)
=====================  ==================  ==========================================

Like nbgrader's preprocessors, generation is a pipeline of small transforms over nbformat
notebooks:

1. :class:`DropSolutionOnlyCells` drops cells tagged ``solution-only``.
2. :class:`ClearSolutions` replaces each answer region of a code cell (between
   ``### START CODE HERE ###`` and ``### END CODE HERE ###``, markers kept) with
   placeholders that still run: ``name = None  # YOUR CODE HERE`` for each top-level
   assignment, function or class (a ``def`` keeps its signature as a comment above),
   ``# YOUR CODE HERE`` for other statements (``pass  # YOUR CODE HERE`` inside an
   indented block, which needs a statement).
3. :class:`StripSolutionMarkdown` removes ``<!-- BEGIN SOLUTION -->`` ...
   ``<!-- END SOLUTION -->`` text from markdown cells.
4. :class:`NbvalMarkersToTags` turns ``# NBVAL_IGNORE_OUTPUT`` (and the other nbval comment
   markers) into the equivalent cell tags, so learners never see them.
5. :class:`Relink` rewrites relative markdown links so they still point at the right file
   from the learner copy's folder (a solution copy linked from another becomes its learner
   copy).
6. :class:`ClearOutputs` strips outputs and execution counts.
7. :class:`CleanMetadata` keeps only ``kernelspec`` and ``language_info`` (notebook) and
   ``tags`` (cells).

The lessons' learner copies are then executed in a fresh kernel
(:func:`utils.teaching.store_outputs.execute`, cwd ``notebooks/``) and stored with their
outputs: placeholders, "Not done yet" from every grader. A learner copy whose sources are
already right is left untouched (not re-executed) unless ``--force``. Solution copies are
stored without outputs; generation strips any it finds (as nbstripout would).

Output is deterministic: ``nbformat.writes`` (sorted keys, one-space indent), no
timestamps. ``python -m utils.teaching.labgen`` regenerates; ``--check`` exits 1 when a
learner copy is out of date (sources, tags) or not executed, or a solution copy has outputs.
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import posixpath
import re
import sys
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
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
KEPT_NOTEBOOK_METADATA = ("kernelspec", "language_info", "delab")
NOTEBOOK_METADATA_KEY = "delab"
"""``metadata.delab.notebook``: which course notebook a file is (the gradebook reads it)."""
KEPT_CELL_METADATA = ("tags",)
OUT_OF_DATE_MESSAGE = "labs/ is out of date: run `make labs`"
NBVAL_MARKERS = {
    "NBVAL_IGNORE_OUTPUT": "nbval-ignore-output",
    "NBVAL_CHECK_OUTPUT": "nbval-check-output",
    "NBVAL_RAISES_EXCEPTION": "nbval-raises-exception",
    "NBVAL_SKIP": "nbval-skip",
    "PYTEST_VALIDATE_IGNORE_OUTPUT": "nbval-ignore-output",  # nbval's legacy spelling
}
"""nbval's comment markers and the cell tags nbval honours in their place."""

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


class NbvalMarkersToTags(Transform):
    """Turn nbval comment markers (``# NBVAL_IGNORE_OUTPUT``...) of code cells into cell tags.

    nbval reads the tags exactly as it reads the markers, and learners never see the markers.
    A marker line is matched as nbval matches it: a comment whose text is the marker.
    """

    def transform_cell(self, cell: NotebookNode, index: int) -> NotebookNode | None:
        """Remove marker lines and add the matching tags (each once, in marker order)."""
        if cell.cell_type != "code":
            return cell
        kept, tags = [], list(cell.get("metadata", {}).get("tags", []))
        for line in cell.source.splitlines(keepends=True):
            stripped = line.strip()
            marker = stripped.lstrip("#").strip() if stripped.startswith("#") else None
            if marker in NBVAL_MARKERS:
                if NBVAL_MARKERS[marker] not in tags:
                    tags.append(NBVAL_MARKERS[marker])
            else:
                kept.append(line)
        if tags:
            cell.setdefault("metadata", nbformat.from_dict({}))["tags"] = tags
        source = "".join(kept)
        cell.source = source if cell.source.endswith("\n") else source.rstrip("\n")
        return cell


_LINK_RE = re.compile(r"(\]\(\s*<?)([^)\s>]+)|((?:src|href)=[\"'])([^\"']+)")


class Relink(Transform):
    """Rewrite relative links of markdown cells for the learner copy's folder.

    ``folders`` maps each folder of solution copies to its folder of learner copies. A link
    is resolved from ``source_dir`` (where the solution copy lives); a link to a notebook of
    a mapped folder points at its learner twin; any other relative link is re-expressed
    relative to ``target_dir``. Absolute URLs, ``#anchors`` and absolute paths are kept.
    """

    def __init__(self, source_dir: Path, target_dir: Path, folders: Mapping[Path, Path]) -> None:
        self.source_dir = Path(os.path.abspath(source_dir))
        self.target_dir = Path(os.path.abspath(target_dir))
        # most specific first: solutions/lessons/ before solutions/
        self.folders = sorted(((Path(os.path.abspath(s)), Path(os.path.abspath(t)))
                               for s, t in folders.items()), key=lambda st: -len(st[0].parts))

    def transform_cell(self, cell: NotebookNode, index: int) -> NotebookNode | None:
        """Rewrite the relative links of a markdown cell."""
        if cell.cell_type == "markdown":
            cell.source = _LINK_RE.sub(self._replace, cell.source)
        return cell

    def _replace(self, match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return match.group(1) + self.relink(match.group(2))
        return match.group(3) + self.relink(match.group(4))

    def relink(self, link: str) -> str:
        """The link as it must read from ``target_dir``."""
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", link) or link.startswith(("#", "/")):
            return link  # a URL (http:, mailto:...), an anchor in this notebook, an absolute path
        path, sep, fragment = link.partition("#")
        absolute = Path(os.path.normpath(self.source_dir / path))
        for source, target in self.folders:
            if absolute.parent == source and absolute.suffix == ".ipynb":
                absolute = target / absolute.name
                break
        relative = posixpath.join(*Path(os.path.relpath(absolute, self.target_dir)).parts)
        if path.endswith("/"):
            relative += "/"
        return relative + sep + fragment


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
        """Drop every notebook metadata key but kernelspec, language_info and delab."""
        nb.metadata = nbformat.from_dict(
            {k: nb.metadata[k] for k in KEPT_NOTEBOOK_METADATA if k in nb.metadata}
        )
        return nb


DEFAULT_PIPELINE: tuple[Transform, ...] = (
    DropSolutionOnlyCells(),
    ClearSolutions(),
    StripSolutionMarkdown(),
    NbvalMarkersToTags(),
    ClearOutputs(),
    CleanMetadata(),
)
"""Every transform but :class:`Relink` (which needs to know the folders)."""


def pipeline_for(source_dir: Path, target_dir: Path,
                 folders: Mapping[Path, Path] | None = None) -> tuple[Transform, ...]:
    """The full pipeline from ``source_dir`` to ``target_dir``: the default one plus :class:`Relink`.

    ``folders`` maps solution folders to learner folders (default: this project's two
    collections plus ``source_dir -> target_dir``).
    """
    mapping = {c.solutions: c.learners for c in default_collections()} if folders is None else dict(folders)
    mapping[Path(source_dir)] = Path(target_dir)
    relink = Relink(source_dir, target_dir, mapping)
    return (*DEFAULT_PIPELINE[:4], relink, *DEFAULT_PIPELINE[4:])


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
        definition = _definition_placeholder(statement)
        if definition is not None:  # def/class: the name is None until the learner writes it
            out.extend(f"{indent}{line}" for line in definition)
            has_assignment = True
            previous_was_other = False
            continue
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


def _definition_placeholder(statement: ast.stmt) -> list[str] | None:
    """``["# def f(x: int) -> str:", "f = None  # YOUR CODE HERE"]`` for a def or class, else None.

    The name is bound to ``None`` so the grader says "Not done yet" (a function whose body is
    ``pass`` would be graded as a wrong answer); the signature stays visible as a comment.
    """
    if not isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return None
    header = copy.copy(statement)
    header.decorator_list = []
    header.body = [ast.Expr(ast.Constant(...))]
    signature = ast.unparse(header).splitlines()[0]
    return [f"# {signature}", f"{statement.name} = None  {PLACEHOLDER}"]


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


@dataclass(frozen=True)
class Collection:
    """A folder of solution copies and the folder of learner copies generated from it."""

    solutions: Path
    learners: Path
    execute: bool = False
    """Store the learner copies with the outputs of a run (lessons: nbval checks them)."""

    @property
    def out_of_date_message(self) -> str:
        """What ``--check`` prints when this collection is out of date."""
        return f"{self.learners.name}/ is out of date: run `make labs`"


def default_collections(root: Path = PROJECT_ROOT) -> tuple[Collection, Collection]:
    """This project's collections: the labs, then the lessons."""
    return (
        Collection(root / "solutions", root / "labs"),
        Collection(root / "solutions" / "lessons", root / "notebooks", execute=True),
    )


def make_lab(solution: NotebookNode, pipeline: Iterable[Transform] = DEFAULT_PIPELINE) -> NotebookNode:
    """Return the lab notebook generated from a solution notebook (the input is not modified)."""
    nb = solution
    for transform in pipeline:
        nb = transform(nb)
    return nb


def _text(nb: NotebookNode) -> str:
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def _read(path: Path) -> NotebookNode:
    try:
        return nbformat.read(path, as_version=4)
    except Exception as error:
        raise LabGenError(f"{path}: cannot read the notebook ({error})") from None


def render_lab(solution_path: Path, pipeline: Iterable[Transform] | None = None) -> str:
    """The exact text of the learner copy generated from ``solution_path``, before any run.

    ``pipeline`` defaults to :func:`pipeline_for` the solution's folder and ``labs/``'s
    position relative to it (a sibling ``labs/`` folder for ``solutions/``).
    """
    solution = _read(solution_path)
    if pipeline is None:
        pipeline = pipeline_for(solution_path.parent, solution_path.parent.parent / "labs")
    try:
        lab = make_lab(solution, pipeline)
    except LabGenError as error:
        raise LabGenError(f"{solution_path}: {error}") from None
    # Which course notebook this is, so a renamed submission is still recognised (gradebook).
    lab.metadata[NOTEBOOK_METADATA_KEY] = {"notebook": solution_path.stem}
    return _text(lab)


def sources_of(learner_path: Path) -> str:
    """A stored learner copy without what a run adds (outputs, counts, widget state).

    Equal to :func:`render_lab` of its solution copy exactly when the two are in sync.
    """
    nb = _read(learner_path)
    for transform in (ClearOutputs(), CleanMetadata()):
        nb = transform(nb)
    return _text(nb)


def has_outputs(nb: NotebookNode) -> bool:
    """True when a code cell stores outputs or an execution count, or widget state is stored."""
    return "widgets" in nb.metadata or any(
        cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
        for cell in nb.cells
    )


def strip_solution(path: Path) -> bool:
    """Remove outputs, counts and run metadata from a solution copy in place; True if it changed."""
    from utils.teaching.store_outputs import strip_run_metadata

    before = path.read_text(encoding="utf-8")
    nb = ClearOutputs()(strip_run_metadata(_read(path)))
    nb.metadata.pop("widgets", None)
    after = _text(nb)
    if after == before:
        return False
    path.write_text(after, encoding="utf-8")
    return True


def _not_executed(nb: NotebookNode) -> bool:
    return any(cell.cell_type == "code" and cell.source.strip() and cell.get("execution_count") is None
               for cell in nb.cells)


def _solution_files(solutions_dir: Path) -> list[Path]:
    return sorted(p for p in Path(solutions_dir).glob("*.ipynb") if p.is_file())


def _execute_learner_copy(text: str, solution_path: Path, learners_dir: Path) -> str:
    """Run a generated learner copy in a fresh kernel (cwd ``learners_dir``); its stored text."""
    from nbclient.exceptions import CellExecutionError

    from utils.teaching.store_outputs import execute

    nb = nbformat.reads(text, as_version=4)
    metadata = copy.deepcopy(nb.metadata)
    try:
        execute(nb, learners_dir)
    except CellExecutionError as error:
        raise LabGenError(
            f"{solution_path}: its learner copy fails when run ({error.ename}: {error.evalue}); "
            "a learner copy must run top to bottom with every answer a placeholder "
            "(see docs/authoring.md)"
        ) from None
    except Exception as error:  # kernel died, timeout...
        raise LabGenError(f"{solution_path}: its learner copy could not be run ({error})") from None
    # the kernel fills in language_info (its Python version...): keep the solution's, so the
    # stored copy does not change with the machine that ran it; keep the widget state it adds
    widgets = nb.metadata.get("widgets")
    nb.metadata = metadata
    if widgets:
        nb.metadata["widgets"] = widgets
    return _text(nb)


def _with_metadata_of(target: Path, text: str) -> str:
    """The executed ``target`` with the notebook metadata of the rendered ``text`` (its widget state kept)."""
    stored = _read(target)
    metadata = copy.deepcopy(nbformat.reads(text, as_version=4).metadata)
    if "widgets" in stored.metadata:
        metadata["widgets"] = stored.metadata["widgets"]
    stored.metadata = metadata
    return _text(stored)


def _only_metadata_differs(target: Path, text: str) -> bool:
    """True when an executed ``target`` differs from the rendered ``text`` only in notebook metadata."""
    if not target.exists() or _not_executed(_read(target)):
        return False
    rendered = nbformat.reads(text, as_version=4)
    stored = nbformat.reads(sources_of(target), as_version=4)
    stored.metadata = rendered.metadata
    return _text(stored) == text


def generate(collection: Collection, force: bool = False,
             log: Callable[[str], None] | None = None) -> list[Path]:
    """Write each learner copy of ``collection``; return the paths of all its learner copies.

    Solution copies lose any stored outputs. Learner copies without a solution twin are
    removed. A learner copy already in sync is left untouched (for an executed collection:
    not re-run) unless ``force``. An executed learner copy is written only after its run
    succeeded, so a failing run loses nothing.
    """
    solutions_dir, learners_dir = Path(collection.solutions), Path(collection.learners)
    learners_dir.mkdir(parents=True, exist_ok=True)
    written, expected = [], set()
    for solution_path in _solution_files(solutions_dir):
        strip_solution(solution_path)
        text = render_lab(solution_path, pipeline_for(solutions_dir, learners_dir))
        target = learners_dir / solution_path.name
        expected.add(target.name)
        if collection.execute:
            current = target.exists() and sources_of(target) == text and not _not_executed(_read(target))
            if not force and not current and _only_metadata_differs(target, text):
                if log:
                    log(f"updating the notebook metadata of {target} (no run needed)")
                target.write_text(_with_metadata_of(target, text), encoding="utf-8")
                current = True
            if force or not current:
                if log:
                    log(f"executing {target} ...")
                target.write_text(_execute_learner_copy(text, solution_path, learners_dir), encoding="utf-8")
        elif not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        written.append(target)
    for stale in learners_dir.glob("*.ipynb"):
        if stale.name not in expected:
            stale.unlink()
    return written


def check(collection: Collection) -> list[str]:
    """What is out of date in ``collection`` (one string per file); [] when in sync."""
    solutions_dir, learners_dir = Path(collection.solutions), Path(collection.learners)
    problems, expected = [], set()
    for solution_path in _solution_files(solutions_dir):
        if has_outputs(_read(solution_path)):
            problems.append(f"{solutions_dir.name}/{solution_path.name} (solution copy stores outputs)")
        target = learners_dir / solution_path.name
        expected.add(target.name)
        if not target.exists():
            problems.append(f"{target.name} (missing)")
            continue
        text = render_lab(solution_path, pipeline_for(solutions_dir, learners_dir))
        if collection.execute:
            if sources_of(target) != text:
                problems.append(f"{target.name} (out of date)")
            elif _not_executed(_read(target)):
                problems.append(f"{target.name} (not executed: outputs missing)")
        elif target.read_text(encoding="utf-8") != text:
            problems.append(f"{target.name} (out of date)")
    if learners_dir.is_dir():
        for extra in sorted(learners_dir.glob("*.ipynb")):
            if extra.name not in expected:
                problems.append(f"{extra.name} (extra: no {solutions_dir.name}/ twin)")
    return problems


def generate_labs(solutions_dir: Path, labs_dir: Path) -> list[Path]:
    """Write ``labs_dir/X.ipynb`` for each ``solutions_dir/X.ipynb`` (not executed); return the paths."""
    return generate(Collection(Path(solutions_dir), Path(labs_dir)))


def check_in_sync(solutions_dir: Path, labs_dir: Path) -> list[str]:
    """Names of lab files that are out of date, missing, or extra (no solution twin); [] when in sync."""
    return check(Collection(Path(solutions_dir), Path(labs_dir)))


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``python -m utils.teaching.labgen [--check] [--force] [FOLDER OPTIONS]``.

    Without folder options both collections are processed (``solutions/ -> labs/`` and
    ``solutions/lessons/ -> notebooks/``); with ``--solutions``/``--labs`` (or
    ``--lesson-solutions``/``--lessons``) only the collection(s) named.
    """
    parser = argparse.ArgumentParser(
        prog="python -m utils.teaching.labgen", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--check", action="store_true",
                        help="only check that the learner copies are up to date (exit 1 if not)")
    parser.add_argument("--force", action="store_true",
                        help="re-execute every lesson learner copy, even those in sync")
    labs, lessons = default_collections()
    parser.add_argument("--solutions", type=Path, help="lab solution copies (default: solutions/)")
    parser.add_argument("--labs", type=Path, help="lab learner copies (default: labs/)")
    parser.add_argument("--lesson-solutions", type=Path,
                        help="lesson solution copies (default: solutions/lessons/)")
    parser.add_argument("--lessons", type=Path, help="lesson learner copies, executed (default: notebooks/)")
    args = parser.parse_args(argv)
    want_labs = args.solutions is not None or args.labs is not None
    want_lessons = args.lesson_solutions is not None or args.lessons is not None
    collections = []
    if want_labs or not want_lessons:
        collections.append(Collection(args.solutions or labs.solutions, args.labs or labs.learners))
    if want_lessons or not want_labs:
        collections.append(Collection(args.lesson_solutions or lessons.solutions,
                                      args.lessons or lessons.learners, execute=True))
    status = 0
    try:
        for collection in collections:
            if args.check:
                problems = check(collection)
                if problems:
                    print(f"{collection.out_of_date_message} ({', '.join(problems)})", file=sys.stderr)
                    status = 1
                else:
                    count = len(_solution_files(collection.solutions))
                    print(f"{collection.learners.name}/ is up to date ({count} notebooks)")
                continue
            written = generate(collection, force=args.force, log=lambda m: print(m, flush=True))
            print(f"{len(written)} learner notebook(s) in {collection.learners} "
                  f"(from {collection.solutions})")
    except LabGenError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return status


if __name__ == "__main__":
    sys.exit(main())
