"""``make demo``: the lab's pipeline headless, end to end, through the AWS APIs.

seed (when empty) -> Glue job run -> crawler -> Athena queries of the dashboard,
then a short summary on stdout and the dashboard's figures as PNG files in
``demo-output/``. It uses the same helpers as the lab notebooks, so it works on
the local cloud and on a real account alike.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from decimal import Decimal
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: files, not windows

import awswrangler as wr  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

from utils.config import GLUE_CRAWLER, GLUE_DATABASE, GLUE_JOB, PROJECT_ROOT  # noqa: E402

OUTPUT_DIR = PROJECT_ROOT / "demo-output"
REVENUE_BY_COUNTRY_SQL = """
SELECT l.country, SUM(f.orderAmount) AS revenue
FROM fact_orders f JOIN dim_locations l ON f.locationKey = l.locationKey
GROUP BY l.country ORDER BY revenue DESC
"""


def _shown(path: Path) -> str:
    """A path relative to the project when it is inside it."""
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


def _timed(label: str, started: float) -> None:
    print(f"    {label} in {time.monotonic() - started:.1f}s", flush=True)


def plot_revenue_by_country(revenue, path: Path) -> None:
    """Horizontal bar chart of the top 10 countries by revenue."""
    top = revenue.head(10).iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.barh(top["country"], top["revenue"], color="#2b6cb0")
    ax.set_xlabel("revenue (USD)")
    ax.set_title("Top 10 countries by revenue (star schema, via Athena)")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v / 1e6:.1f}M"))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_demo(output_dir: Path = OUTPUT_DIR) -> dict:
    """Run the pipeline and write figures + ``summary.json``; return the summary."""
    from utils.classicmodels.truth import ground_truth
    from utils.teaching import dashboard
    from utils.teaching.lab_c1w2 import job_log, run_crawler, start_job_run, wait_for_job_run

    output_dir.mkdir(parents=True, exist_ok=True)
    total = time.monotonic()
    print(f"==> 1/4 Glue job {GLUE_JOB}", flush=True)
    started = time.monotonic()
    run_id = start_job_run()
    run = wait_for_job_run(run_id, poll_seconds=0.5)
    _timed("job finished", started)
    for line in job_log(run_id, limit=6):
        print(f"    | {line}")

    print(f"==> 2/4 crawler {GLUE_CRAWLER}", flush=True)
    started = time.monotonic()
    run_crawler(poll_seconds=0.5)
    _timed("crawl finished", started)

    print(f"==> 3/4 Athena queries on {GLUE_DATABASE}", flush=True)
    started = time.monotonic()
    revenue = wr.athena.read_sql_query(REVENUE_BY_COUNTRY_SQL, database=GLUE_DATABASE)
    sales = dashboard.prepare_sales(dashboard.load_sales())
    _timed("queries answered", started)

    print("==> 4/4 reconcile and draw", flush=True)
    truth = ground_truth()
    star_total = Decimal(str(round(float(revenue["revenue"].sum()), 2)))
    source_total = truth.total_revenue.quantize(Decimal("0.01"))
    plot_revenue_by_country(revenue, output_dir / "revenue_by_country.png")
    selection = dashboard.default_selection(sales)
    top = dashboard.top_products(sales, selection)
    fig = dashboard.plot_top_products(top, selection)
    fig.savefig(output_dir / "top_products.png", dpi=120)
    plt.close(fig)

    summary = {
        "job_run_id": run_id,
        "job_state": run["JobRunState"],
        "job_execution_time_s": run.get("ExecutionTime"),
        "order_lines_in_source": truth.order_lines,
        "countries": int(len(revenue)),
        "revenue_star_schema": str(star_total),
        "revenue_source_mysql": str(source_total),
        "reconciled": star_total == source_total,
        "top_country": str(revenue["country"].iloc[0]),
        "figures": sorted(_shown(p) for p in output_dir.glob("*.png")),
        "wall_time_s": round(time.monotonic() - total, 1),
    }
    (output_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (``make demo``)."""
    parser = argparse.ArgumentParser(prog="python -m utils.demo", description=__doc__)
    parser.add_argument("--output", type=Path, default=OUTPUT_DIR)
    args = parser.parse_args(argv)
    summary = run_demo(args.output)
    print()
    print(f"Revenue: star schema {summary['revenue_star_schema']} vs MySQL "
          f"{summary['revenue_source_mysql']} -> "
          f"{'RECONCILED' if summary['reconciled'] else 'MISMATCH'}; "
          f"{summary['countries']} countries, top: {summary['top_country']}.")
    print(f"Figures: {', '.join(summary['figures'])}; summary: "
          f"{(args.output / 'summary.json')}. Done in {summary['wall_time_s']}s.")
    return 0 if summary["reconciled"] else 1


if __name__ == "__main__":
    sys.exit(main())
