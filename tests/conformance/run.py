"""Conformance: awswrangler's own unit tests for Athena, the Glue catalog and S3 Parquet, run
against a local cloud of this project (issue 16).

    make conformance SOURCE=DIR          # or: .venv/bin/python tests/conformance/run.py --source DIR

``DIR`` is a checkout of https://github.com/aws/aws-sdk-pandas at the tag of the installed
awswrangler (3.17.1). PyPI cannot supply it: the 3.17.1 sdist ships ``awswrangler/`` only
(its pyproject's ``[tool.hatch.build.targets.sdist] include = ["awswrangler"]``; checked on
awswrangler-3.17.1.tar.gz, sha256 cc9735a8...a2d1), so without ``--source`` the script looks in
``.delab/conformance/aws-sdk-pandas-<version>`` and otherwise says in one line how to clone it.
Nothing is downloaded at run time and nothing from the checkout is copied into this project.

What it does:

1. Lays out, in a temporary directory, the checkout's ``tests/__init__.py``, ``_utils.py``,
   ``conftest.py`` (unchanged) and the modules in ``MODULES``; adds ``tests/unit/conftest.py``
   (``local_outputs.py``), whose one fixture, ``cloudformation_outputs``, replaces what the
   suite reads from CloudFormation with a bucket, KMS key and Glue database made on the local
   cloud; and ``plugin.py``, which deselects ``EXCLUDED`` and records every test's outcome.
2. Starts its own local cloud (``python -m utils.cloud serve`` on a free port, state in the
   temporary directory), never the checkout's ``make up`` cloud.
3. Runs the tests serially with a per-test timeout, watching the resident memory of the cloud
   (with its child processes) and of the test process. Past ``--rss-limit-gib`` (6 GiB) it
   stops both and says so: issue 12 saw this suite drive the cloud to 21 GiB.
4. Prints passed / failed / skipped / excluded, the failures grouped by their first error
   line, and writes ``bench/results/athena_conformance.json`` (every test's outcome and error;
   the last stdout line is the same summary without the per-test list).

The target (issue 16): ``ok / in_scope`` where ``in_scope`` = collected - excluded - skipped
(the suite skips invalid parameter combinations itself, on AWS as here) and ``ok`` = passed +
xfailed + xpassed (pytest's own successes: an ``xfail`` test declares the error AWS raises).
Not part of ``make test``: it needs the checkout and takes ~10-15 min on 2 cores.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

REPOSITORY = "https://github.com/aws/aws-sdk-pandas"
DEFAULT_RESULTS = ROOT / "bench" / "results" / "athena_conformance.json"
GIB = 1024 ** 3

# The suite's modules for Athena, the Glue catalog and S3 Parquet (tests/unit/ of the checkout).
MODULES = (
    "test_athena.py",             # queries, CTAS/UNLOAD, parameters, workgroups, encryption, bucketing
    "test_athena_cache.py",       # result reuse through ListQueryExecutions
    "test_athena_csv.py",         # CSV tables: SerDes, compression, skip.header.line.count
    "test_athena_parquet.py",     # Parquet tables written by wr.s3.to_parquet, read by Athena
    "test_athena_prepared.py",    # PREPARE / EXECUTE / DEALLOCATE and the prepared-statement API
    "test_athena_projection.py",  # partition projection table properties
    "test_catalog.py",            # the Glue Data Catalog API through wr.catalog
    "test_s3_parquet.py",         # wr.s3 Parquet reads/writes (S3 only, plus Glue for tables)
)

# Athena-related modules of the suite that are NOT laid out, and why.
MODULES_NOT_RUN = {
    "test_athena_iceberg.py": "Iceberg tables (table_type=ICEBERG, MERGE INTO, DELETE, schema "
                              "evolution): a table format of its own, outside the Hive/Glue "
                              "tables the lab and this target cover",
    "test_athena_spark.py": "Athena for Apache Spark (StartSession/StartCalculationExecution, an "
                            "execution role): a Spark service, not SQL",
    "test_athena_geospatial.py": "needs geopandas, which is not a dependency of this project",
}

# Tests inside MODULES that an Athena + Glue catalog + S3 emulator cannot be asked to pass,
# by group, with the reason. Matched by module and function name (all parameters).
EXCLUDED: dict[str, dict[str, Any]] = {
    "s3_access_point": {
        "reason": "reads through an S3 access point ARN; botocore addresses it as the host "
                  "<name>-<account>.<endpoint>, which a loopback endpoint cannot serve, and the "
                  "access point is an output of the real stack (BucketAccessPointArn)",
        "tests": ["test_s3_parquet.py::test_read_from_access_point"],
    },
    "fails_in_client": {
        "reason": "fails inside awswrangler with this project's pandas 3.x before any request "
                  "(catalog.drop_duplicated_columns assigns into a read-only Arrow-backed Index: "
                  "'ValueError: Cannot modify read-only array'); no emulator can change that",
        "tests": ["test_athena.py::test_sanitize_dataframe_column_names"],
    },
}


class HarnessError(Exception):
    """An expected failure of the harness itself: printed as one line, exit status 2."""


# -- the source --------------------------------------------------------------------------


def installed_version() -> str:
    """The installed awswrangler's version (the tag whose tests we run)."""
    return importlib.metadata.version("awswrangler")


def source_version(source: Path) -> str | None:
    """``__version__`` in a checkout's ``awswrangler/__metadata__.py``, if it has one."""
    metadata = source / "awswrangler" / "__metadata__.py"
    if not metadata.is_file():
        return None
    found = re.search(r'__version__\s*(?::\s*str\s*)?=\s*["\']([^"\']+)["\']', metadata.read_text())
    return found.group(1) if found else None


def clone_hint(version: str) -> str:
    """The one command that fetches the right tests."""
    target = ROOT / ".delab" / "conformance" / f"aws-sdk-pandas-{version}"
    return (f"git clone --depth 1 --branch {version} {REPOSITORY} "
            f"{os.path.relpath(target, Path.cwd())}")


def find_source(given: Path | None, version: str) -> Path:
    """The aws-sdk-pandas checkout to take the tests from; ``HarnessError`` if there is none."""
    if given is None:
        default = ROOT / ".delab" / "conformance" / f"aws-sdk-pandas-{version}"
        if not default.is_dir():
            raise HarnessError(
                f"awswrangler {version}'s tests are not on PyPI (its sdist ships only the "
                f"package): run `{clone_hint(version)}`, then this again (or pass --source DIR).")
        given = default
    source = given.expanduser().resolve()
    if not (source / "tests" / "conftest.py").is_file() or not (source / "tests" / "unit").is_dir():
        raise HarnessError(f"{source} is not an aws-sdk-pandas checkout (no tests/conftest.py "
                           f"or tests/unit/); get one with `{clone_hint(version)}`.")
    found = source_version(source)
    if found != version:
        raise HarnessError(f"{source} holds aws-sdk-pandas {found or 'of unknown version'}, but "
                           f"awswrangler {version} is installed; check out tag {version} "
                           f"(`git -C {source} checkout {version}`) or `{clone_hint(version)}`.")
    missing = [m for m in MODULES if not (source / "tests" / "unit" / m).is_file()]
    if missing:
        raise HarnessError(f"{source}/tests/unit lacks {', '.join(missing)}; is it tag {version}?")
    return source


def lay_out(source: Path, work: Path, modules: tuple[str, ...]) -> Path:
    """Copy the suite's test files (unchanged) and our two files into ``work``; return it."""
    tests = work / "tests"
    (tests / "unit").mkdir(parents=True)
    for name in ("__init__.py", "_utils.py", "conftest.py"):
        shutil.copyfile(source / "tests" / name, tests / name)
    shutil.copyfile(source / "tests" / "unit" / "__init__.py", tests / "unit" / "__init__.py")
    for module in modules:
        shutil.copyfile(source / "tests" / "unit" / module, tests / "unit" / module)
    shutil.copyfile(HERE / "local_outputs.py", tests / "unit" / "conftest.py")
    shutil.copyfile(HERE / "plugin.py", work / "delab_conformance_plugin.py")
    # The suite's own pytest options (its pyproject.toml), minus coverage and log formatting.
    (work / "pytest.ini").write_text(
        "[pytest]\nfilterwarnings =\n    ignore::DeprecationWarning\nmarkers =\n"
        "    distributed: tests against methods with distributed functionality\n"
        "    flaky: pytest-rerunfailures (not installed: no reruns here)\n")
    (work / "excluded.json").write_text(json.dumps(EXCLUDED, indent=1))
    return work


# -- memory ------------------------------------------------------------------------------


def process_tree(root: int) -> list[int]:
    """``root`` and every live descendant of it (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and its descendants (0 once it is gone)."""
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for pid in process_tree(root):
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total


# -- the run -----------------------------------------------------------------------------


def read_events(path: Path) -> list[dict[str, Any]]:
    """The plugin's JSON lines so far (a half-written last line is left for next time)."""
    if not path.exists():
        return []
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events


def stop_group(process: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL, to the process group we started for ``process``."""
    if process.poll() is not None:
        return
    for signum, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 30.0)):
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def run_suite(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Start the cloud, run pytest under the memory watch; return what happened."""
    from utils.cloud.testing import SubprocessCloud

    events = work / "events.jsonl"
    cloud = SubprocessCloud(work / "cloud-state", work / "cloud.log")
    print(f"Starting a local cloud on 127.0.0.1:{cloud.port} (state and logs in {work})", flush=True)
    try:
        cloud.start()
    except (RuntimeError, OSError) as exc:
        cloud.kill()  # a start that timed out leaves it running
        raise HarnessError(f"the local cloud did not start: {exc}".splitlines()[0]) from None
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_", "DELAB_", "PYTEST_"))}
    env.update(cloud.env)
    env.update(PYTHONPATH=str(work), AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true",
               DELAB_CONFORMANCE_EVENTS=str(events),
               DELAB_CONFORMANCE_EXCLUDED=str(work / "excluded.json"))
    command = [sys.executable, "-m", "pytest", "-c", str(work / "pytest.ini"), "--rootdir",
               str(work), "-p", "delab_conformance_plugin", "-p", "no:cacheprovider",
               "-p", "no:randomly", f"--timeout={args.timeout}", "-q", "-rN", "--no-header",
               *(["-k", args.keyword] if args.keyword else []), *args.pytest_arg,
               *[f"tests/unit/{m}" for m in args.modules]]
    started = time.monotonic()
    with open(work / "pytest.log", "wb") as log:
        tests = subprocess.Popen(command, cwd=work, env=env, stdin=subprocess.DEVNULL,
                                 stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    assert cloud.process is not None
    outcome: dict[str, Any] = {"aborted": None}
    try:
        outcome = watch(tests, cloud.process, events, args, work / "cloud.log")
    finally:
        if outcome["aborted"]:
            stop_group(tests, grace=2.0)
            cloud.kill()  # its state is this run's temporary directory: nothing to save
        else:
            stop_group(tests)
            cloud.stop()
    outcome["seconds"] = round(time.monotonic() - started, 1)
    outcome["pytest_exit"] = tests.returncode
    outcome["events"] = read_events(events)
    if not outcome["aborted"] and tests.returncode not in (0, 1):
        tail = (work / "pytest.log").read_text(errors="replace").strip().splitlines()[-3:]
        outcome["aborted"] = (f"pytest ended with status {tests.returncode} ("
                              + " | ".join(tail) + f"); full log: {work / 'pytest.log'}")
    return outcome


def watch(tests: subprocess.Popen[bytes], cloud: subprocess.Popen[bytes], events: Path,
          args: argparse.Namespace, cloud_log: Path) -> dict[str, Any]:
    """Poll until the tests end; stop early (``aborted``) on a memory, time or cloud failure.

    Resident memory is that of each process with all its descendants (a Glue job the cloud
    starts counts as the cloud's). Returns the peaks and, when stopped, why.
    """
    outcome: dict[str, Any] = {"aborted": None, "peak_cloud_rss": 0, "peak_tests_rss": 0}
    limit = int(args.rss_limit_gib * GIB)
    started = last_report = time.monotonic()
    while tests.poll() is None:
        time.sleep(args.poll_s)
        if cloud.poll() is not None:
            outcome["aborted"] = (f"the local cloud exited (status {cloud.returncode}) in the "
                                  f"middle of the run; its log: {cloud_log}")
            break
        cloud_rss, tests_rss = tree_rss(cloud.pid), tree_rss(tests.pid)
        outcome["peak_cloud_rss"] = max(outcome["peak_cloud_rss"], cloud_rss)
        outcome["peak_tests_rss"] = max(outcome["peak_tests_rss"], tests_rss)
        if cloud_rss > limit or tests_rss > limit:
            who = "local cloud" if cloud_rss > limit else "test process"
            outcome["aborted"] = (
                f"the {who}'s resident memory reached {max(cloud_rss, tests_rss) / GIB:.2f} GiB "
                f"(limit {args.rss_limit_gib:g} GiB, --rss-limit-gib) while running "
                f"{current_test(events) or 'the first test'}; both were stopped before they "
                "could exhaust the machine")
            break
        if time.monotonic() - started > args.max_minutes * 60:
            outcome["aborted"] = f"the run took longer than {args.max_minutes:g} min (--max-minutes)"
            break
        if time.monotonic() - last_report >= args.progress_s:
            last_report = time.monotonic()
            print(progress_line(read_events(events), cloud_rss, outcome["peak_cloud_rss"],
                                time.monotonic() - started), flush=True)
    return outcome


def current_test(events: Path) -> str | None:
    """The test that started last and has not finished."""
    finished, started = set(), None
    for event in read_events(events):
        if "start" in event:
            started = event["start"]
        elif "test" in event:
            finished.add(event["test"])
    return started if started and started not in finished else None


def progress_line(events: list[dict[str, Any]], rss: int, peak: int, seconds: float) -> str:
    """``[  120/616] 98 passed, 20 failed ... cloud RSS 0.5 GiB (peak 0.8)``."""
    counts = Counter(e["outcome"] for e in events if "outcome" in e and e["outcome"] != "excluded")
    total = next((e["collected"] - e["excluded"] for e in events if "collected" in e), 0)
    done = sum(counts.values())
    parts = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    return (f"[{done:>4}/{total}] {parts or 'starting'}; cloud RSS {rss / GIB:.2f} GiB "
            f"(peak {peak / GIB:.2f}); {seconds / 60:.1f} min")


# -- the summary -------------------------------------------------------------------------

_NOISE = (
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<id>"),
    (re.compile(r"s3://[^\s'\",)\]]+"), "s3://..."),
    (re.compile(r"\d{20}_[0-9a-f]{6}"), "<suffix>"),   # the suite's table/database names
    (re.compile(r"\b(?:0x)?[0-9a-f]{16,}\b"), "<hex>"),
    (re.compile(r"line \d+:\d+"), "line N:N"),
    (re.compile(r"\bat 0x[0-9a-f]+"), "at 0x..."),
    (re.compile(r"\b\d{3,}\b"), "N"),                 # sizes, counts, byte offsets
)
_BINARY = re.compile(r"[^\x20-\x7e]{2,}.*$")  # an error quoting undecoded bytes (e.g. bzip2)


def cause_of(error: str) -> str:
    """The first error line with run-specific parts (ids, paths, names, sizes) masked."""
    cause = _BINARY.sub("<binary data>", error.strip())
    if cause.startswith("AssertionError: assert "):  # pytest writes the same assert both ways
        cause = cause[len("AssertionError: "):]
    for pattern, replacement in _NOISE:
        cause = pattern.sub(replacement, cause)
    return cause[:200] if cause else "(no message)"


def _short(where: str) -> str:
    """A location without the machine-specific prefix (site-packages, the work directory)."""
    for marker in ("/site-packages/", "/tests/unit/", "/tests/"):
        if marker in where:
            head = "tests/" if marker != "/site-packages/" else ""
            return head + ("unit/" if marker == "/tests/unit/" else "") + where.split(marker, 1)[1]
    return where


def summarise(outcome: dict[str, Any], args: argparse.Namespace, version: str,
              source: Path) -> dict[str, Any]:
    """Counts, the excluded groups, the failures grouped by cause, every test's outcome."""
    events = outcome["events"]
    tests = [e for e in events if "outcome" in e]
    collected = next((e["collected"] for e in events if "collected" in e), len(tests))
    counts = Counter(e["outcome"] for e in tests)
    excluded = Counter(e["group"] for e in tests if e["outcome"] == "excluded")
    ok = counts["passed"] + counts["xfailed"] + counts["xpassed"]
    in_scope = collected - counts["excluded"] - counts["skipped"]
    not_run = in_scope - ok - counts["failed"] - counts["error"]
    groups: dict[str, dict[str, Any]] = {}
    for test in tests:
        if test["outcome"] in ("failed", "error"):
            group = groups.setdefault(cause_of(test.get("error", "")),
                                      {"count": 0, "tests": [], "where": _short(test.get("where", ""))})
            group["count"] += 1
            group["tests"].append(test["test"].split("/")[-1])
    ordered = dict(sorted(groups.items(), key=lambda kv: (-kv[1]["count"], kv[0])))
    offline_ok = sum(1 for t in tests if t["outcome"] in ("passed", "xfailed", "xpassed")
                     and t.get("requests") == 0)
    return {
        "bench": "athena_conformance",
        "awswrangler": version,
        "source": str(source),
        "modules": list(args.modules),
        "keyword": args.keyword,
        "collected": collected,
        "excluded": counts["excluded"],
        "excluded_groups": {g: {"count": excluded[g], "reason": EXCLUDED[g]["reason"]}
                            for g in EXCLUDED},
        "skipped": counts["skipped"],
        "in_scope": in_scope,
        "passed": counts["passed"],
        "xfailed": counts["xfailed"],
        "xpassed": counts["xpassed"],
        "ok": ok,
        "failed": counts["failed"],
        "errors": counts["error"],
        "not_run": max(not_run, 0),
        "ok_ratio": round(ok / in_scope, 4) if in_scope else None,
        "ok_without_requests": offline_ok,
        "aborted": outcome["aborted"],
        "seconds": outcome["seconds"],
        "peak_cloud_rss_mib": round(outcome["peak_cloud_rss"] / 2**20),
        "peak_tests_rss_mib": round(outcome["peak_tests_rss"] / 2**20),
        "rss_limit_gib": args.rss_limit_gib,
        "timeout_s": args.timeout,
        "failure_groups": ordered,
        "tests": {t["test"].split("/")[-1]: {k: v for k, v in t.items() if k != "test"}
                  for t in tests},
    }


def print_report(summary: dict[str, Any]) -> None:
    """The human part: counts, exclusions, the failure table."""
    print()
    print(f"awswrangler {summary['awswrangler']}: {summary['collected']} tests collected in "
          f"{len(summary['modules'])} modules, {summary['excluded']} excluded, "
          f"{summary['skipped']} skipped by the suite itself -> {summary['in_scope']} in scope")
    print(f"  passed {summary['passed']}, xfailed {summary['xfailed']}, xpassed "
          f"{summary['xpassed']}, failed {summary['failed']}, errors {summary['errors']}, "
          f"not run {summary['not_run']}, skipped {summary['skipped']}, excluded {summary['excluded']}")
    ratio = summary["ok_ratio"]
    print(f"  conformance: {summary['ok']}/{summary['in_scope']}"
          + (f" = {ratio:.1%}" if ratio is not None else "")
          + f" in {summary['seconds'] / 60:.1f} min; peak RSS cloud "
          f"{summary['peak_cloud_rss_mib']} MiB, tests {summary['peak_tests_rss_mib']} MiB")
    print(f"  ({summary['ok_without_requests']} of the ok tests sent no request to the cloud in "
          "their body: mocks and client-side checks, counted because AWS passes them too)")
    for group, spec in summary["excluded_groups"].items():
        print(f"  excluded {group} ({spec['count']}): {spec['reason']}")
    for module, reason in MODULES_NOT_RUN.items():
        print(f"  not laid out {module}: {reason}")
    if summary["failure_groups"]:
        print("\nFailures by cause (first error line):")
        print(f"{'n':>4}  cause / tests")
        for cause, group in summary["failure_groups"].items():
            where = group["where"] if group["where"].startswith("tests/") else ""
            print(f"{group['count']:>4}  {cause}" + (f"  [{where}]" if where else ""))
            shown = group["tests"][:4]
            more = f" (+{len(group['tests']) - 4} more)" if len(group["tests"]) > 4 else ""
            print(f"      {', '.join(shown)}{more}")
    if summary["aborted"]:
        print(f"\nSTOPPED: {summary['aborted']}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=None,
                        help="aws-sdk-pandas checkout at the installed awswrangler's tag")
    parser.add_argument("--modules", nargs="+", default=list(MODULES), choices=MODULES,
                        metavar="MODULE", help="run only these of the modules (default: all)")
    parser.add_argument("-k", dest="keyword", default=None, help="pytest -k expression")
    parser.add_argument("--pytest-arg", action="append", default=[], metavar="ARG",
                        help="pass ARG to pytest (repeatable), e.g. --pytest-arg=-vv")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per test (60)")
    parser.add_argument("--rss-limit-gib", type=float, default=6.0,
                        help="stop when the cloud or the tests exceed this resident memory (6)")
    parser.add_argument("--max-minutes", type=float, default=40.0, help="stop the run after (40)")
    parser.add_argument("--progress-s", type=float, default=30.0, help="progress line every (30 s)")
    parser.add_argument("--poll-s", type=float, default=0.5, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, default=DEFAULT_RESULTS, help="where the summary goes")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, state)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point: 0 when the run completed, 2 for a harness error, 3 when it was stopped."""
    args = parse_args(argv)
    args.modules = tuple(args.modules)
    try:
        version = installed_version()
        source = find_source(args.source, version)
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="delab-conformance-"))
    try:
        lay_out(source, work, args.modules)
        outcome = run_suite(work, args)
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"Interrupted: the tests and the cloud were stopped; logs in {work}", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"Work directory kept: {work}")
    summary = summarise(outcome, args, version, source)
    print_report(summary)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=1) + "\n")
    if not args.keep and not summary["aborted"]:
        shutil.rmtree(work, ignore_errors=True)
    elif not args.keep:
        print(f"Logs of the stopped run kept in {work}")
    short = {k: v for k, v in summary.items() if k != "tests"}
    short["failure_groups"] = {cause: g["count"] for cause, g in summary["failure_groups"].items()}
    print(json.dumps(short))
    return 3 if summary["aborted"] else 0


if __name__ == "__main__":
    sys.exit(main())
