"""Benchmark: the local cloud's peak resident memory under an Athena workload, against its cap.

It starts its own local cloud (``python -m utils.cloud serve --port N``, a free
port, ``DELAB_CLOUD_MEMORY_MIB=--cap-mib``) and samples that process's resident
memory (``/proc/<pid>/status`` VmRSS every 50 ms, and VmHWM, the kernel's own peak)
over a workload that once drove the cloud past 8-21 GiB:

- ``cancelled_cross_join``: ``SELECT a.a * rand(), b.a * rand() FROM many_rows a
  CROSS JOIN many_rows b`` over a 10,000-row Parquet table (100 million rows),
  stopped with StopQueryExecution after ``--stop-after`` seconds; reports the
  seconds from the Stop call to the CANCELLED state, the CPU the cloud still
  spends in the next second, and the result files left behind;
- ``large_ctas``: a CTAS of ``--ctas-rows`` rows (from the same cross join);
- ``large_unload``: UNLOAD of that table to Parquet;
- ``large_result_paged``: a SELECT of ``--result-rows`` rows, every page read
  through GetQueryResults (1,000 rows a page);
- ``small_queries``: ``--small-queries`` small SELECTs, four at a time;
- ``over_budget_query``: a query whose memory DuckDB cannot spill
  (``array_agg`` of 100 million values) must FAIL with EXCEEDED_MEMORY_LIMIT,
  and the next query must succeed.

Target: peak RSS < the cap (``met``), every case behaving as described.

Run: ``PYTHONPATH=. .venv/bin/python bench/cloud_memory.py [--cap-mib 2048]``.
Prints one JSON object on its last line and writes it to ``bench/results/cloud_memory.json``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUCKET = "cloud-memory-bench"
DATABASE = "cloud_memory_bench"
RESULTS = f"s3://{BUCKET}/athena-results/"
CROSS_JOIN = "SELECT a.a * rand(), b.a * rand() FROM many_rows a CROSS JOIN many_rows b"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cloud:
    """A local cloud in its own process, with its resident memory sampled."""

    def __init__(self, cap_mib: int) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DELAB_CLOUD_MEMORY_MIB": str(cap_mib),
               "PYTHONUNBUFFERED": "1"}
        self.log = open(ROOT / "bench" / "results" / "cloud_memory.log", "w")  # noqa: SIM115
        # Its own durable store (object bodies on disk, as in the daemon), not the checkout's.
        self.state = tempfile.TemporaryDirectory(prefix="delab-bench-state-")
        self.proc = subprocess.Popen([sys.executable, "-m", "utils.cloud", "serve", "--port", str(self.port),
                                      "--state-dir", self.state.name],
                                     cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.peak_kib = 0
        self.phase_peak_kib = 0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _status(self, field: str) -> int:
        with open(f"/proc/{self.proc.pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                rss = self._status("VmRSS")
            except OSError:
                return
            self.peak_kib = max(self.peak_kib, rss)
            self.phase_peak_kib = max(self.phase_peak_kib, rss)
            time.sleep(0.05)

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the local cloud exited; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1):  # noqa: S310
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the local cloud did not start")

    def rss_mib(self) -> float:
        return round(self._status("VmRSS") / 1024, 1)

    def hwm_mib(self) -> float:
        return round(self._status("VmHWM") / 1024, 1)

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.proc.pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def start_phase(self) -> None:
        self.phase_peak_kib = 0

    def phase_peak_mib(self) -> float:
        return round(self.phase_peak_kib / 1024, 1)

    def spool_files(self) -> list[str]:
        folder = ROOT / ".delab" / "cloud" / "athena" / f"work-{self.proc.pid}" / "spool"
        return sorted(p.name for p in folder.glob("*")) if folder.is_dir() else []

    def stop(self) -> None:
        self._stop.set()
        self.proc.terminate()  # our own child, by its pid
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        self.state.cleanup()


def clients(endpoint: str) -> tuple[Any, Any, Any]:
    import boto3
    from botocore.config import Config

    os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing",
                      AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - the local cloud's fixed test key
                      AWS_DEFAULT_REGION="us-east-1")
    os.environ.pop("AWS_PROFILE", None)
    config = Config(max_pool_connections=16, retries={"max_attempts": 1})
    return (boto3.client("s3", config=config), boto3.client("glue", config=config),
            boto3.client("athena", config=config))


def make_lake(s3: Any, glue: Any) -> None:
    """The 10,000-row table ``many_rows(a int)``: Parquet in the local S3, a Glue table."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    s3.create_bucket(Bucket=BUCKET)
    sink = io.BytesIO()
    pq.write_table(pa.table({"a": pa.array(range(10_000), pa.int32())}), sink)
    s3.put_object(Bucket=BUCKET, Key="lake/many_rows/data.parquet", Body=sink.getvalue())
    glue.create_database(DatabaseInput={"Name": DATABASE})
    glue.create_table(DatabaseName=DATABASE, TableInput={
        "Name": "many_rows", "TableType": "EXTERNAL_TABLE", "Parameters": {"classification": "parquet"},
        "StorageDescriptor": {
            "Columns": [{"Name": "a", "Type": "int"}], "Location": f"s3://{BUCKET}/lake/many_rows/",
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {"SerializationLibrary":
                          "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"}}})


def start(athena: Any, sql: str) -> str:
    return athena.start_query_execution(QueryString=sql, QueryExecutionContext={"Database": DATABASE},
                                        ResultConfiguration={"OutputLocation": RESULTS})["QueryExecutionId"]


def wait(athena: Any, query_id: str, timeout: float = 1800) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        if execution["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return execution
    raise TimeoutError(query_id)


def run(athena: Any, sql: str) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    execution = wait(athena, start(athena, sql))
    return execution, round(time.perf_counter() - started, 3)


def cancelled_cross_join(cloud: Cloud, athena: Any, stop_after: float) -> dict[str, Any]:
    query_id = start(athena, CROSS_JOIN)
    time.sleep(stop_after)
    state_before = athena.batch_get_query_execution(QueryExecutionIds=[query_id])[
        "QueryExecutions"][0]["Status"]["State"]
    stopped = time.perf_counter()
    athena.stop_query_execution(QueryExecutionId=query_id)
    while True:
        found = athena.batch_get_query_execution(QueryExecutionIds=[query_id])["QueryExecutions"]
        status = found[0]["Status"]
        if status["State"] != "RUNNING":
            break
        time.sleep(0.01)
    to_cancelled = round(time.perf_counter() - stopped, 3)
    time.sleep(0.5)  # let the worker unwind, then see whether the cloud still computes
    cpu = cloud.cpu_seconds()
    time.sleep(1.0)
    cpu_after = round(cloud.cpu_seconds() - cpu, 2)
    return {"case": "cancelled_cross_join", "state_before_stop": state_before, "state": status["State"],
            "stop_to_cancelled_s": to_cancelled, "cloud_cpu_s_in_1s_after": cpu_after,
            "spool_files_left": len(cloud.spool_files()), "stopped_after_s": stop_after,
            "how": f"{CROSS_JOIN} (100M rows), StopQueryExecution after {stop_after} s"}


def large_ctas(athena: Any, rows: int) -> dict[str, Any]:
    keep = max(1, rows // 10_000)
    execution, seconds = run(athena, "CREATE TABLE big WITH (format = 'PARQUET') AS "
                             "SELECT a.a * 10000 + b.a AS id, a.a * rand() AS x, "
                             "'row ' || CAST(b.a AS varchar) AS label "
                             f"FROM many_rows a CROSS JOIN many_rows b WHERE b.a < {keep}")
    return {"case": "large_ctas", "state": execution["Status"]["State"], "seconds": seconds,
            "rows": keep * 10_000, "reason": execution["Status"].get("StateChangeReason", "")}


def large_unload(athena: Any) -> dict[str, Any]:
    execution, seconds = run(athena, f"UNLOAD (SELECT id, x, label FROM big) TO 's3://{BUCKET}/unload/big/' "
                             "WITH (format = 'PARQUET')")
    return {"case": "large_unload", "state": execution["Status"]["State"], "seconds": seconds,
            "reason": execution["Status"].get("StateChangeReason", "")}


def large_result_paged(athena: Any, rows: int) -> dict[str, Any]:
    execution, seconds = run(athena, f"SELECT id, x, label FROM big ORDER BY id LIMIT {rows}")
    started = time.perf_counter()
    read = pages = 0
    paginator = athena.get_paginator("get_query_results")
    for page in paginator.paginate(QueryExecutionId=execution["QueryExecutionId"],
                                   PaginationConfig={"PageSize": 1000}):
        read += len(page["ResultSet"]["Rows"])
        pages += 1
    return {"case": "large_result_paged", "state": execution["Status"]["State"], "query_seconds": seconds,
            "paging_seconds": round(time.perf_counter() - started, 3), "pages": pages,
            "rows_read_with_header": read, "result_bytes": int(
                athena.get_query_runtime_statistics(QueryExecutionId=execution["QueryExecutionId"])[
                    "QueryRuntimeStatistics"]["Rows"]["OutputBytes"])}


def small_queries(athena: Any, count: int) -> dict[str, Any]:
    started = time.perf_counter()

    def one(i: int) -> str:
        sql = f"SELECT COUNT(*) AS n, SUM(a) AS s FROM many_rows WHERE a < {i}"
        return wait(athena, start(athena, sql))["Status"]["State"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        states = list(pool.map(one, range(count)))
    return {"case": "small_queries", "queries": count, "succeeded": states.count("SUCCEEDED"),
            "seconds": round(time.perf_counter() - started, 3)}


def over_budget_query(athena: Any) -> dict[str, Any]:
    execution, seconds = run(athena, "SELECT cardinality(array_agg(a.a * b.a)) AS n "
                                     "FROM many_rows a CROSS JOIN many_rows b")
    after, _ = run(athena, "SELECT COUNT(*) AS n FROM many_rows")
    status = execution["Status"]
    return {"case": "over_budget_query", "state": status["State"], "seconds": seconds,
            "reason": status.get("StateChangeReason", ""), "athena_error": status.get("AthenaError", {}),
            "next_query_state": after["Status"]["State"]}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the workload against a fresh local cloud; print and save the JSON figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cap-mib", type=int, default=2048, help="DELAB_CLOUD_MEMORY_MIB of the cloud")
    parser.add_argument("--stop-after", type=float, default=5.0, help="seconds before the Stop call")
    parser.add_argument("--ctas-rows", type=int, default=20_000_000, help="rows of the large CTAS")
    parser.add_argument("--result-rows", type=int, default=2_000_000, help="rows of the paged result")
    parser.add_argument("--small-queries", type=int, default=300, help="number of small queries")
    args = parser.parse_args(argv)
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    cloud = Cloud(args.cap_mib)
    cases: list[dict[str, Any]] = []
    try:
        cloud.wait_ready()
        s3, glue, athena = clients(cloud.endpoint)
        make_lake(s3, glue)
        run(athena, "SELECT 1 AS warm_up")
        idle = cloud.rss_mib()
        for name, case in (
                ("cancelled_cross_join", lambda: cancelled_cross_join(cloud, athena, args.stop_after)),
                ("large_ctas", lambda: large_ctas(athena, args.ctas_rows)),
                ("large_unload", lambda: large_unload(athena)),
                ("large_result_paged", lambda: large_result_paged(athena, args.result_rows)),
                ("small_queries", lambda: small_queries(athena, args.small_queries)),
                ("over_budget_query", lambda: over_budget_query(athena))):
            cloud.start_phase()
            started = time.perf_counter()
            figures = case()
            figures.setdefault("seconds", round(time.perf_counter() - started, 3))
            figures["peak_rss_mib"] = cloud.phase_peak_mib()
            figures["rss_after_mib"] = cloud.rss_mib()
            cases.append(figures)
            print(json.dumps(figures), file=sys.stderr, flush=True)
            assert figures["case"] == name
        hwm = cloud.hwm_mib()
    finally:
        cloud.stop()
    peak = max(round(cloud.peak_kib / 1024, 1), hwm)
    by_case = {c["case"]: c for c in cases}
    behaved = {
        "cancelled_cross_join": by_case["cancelled_cross_join"]["state"] == "CANCELLED"
        and by_case["cancelled_cross_join"]["stop_to_cancelled_s"] < 1.0
        and by_case["cancelled_cross_join"]["spool_files_left"] == 0,
        "large_ctas": by_case["large_ctas"]["state"] == "SUCCEEDED",
        "large_unload": by_case["large_unload"]["state"] == "SUCCEEDED",
        "large_result_paged": by_case["large_result_paged"]["rows_read_with_header"] == args.result_rows + 1,
        "small_queries": by_case["small_queries"]["succeeded"] == args.small_queries,
        "over_budget_query": by_case["over_budget_query"]["state"] == "FAILED"
        and by_case["over_budget_query"]["reason"].startswith("EXCEEDED_MEMORY_LIMIT")
        and by_case["over_budget_query"]["next_query_state"] == "SUCCEEDED",
    }
    figures = {
        "benchmark": "cloud_memory",
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "cap_mib": args.cap_mib,
        "cases": cases,
        "baselines": [{"case": "idle_after_first_query", "rss_mib": idle,
                       "how": "the same cloud's RSS after start-up and one SELECT 1"}],
        "peak_rss_mib": peak,
        "ratios": {"peak_rss_vs_cap": round(peak / args.cap_mib, 3)},
        "targets": {"peak_rss_vs_cap": 1.0, "every_case_behaves": True},
        "cases_behave": behaved,
    }
    figures["met"] = bool(peak < args.cap_mib and all(behaved.values()))
    out = ROOT / "bench" / "results" / "cloud_memory.json"
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
