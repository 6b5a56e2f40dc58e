"""A lakehouse table in miniature: Parquet files on a lake, plus snapshots that make them a table.

Apache Iceberg (and Delta Lake, and Hudi) turn a folder of Parquet files in object storage
into a table with warehouse features: every write creates a new **snapshot**, readers see
one consistent snapshot, and old snapshots stay readable (**time travel**) until they are
expired. This module keeps the idea and drops the machinery:

- data files are real Parquet files, written once and never changed;
- ``metadata.json`` lists the snapshots; each one names its parent and the files it
  **added** and **removed** (a delete rewrites the files it touches: copy-on-write);
- the table's *current* snapshot is a pointer, which a rollback moves back.

Real formats store more: Iceberg writes, for every snapshot, a manifest list naming all
its live data files (with column statistics), so a reader need not replay history; Delta
Lake keeps a log of add/remove actions with periodic checkpoints. Reading a snapshot is
then "the files that make it up", here :func:`files_in_snapshot`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd


class SnapshotTable:
    """A table of Parquet files under ``root`` with snapshot metadata (a tiny Iceberg)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        (self.root / "data").mkdir(parents=True, exist_ok=True)
        if not self._metadata_path.exists():
            self._write_metadata({"current_snapshot_id": None, "snapshots": []})

    @property
    def _metadata_path(self) -> Path:
        return self.root / "metadata.json"

    @property
    def metadata(self) -> dict[str, Any]:
        """The table's metadata: the current snapshot id and every snapshot, oldest first."""
        return json.loads(self._metadata_path.read_text(encoding="utf-8"))

    def _write_metadata(self, metadata: Mapping[str, Any]) -> None:
        temporary = self._metadata_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(metadata, indent=1), encoding="utf-8")
        temporary.replace(self._metadata_path)  # the commit: one atomic swap of the pointer file

    def _new_file(self, frame: pd.DataFrame) -> str:
        name = f"data/{len(list((self.root / 'data').glob('*.parquet'))) + 1:05d}.parquet"
        frame.to_parquet(self.root / name, index=False)
        return name

    def _commit(self, operation: str, added: list[str], removed: list[str]) -> int:
        metadata = self.metadata
        snapshot_id = len(metadata["snapshots"]) + 1
        metadata["snapshots"].append({
            "snapshot_id": snapshot_id, "parent_id": metadata["current_snapshot_id"], "operation": operation,
            "added_files": added, "removed_files": removed,
        })  # fmt: skip
        metadata["current_snapshot_id"] = snapshot_id
        self._write_metadata(metadata)
        return snapshot_id

    def append(self, rows: pd.DataFrame) -> int:
        """Write ``rows`` as a new Parquet file; commit a snapshot that adds it. Returns its id."""
        return self._commit("append", [self._new_file(rows)], [])

    def delete_where(self, predicate: Callable[[pd.DataFrame], pd.Series]) -> int:
        """Delete the rows matching ``predicate`` (copy-on-write): rewrite every file that holds one."""
        added, removed = [], []
        for name in sorted(files_in_snapshot(self.metadata, self.metadata["current_snapshot_id"])):
            frame = pd.read_parquet(self.root / name)
            hit = predicate(frame)
            if hit.any():
                removed.append(name)
                if (~hit).any():
                    added.append(self._new_file(frame[~hit]))
        return self._commit("delete", added, removed)

    def rollback(self, snapshot_id: int) -> None:
        """Make an earlier snapshot current again; later snapshots stay in the history, unreachable."""
        metadata = self.metadata
        if snapshot_id not in {s["snapshot_id"] for s in metadata["snapshots"]}:
            raise KeyError(f"no snapshot {snapshot_id}")
        metadata["current_snapshot_id"] = snapshot_id
        self._write_metadata(metadata)

    def read(self, snapshot_id: int | None = None) -> pd.DataFrame:
        """The table as of ``snapshot_id`` (default: the current snapshot): time travel."""
        metadata = self.metadata
        wanted = metadata["current_snapshot_id"] if snapshot_id is None else snapshot_id
        names = sorted(files_in_snapshot(metadata, wanted))
        if not names:
            return pd.DataFrame()
        return pd.concat([pd.read_parquet(self.root / n) for n in names], ignore_index=True)


def files_in_snapshot(metadata: Mapping[str, Any], snapshot_id: int | None) -> set[str]:
    """The data files that make up ``snapshot_id``: what its ancestors added and did not remove.

    Follows ``parent_id`` from the snapshot back to the first one, so a snapshot abandoned by
    a rollback (not an ancestor) is ignored even though it sits earlier in the list.
    """
    if snapshot_id is None:
        return set()
    by_id = {s["snapshot_id"]: s for s in metadata["snapshots"]}
    if snapshot_id not in by_id:
        raise KeyError(f"no snapshot {snapshot_id}")
    chain = []
    current: int | None = snapshot_id
    while current is not None:
        chain.append(by_id[current])
        current = by_id[current]["parent_id"]
    files: set[str] = set()
    for snapshot in reversed(chain):  # oldest first
        files -= set(snapshot["removed_files"])
        files |= set(snapshot["added_files"])
    return files
