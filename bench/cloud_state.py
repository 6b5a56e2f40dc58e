"""Benchmark: the local cloud's durable state (restore time, memory with large objects, write cost).

Each case runs a fresh cloud in a subprocess (``python -m utils.cloud serve``) on a free
port with a state directory of its own, so the lab's cloud is never touched.

- ``restore_sf1_lab``: the SF1 lab's state is built once (resources provisioned, the
  real ETL job run, the crawler run, a few Athena queries: gold tables, job history,
  logs, query results); then the cloud is started ``--runs`` times on that state and
  on an empty one. ``added_s`` = median start with the lab's state - median start
  empty; ``restore_s`` = what the cloud itself reports spending on restoring parts.
  Target: ``added_s`` < 2 s.
- ``large_objects``: 1 GiB of objects written (3 x 256 MiB through boto3's managed
  multipart upload, 10 threads; 1 x 256 MiB single PutObject streamed from a file),
  read back once (GetObject streamed to /dev/null), copied once (CopyObject), then the
  cloud's resident memory (``VmRSS``) and its peak (``VmHWM``). Target: bodies never
  held in memory, i.e. peak RSS far below the bytes moved (< 512 MiB over the baseline).
- ``small_puts``: 1 KiB PutObjects, one after another (each acknowledged only once
  on disk: latency per write) and from 16 threads at once (group commit: throughput).

Run: ``PYTHONPATH=. .venv/bin/python bench/cloud_state.py [--runs 3] [--cases restore large small]``.
Prints one JSON object on its last line and writes it to ``bench/results/cloud_state.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from utils.cloud.testing import SubprocessCloud  # noqa: E402

MIB = 1 << 20


@contextmanager
def pointed_at(cloud: SubprocessCloud) -> Any:
    """Point this process's AWS clients at ``cloud`` for the block."""
    saved = dict(os.environ)
    os.environ.update(cloud.env)
    os.environ.pop("AWS_PROFILE", None)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def reported_restore(log: Path) -> float | None:
    """The last restore time the cloud wrote to its log."""
    found = re.findall(r"restored \d+ parts? .* in ([0-9.]+)s", log.read_text())
    return float(found[-1]) if found else None


def build_lab_state(work: Path) -> Path:
    """A state directory holding the SF1 lab after a job run, a crawl and Athena queries."""
    from utils.cloud import provision
    from utils.config import GLUE_CRAWLER, GLUE_DATABASE, GLUE_JOB
    from utils.teaching.lab_c1w2 import wait_for_crawler, wait_for_job_run

    state = work / "lab-state"
    cloud = SubprocessCloud(state, work / "lab.log")
    cloud.start()
    try:
        with pointed_at(cloud):
            provision.apply(verbose=False)
            glue = boto3.client("glue")
            run = wait_for_job_run(glue.start_job_run(JobName=GLUE_JOB)["JobRunId"],
                                   poll_seconds=0.2, echo=lambda _: None)
            if run["JobRunState"] != "SUCCEEDED":
                raise SystemExit(f"the ETL job failed: {run.get('ErrorMessage')}")
            glue.start_crawler(Name=GLUE_CRAWLER)
            wait_for_crawler(GLUE_CRAWLER, poll_seconds=0.2, echo=lambda _: None)
            import awswrangler as wr

            for table in ("fact_orders", "dim_customers", "dim_products", "dim_locations"):
                wr.athena.read_sql_query(f"SELECT COUNT(*) AS n FROM {table}", database=GLUE_DATABASE)
    finally:
        cloud.stop()
    return state


def bench_restore(work: Path, runs: int) -> dict[str, Any]:
    """Start times on the lab's state against an empty state."""
    state = build_lab_state(work)
    starts: dict[str, list[float]] = {"empty": [], "lab": []}
    restore: list[float] = []
    for index in range(runs):
        for name in ("empty", "lab"):
            directory = work / f"empty-{index}" if name == "empty" else state
            log = work / f"restore-{name}-{index}.log"
            cloud = SubprocessCloud(directory, log)
            starts[name].append(cloud.start())
            cloud.stop()
            if name == "lab":
                restore.append(reported_restore(log) or float("nan"))
    status = json.loads(SubprocessCloud(state, work / "x.log").cli("store-status", "--json").stdout)
    empty, lab = statistics.median(starts["empty"]), statistics.median(starts["lab"])
    return {"start_empty_s": round(empty, 2), "start_lab_s": round(lab, 2),
            "added_s": round(lab - empty, 2), "restore_s": round(statistics.median(restore), 3),
            "starts_empty_s": [round(s, 2) for s in starts["empty"]],
            "starts_lab_s": [round(s, 2) for s in starts["lab"]],
            "state_on_disk_mib": round(status["bytes_on_disk"] / MIB, 1),
            "parts": {k: v["parts"] for k, v in status["components"].items()},
            "target_added_s": 2.0, "met": lab - empty < 2.0}


def _file(path: Path, size: int) -> Path:
    block = os.urandom(8 * MIB)
    with open(path, "wb") as out:
        for index in range(size // len(block)):
            out.write(index.to_bytes(8, "big") + block[8:])
    return path


def bench_large_objects(work: Path) -> dict[str, Any]:
    """Peak and final resident memory while 1 GiB of objects goes in, out and is copied."""
    cloud = SubprocessCloud(work / "big-state", work / "big.log")
    cloud.start()
    try:
        with pointed_at(cloud):
            s3 = boto3.client("s3")
            s3.create_bucket(Bucket="big-objects")
            baseline = cloud.memory_mib()
            source = _file(work / "quarter.bin", 256 * MIB)
            started = time.monotonic()
            config = TransferConfig(multipart_threshold=8 * MIB, multipart_chunksize=8 * MIB,
                                    max_concurrency=10)
            for index in range(3):
                s3.upload_file(str(source), "big-objects", f"multipart-{index}.bin", Config=config)
            with open(source, "rb") as body:
                s3.put_object(Bucket="big-objects", Key="single.bin", Body=body)
            upload_s = time.monotonic() - started
            after_upload = cloud.memory_mib()
            started = time.monotonic()
            with open(os.devnull, "wb") as sink:
                stream = s3.get_object(Bucket="big-objects", Key="multipart-0.bin")["Body"]
                for chunk in stream.iter_chunks(MIB):
                    sink.write(chunk)
            download_s = time.monotonic() - started
            s3.copy_object(Bucket="big-objects", Key="copy.bin",
                           CopySource={"Bucket": "big-objects", "Key": "single.bin"})
            final = cloud.memory_mib()
            head = s3.head_object(Bucket="big-objects", Key="copy.bin")
    finally:
        cloud.stop()
    return {"bytes_written_mib": 1024, "upload_s": round(upload_s, 1),
            "upload_mib_per_s": round(1024 / upload_s, 1), "download_256mib_s": round(download_s, 2),
            "rss_baseline_mib": baseline["VmRSS"], "rss_after_upload_mib": after_upload["VmRSS"],
            "rss_final_mib": final["VmRSS"], "peak_rss_mib": final["VmHWM"],
            "peak_over_baseline_mib": round(final["VmHWM"] - baseline["VmRSS"], 1),
            "copy_size_ok": head["ContentLength"] == 256 * MIB,
            "target_peak_over_baseline_mib": 512,
            "met": final["VmHWM"] - baseline["VmRSS"] < 512}


def bench_small_puts(work: Path, count: int = 200) -> dict[str, Any]:
    """Latency of acknowledged small writes, alone and from 16 threads."""
    cloud = SubprocessCloud(work / "small-state", work / "small.log")
    cloud.start()
    try:
        with pointed_at(cloud):
            s3 = boto3.client("s3")
            s3.create_bucket(Bucket="small-objects")
            body = os.urandom(1024)
            started = time.monotonic()
            for index in range(count):
                s3.put_object(Bucket="small-objects", Key=f"seq/{index}", Body=body)
            sequential = time.monotonic() - started
            clients = [boto3.client("s3") for _ in range(16)]
            started = time.monotonic()
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda i: clients[i % 16].put_object(
                    Bucket="small-objects", Key=f"par/{i}", Body=body), range(count)))
            parallel = time.monotonic() - started
    finally:
        cloud.stop()
    return {"count": count, "sequential_ms_per_put": round(sequential / count * 1000, 1),
            "parallel16_puts_per_s": round(count / parallel, 1),
            "sequential_puts_per_s": round(count / sequential, 1)}


def main() -> int:
    """Run the cases; print and save one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cases", nargs="+", default=["restore", "large", "small"],
                        choices=["restore", "large", "small"], help="which cases to run")
    args = parser.parse_args()
    results: dict[str, Any] = {"cpus": os.cpu_count(), "load_avg": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="bench-cloud-state-") as tmp:
        work = Path(tmp)
        if "restore" in args.cases:  # needs MariaDB (make up)
            results["restore_sf1_lab"] = bench_restore(work, args.runs)
        if "large" in args.cases:
            results["large_objects"] = bench_large_objects(work)
        if "small" in args.cases:
            results["small_puts"] = bench_small_puts(work)
    out = ROOT / "bench" / "results" / "cloud_state.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
