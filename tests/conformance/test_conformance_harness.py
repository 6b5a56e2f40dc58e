"""The conformance harness itself (tests/conformance/run.py, plugin.py), without awswrangler's
suite or a cloud: finding the source, laying it out, recording outcomes, the memory stop,
and the probe data file. The conformance run is ``make conformance`` (not part of make test).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


run = _load("conformance_run", HERE / "run.py")


def fake_checkout(root: Path, version: str, tests: dict[str, str] | None = None) -> Path:
    """A directory shaped like aws-sdk-pandas at ``version`` (only what the harness reads)."""
    (root / "awswrangler").mkdir(parents=True)
    (root / "awswrangler" / "__metadata__.py").write_text(f'__version__: str = "{version}"\n')
    unit = root / "tests" / "unit"
    unit.mkdir(parents=True)
    for name in ("__init__.py", "_utils.py"):
        (root / "tests" / name).write_text("")
    (root / "tests" / "conftest.py").write_text("# the suite's own conftest\n")
    (unit / "__init__.py").write_text("")
    for module in run.MODULES:
        (unit / module).write_text((tests or {}).get(module, "def test_nothing():\n    pass\n"))
    return root


def test_without_a_source_it_says_in_one_line_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "ROOT", tmp_path)
    with pytest.raises(run.HarnessError) as caught:
        run.find_source(None, "3.17.1")
    message = str(caught.value)
    assert "\n" not in message
    assert "git clone --depth 1 --branch 3.17.1 https://github.com/aws/aws-sdk-pandas" in message
    assert "sdist ships only the package" in message


def test_a_checkout_of_another_version_is_refused(tmp_path):
    source = fake_checkout(tmp_path / "src", "3.16.0")
    with pytest.raises(run.HarnessError, match=r"holds aws-sdk-pandas 3\.16\.0, but awswrangler 3\.17\.1"):
        run.find_source(source, "3.17.1")
    assert run.find_source(source, "3.16.0") == source.resolve()


def test_lay_out_keeps_the_suite_and_replaces_only_the_stack_outputs(tmp_path):
    source = fake_checkout(tmp_path / "src", "3.17.1")
    work = run.lay_out(source, tmp_path / "work", run.MODULES)
    assert (work / "tests" / "conftest.py").read_text() == "# the suite's own conftest\n"
    override = (work / "tests" / "unit" / "conftest.py").read_text()
    assert override == (HERE / "local_outputs.py").read_text()
    assert "def cloudformation_outputs(" in override
    assert sorted(p.name for p in (work / "tests" / "unit").glob("test_*.py")) == sorted(run.MODULES)
    assert json.loads((work / "excluded.json").read_text()) == run.EXCLUDED


def test_every_exclusion_names_a_laid_out_module_and_a_reason():
    for group, spec in run.EXCLUDED.items():
        assert len(spec["reason"]) > 40, group
        for test in spec["tests"]:
            assert test.split("::")[0] in run.MODULES, test


SUITE = """
import pytest

def test_ok():
    assert 1 + 1 == 2

def test_wrong():
    raise ValueError("HIVE_BAD_DATA: Field x is bad\\nsecond line")

def test_skipped():
    pytest.skip("invalid combination")

@pytest.mark.xfail(raises=KeyError)
def test_expected_failure():
    raise KeyError("as on AWS")

@pytest.mark.xfail(raises=KeyError)
def test_unexpected_pass():
    pass

def test_sanitize_dataframe_column_names():
    raise AssertionError("never runs: excluded")
"""


def test_plugin_records_each_outcome_and_the_summary_counts_them(tmp_path):
    source = fake_checkout(tmp_path / "src", "3.17.1", {"test_athena.py": SUITE})
    work = run.lay_out(source, tmp_path / "work", ("test_athena.py",))
    (work / "tests" / "unit" / "conftest.py").write_text("")  # no cloud here
    events = work / "events.jsonl"
    env = {**os.environ, "PYTHONPATH": str(work), "DELAB_CONFORMANCE_EVENTS": str(events),
           "DELAB_CONFORMANCE_EXCLUDED": str(work / "excluded.json")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(work / "pytest.ini"), "--rootdir", str(work),
         "-p", "delab_conformance_plugin", "-p", "no:cacheprovider", "-q", "tests/unit/test_athena.py"],
        cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout[-2000:]
    recorded = {e["test"].split("::")[-1]: e for e in run.read_events(events) if "outcome" in e}
    assert {name: e["outcome"] for name, e in recorded.items()} == {
        "test_ok": "passed", "test_wrong": "failed", "test_skipped": "skipped",
        "test_expected_failure": "xfailed", "test_unexpected_pass": "xpassed",
        "test_sanitize_dataframe_column_names": "excluded"}
    assert recorded["test_wrong"]["error"] == "ValueError: HIVE_BAD_DATA: Field x is bad"
    assert recorded["test_ok"]["requests"] == 0
    assert recorded["test_sanitize_dataframe_column_names"]["group"] == "fails_in_client"

    args = argparse.Namespace(modules=("test_athena.py",), keyword=None, rss_limit_gib=6.0, timeout=60)
    outcome = {"events": run.read_events(events), "aborted": None, "seconds": 1.0,
               "peak_cloud_rss": 0, "peak_tests_rss": 0}
    summary = run.summarise(outcome, args, "3.17.1", source)
    assert (summary["collected"], summary["excluded"], summary["skipped"]) == (6, 1, 1)
    assert (summary["in_scope"], summary["ok"], summary["failed"]) == (4, 3, 1)
    assert summary["failure_groups"] == {
        "ValueError: HIVE_BAD_DATA: Field x is bad": {
            "count": 1, "tests": ["test_athena.py::test_wrong"], "where": "tests/unit/test_athena.py:8"}}


def test_watch_stops_when_a_process_tree_exceeds_the_memory_limit(tmp_path):
    started = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                start_new_session=True) for _ in range(2)]
    tests, cloud = started
    args = argparse.Namespace(rss_limit_gib=1e-6, poll_s=0.05, max_minutes=1.0, progress_s=999.0)
    try:
        began = time.monotonic()
        outcome = run.watch(tests, cloud, tmp_path / "events.jsonl", args, tmp_path / "cloud.log")
        assert time.monotonic() - began < 10
        assert outcome["aborted"].startswith("the local cloud's resident memory reached")
        assert outcome["peak_cloud_rss"] > 1024
    finally:
        for process in started:
            run.stop_group(process, grace=2.0)
    assert all(process.poll() is not None for process in started)


def test_causes_are_masked_so_that_runs_group_alike():
    first = run.cause_of("QueryFailed: HIVE_BAD_DATA: file s3://b/20261202160943231777_1c88b9/x.csv "
                         "at line 1:14 (query 0c1e8f6e-1d0b-4a43-9e0e-3b1f2d9f6a10)")
    second = run.cause_of("QueryFailed: HIVE_BAD_DATA: file s3://c/20261202160944966191_87eaeb/y.csv "
                          "at line 5:2 (query 11111111-2222-3333-4444-555555555555)")
    assert first == second == "QueryFailed: HIVE_BAD_DATA: file s3://... at line N:N (query <id>)"
    assert run.cause_of("assert 11390 >= (11390 * 10)") == "assert N >= (N * 10)"
    assert run.cause_of("AssertionError: assert 's3://b/x.csv' is None") == "assert 's3://...' is None"
    bzip2 = run.cause_of("CSV parse error: got 2: BZh91AY&SY\u06ba\ufffdM")
    assert bzip2 == "CSV parse error: got 2: BZh91AY&SY<binary data>"


def test_trino_expectations_are_well_formed():
    spec = json.loads((ROOT / "tests" / "cloud" / "data" / "trino_expectations.json").read_text())
    probes = spec["probes"]
    assert len({p["id"] for p in probes}) == len(probes) >= 50
    known = {"rows", "column_type", "columns", "min_rows", "rows_contain", "error"}
    for probe in probes:
        assert probe["sql"].strip() and probe["rule"].strip(), probe["id"]
        assert probe["expect"] and set(probe["expect"]) <= known, probe["id"]
        assert probe["sources"] and all(s.startswith("https://") for s in probe["sources"]), probe["id"]
    areas = {p["area"] for p in probes}
    assert {"decimal", "typeof", "json", "statement"} <= areas
