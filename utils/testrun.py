"""``make test`` on every core: the suite split over checkouts that share nothing.

Most of the suite's time is spent waiting on one kernel, one MariaDB query or one
local-cloud request at a time, so one pytest process keeps about one core busy. The
suite cannot simply be spread over pytest-xdist workers: its tests reseed MariaDB,
``kill -9`` the local cloud and rewrite the lab's gold tables, and every one of them
assumes it is alone with its stack. What the product already supports is two
*checkouts* on one machine, each with its own ports, services and state, that never
talk to each other (tests/foundation/test_two_checkouts.py). So the run is split the
same way:

* shard 1 is this checkout, with the stack ``make test`` brought up;
* shard 2 is a copy of the checkout's files in ``.delab/test-shard/`` (a second checkout:
  its own virtualenv, ``.env``, ports, MariaDB, local cloud and ``.delab`` state, as a
  learner's second clone would have), set up with ``make venv`` and ``python -m utils.cli
  up`` there, tested, and stopped again with ``down``. Its virtualenv is an editable
  install of the copy, so its kernels and sandboxes import the copy's ``utils``.

Test files (and nbval notebooks) go to the shards by their recorded durations
(``tests/durations.json``, longest first onto the lighter shard); files that build the
caches under this checkout's ``.delab/`` (the Glue and checkov virtual environments)
stay on shard 1. ``DELAB_TEST_SHARDS=1`` (or naming test paths) runs one pytest as
before.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from utils.config import PROJECT_ROOT

DURATIONS_FILE = PROJECT_ROOT / "tests" / "durations.json"
SHARD_DIR_NAME = "test-shard"
# Files that build or use caches under THIS checkout's .delab/ (glue-venv, checkov-venv,
# aws-wheels): a second checkout would build them again.
PINNED_TO_FIRST = ("tests/infra/",)
# What a shard's own ``up`` costs before its first test, in the planner's seconds.
SHARD_START_COST_S = 25.0
DEFAULT_WEIGHT_S = 1.0
# Never copied into the shard: caches, state and the shard itself.
_SKIP_DIRS = {".git", ".venv", ".delab", "__pycache__", ".pytest_cache", ".ruff_cache",
              ".ipynb_checkpoints", "test-artifacts", "build", "demo-output", "bench/results"}


@dataclass
class Shard:
    """A share of the test files and the seconds they are expected to take."""

    files: list[str] = field(default_factory=list)
    load: float = 0.0


def collect_targets(root: Path = PROJECT_ROOT) -> list[str]:
    """Every test file pytest would collect from ``tests`` and every nbval notebook."""
    tests = sorted(p.relative_to(root).as_posix() for p in (root / "tests").rglob("test_*.py")
                   if "data" not in p.relative_to(root / "tests").parts[:1])
    notebooks = sorted(p.relative_to(root).as_posix() for p in (root / "notebooks").glob("*.ipynb"))
    return tests + notebooks


def load_weights(path: Path = DURATIONS_FILE) -> dict[str, float]:
    try:
        return {str(k): float(v) for k, v in json.loads(path.read_text()).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def plan(targets: Sequence[str], weights: dict[str, float], shards: int = 2,
         start_cost: float = SHARD_START_COST_S) -> list[Shard]:
    """Longest-processing-time-first: each file onto the shard that will finish first.

    Shards after the first start ``start_cost`` seconds late (their stack comes up
    first); pinned files always run on shard 1. Deterministic for equal inputs.
    """
    plans = [Shard(load=0.0 if i == 0 else start_cost) for i in range(max(1, shards))]
    pinned = [t for t in targets if t.startswith(PINNED_TO_FIRST)]
    for t in pinned:
        plans[0].files.append(t)
        plans[0].load += weights.get(t, DEFAULT_WEIGHT_S)
    rest = sorted((t for t in targets if t not in pinned),
                  key=lambda t: (-weights.get(t, DEFAULT_WEIGHT_S), t))
    for t in rest:
        lightest = min(plans, key=lambda s: s.load)
        lightest.files.append(t)
        lightest.load += weights.get(t, DEFAULT_WEIGHT_S)
    for s in plans:
        s.files.sort()
    return plans


def names_paths(args: Iterable[str], root: Path = PROJECT_ROOT) -> bool:
    """True when the pytest arguments name test paths (then the caller chose what runs)."""
    return any(not a.startswith("-") and (root / a.split("::")[0]).exists() for a in args)


def _source_files(root: Path) -> list[str]:
    """The checkout's files: git's view (tracked + untracked, not ignored) or a walk."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=root, capture_output=True, check=True, timeout=60).stdout
        files = [f for f in out.decode().split("\0") if f]
        return sorted(f for f in files if (root / f).is_file())
    except (OSError, subprocess.SubprocessError):
        found = []
        for base, dirs, names in os.walk(root):
            rel = Path(base).relative_to(root).as_posix()
            dirs[:] = [d for d in dirs
                       if d not in _SKIP_DIRS and f"{rel}/{d}".lstrip("./") not in _SKIP_DIRS]
            found += [f"{rel}/{n}".removeprefix("./") for n in names if not n.endswith(".pyc")]
        return sorted(found)


def sync_copy(root: Path, dest: Path) -> int:
    """Make ``dest`` hold the checkout's files (changed ones copied, vanished ones removed).

    ``dest``'s own ``.env``, ``.delab`` and the ``.venv`` link are its state, kept.
    Returns how many files were copied.
    """
    dest.mkdir(parents=True, exist_ok=True)
    wanted = set(_source_files(root))
    copied = 0
    for rel in wanted:
        src, dst = root / rel, dest / rel
        st = src.stat()
        try:
            dt = dst.stat()
            if dt.st_size == st.st_size and int(dt.st_mtime) == int(st.st_mtime):
                continue
        except FileNotFoundError:
            dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
        copied += 1
    keep_top = {".env", ".delab", ".venv", "test-artifacts"}
    for base, dirs, names in os.walk(dest, topdown=True):
        rel_base = Path(base).relative_to(dest)
        if rel_base == Path("."):
            dirs[:] = [d for d in dirs if d not in keep_top]
        dirs[:] = [d for d in dirs if d not in ("__pycache__", ".pytest_cache", ".ipynb_checkpoints")]
        for n in names:
            rel = (rel_base / n).as_posix()
            if rel_base == Path(".") and n in keep_top:
                continue
            if rel not in wanted:
                (dest / rel).unlink()
    return copied


def shard_environment(dest: Path) -> dict[str, str]:
    """A fresh shell's environment for the shard: nothing of this checkout's stack."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DELAB_", "AWS_")) and k not in ("PYTHONPATH", "COVERAGE_PROCESS_START")}
    env["DELAB_TEST_SHARDS"] = "1"
    return env


def _tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _summary_line(path: Path) -> str:
    for line in reversed(_tail(path, 400).splitlines()):
        if line.startswith("=") and (" passed" in line or " failed" in line or " error" in line
                                     or "no tests ran" in line):
            return line.strip("= ").strip()
    return "no pytest summary (see the log)"


def run_sharded(base_cmd: Sequence[str], extra: Sequence[str], shards: int = 2,
                root: Path = PROJECT_ROOT) -> int:
    """Run the suite in ``shards`` checkouts at once; the exit code is the worst one's."""
    from utils.cli import _step

    targets = collect_targets(root)
    plans = plan(targets, load_weights(root / "tests" / "durations.json"), shards)
    dest = root / ".delab" / SHARD_DIR_NAME
    logs = root / "test-artifacts"
    logs.mkdir(exist_ok=True)
    started = time.monotonic()
    copied = sync_copy(root, dest)
    _step(f"Test shard 2 of 2: {len(plans[1].files)} files in {dest} ({copied} files refreshed), "
          f"its own MariaDB and local cloud; log {logs / 'shard-2.log'}")
    _step(f"Test shard 1 of 2: {len(plans[0].files)} files here "
          f"(planned {plans[0].load:.0f} s vs {plans[1].load:.0f} s)")
    env = shard_environment(dest)
    log_path = logs / "shard-2.log"
    result: dict[str, int] = {}

    python = str(dest / ".venv" / "bin" / "python")

    def second() -> None:
        with log_path.open("w") as log:
            for what, cmd in (("make venv", ["make", "-s", "venv"]),
                              ("up", [python, "-m", "utils.cli", "up"])):
                log.write(f"==> shard 2: {what}\n")
                log.flush()
                rc = subprocess.call(cmd, cwd=dest, env=env, stdout=log, stderr=subprocess.STDOUT)
                if rc != 0:
                    result["rc"] = rc
                    log.write(f"\nerror: `{what}` in the shard failed with exit code {rc}\n")
                    return
            result["rc"] = subprocess.call([python, "-m", "utils.cli", "test", *plans[1].files, *extra],
                                           cwd=dest, env=env, stdout=log, stderr=subprocess.STDOUT)

    worker = threading.Thread(target=second, name="test-shard-2", daemon=True)
    worker.start()
    try:
        rc1 = subprocess.call([*base_cmd, *plans[0].files, *extra], cwd=root)
        if worker.is_alive():
            _step("Shard 1 done; waiting for shard 2 (its log: test-artifacts/shard-2.log)")
        worker.join()
    finally:
        if Path(python).exists():
            with log_path.open("a") as log:
                subprocess.call([python, "-m", "utils.cli", "down"], cwd=dest, env=env,
                                stdout=log, stderr=subprocess.STDOUT, timeout=300)
        _merge_artifacts(dest / "test-artifacts", logs)
    rc2 = result.get("rc", 1)
    summary2 = _summary_line(log_path)
    if rc2 != 0:
        print(f"\n----- shard 2 (last 80 lines of {log_path}) -----\n{_tail(log_path, 80)}\n", flush=True)
    _step(f"Shard 2: {summary2} (exit {rc2})")
    _step(f"Both shards finished in {time.monotonic() - started:.0f} s; "
          f"{'all passed' if rc1 == 0 and rc2 == 0 else 'FAILED'}")
    return rc1 or rc2


def _merge_artifacts(src: Path, dst: Path) -> None:
    """Screenshots and exports the shard wrote join this checkout's test-artifacts/."""
    if not src.is_dir():
        return
    for path in src.rglob("*"):
        if path.is_file():
            target = dst / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def shard_count(extra: Sequence[str]) -> int:
    """How many shards this run uses: 1 when paths are named, the variable says so or one core."""
    wanted = os.environ.get("DELAB_TEST_SHARDS", "")
    if wanted.strip():
        try:
            return max(1, min(2, int(wanted)))
        except ValueError:
            raise SystemExit(f"error: DELAB_TEST_SHARDS={wanted!r} is not a number; use 1 or 2") from None
    if names_paths(extra):
        return 1
    return 2 if (os.cpu_count() or 1) >= 2 else 1


def record_durations(report: Path, out: Path = DURATIONS_FILE) -> dict[str, float]:
    """Turn a ``--durations=0`` report into per-file seconds for the planner."""
    import re

    totals: dict[str, float] = {}
    for line in report.read_text(errors="replace").splitlines():
        m = re.match(r"\s*([\d.]+)s (?:call|setup|teardown)\s+(\S+)", line)
        if m:
            f = m.group(2).split("::")[0]
            totals[f] = round(totals.get(f, 0.0) + float(m.group(1)), 2)
    out.write_text(json.dumps(dict(sorted(totals.items())), indent=1) + "\n")
    return totals


if __name__ == "__main__":  # python -m utils.testrun durations REPORT
    if len(sys.argv) == 3 and sys.argv[1] == "durations":
        print(f"{len(record_durations(Path(sys.argv[2])))} files recorded in {DURATIONS_FILE}")
    else:
        print("usage: python -m utils.testrun durations <pytest --durations=0 output>", file=sys.stderr)
        sys.exit(2)
