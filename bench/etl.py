"""Benchmark: the ETL job through the Glue job API, against reading its source with connectorx.

Cases (``--sf 1 100 1000``, each ``--runs`` times):

- ``sf<N>``: wall time of one run of the real job script through the Glue API
  (from boto3 ``start_job_run`` to the run's ``CompletedOn``, polled every 0.25 s):
  a fresh Python process that extracts, transforms, reconciles against MySQL and
  publishes Parquet to S3, exactly as the lab's ``de-c1w2-etl-job`` runs.
  ``peak_rss_mib`` is the job process's own peak RSS (``VmHWM``,
  native connectorx/DuckDB memory included), which the script prints as its last
  log line; read back from CloudWatch Logs (``/aws-glue/jobs/output``, stream =
  run id).
- ``seed_sf<N>``: generating and loading the source database (once per SF).

Baseline, measured in the same run, interleaved with the job runs:
``extract_sf<N>``: the fastest plain read of the same source, ``SELECT *`` of the
five tables the job reads (customers, products, productlines, orders,
orderdetails) into Arrow with connectorx, in this process (no Python start-up,
no S3). Two ways are timed, one table after another, and all five at once on
parallel connections (orderdetails split in two by ``partition_on``); the faster
median is the baseline.

Also measured, to explain the ratio: ``control_totals_sf<N>``, the job's MySQL
control-totals statement on its own (wall and MariaDB CPU); and per job run the
CPU seconds of the job process, of MariaDB and of this process (local cloud,
Glue runner, polling). ``cpu_bound_s`` = their sum / cores is the shortest wall
time any schedule of that work could reach on this machine.

Isolation: the local cloud runs in this process, in a thread, on a free port
(nothing is written to the lab's cloud on :4566). The source is a private database
``classicmodels_bench_sf<N>`` (dropped at the end unless ``--keep``); the job reads
it through a Secrets Manager secret the benchmark creates and passes as the
run's ``--db_secret`` argument. The lab's read-only user may read only
``classicmodels``, so the bench secret holds the admin user (who owns the
``classicmodels_*`` databases). Before timing, one unmeasured job run at the
smallest SF warms the OS caches (a learner's second run is the typical one).

Targets: ``sf1`` median < 3 s; ``sf1000`` median <= 2 x ``extract_sf1000``;
peak RSS at SF1000 < 4 GiB.

Run: ``PYTHONPATH=. .venv/bin/python bench/etl.py --sf 1 100 1000 --runs 3``.
Prints one JSON object on its last line and writes it to ``bench/results/etl.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import statistics
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

JOB = "etl-bench-job"
LAKE = "etl-bench-data-lake"
SCRIPTS = "etl-bench-scripts"
SEEDED_TABLES = ("productlines", "products", "offices", "employees", "customers", "orders",
                 "orderdetails", "payments")
# The baseline reads what the job reads: the tables of its SOURCE_COLUMNS.
SOURCE_TABLES = ("customers", "products", "productlines", "orders", "orderdetails")
POLL_SECONDS = 0.25
TARGETS = {"sf1_median_s": 3.0, "sf1000_vs_extract": 2.0, "sf1000_peak_rss_mib": 4096.0}


def start_local_cloud() -> str:
    """Run the local cloud in a thread on a free loopback port; point AWS clients at it."""
    from utils.cloud.server import start_in_thread

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a log line per poll would skew timings
    return start_in_thread()


def database_name(sf: float) -> str:
    from utils.config import get_settings

    return f"{get_settings().db_name}_bench_sf{sf:g}".replace(".", "_")


def seed_source(sf: float, reuse: bool) -> float | None:
    """Seed the private source database; return the seconds it took (None when reused)."""
    from utils.classicmodels.generator import rows_for
    from utils.classicmodels.loader import seed
    from utils.services.mariadb import connect

    name = database_name(sf)
    if reuse:
        conn = connect("admin", database=None)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES "
                            "WHERE TABLE_SCHEMA = %s", (name,))
                found = {t for t, _ in cur.fetchall()}
                if found >= set(SEEDED_TABLES):
                    cur.execute(f"SELECT COUNT(*) FROM `{name}`.orderdetails")
                    if cur.fetchone()[0] == rows_for(sf)["orderdetails"]:
                        return None
        finally:
            conn.close()
    started = time.perf_counter()
    seed(sf, database=name, progress=False)
    return time.perf_counter() - started


def drop_source(sf: float) -> None:
    from utils.services.mariadb import connect

    conn = connect("admin", database=None, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{database_name(sf)}`")
    finally:
        conn.close()


def provision(sfs: list[float]) -> dict[float, str]:
    """Buckets, the job (script = utils/etl/job.py) and one secret per source database."""
    import boto3

    from utils.config import get_settings

    s = get_settings()
    s3, glue, secrets = boto3.client("s3"), boto3.client("glue"), boto3.client("secretsmanager")
    for bucket in (LAKE, SCRIPTS):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=SCRIPTS, Key=f"{JOB}.py", Body=(ROOT / "utils" / "etl" / "job.py").read_bytes())
    glue.create_job(Name=JOB, Role="arn:aws:iam::123456789012:role/etl-bench",
                    Command={"Name": "pythonshell", "PythonVersion": "3.9",
                             "ScriptLocation": f"s3://{SCRIPTS}/{JOB}.py"},
                    DefaultArguments={"--target_path": f"s3://{LAKE}/gold"},
                    MaxCapacity=1.0, Timeout=30, ExecutionProperty={"MaxConcurrentRuns": 1})
    names = {}
    for sf in sfs:
        names[sf] = f"etl-bench/{database_name(sf)}"
        secrets.create_secret(Name=names[sf], SecretString=json.dumps({
            "engine": "mysql", "host": s.db_host, "port": s.db_port, "dbname": database_name(sf),
            "username": s.db_admin_user, "password": s.db_admin_password or ""}))
    return names


def mariadb_cpu() -> float | None:
    """CPU seconds the MariaDB server has used so far (from /proc; None where unreadable)."""
    from utils.services.mariadb import pid_file

    try:
        fields = Path(f"/proc/{int(pid_file().read_text())}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    except (OSError, ValueError, IndexError):
        return None


def run_job(secret: str, sf: float) -> dict[str, Any]:
    """One run through the Glue API: wall seconds, and from the job's last log line its peak
    RSS (MiB) and CPU seconds; plus the CPU MariaDB and this process (the in-process local
    cloud, the Glue runner thread and the polling) used meanwhile."""
    import boto3

    from utils.etl.job import cpu_seconds

    glue, logs = boto3.client("glue"), boto3.client("logs")
    db_cpu, bench_cpu = mariadb_cpu(), cpu_seconds()
    started = time.time()
    run_id = glue.start_job_run(JobName=JOB, Arguments={
        "--db_secret": secret, "--target_path": f"s3://{LAKE}/sf{sf:g}/gold"})["JobRunId"]
    while True:
        # Polled slowly (a poll costs CPU that the job would miss on a small machine);
        # the time comes from the run's own CompletedOn, stamped when it finished.
        run = glue.get_job_run(JobName=JOB, RunId=run_id)["JobRun"]
        if run["JobRunState"] not in ("STARTING", "RUNNING", "STOPPING", "WAITING"):
            break
        time.sleep(POLL_SECONDS)
    seconds = run["CompletedOn"].timestamp() - started
    bench_cpu = cpu_seconds() - bench_cpu
    db_used = mariadb_cpu()
    db_cpu = db_used - db_cpu if db_used is not None and db_cpu is not None else None
    if run["JobRunState"] != "SUCCEEDED":
        raise RuntimeError(f"job run {run_id} {run['JobRunState']}: {run.get('ErrorMessage')}")
    events = logs.get_log_events(logGroupName="/aws-glue/jobs/output", logStreamName=run_id)["events"]
    rss = job_cpu = None
    for event in events:
        found = re.search(r"peak RSS ([\d,.]+) MiB(?:, CPU ([\d.]+) s)?", event["message"])
        if found:
            rss = float(found.group(1).replace(",", ""))
            job_cpu = float(found.group(2)) if found.group(2) else None
    return {"seconds": seconds, "peak_rss_mib": rss, "job_cpu": job_cpu, "mariadb_cpu": db_cpu,
            "bench_cpu": bench_cpu}


def control_totals_alone(url: str) -> tuple[float, float | None]:
    """The job's MySQL control-totals statement on its own: (wall seconds, MariaDB CPU seconds)."""
    import connectorx as cx

    from utils.etl.job import CONTROL_TOTALS_SQL

    db_cpu, started = mariadb_cpu(), time.perf_counter()
    cx.read_sql(url, CONTROL_TOTALS_SQL, return_type="arrow")
    seconds, db_used = time.perf_counter() - started, mariadb_cpu()
    return seconds, (db_used - db_cpu if db_used is not None and db_cpu is not None else None)


def extract_sequential(url: str) -> int:
    import connectorx as cx

    return sum(cx.read_sql(url, f"SELECT * FROM `{t}`", return_type="arrow").num_rows for t in SOURCE_TABLES)


def extract_parallel(url: str, pool: ThreadPoolExecutor) -> int:
    import connectorx as cx

    def read(table: str) -> int:
        if table == "orderdetails":
            return cx.read_sql(url, f"SELECT * FROM `{table}`", return_type="arrow",
                               partition_on="orderNumber", partition_num=2).num_rows
        return cx.read_sql(url, f"SELECT * FROM `{table}`", return_type="arrow").num_rows

    return sum(pool.map(read, SOURCE_TABLES))


def median(values: list[float]) -> float:
    return round(statistics.median(values), 4)


def cpu_breakdown(runs: list[dict[str, Any]]) -> dict[str, float] | None:
    """Median CPU seconds per run: the job process, MariaDB, and the local cloud + bench."""
    if any(r["job_cpu"] is None or r["mariadb_cpu"] is None for r in runs):
        return None
    parts = {"job_process": median([r["job_cpu"] for r in runs]),
             "mariadb": median([r["mariadb_cpu"] for r in runs]),
             "local_cloud_and_polling": median([r["bench_cpu"] for r in runs])}
    return {**{k: round(v, 2) for k, v in parts.items()}, "total": round(sum(parts.values()), 2)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; print and save its JSON figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sf", type=float, nargs="+", default=[1, 100, 1000], help="scale factors")
    parser.add_argument("--runs", type=int, default=3, help="repetitions per case")
    parser.add_argument("--keep", action="store_true", help="keep the bench source databases")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse a kept source database of the right size (seed time not measured)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    sfs = sorted(set(args.sf))

    start_local_cloud()
    from utils.etl import source_config

    secrets = provision(sfs)
    cases: list[dict[str, Any]] = []
    baselines: list[dict[str, Any]] = []
    ratios: dict[str, float] = {}
    medians: dict[str, float] = {}
    rss_by_sf: dict[float, float | None] = {}
    try:
        seeds = {sf: seed_source(sf, args.reuse) for sf in sfs}
        run_job(secrets[sfs[0]], sfs[0])  # warm-up, not measured
        pool = ThreadPoolExecutor(max_workers=len(SOURCE_TABLES))
        for sf in sfs:
            url = source_config("admin", database=database_name(sf)).url()
            runs: list[dict[str, Any]] = []
            seq_s: list[float] = []
            par_s: list[float] = []
            totals_s: list[float] = []
            totals_cpu: list[float] = []
            for _ in range(args.runs):  # interleaved: the same noise for case and baseline
                started = time.perf_counter()
                extract_sequential(url)
                seq_s.append(round(time.perf_counter() - started, 4))
                started = time.perf_counter()
                extract_parallel(url, pool)
                par_s.append(round(time.perf_counter() - started, 4))
                seconds, db_cpu = control_totals_alone(url)
                totals_s.append(round(seconds, 4))
                if db_cpu is not None:
                    totals_cpu.append(round(db_cpu, 2))
                runs.append(run_job(secrets[sf], sf))
            name = f"sf{sf:g}"
            job_s = [round(r["seconds"], 4) for r in runs]
            rss = [r["peak_rss_mib"] for r in runs if r["peak_rss_mib"] is not None]
            rss_by_sf[sf] = max(rss) if rss else None
            medians[name] = median(job_s)
            case: dict[str, Any] = {
                "case": name, "seconds": job_s, "median_s": medians[name], "peak_rss_mib": rss_by_sf[sf],
                "how": "boto3 glue.start_job_run -> the run's CompletedOn (SUCCEEDED), polled every "
                       "0.25 s (local cloud in-process); peak RSS and CPU = the job process's own "
                       "(VmHWM / os.times), from its CloudWatch log"}
            cpu = cpu_breakdown(runs)
            if cpu is not None:
                case["cpu_core_seconds"] = cpu
                case["cpu_bound_s"] = round(cpu["total"] / (os.cpu_count() or 1), 3)
            cases.append(case)
            if seeds[sf] is not None:
                cases.append({"case": f"seed_sf{sf:g}", "seconds": [round(seeds[sf], 2)],
                              "median_s": round(seeds[sf], 2),
                              "how": "utils.classicmodels seed(sf): generate + LOAD DATA + atomic swap"})
            fastest = min((median(seq_s), "sequential, one table after another", seq_s),
                          (median(par_s), f"{len(SOURCE_TABLES)} tables on parallel connections, "
                                          "orderdetails partition_on=orderNumber x2", par_s))
            baselines.append({"case": f"extract_sf{sf:g}", "seconds": fastest[2], "median_s": fastest[0],
                              "how": f"connectorx SELECT * of the job's {len(SOURCE_TABLES)} source "
                                     f"tables ({', '.join(SOURCE_TABLES)}) into Arrow, {fastest[1]}",
                              "sequential_median_s": median(seq_s), "parallel_median_s": median(par_s)})
            baselines.append({"case": f"control_totals_sf{sf:g}", "seconds": totals_s,
                              "median_s": median(totals_s),
                              "mariadb_cpu_s": median(totals_cpu) if totals_cpu else None,
                              "how": "the job's CONTROL_TOTALS_SQL alone (MySQL's independent figures "
                                     "the job reconciles against), read with connectorx"})
            ratios[f"{name}_vs_extract"] = round(medians[name] / fastest[0], 3)
            if "cpu_bound_s" in case:
                # No schedule on this machine's cores can beat the CPU work divided by them.
                ratios[f"{name}_cpu_bound_vs_extract"] = round(case["cpu_bound_s"] / fastest[0], 3)
        pool.shutdown()
    finally:
        if not args.keep:
            for sf in sfs:
                drop_source(sf)

    figures: dict[str, Any] = {
        "benchmark": "etl",
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "cases": cases, "baselines": baselines, "ratios": ratios, "targets": TARGETS,
    }
    checks = []
    if 1 in sfs:
        checks.append(medians["sf1"] < TARGETS["sf1_median_s"])
    if 1000 in sfs:
        checks.append(ratios["sf1000_vs_extract"] <= TARGETS["sf1000_vs_extract"])
        checks.append(rss_by_sf[1000] is not None and rss_by_sf[1000] < TARGETS["sf1000_peak_rss_mib"])
    # "met" covers only the targets measured in this run (all three with the default --sf).
    figures["met"] = bool(checks) and all(checks)
    out = ROOT / "bench" / "results" / "etl.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
