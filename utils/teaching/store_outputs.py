"""Execute lesson notebooks in place, storing outputs without run-specific metadata.

    python -m utils.teaching.store_outputs notebooks/03_*.ipynb

Lessons are stored WITH outputs so nbval can check them; this writes them with no
timing or papermill metadata, so a re-run changes the file only when an output did.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def store_outputs(path: Path, timeout: int = 600) -> None:
    """Run ``path`` in a fresh kernel (cwd = its folder) and save it with its outputs."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
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
