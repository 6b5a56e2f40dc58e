"""Durable state of the local cloud: what components snapshot, saved crash-safely.

Every component that holds state the learner made (moto's backends, Athena's query
history, Glue job runs...) registers how to snapshot and restore it:

    from utils.cloud import persistence

    persistence.register("athena", snapshot=lambda: {...}, restore=lambda state: ...)

and calls :func:`changed` after every mutation that must survive a crash, BEFORE it
answers the request; it returns once the change is on disk (concurrent changes are
written together, one fsync for all of them: group commit):

    persistence.changed("athena")

Snapshots must be plain picklable data (no locks, threads, connections, open files).
Large payloads (object bodies, result files) are not snapshotted: they live as files
under :func:`blob_dir` (see :class:`BlobWriter`) and the snapshot only names them.

Until the store is enabled (:func:`enable`), ``register`` only records the callbacks
and ``changed`` does nothing, so components work the same in tests that never persist.

How it is stored (the choice and why: docs/architecture.md, "State"):

- ``<state dir>/state.sqlite3``: one row per *part* of a component (a moto backend,
  one S3 key with its versions, one log stream...), the part's pickle. SQLite in WAL
  mode with ``synchronous=FULL`` makes each commit atomic and durable: a crash keeps
  the last committed state, never half of a write. Only the parts that changed are
  pickled again, so saving stays cheap as the state grows.
- ``<state dir>/blobs/<namespace>/<id>``: large bodies, written to ``tmp/`` first,
  fsynced, renamed into place (never rewritten), and referenced by the parts that use
  them. A blob that no committed part and no live object uses is deleted later.
- ``<state dir>/LOCK``: held (flock) by the cloud that uses the directory, so two
  clouds never share it and ``reset`` knows when the cloud is running.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pickle
import shutil
import signal
import sqlite3
import sys
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1
DB_NAME = "state.sqlite3"
LOCK_NAME = "LOCK"

# A blob that no part references is deleted only when it is older than this: a blob
# published a moment ago may not be attached to its object yet.
BLOB_GRACE_SECONDS = 10.0
# How often unused blobs are looked for while the cloud runs (after commits).
SWEEP_INTERVAL_SECONDS = 60.0
# Tests only: "before-commit:<text>" kills the process (SIGKILL) when a part whose name
# contains <text> is about to be committed: its blobs are on disk, its metadata is not.
CRASH_POINT_VARIABLE = "DELAB_STATE_TEST_CRASH"


class PersistenceError(RuntimeError):
    """The state could not be written (disk full, read-only...): the change is not durable."""


class StateDirInUse(RuntimeError):
    """Another local cloud holds the state directory."""


class _Missing:
    """The part no longer exists (its stored row is deleted)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class Component:
    """A piece of state saved in parts; a simple component has one part, ``""``.

    Subclasses that hold much state (S3: one part per key) override :meth:`parts`,
    :meth:`dump`, :meth:`load` and :meth:`expand`.
    """

    name: str = ""

    def parts(self) -> Iterable[str]:
        """Every part the live state has (used when the whole component changed)."""
        return [""]

    def dump(self, part: str) -> Any:
        """The part's picklable state, or :data:`MISSING` when the part is gone."""
        raise NotImplementedError

    def load(self, parts: dict[str, Any]) -> None:
        """Put back the stored parts (called once, at start-up)."""
        raise NotImplementedError

    def expand(self, part: str, stored: set[str]) -> Iterable[str]:
        """The parts to write when ``part`` was marked changed (``stored``: parts on disk).

        A marker may stand for several parts (e.g. "every key of this bucket").
        """
        return [part]

    def reset_cache(self) -> None:
        """A write failed: forget any memory of what was saved (it is compared afresh)."""


class _SimpleComponent(Component):
    def __init__(self, name: str, snapshot: Callable[[], Any], restore: Callable[[Any], None]) -> None:
        self.name = name
        self.snapshot = snapshot
        self.restore = restore

    def dump(self, part: str) -> Any:
        return self.snapshot()

    def load(self, parts: dict[str, Any]) -> None:
        if "" in parts:
            self.restore(parts[""])


_COMPONENTS: dict[str, Component] = {}
_MANAGED_NAMESPACES: set[str] = set()
_STORE: _Store | None = None
_REGISTRY_LOCK = threading.RLock()


def register(name: str, snapshot: Callable[[], Any], restore: Callable[[Any], None]) -> None:
    """Declare a component's state: ``snapshot()`` returns it, ``restore(state)`` puts it back.

    When the store is already enabled, the stored state is restored at once.
    """
    register_component(_SimpleComponent(name, snapshot, restore))


def register_component(component: Component) -> None:
    """Declare a component saved in parts (see :class:`Component`)."""
    with _REGISTRY_LOCK:
        _COMPONENTS[component.name] = component
        if _STORE is not None:
            _STORE.restore(component)


def unregister(name: str) -> None:
    """Forget a component (tests)."""
    with _REGISTRY_LOCK:
        _COMPONENTS.pop(name, None)
        if _STORE is not None:
            _STORE.forget(name)


def component_names() -> list[str]:
    """Names of the registered components."""
    return list(_COMPONENTS)


def registered(name: str) -> bool:
    """True when a component of that name is registered."""
    return name in _COMPONENTS


def changed(name: str, *parts: str, wait: bool = True) -> None:
    """The component's state changed and must be durable before the caller answers.

    ``parts`` name what changed (default: all of it). With ``wait`` (the default) this
    returns once the change is on disk and raises :class:`PersistenceError` if it could
    not be written; ``wait=False`` only schedules the write (background work whose
    durability a later ``changed``/:func:`sync` waits for).
    """
    store = _STORE
    if store is None:
        return
    seq = store.mark(name, parts or None)
    if wait:
        store.wait(seq)


def sync() -> None:
    """Wait until every change marked so far is on disk (no-op when nothing is pending)."""
    store = _STORE
    if store is not None:
        store.wait(store.current_seq())


def enabled() -> bool:
    """True when state is being persisted (the daemon under ``.delab/cloud/``)."""
    return _STORE is not None


def state_dir() -> Path | None:
    """Where the state is kept, or None when not persisting."""
    return _STORE.dir if _STORE is not None else None


def enable(state_dir: Path) -> None:
    """Persist registered components under ``state_dir`` (restore what is stored first).

    Takes the directory's lock (:class:`StateDirInUse` when another cloud holds it),
    deletes what a crash left half-written (``tmp/``), restores every registered
    component, then starts the writer thread.
    """
    global _STORE
    with _REGISTRY_LOCK:
        if _STORE is not None:
            if _STORE.dir == Path(state_dir):
                return
            raise RuntimeError(f"persistence is already enabled under {_STORE.dir}")
        store = _Store(Path(state_dir))
        _STORE = store
        for component in list(_COMPONENTS.values()):
            store.restore(component)
        store.start()


def restore_report() -> str:
    """One line on what was restored and how long it took (for the cloud's log)."""
    store = _STORE
    if store is None:
        return "state is not persisted"
    return (f"restored {store.restored_parts} parts ({store.restored_bytes / 1048576:.1f} MiB) "
            f"in {store.restore_seconds:.2f}s")


def disable() -> None:
    """Write what is pending, stop persisting and release the directory (tests, shutdown)."""
    global _STORE
    with _REGISTRY_LOCK:
        store, _STORE = _STORE, None
    if store is not None:
        store.close()


def blob_dir(name: str) -> Path | None:
    """A directory where component ``name`` keeps large files, or None when not persisting.

    The component owns what it puts there (the store never deletes those files unless
    the component opts into :func:`manage_blobs`); write each file under a temporary
    name and rename it into place once complete, so a crash never leaves half a file.
    """
    if _STORE is None:
        return None
    path = _STORE.dir / "blobs" / name
    path.mkdir(parents=True, exist_ok=True)
    return path


# -- blobs ---------------------------------------------------------------------------


class BlobWriter:
    """A new blob: written to ``tmp/``, made durable by :meth:`finish`, visible by :meth:`publish`.

    A crash before :meth:`publish` leaves only a temporary file, deleted at the next start.
    """

    def __init__(self, namespace: str) -> None:
        store = _require_store()
        self.namespace = namespace
        self.blob_id = uuid.uuid4().hex
        self.tmp_path = store.tmp_dir / f"{namespace}-{self.blob_id}"
        self._file: Any = open(self.tmp_path, "xb")  # noqa: SIM115 - closed by finish/discard
        self.size = 0
        self.published = False

    def write(self, data: bytes | memoryview) -> None:
        """Append bytes."""
        self._file.write(data)
        self.size += len(data)

    def finish(self) -> None:
        """Flush and fsync the data (call before publishing)."""
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None

    def publish(self) -> str:
        """Move the blob into its namespace (live from now on); return its id."""
        self.finish()
        store = _require_store()
        target = store.blob_path(self.namespace, self.blob_id)
        os.replace(self.tmp_path, target)
        store.blob_dir_changed(target.parent)
        self.published = True
        return self.blob_id

    def discard(self) -> None:
        """Forget the blob (the request that wrote it failed)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        if not self.published:
            with contextlib.suppress(FileNotFoundError):
                self.tmp_path.unlink()

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            self.discard()


def new_blob(namespace: str) -> BlobWriter:
    """Start writing a new blob in ``namespace`` (persistence must be enabled)."""
    return BlobWriter(namespace)


def blob_path(namespace: str, blob_id: str) -> Path:
    """The file of a blob."""
    return _require_store().blob_path(namespace, blob_id)


def link_blob(namespace: str, blob_id: str) -> str:
    """A new blob with the same bytes (a hard link: no copy); return its id."""
    store = _require_store()
    new_id = uuid.uuid4().hex
    target = store.blob_path(namespace, new_id)
    os.link(store.blob_path(namespace, blob_id), target)
    store.blob_dir_changed(target.parent)
    return new_id


def manage_blobs(namespace: str) -> None:
    """Let the store delete the namespace's unused blobs (see :func:`reference_blob`).

    Only for namespaces whose every blob is made by :class:`BlobWriter` or :func:`link_blob`
    and named, while pickled, with :func:`reference_blob`. Files a component keeps in
    :func:`blob_dir` by other means are never deleted by the store.
    """
    _MANAGED_NAMESPACES.add(namespace)
    store = _STORE
    if store is not None:  # what a crash left unreferenced goes now, before new blobs appear
        store.sweep(force=True, namespaces=[namespace])


def track_live_blob(namespace: str, blob_id: str, owner: object) -> None:
    """``owner`` (a live object) uses the blob: it is kept while ``owner`` lives."""
    store = _STORE
    if store is not None:
        store.live_blobs[(namespace, blob_id, id(owner))] = owner


def untrack_live_blob(namespace: str, blob_id: str, owner: object) -> None:
    """``owner`` no longer uses the blob."""
    store = _STORE
    if store is not None:
        store.live_blobs.pop((namespace, blob_id, id(owner)), None)


_REFS = threading.local()


def reference_blob(namespace: str, blob_id: str) -> None:
    """Called while a part is pickled: the part references this blob (keeps it on disk)."""
    refs = getattr(_REFS, "refs", None)
    if refs is not None:
        refs.add(f"{namespace}/{blob_id}")


def _require_store() -> _Store:
    if _STORE is None:
        raise RuntimeError("persistence is not enabled (persistence.enable(state_dir) first)")
    return _STORE


# -- the store -----------------------------------------------------------------------


@dataclass
class _Batch:
    seq: int
    dirty: dict[str, set[str] | None]


@dataclass
class _Failure:
    seq: int
    error: BaseException


@dataclass
class _Stats:
    commits: int = 0
    parts_written: int = 0
    last_sweep: float = field(default_factory=time.monotonic)
    commits_since_sweep: int = 0


class _Store:
    """SQLite rows for parts, files for blobs, one writer thread (group commit)."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock_file = _acquire_lock(self.dir)
        self.tmp_dir = self.dir / "tmp"
        # What a crash left behind: bodies being uploaded, never published.
        shutil.rmtree(self.tmp_dir, ignore_errors=True)
        self.tmp_dir.mkdir()
        (self.dir / "blobs").mkdir(exist_ok=True)
        self.db = open_database(self.dir / DB_NAME)
        self.stored: dict[str, set[str]] = {}
        self.refs: dict[tuple[str, str], frozenset[str]] = {}
        for component, part, refs in self.db.execute("SELECT component, part, refs FROM parts"):
            self.stored.setdefault(component, set()).add(part)
            self.refs[(component, part)] = frozenset(json.loads(refs or "[]"))
        # (namespace, blob id, id(owner)) -> owner: one entry per object using a blob
        self.live_blobs: weakref.WeakValueDictionary[tuple[str, str, int], object] = \
            weakref.WeakValueDictionary()
        self._dirty_blob_dirs: set[Path] = set()
        self._write_lock = threading.Lock()  # a commit and a sweep never interleave
        self._cond = threading.Condition()
        self._dirty: dict[str, set[str] | None] = {}
        self._seq = 0
        self._committed = 0
        self._failures: list[_Failure] = []
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._restored: set[str] = set()
        self.stats = _Stats()
        self.restore_seconds = 0.0
        self.restored_parts = 0
        self.restored_bytes = 0

    # -- restore ----------------------------------------------------------------------

    def restore(self, component: Component) -> None:
        """Load a component's stored parts into it (once per component)."""
        if component.name in self._restored:
            return
        self._restored.add(component.name)
        started = time.monotonic()
        try:
            self._restore(component)
        finally:
            self.restore_seconds += time.monotonic() - started

    def _restore(self, component: Component) -> None:
        rows = self.db.execute("SELECT part, data FROM parts WHERE component = ?",
                               (component.name,)).fetchall()
        if not rows:
            return
        self.restored_parts += len(rows)
        self.restored_bytes += sum(len(data) for _, data in rows)
        parts: dict[str, Any] = {}
        broken = []
        for part, data in rows:
            try:
                parts[part] = pickle.loads(data)  # noqa: S301 - our own state, written by us
            except Exception as exc:
                broken.append((part, exc))
        if broken:
            part, exc = broken[0]
            self._keep_copy(f"{len(broken)} part(s) of {component.name} could not be read "
                            f"(first: {part!r}: {exc!r})")
        try:
            component.load(parts)
        except Exception as exc:
            self._keep_copy(f"{component.name} could not be restored: {exc!r}")
            raise

    def forget(self, name: str) -> None:
        """Restore ``name`` again if it is registered again."""
        self._restored.discard(name)

    def _keep_copy(self, why: str) -> None:
        """Keep a copy of the store before anything overwrites what could not be read."""
        copy = self.dir.with_name(f"{self.dir.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
        if not copy.exists():
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            copy.mkdir()
            shutil.copy2(self.dir / DB_NAME, copy / DB_NAME)
        print(f"local cloud: {why}. A copy of the stored state is in {copy}; the rest "
              "was restored.", file=sys.stderr, flush=True)

    # -- marking and waiting ----------------------------------------------------------

    def start(self) -> None:
        """Start the writer thread (after the restore), and drop unused blobs."""
        self.sweep(force=True)
        self._thread = threading.Thread(target=self._run, name="state-writer", daemon=True)
        self._thread.start()

    def current_seq(self) -> int:
        """The last change marked (a batch being written counts: it is not on disk yet)."""
        with self._cond:
            return self._seq

    def mark(self, name: str, parts: Iterable[str] | None) -> int:
        with self._cond:
            if parts is None:
                self._dirty[name] = None
            else:
                current = self._dirty.get(name, set())
                if current is not None:
                    current.update(parts)
                    self._dirty[name] = current
            self._seq += 1
            self._cond.notify_all()
            return self._seq

    def wait(self, seq: int) -> None:
        if threading.current_thread() is self._thread:
            return  # a component's dump marking more changes: the next commit takes them
        with self._cond:
            while self._committed < seq:
                failure = next((f for f in self._failures if f.seq >= seq), None)
                if failure is not None:
                    raise PersistenceError(_describe(failure.error)) from failure.error
                if self._thread is None or not self._thread.is_alive():
                    raise PersistenceError("the local cloud's state writer is not running; "
                                           "the change was not saved")
                self._cond.wait(timeout=1.0)

    def blob_dir_changed(self, directory: Path) -> None:
        with self._cond:
            self._dirty_blob_dirs.add(directory)

    def blob_path(self, namespace: str, blob_id: str) -> Path:
        directory = self.dir / "blobs" / namespace
        if not directory.is_dir():
            directory.mkdir(parents=True, exist_ok=True)
        return directory / blob_id

    # -- the writer thread ------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._dirty and not self._stopping:
                    self._cond.wait(timeout=SWEEP_INTERVAL_SECONDS)
                    if not self._dirty:
                        break
                if self._stopping and not self._dirty:
                    return
                batch = _Batch(self._seq, self._dirty)
                self._dirty = {}
                dirs, self._dirty_blob_dirs = self._dirty_blob_dirs, set()
            if not batch.dirty:
                self._maybe_sweep()
                continue
            try:
                with self._write_lock:
                    self._commit(batch, dirs)
            except Exception as exc:
                print(f"local cloud: could not save state: {_describe(exc)}", file=sys.stderr,
                      flush=True)
                for name in batch.dirty:
                    component = _COMPONENTS.get(name)
                    if component is not None:
                        component.reset_cache()
                with self._cond:
                    for name, parts in batch.dirty.items():  # retried with the next commit
                        self._merge(name, parts)
                    self._dirty_blob_dirs |= dirs
                    self._failures.append(_Failure(batch.seq, exc))
                    self._cond.notify_all()
                time.sleep(1.0)
                continue
            with self._cond:
                self._committed = batch.seq
                self._failures = [f for f in self._failures if f.seq > batch.seq]
                self._cond.notify_all()
            self._maybe_sweep()

    def _merge(self, name: str, parts: set[str] | None) -> None:
        if parts is None or self._dirty.get(name, set()) is None:
            self._dirty[name] = None
        else:
            self._dirty.setdefault(name, set()).update(parts)  # type: ignore[union-attr]

    def _commit(self, batch: _Batch, blob_dirs: set[Path]) -> None:
        puts: list[tuple[str, str, bytes, str]] = []
        deletes: list[tuple[str, str]] = []
        for name, marked in batch.dirty.items():
            component = _COMPONENTS.get(name)
            if component is None:
                continue
            stored = self.stored.setdefault(name, set())
            if marked is None:
                todo = set(component.parts())
                deletes += [(name, p) for p in stored - todo]
            else:
                todo = set()
                for part in marked:
                    todo.update(component.expand(part, stored))
            for part in todo:
                dumped = _dump(component, part)
                if dumped is None:
                    continue
                if dumped is MISSING:
                    if part in stored:
                        deletes.append((name, part))
                    continue
                data, refs = dumped
                puts.append((name, part, data, json.dumps(sorted(refs))))
        for directory in blob_dirs:  # the blobs these parts name must survive a power loss
            _fsync_dir(directory)
        crash = os.environ.get(CRASH_POINT_VARIABLE, "")
        if crash.startswith("before-commit:") and any(crash[14:] in p for _, p, _, _ in puts):
            os.kill(os.getpid(), signal.SIGKILL)  # tests: a crash between body and metadata
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO parts (component, part, data, refs) "
                                "VALUES (?, ?, ?, ?)", puts)
            self.db.executemany("DELETE FROM parts WHERE component = ? AND part = ?", deletes)
        for name, part, _, refs in puts:
            self.stored.setdefault(name, set()).add(part)
            self.refs[(name, part)] = frozenset(json.loads(refs))
        for name, part in deletes:
            self.stored.get(name, set()).discard(part)
            self.refs.pop((name, part), None)
        self.stats.commits += 1
        self.stats.commits_since_sweep += 1
        self.stats.parts_written += len(puts)

    # -- unused blobs -----------------------------------------------------------------

    def _maybe_sweep(self) -> None:
        if (self.stats.commits_since_sweep
                and time.monotonic() - self.stats.last_sweep >= SWEEP_INTERVAL_SECONDS):
            self.sweep()

    def sweep(self, force: bool = False, namespaces: Iterable[str] | None = None) -> int:
        """Delete blobs that no stored part and no live object uses; return how many."""
        with self._write_lock:
            return self._sweep(force, list(_MANAGED_NAMESPACES if namespaces is None else namespaces))

    def _sweep(self, force: bool, namespaces: list[str]) -> int:
        self.stats.last_sweep = time.monotonic()
        self.stats.commits_since_sweep = 0
        referenced = set().union(*self.refs.values()) if self.refs else set()
        live = {f"{ns}/{blob_id}" for ns, blob_id, _ in list(self.live_blobs.keys())}
        now = time.time()
        removed = 0
        for path in _blob_files(self.dir / "blobs", namespaces):
            name = f"{path.parent.name}/{path.name}"
            if name in referenced or name in live:
                continue
            try:
                if not force and now - path.stat().st_ctime < BLOB_GRACE_SECONDS:
                    continue
                path.unlink()
                removed += 1
            except FileNotFoundError:
                continue
        return removed

    def close(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)
        with contextlib.suppress(sqlite3.Error):
            self.db.close()
        self._lock_file.close()


def _dump(component: Component, part: str) -> tuple[bytes, set[str]] | Any | None:
    """Pickle one part, collecting the blobs it references; None when it cannot be saved."""
    for attempt in range(5):
        _REFS.refs = set()
        try:
            state = component.dump(part)
            if state is MISSING:
                return MISSING
            return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL), _REFS.refs
        except RuntimeError as exc:
            # Another thread resized a dict or list being pickled: take it again.
            if "changed size during iteration" not in str(exc) or attempt == 4:
                print(f"local cloud: not saved: {component.name} {part!r}: {exc!r}",
                      file=sys.stderr, flush=True)
                return None
            time.sleep(0.001)
        except Exception as exc:  # a bug of ours: say what was not saved, save the rest
            print(f"local cloud: not saved: {component.name} {part!r}: {exc!r}", file=sys.stderr,
                  flush=True)
            return None
        finally:
            _REFS.refs = None
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno == 28 or "full" in str(exc).lower():
        return f"the disk is full ({exc}); free some space and try again"
    return f"{type(exc).__name__}: {exc}"


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _blob_files(root: Path, namespaces: Iterable[str]) -> Iterator[Path]:
    for namespace in namespaces:
        directory = root / namespace
        if directory.is_dir():
            yield from (p for p in directory.iterdir() if p.is_file())


def open_database(path: Path, read_only: bool = False) -> sqlite3.Connection:
    """The store's SQLite database (created when missing unless ``read_only``)."""
    if read_only:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        return db
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    # FULL: every commit fsyncs the write-ahead log, so an answered request is on disk.
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE IF NOT EXISTS parts (component TEXT NOT NULL, part TEXT NOT NULL, "
               "data BLOB NOT NULL, refs TEXT, PRIMARY KEY (component, part))")
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
    db.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?)", (str(FORMAT_VERSION),))
    db.isolation_level = "DEFERRED"  # `with db:` = one transaction
    return db


# -- the directory lock ----------------------------------------------------------------


def _acquire_lock(directory: Path) -> Any:
    """Hold ``LOCK`` for as long as this process serves the directory."""
    path = directory / LOCK_NAME
    handle = open(path, "a+")  # noqa: SIM115 - held until close()
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise StateDirInUse(f"Another local cloud (pid {holder}) uses {directory}. Stop it "
                            "first (`make down` in its checkout), or give this one its own "
                            "state directory.") from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def holder_pid(directory: Path) -> int | None:
    """Pid of the process holding the directory's lock, or None when no cloud holds it."""
    path = directory / LOCK_NAME
    if not path.exists():
        return None
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            text = handle.read().strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold the directory's lock for the block (StateDirInUse when a cloud runs on it)."""
    directory.mkdir(parents=True, exist_ok=True)
    handle = _acquire_lock(directory)
    try:
        yield
    finally:
        handle.close()
