"""The local cloud's command line.

    python -m utils.cloud serve [--port N] [--state-dir DIR | --ephemeral]
    python -m utils.cloud store-status [--json]
    python -m utils.cloud reset [--yes]

``serve`` keeps its state under ``.delab/cloud/state`` (or ``$DELAB_CLOUD_STATE_DIR``,
or ``--state-dir``): everything survives a stop, a crash and a reboot. ``store-status``
says what is stored and how big; ``reset`` deletes it, only while that cloud is stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

from utils.config import STATE_DIR, get_settings

STATE_DIR_VARIABLE = "DELAB_CLOUD_STATE_DIR"
DEFAULT_STATE_DIR = STATE_DIR / "cloud" / "state"


def default_state_dir() -> Path:
    """Where the cloud of this checkout keeps its state (``$DELAB_CLOUD_STATE_DIR`` wins)."""
    value = os.environ.get(STATE_DIR_VARIABLE, "").strip()
    return Path(value).expanduser().resolve() if value else DEFAULT_STATE_DIR


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m utils.cloud")
    sub = parser.add_subparsers(dest="command", required=True)
    serve_p = sub.add_parser("serve", help="serve the local cloud in the foreground")
    serve_p.add_argument("--port", type=int, default=None)
    where = serve_p.add_mutually_exclusive_group()
    where.add_argument("--state-dir", type=Path, default=None,
                       help=f"where to keep state (default: ${STATE_DIR_VARIABLE} or .delab/cloud/state)")
    where.add_argument("--ephemeral", action="store_true", help="keep nothing: state lives in memory")
    status_p = sub.add_parser("store-status", help="what the local cloud has stored, and how big")
    status_p.add_argument("--state-dir", type=Path, default=None)
    status_p.add_argument("--json", action="store_true", help="print one JSON object")
    reset_p = sub.add_parser("reset", help="delete everything the local cloud stored (when stopped)")
    reset_p.add_argument("--state-dir", type=Path, default=None)
    reset_p.add_argument("--yes", action="store_true", help="confirm the deletion")
    args = parser.parse_args(argv)
    if args.command == "serve":
        state = None if args.ephemeral else (args.state_dir or default_state_dir())
        return serve_command(args.port or get_settings().cloud_port, state)
    state = (args.state_dir or default_state_dir()).resolve()
    import sqlite3

    try:
        if args.command == "store-status":
            return status_command(state, as_json=args.json)
        return reset_command(state, confirmed=args.yes)
    except sqlite3.Error as exc:
        print(f"Cannot read the local cloud's state in {state}: {exc}. If it is damaged, "
              "`python -m utils.cloud reset --yes` starts over (the lab's resources are "
              "provisioned again by `make up`).", file=sys.stderr)
        return 2


def serve_command(port: int, state: Path | None) -> int:
    """Serve until interrupted; SIGTERM (``make down``) writes what is pending, then exits."""
    import sqlite3

    from utils.cloud import persistence
    from utils.cloud.identity import started_fingerprint
    from utils.cloud.server import serve

    started_fingerprint()  # the code as it is now, before anything can change it

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        if state is not None:
            started = time.monotonic()
            persistence.enable(state)
            print(f"local cloud state: {state}", flush=True)
        print(f"local cloud listening on http://127.0.0.1:{port}", flush=True)
        serve(port, on_ready=(lambda: print(
            f"local cloud ready: {persistence.restore_report()} (start-up "
            f"{time.monotonic() - started:.2f}s)", flush=True)) if state is not None else None)
    except persistence.StateDirInUse as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as exc:
        print(f"The local cloud's stored state in {state} cannot be read ({exc}). Copy it "
              "somewhere if you want to keep it, then `python -m utils.cloud reset --yes` "
              "starts the cloud empty.", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"Cannot listen on 127.0.0.1:{port}: {exc.strerror}. Set DELAB_CLOUD_PORT "
              "to a free port (e.g. in .env) or stop what uses it.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    finally:
        if "utils.cloud.glue.recovery" in sys.modules or "utils.cloud.glue.jobs" in sys.modules:
            from utils.cloud.glue import recovery

            recovery.stop_active_runs()  # no script keeps writing to a cloud that is gone
        persistence.disable()  # what background work changed last is written, then released
    return 0


# -- store-status ----------------------------------------------------------------------

_KINDS = {"key": ("object", "objects"), "bucket": ("bucket", "buckets"),
          "stream": ("log stream", "log streams"), "group": ("log group", "log groups"),
          "backend": ("backend", "backends"), "snapshot": ("snapshot", "snapshots")}


def store_summary(state: Path) -> dict[str, Any]:
    """What is stored under ``state``: per component, parts and bytes; bodies on disk."""
    from utils.cloud import persistence

    db_path = state / persistence.DB_NAME
    summary: dict[str, Any] = {"state_dir": str(state), "running_pid": None, "components": {},
                               "bytes_on_disk": _tree_size(state) if state.exists() else 0}
    if not db_path.exists():
        return summary
    summary["running_pid"] = persistence.holder_pid(state)
    db = persistence.open_database(db_path, read_only=True)
    referenced: dict[str, set[str]] = {}
    try:
        for component, part, size, refs in db.execute(
                "SELECT component, part, length(data), refs FROM parts ORDER BY component"):
            entry = summary["components"].setdefault(
                component, {"parts": 0, "state_bytes": 0, "kinds": {}, "files": 0, "file_bytes": 0})
            entry["parts"] += 1
            entry["state_bytes"] += size
            kind = json.loads(part)[0] if part.startswith("[") else "snapshot"
            entry["kinds"][kind] = entry["kinds"].get(kind, 0) + 1
            for ref in json.loads(refs or "[]"):
                referenced.setdefault(component, set()).add(ref)
    finally:
        db.close()
    blobs = state / "blobs"
    for component, refs in referenced.items():
        entry = summary["components"][component]
        for ref in refs:
            path = blobs / ref
            if path.exists():
                entry["files"] += 1
                entry["file_bytes"] += path.stat().st_size
    return summary


def status_command(state: Path, as_json: bool = False) -> int:
    """Print what is stored (per component count and size on disk)."""
    summary = store_summary(state)
    if as_json:
        print(json.dumps(summary, indent=2))
        return 0
    if not summary["components"]:
        print(f"The local cloud has nothing stored in {state}.")
        return 0
    pid = summary["running_pid"]
    running = f"in use by the running local cloud (pid {pid})" if pid else "cloud stopped"
    print(f"Local cloud state in {state} ({_size(summary['bytes_on_disk'])} on disk, {running}):")
    for name, entry in summary["components"].items():
        counts = ", ".join(f"{n} {_KINDS.get(k, (k, k))[n != 1]}"
                           for k, n in sorted(entry["kinds"].items())
                           if k != "backend" or len(entry["kinds"]) == 1)
        files = f", {entry['files']} bodies {_size(entry['file_bytes'])}" if entry["files"] else ""
        print(f"  {name:<16} {counts:<40} state {_size(entry['state_bytes'])}{files}")
    print("Everything listed survives `make down`, a crash and a restart; "
          "`python -m utils.cloud reset --yes` deletes it.")
    return 0


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


def _tree_size(root: Path) -> int:
    total = 0
    for base, _, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(base, name)).st_blocks * 512
            except OSError:
                continue
    return total


# -- reset -------------------------------------------------------------------------------


def reset_command(state: Path, confirmed: bool) -> int:
    """Delete the stored state, only when no local cloud is using it."""
    from utils.cloud import persistence

    if not state.exists() or not any(state.iterdir()):
        print(f"Nothing to delete: the local cloud has nothing stored in {state}.")
        return 0
    pid = persistence.holder_pid(state)
    if pid:
        print(f"The local cloud of this checkout is running (pid {pid}) and uses {state}; "
              "nothing was deleted. Stop it first (`make down`), then run this again.",
              file=sys.stderr)
        return 2
    summary = store_summary(state)
    what = ", ".join(f"{name} ({_size(e['state_bytes'] + e['file_bytes'])})"
                     for name, e in summary["components"].items()) or "no saved components"
    if not confirmed:
        print(f"This would delete everything the local cloud stored in {state}: {what}; "
              f"{_size(summary['bytes_on_disk'])} on disk. Nothing was deleted. Run again with "
              "--yes to confirm (`make reset-cloud YES=1`).", file=sys.stderr)
        return 2
    try:
        with persistence.locked(state):
            doomed = state.with_name(f".{state.name}.deleting-{os.getpid()}-{int(time.time())}")
            state.rename(doomed)  # one step: a crash mid-delete never leaves half a state
    except persistence.StateDirInUse as exc:
        print(f"{exc} Nothing was deleted.", file=sys.stderr)
        return 2
    for leftover in [doomed, *state.parent.glob(f".{state.name}.deleting-*")]:
        shutil.rmtree(leftover, ignore_errors=True)  # also what an interrupted reset left
    print(f"Deleted the local cloud's stored state ({what}). The next `make up` starts it empty "
          "and provisions the lab's resources again.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
