"""pytest plugin for the conformance run (``tests/conformance/run.py``), loaded with ``-p``.

It is copied next to aws-sdk-pandas's laid-out tests and runs inside THEIR pytest process,
so it imports nothing from this project. It does two things:

- deselects the tests outside an Athena + Glue catalog + S3 emulator's scope (the list is
  ``EXCLUDED`` in run.py, handed over as a JSON file in ``$DELAB_CONFORMANCE_EXCLUDED``) and
  records each with its group, so excluded tests are counted, never silently dropped;
- appends one JSON line per finished test to ``$DELAB_CONFORMANCE_EVENTS``: outcome, the
  first line of its error, where the error was raised, seconds, and how many AWS requests the
  test's body made (so tests that pass or fail without touching the cloud can be told apart).
  run.py reads the file while the run goes on (progress) and after it (summary), so a run
  stopped half-way still reports.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest

_EVENTS = os.environ.get("DELAB_CONFORMANCE_EVENTS", "")
_EXCLUDED = os.environ.get("DELAB_CONFORMANCE_EXCLUDED", "")
_results: dict[str, dict[str, Any]] = {}
_requests = [0]  # AWS requests sent by this process so far (botocore's Endpoint.make_request)
_call_started: dict[str, int] = {}


def pytest_configure(config: pytest.Config) -> None:
    """Count the AWS requests the tests send (a wrapper; the request itself is untouched)."""
    import botocore.endpoint

    original = botocore.endpoint.Endpoint.make_request
    if getattr(original, "_delab_counted", False):
        return

    def make_request(self: Any, *args: Any, **kwargs: Any) -> Any:
        _requests[0] += 1  # approximate under threads; only "none" versus "some" matters
        return original(self, *args, **kwargs)

    make_request._delab_counted = True  # type: ignore[attr-defined]
    botocore.endpoint.Endpoint.make_request = make_request  # type: ignore[method-assign]


def _emit(record: dict[str, Any]) -> None:
    if _EVENTS:
        with open(_EVENTS, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")


def _test_name(nodeid: str) -> str:
    """``tests/unit/test_athena.py::test_x[a-b]`` -> ``test_athena.py::test_x``."""
    return nodeid.split("/")[-1].split("[")[0]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the excluded tests, recording each one with its group."""
    if not _EXCLUDED:
        return
    with open(_EXCLUDED, encoding="utf-8") as src:
        groups: dict[str, dict[str, Any]] = json.load(src)
    by_name = {name: group for group, spec in groups.items() for name in spec["tests"]}
    keep, dropped = [], []
    for item in items:
        group = by_name.get(_test_name(item.nodeid))
        if group is None:
            keep.append(item)
        else:
            dropped.append(item)
            _emit({"test": item.nodeid, "outcome": "excluded", "group": group})
    _emit({"collected": len(items), "excluded": len(dropped)})
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def _first_error_line(report: pytest.TestReport) -> tuple[str, str]:
    """The exception's first line and the file:line that raised it."""
    longrepr = report.longrepr
    if longrepr is None:
        return "", ""
    if isinstance(longrepr, tuple):  # a skip: (path, lineno, reason)
        return str(longrepr[2]).splitlines()[0] if longrepr[2] else "", f"{longrepr[0]}:{longrepr[1]}"
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        lines = [line for line in (crash.message or "").splitlines() if line.strip()]
        return (lines[0] if lines else ""), f"{crash.path}:{crash.lineno}"
    text = [line for line in str(longrepr).splitlines() if line.strip()]
    errors = [line for line in text if re.match(r"^E\s", line)]
    return ((errors or text or [""])[0]).strip(), ""


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Fold setup/call/teardown reports into one outcome per test; emit it at teardown."""
    entry = _results.setdefault(report.nodeid, {"test": report.nodeid, "outcome": "passed",
                                                "seconds": 0.0})
    entry["seconds"] = round(entry["seconds"] + report.duration, 3)
    if report.when == "setup":
        _call_started[report.nodeid] = _requests[0]
    elif report.when == "call":
        entry["requests"] = _requests[0] - _call_started.pop(report.nodeid, _requests[0])
    wasxfail = hasattr(report, "wasxfail")
    if report.when == "call":
        if wasxfail:
            entry["outcome"] = "xfailed" if report.skipped else "xpassed"
        elif report.failed:
            entry["outcome"] = "failed"
        elif report.skipped:
            entry["outcome"] = "skipped"
    elif report.when == "setup" and not report.passed:
        if report.skipped:
            entry["outcome"] = "xfailed" if wasxfail else "skipped"
        else:
            entry["outcome"] = "error"
    elif report.when == "teardown" and report.failed and entry["outcome"] == "passed":
        entry["outcome"] = "error"  # the test passed but its fixtures could not clean up
    if (report.failed or report.skipped) and "error" not in entry:
        entry["error"], entry["where"] = _first_error_line(report)
        entry["phase"] = report.when
    if report.when == "teardown":
        _call_started.pop(report.nodeid, None)
        _emit(_results.pop(report.nodeid))


def pytest_runtest_logstart(nodeid: str, location: tuple[str, int | None, str]) -> None:
    """Record which test is running, so a stopped run can say where it stopped."""
    _emit({"start": nodeid})
