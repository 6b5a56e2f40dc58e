"""Execute notebooks deterministically and store their outputs.

    python -m utils.teaching.store_outputs notebooks/03_*.ipynb

The learner copies of the lessons (``notebooks/``) are stored WITH outputs so nbval can
check them. ``make labs`` executes them with :func:`execute` right after generating them;
this command re-executes copies in place (e.g. after a change in ``utils/`` changed an
output). Notebooks are written with no timing or papermill metadata, so a re-run changes
the file only when an output did.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat import NotebookNode

from utils.teaching.notebook_client import quiet_output_widgets

RUN_METADATA = ("execution", "papermill")
"""Cell metadata that only describes one run (timings): never stored."""


def strip_run_metadata(nb: NotebookNode) -> NotebookNode:
    """Drop run-specific metadata (timings, papermill) from ``nb`` in place; return it."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        for key in RUN_METADATA:
            cell.metadata.pop(key, None)
    return nb


def coalesce_streams(nb: NotebookNode) -> NotebookNode:
    """Merge consecutive stream outputs of the same stream in place; return ``nb``.

    How a kernel splits printed text into messages depends on timing; one output per run
    of text keeps the stored notebook the same from run to run.
    """
    for cell in nb.cells:
        merged: list[NotebookNode] = []
        for output in cell.get("outputs", []):
            previous = merged[-1] if merged else None
            if (output.output_type == "stream" and previous is not None
                    and previous.output_type == "stream" and previous.name == output.name):
                previous.text += output.text
            else:
                merged.append(output)
        if "outputs" in cell:
            cell.outputs = merged
    return nb


def execute(nb: NotebookNode, cwd: Path, timeout: int = 600) -> NotebookNode:
    """Run ``nb`` in place in a fresh ``python3`` kernel started in ``cwd``; return it.

    Raises ``nbclient.exceptions.CellExecutionError`` when a cell fails.
    """
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(cwd)}},
    )
    quiet_output_widgets(client)  # jupyter/nbclient#312: utils/teaching/notebook_client.py
    # DELAB_PROGRESS=off: a stored learner copy must not read or write anyone's progress record
    client.execute(env={**os.environ, "DELAB_PROGRESS": "off"})
    return coalesce_streams(strip_run_metadata(nb))


def store_outputs(path: Path, timeout: int = 600) -> None:
    """Run ``path`` in a fresh kernel (cwd = its folder) and save it with its outputs."""
    nb = nbformat.read(path, as_version=4)
    execute(nb, Path(path).parent, timeout=timeout)
    nbformat.write(nb, path)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: store outputs of each notebook given."""
    paths = [Path(p) for p in (argv if argv is not None else sys.argv[1:])]
    for path in paths:
        print(f"executing {path} ...", flush=True)
        store_outputs(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
