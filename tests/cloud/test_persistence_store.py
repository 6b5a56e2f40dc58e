"""The persistence store on its own (in this process): durability, group commit, failures, blobs."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from utils.cloud import persistence


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    """A store enabled on a fresh directory; disabled and its test components forgotten after."""
    directory = tmp_path / "state"
    persistence.enable(directory)
    try:
        yield directory
    finally:
        persistence.disable()
        for name in persistence.component_names():
            if name.startswith("test-"):
                persistence.unregister(name)


def reopen(directory: Path) -> None:
    """What a restart does: release the store, enable it again (components restore on register)."""
    persistence.disable()
    for name in persistence.component_names():
        if name.startswith("test-"):
            persistence.unregister(name)
    persistence.enable(directory)


class Counter:
    """A component holding a dict."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.state: dict[str, Any] = {}
        persistence.register(name, lambda: dict(self.state), self.state.update)


def test_a_change_is_on_disk_when_changed_returns(state_dir: Path) -> None:
    counter = Counter("test-counter")
    counter.state["learner"] = "ada"
    persistence.changed("test-counter")
    rows = sqlite3.connect(state_dir / persistence.DB_NAME).execute(
        "SELECT component FROM parts").fetchall()
    assert ("test-counter",) in rows
    reopen(state_dir)
    assert Counter("test-counter").state == {"learner": "ada"}


def test_concurrent_changes_share_commits(state_dir: Path) -> None:
    counter = Counter("test-busy")
    store = persistence._STORE
    assert store is not None
    before = store.stats.commits

    def work(index: int) -> None:
        counter.state[str(index)] = index
        persistence.changed("test-busy")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.stats.commits - before < 40  # group commit: one fsync for many changes
    reopen(state_dir)
    assert len(Counter("test-busy").state) == 40


def test_a_failed_write_is_reported_then_retried(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = Counter("test-full-disk")
    store = persistence._STORE
    assert store is not None
    real_commit = store._commit

    def full_disk(*args: Any) -> None:
        monkeypatch.setattr(store, "_commit", real_commit)  # the next attempt succeeds
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "_commit", full_disk)
    counter.state["first"] = 1
    with pytest.raises(persistence.PersistenceError, match="disk is full"):
        persistence.changed("test-full-disk")
    counter.state["second"] = 2
    persistence.changed("test-full-disk")
    reopen(state_dir)
    assert Counter("test-full-disk").state == {"first": 1, "second": 2}


def test_blobs_survive_when_referenced_and_leftovers_are_deleted(state_dir: Path) -> None:
    persistence.manage_blobs("test-blobs")
    kept = persistence.new_blob("test-blobs")
    kept.write(b"a body")
    kept_id = kept.publish()
    orphan = persistence.new_blob("test-blobs")
    orphan.write(b"never referenced")
    orphan_id = orphan.publish()
    half = persistence.new_blob("test-blobs")
    half.write(b"half an upload")  # a crash before publish leaves it in tmp/

    class Holder(persistence.Component):
        name = "test-holder"

        def dump(self, part: str) -> Any:
            persistence.reference_blob("test-blobs", kept_id)
            return kept_id

        def load(self, parts: dict[str, Any]) -> None:
            self.loaded = parts[""]

    persistence.register_component(Holder())
    persistence.changed("test-holder")
    reopen(state_dir)
    holder = Holder()
    persistence.register_component(holder)
    assert holder.loaded == kept_id
    assert persistence.blob_path("test-blobs", kept_id).read_bytes() == b"a body"
    assert not persistence.blob_path("test-blobs", orphan_id).exists()
    assert not list((state_dir / "tmp").iterdir())


def test_the_directory_is_locked_while_in_use(state_dir: Path) -> None:
    assert persistence.holder_pid(state_dir) == os.getpid()
    with pytest.raises(persistence.StateDirInUse, match="Another local cloud"), \
            persistence.locked(state_dir):
        pass


def test_an_unreadable_part_keeps_a_copy_and_the_rest_is_restored(state_dir: Path) -> None:
    class Parts(persistence.Component):
        name = "test-parts"

        def __init__(self) -> None:
            self.loaded: dict[str, Any] = {}

        def parts(self) -> list[str]:
            return ["a", "b"]

        def dump(self, part: str) -> Any:
            return part.upper()

        def load(self, parts: dict[str, Any]) -> None:
            self.loaded = parts

    persistence.register_component(Parts())
    persistence.changed("test-parts")
    persistence.disable()
    with sqlite3.connect(state_dir / persistence.DB_NAME) as db:
        db.execute("UPDATE parts SET data = ? WHERE component = 'test-parts' AND part = 'b'",
                   (b"not a pickle",))
    persistence.unregister("test-parts")
    persistence.enable(state_dir)
    parts = Parts()
    persistence.register_component(parts)
    assert parts.loaded == {"a": "A"}
    assert list(state_dir.parent.glob("state.unreadable-*"))
