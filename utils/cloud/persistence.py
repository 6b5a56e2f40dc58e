"""Durable state of the local cloud (interface; the store behind it is being built, issue #12).

Every component that holds state the learner made (moto's backends, Athena's query
history, Glue job runs...) registers how to snapshot and restore it:

    from utils.cloud import persistence

    persistence.register("athena", snapshot=lambda: {...}, restore=lambda state: ...)

and calls :func:`changed` after every mutation that must survive a crash, BEFORE it
answers the request (the store writes it crash-safely, coalescing concurrent changes):

    persistence.changed("athena")

Snapshots must be plain picklable data (no locks, threads, connections, open files).
Large payloads (object bodies, result files) are not snapshotted: they live as files
under :func:`blob_dir` and the snapshot only names them.

Until the store is enabled (:func:`enable`), ``register`` only records the callbacks
and ``changed`` does nothing, so components work the same in tests that never persist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Component:
    """One registered piece of state."""

    name: str
    snapshot: Callable[[], Any]
    restore: Callable[[Any], None]


_COMPONENTS: dict[str, Component] = {}
_STATE_DIR: Path | None = None


def register(name: str, snapshot: Callable[[], Any], restore: Callable[[Any], None]) -> None:
    """Declare a component's state: ``snapshot()`` returns it, ``restore(state)`` puts it back."""
    _COMPONENTS[name] = Component(name, snapshot, restore)


def changed(name: str) -> None:
    """The component's state changed and must be durable before the caller answers."""
    if _STATE_DIR is None:
        return


def enabled() -> bool:
    """True when state is being persisted (the daemon under ``.delab/cloud/``)."""
    return _STATE_DIR is not None


def enable(state_dir: Path) -> None:
    """Persist registered components under ``state_dir`` (restore what is stored first)."""
    global _STATE_DIR
    _STATE_DIR = state_dir


def blob_dir(name: str) -> Path | None:
    """A directory where component ``name`` keeps large files, or None when not persisting."""
    if _STATE_DIR is None:
        return None
    path = _STATE_DIR / "blobs" / name
    path.mkdir(parents=True, exist_ok=True)
    return path
