"""Probe the local Athena with the statements of ``tests/cloud/data/trino_expectations.json``.

    make conformance-probe      # or: .venv/bin/python tests/conformance/probe.py

Each probe is a statement a learner plausibly writes (decimal arithmetic, ``typeof``, JSON
casts, EXPLAIN, SHOW VIEWS...) with the result Trino documents, and the source. This runs
them, through boto3, against a local cloud of its own (``python -m utils.cloud serve`` on a
free port, state in a temporary directory), prints expected versus actual, and writes
``bench/results/trino_probe.json`` (the last stdout line is its summary). It changes nothing
and exits 0 whatever the engine answers: it measures, the engine's tests judge.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

EXPECTATIONS = ROOT / "tests" / "cloud" / "data" / "trino_expectations.json"
DEFAULT_RESULTS = ROOT / "bench" / "results" / "trino_probe.json"
BUCKET = "trino-probe-results"
FINAL = ("SUCCEEDED", "FAILED", "CANCELLED")


def run_statement(athena: Any, sql: str, database: str, timeout: float = 60.0) -> dict[str, Any]:
    """Run one statement; return what Athena answered (rows, columns, state, error)."""
    try:
        query_id = athena.start_query_execution(
            QueryString=sql, QueryExecutionContext={"Database": database},
            ResultConfiguration={"OutputLocation": f"s3://{BUCKET}/results/"})["QueryExecutionId"]
    except athena.exceptions.ClientError as err:
        return {"state": "REFUSED", "api_error": err.response["Error"]["Code"],
                "message": err.response["Error"].get("Message", "")}
    deadline = time.monotonic() + timeout
    while True:
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        state = execution["Status"]["State"]
        if state in FINAL or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if state != "SUCCEEDED":
        return {"state": state, "message": execution["Status"].get("StateChangeReason", "")}
    result = athena.get_query_results(QueryExecutionId=query_id)
    info = result["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    labels = [c.get("Label", c["Name"]) for c in info]
    rows = [[d.get("VarCharValue") for d in r["Data"]] for r in result["ResultSet"]["Rows"]]
    if rows and rows[0] == labels:
        rows = rows[1:]  # the header row Athena puts first for queries
    first = [info[0]["Type"], info[0].get("Precision"), info[0].get("Scale")] if info else None
    return {"state": state, "columns": labels, "rows": rows, "column_type": first}


def verdict(expect: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """What differs between the documented result and the actual one (empty: it matches)."""
    problems = []
    error = expect.get("error")
    if error:
        if "api" in error:
            if actual.get("api_error") != error["api"] or \
                    error.get("message_contains", "") not in actual.get("message", ""):
                problems.append(f"expected StartQueryExecution to answer {error['api']}")
        elif actual["state"] != error["state"] or not actual.get("message", "").startswith(error["code"]):
            problems.append(f"expected {error['state']} with {error['code']}")
        return problems
    if actual["state"] != "SUCCEEDED":
        return [f"expected success, got {actual['state']}"]
    if "rows" in expect and actual["rows"] != expect["rows"]:
        problems.append("rows differ")
    if "column_type" in expect and actual.get("column_type") != expect["column_type"]:
        problems.append("column type differs")
    if "columns" in expect and actual["columns"] != expect["columns"]:
        problems.append("columns differ")
    if len(actual["rows"]) < expect.get("min_rows", 0):
        problems.append("too few rows")
    first = {row[0] for row in actual["rows"] if row}
    if any(value not in first for value in expect.get("rows_contain", [])):
        problems.append("missing rows")
    return problems


def shown(actual: dict[str, Any]) -> str:
    """A one-line rendering of what Athena answered."""
    if actual["state"] == "REFUSED":
        return f"refused: {actual['api_error']}: {actual['message'][:90]}"
    if actual["state"] != "SUCCEEDED":
        return f"{actual['state']}: {actual['message'][:100]}"
    rows = actual["rows"][:3]
    text = "; ".join(", ".join(str(v) for v in row) for row in rows)
    kind = actual.get("column_type") or []
    typed = f" [{kind[0]}({kind[1]},{kind[2]})]" if kind and kind[0] == "decimal" else ""
    return (text[:100] + ("..." if len(actual["rows"]) > 3 else "")) + typed


def expected_text(expect: dict[str, Any]) -> str:
    """A one-line rendering of the documented result."""
    if "error" in expect:
        error = expect["error"]
        return f"refused: {error['api']}" if "api" in error else f"{error['state']}: {error['code']}"
    parts = []
    if "rows" in expect:
        parts.append("; ".join(", ".join(row) for row in expect["rows"]))
    if "column_type" in expect:
        kind = expect["column_type"]
        parts.append(f"[{kind[0]}({kind[1]},{kind[2]})]")
    if "columns" in expect:
        parts.append(f"columns {expect['columns']}")
    if "rows_contain" in expect:
        parts.append(f"lists {expect['rows_contain']}")
    return " ".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Start a cloud, run every probe, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--expectations", type=Path, default=EXPECTATIONS)
    parser.add_argument("--json", type=Path, default=DEFAULT_RESULTS)
    args = parser.parse_args(argv)
    spec = json.loads(args.expectations.read_text())
    database = spec["context"]["database"]

    import boto3

    from utils.cloud.testing import SubprocessCloud

    work = Path(tempfile.mkdtemp(prefix="delab-trino-probe-"))
    cloud = SubprocessCloud(work / "state", work / "cloud.log")
    cloud.start()
    results = []
    try:
        session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",  # noqa: S106
                                region_name="us-east-1")
        athena = session.client("athena", endpoint_url=cloud.endpoint)
        session.client("s3", endpoint_url=cloud.endpoint).create_bucket(Bucket=BUCKET)
        session.client("glue", endpoint_url=cloud.endpoint).create_database(
            DatabaseInput={"Name": database})
        for statement in spec["context"]["setup"]:
            outcome = run_statement(athena, statement, database)
            if outcome["state"] != "SUCCEEDED":
                print(f"setup `{statement}` did not succeed: {shown(outcome)}")
        for probe in spec["probes"]:
            actual = run_statement(athena, probe["sql"], database)
            problems = verdict(probe["expect"], actual)
            results.append({"id": probe["id"], "area": probe["area"], "sql": probe["sql"],
                            "expected": expected_text(probe["expect"]), "actual": shown(actual),
                            "matches": not problems, "problems": problems, "raw": actual})
    finally:
        cloud.stop()
        shutil.rmtree(work, ignore_errors=True)
    width = max(len(r["sql"]) for r in results)
    print(f"{'ok':<3} {'statement':<{width}}  expected (Trino)  ->  actual (local Athena)")
    for r in results:
        print(f"{'yes' if r['matches'] else 'NO':<3} {r['sql']:<{width}}  {r['expected']}  ->  {r['actual']}")
    matched = sum(r["matches"] for r in results)
    summary = {"bench": "trino_probe", "probes": len(results), "match": matched,
               "differ": len(results) - matched,
               "differing": [r["id"] for r in results if not r["matches"]]}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({**summary, "results": results}, indent=1) + "\n")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
