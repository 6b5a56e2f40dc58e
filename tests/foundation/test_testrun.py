"""The suite's split over two checkouts (utils/testrun.py): the plan, the copy, the switch."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from utils import testrun


def test_plan_balances_by_recorded_seconds_and_is_deterministic() -> None:
    weights = {"tests/a/test_big.py": 100, "tests/b/test_mid.py": 60, "tests/c/test_mid2.py": 50,
               "notebooks/x.ipynb": 30, "tests/d/test_small.py": 5}
    targets = sorted(weights) + ["tests/e/test_unknown.py"]
    first = testrun.plan(targets, weights, shards=2, start_cost=0)
    again = testrun.plan(list(reversed(targets)), weights, shards=2, start_cost=0)
    assert [s.files for s in first] == [s.files for s in again]
    assert sorted(first[0].files + first[1].files) == sorted(targets)
    # LPT: 100 | 60 -> 100 | 60+50 -> 130 (30 onto the lighter 100) | 110+5+1
    assert first[0].files == ["notebooks/x.ipynb", "tests/a/test_big.py"]
    assert abs(first[0].load - first[1].load) <= 30


def test_the_second_shard_pays_for_its_start_and_pinned_files_stay_on_the_first() -> None:
    weights = {"tests/infra/test_glue_runtime.py": 1, "tests/x/test_a.py": 20, "tests/x/test_b.py": 20}
    shards = testrun.plan(sorted(weights), weights, shards=2, start_cost=100)
    assert shards[0].files == sorted(weights)        # the late shard gets nothing this small
    assert shards[1].files == []
    shards = testrun.plan(sorted(weights), weights, shards=2, start_cost=0)
    assert "tests/infra/test_glue_runtime.py" in shards[0].files


def test_named_paths_mean_one_shard(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DELAB_TEST_SHARDS", raising=False)
    assert testrun.names_paths(["tests/cloud"])
    assert testrun.names_paths(["-x", "tests/cloud/test_routes.py::test_x"])
    assert not testrun.names_paths(["--durations=0", "-k", "quiz and not browser"])
    assert testrun.shard_count(["tests/cloud"]) == 1
    monkeypatch.setenv("DELAB_TEST_SHARDS", "1")
    assert testrun.shard_count([]) == 1
    monkeypatch.setenv("DELAB_TEST_SHARDS", "two")
    with pytest.raises(SystemExit, match="DELAB_TEST_SHARDS='two' is not a number"):
        testrun.shard_count([])


def test_shard_environment_carries_nothing_of_this_checkouts_stack(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    monkeypatch.setenv("DELAB_DB_PORT", "3307")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    env = testrun.shard_environment(tmp_path)
    assert not [k for k in env if k.startswith("AWS_")]
    assert "PYTHONPATH" not in env
    assert env["DELAB_TEST_SHARDS"] == "1"
    assert [k for k in env if k.startswith("DELAB_")] == ["DELAB_TEST_SHARDS"]


def test_sync_copies_changes_removes_vanished_files_and_keeps_the_shards_state(tmp_path: Path) -> None:
    root, dest = tmp_path / "root", tmp_path / "shard"
    (root / "utils").mkdir(parents=True)
    (root / ".venv").mkdir()
    (root / "utils" / "a.py").write_text("A = 1\n")
    (root / "utils" / "b.py").write_text("B = 1\n")
    (root / ".gitignore").write_text(".venv/\n.delab/\n.env\n")
    (root / ".env").write_text("DELAB_DB_PORT=3307\n")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    assert testrun.sync_copy(root, dest) == 3
    assert (dest / "utils" / "a.py").read_text() == "A = 1\n"
    assert not (dest / ".env").exists()               # the shard chooses its own ports
    assert not (dest / ".venv").exists()              # and builds its own virtualenv
    (dest / ".env").write_text("DELAB_DB_PORT=3308\n")
    (dest / ".delab").mkdir()
    (dest / ".delab" / "state").write_text("kept")
    (root / "utils" / "b.py").unlink()
    (root / "utils" / "a.py").write_text("A = 2  # changed\n")
    assert testrun.sync_copy(root, dest) == 1
    assert (dest / "utils" / "a.py").read_text() == "A = 2  # changed\n"
    assert not (dest / "utils" / "b.py").exists()
    assert (dest / ".env").read_text() == "DELAB_DB_PORT=3308\n"
    assert (dest / ".delab" / "state").read_text() == "kept"


def test_sync_without_git_walks_the_tree_and_skips_state(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    root, dest = tmp_path / "root", tmp_path / "shard"
    for rel in ("utils/a.py", ".delab/cloud/x", ".venv/bin/python", "bench/results/r.json", "bench/b.py"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel)
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    testrun.sync_copy(root, dest)
    copied = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()
                    and ".venv" not in p.parts)
    assert copied == ["bench/b.py", "utils/a.py"]


def test_durations_report_becomes_per_file_seconds(tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    report.write_text("39.46s setup    tests/t/test_a.py::test_one\n"
                      "0.54s call     tests/t/test_a.py::test_two[x::y]\n"
                      "2.00s call     notebooks/01.ipynb::Cell 3\n"
                      "noise line\n")
    totals = testrun.record_durations(report, tmp_path / "d.json")
    assert totals == {"tests/t/test_a.py": 40.0, "notebooks/01.ipynb": 2.0}
    assert os.path.getsize(tmp_path / "d.json") > 0
