"""Designing a data architecture: from requirements to components to trade-offs.

:func:`propose_architecture` turns a few measurable requirements into a list of
components, one per lifecycle stage, each with the reason it was chosen, so a
learner can change a requirement and watch the design change.
:func:`decision_matrix` ranks alternative designs by weighted criteria.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Requirements:
    """The measurable requirements a design must meet."""

    max_data_age_minutes: float  # how stale the data may be when used
    daily_volume_gb: float
    consumers: tuple[str, ...]  # any of "analysts", "dashboard", "ml", "application", "crm"
    source: str = "relational database"  # or "event stream", "files", "api"
    monthly_budget_usd: float = 500.0


@dataclass(frozen=True)
class Component:
    """A chosen component for one stage and why it fits."""

    stage: str
    component: str
    why: str


def _is_streaming(req: Requirements) -> bool:
    # Under ~15 minutes, scheduled batch runs (plus their run time) cannot keep up.
    return req.max_data_age_minutes < 15


def propose_architecture(req: Requirements) -> list[Component]:
    """Choose one component per stage (and undercurrent) from the requirements.

    Every design has the same stages in the same order, so two designs can be
    compared stage by stage.
    """
    streaming = _is_streaming(req)
    design = [
        Component(
            "source",
            {
                "relational database": "Amazon RDS (MySQL)",
                "event stream": "Amazon Kinesis Data Streams",
                "files": "files landing in Amazon S3",
                "api": "third-party API",
            }.get(req.source, req.source),
            "given: this is where the data is produced",
        )
    ]
    if streaming and req.source == "relational database":
        design.append(
            Component(
                "ingestion",
                "Change data capture: AWS DMS (or Debezium) reads the MySQL binlog -> "
                "Amazon Kinesis Data Streams -> Amazon Data Firehose -> S3",
                f"data may be at most {req.max_data_age_minutes:g} min old; a database emits no events, "
                "so CDC turns each committed insert/update into one, without polling the tables",
            )
        )
    elif streaming:
        design.append(
            Component(
                "ingestion",
                "Amazon Kinesis Data Streams -> Amazon Data Firehose -> S3",
                f"data may be at most {req.max_data_age_minutes:g} min old, so batch runs are too slow",
            )
        )
    else:
        design.append(
            Component(
                "ingestion",
                "AWS Glue ETL job on a schedule",
                f"data may be {req.max_data_age_minutes:g} min old, so cheaper batch runs are enough",
            )
        )
    if req.daily_volume_gb > 1000:
        design.append(
            Component(
                "storage",
                "Amazon S3 data lake + Amazon Redshift (lakehouse)",
                "large volume: cheap lake storage plus a warehouse for the hot, modelled data",
            )
        )
    else:
        design.append(
            Component(
                "storage",
                "Amazon S3 data lake (Parquet)",
                f"{req.daily_volume_gb:g} GB/day is small: object storage is cheap and scales",
            )
        )
    if streaming:
        design.append(
            Component(
                "transformation",
                "Streaming transform (Amazon Managed Service for Apache Flink) into star-schema tables",
                "each change event is cleaned and applied within seconds, not at the next batch run",
            )
        )
    else:
        design.append(
            Component(
                "transformation",
                "SQL transforms into a star schema (Glue job)",
                "analysts get tables named after business things, which read well and scan little",
            )
        )
    serving = {
        "analysts": ("Amazon Athena over the Glue Data Catalog", "analysts query with SQL, pay per query"),
        "dashboard": (
            "Dashboard (QuickSight or a notebook with widgets)",
            "decision makers need charts, not SQL",
        ),
        "ml": (
            "Feature tables in S3 for model training",
            "data scientists read clean, versioned training data",
        ),
        "application": ("Embedded analytics API", "customers see analytics inside the product"),
        "crm": ("Reverse ETL back into the CRM", "sales act on scores inside the tool they already use"),
    }
    for consumer in req.consumers:
        if consumer not in serving:
            raise ValueError(f"Unknown consumer {consumer!r}; use any of {', '.join(serving)}.")
        component, why = serving[consumer]
        design.append(Component("serving", component, why))
    design.append(
        Component(
            "undercurrents",
            "IAM least-privilege roles, Glue Data Catalog, CloudWatch alarms, orchestrated DAG, code in Git",
            "security, data management, DataOps, orchestration",
        )
    )
    return design


#: Illustrative list prices (us-east-1, rounded, 2025) behind the cost estimate.
#: They are for comparing designs in a lesson, not a quote: check the AWS pricing pages.
PRICES_USD: dict[str, float] = {
    "hours per month": 730,
    "Glue DPU-hour": 0.44,
    "Kinesis shard-hour (provisioned)": 0.015,
    "Kinesis million PUT payload units": 0.014,
    "Firehose GB ingested": 0.029,
    "DMS dms.t3.medium hour": 0.08,
    "Flink KPU-hour": 0.11,
    "S3 Standard GB-month": 0.023,
    "Redshift dc2.large node-hour": 0.25,
    "serving allowance per consumer-month": 20.0,
}
#: Assumptions behind the estimate; change them and the numbers follow.
ASSUMPTIONS: dict[str, float] = {
    "batch runs per month": 30,
    "batch run minutes (Glue job)": 10,
    "batch DPUs": 2,
    "crawler minutes per run": 10,
    "average record KB": 1,
    "shard capacity GB per day": 86.4,  # 1 MB/s in per shard
    "Flink KPUs (1 for the job + 1 for orchestration)": 2,
}


@dataclass(frozen=True)
class CostLine:
    """One line of a cost estimate: what, how it was worked out, and dollars per month."""

    item: str
    working: str
    usd_month: float


def monthly_cost_breakdown(req: Requirements) -> list[CostLine]:
    """The monthly cost of the proposed design, line by line, from :data:`PRICES_USD` and :data:`ASSUMPTIONS`.

    Illustrative teaching figures: real bills depend on region, usage and discounts.
    """
    p, a = PRICES_USD, ASSUMPTIONS
    hours = p["hours per month"]
    monthly_gb = req.daily_volume_gb * 30
    lines: list[CostLine] = []
    if _is_streaming(req):
        if req.source == "relational database":
            lines.append(
                CostLine(
                    "DMS replication instance (CDC)",
                    f"{hours:g} h x ${p['DMS dms.t3.medium hour']}",
                    hours * p["DMS dms.t3.medium hour"],
                )
            )
        shards = max(1, math.ceil(req.daily_volume_gb / a["shard capacity GB per day"]))
        lines.append(
            CostLine(
                "Kinesis Data Streams shards",
                f"{shards} shard(s) x {hours:g} h x ${p['Kinesis shard-hour (provisioned)']}",
                shards * hours * p["Kinesis shard-hour (provisioned)"],
            )
        )
        million_records = monthly_gb * 1e6 / a["average record KB"] / 1e6
        lines.append(
            CostLine(
                "Kinesis PUT payload units",
                f"{million_records:g} million records of ~1 KB x ${p['Kinesis million PUT payload units']}",
                million_records * p["Kinesis million PUT payload units"],
            )
        )
        lines.append(
            CostLine(
                "Firehose delivery to S3",
                f"{monthly_gb:g} GB x ${p['Firehose GB ingested']}",
                monthly_gb * p["Firehose GB ingested"],
            )
        )
        kpus = a["Flink KPUs (1 for the job + 1 for orchestration)"]
        lines.append(
            CostLine(
                "Flink streaming transform",
                f"{kpus:g} KPU x {hours:g} h x ${p['Flink KPU-hour']}",
                kpus * hours * p["Flink KPU-hour"],
            )
        )
    else:
        runs, dpus = a["batch runs per month"], a["batch DPUs"]
        job_hours = runs * a["batch run minutes (Glue job)"] / 60
        lines.append(
            CostLine(
                "Glue ETL job runs",
                f"{runs:g} runs x {a['batch run minutes (Glue job)']:g} min x "
                f"{dpus:g} DPU x ${p['Glue DPU-hour']}",
                job_hours * dpus * p["Glue DPU-hour"],
            )
        )
    crawler_hours = a["batch runs per month"] * a["crawler minutes per run"] / 60
    lines.append(
        CostLine(
            "Glue crawler runs",
            f"{crawler_hours:g} DPU-h x ${p['Glue DPU-hour']}",
            crawler_hours * p["Glue DPU-hour"],
        )
    )
    lines.append(
        CostLine(
            "S3 storage (one month of data)",
            f"{monthly_gb:g} GB x ${p['S3 Standard GB-month']}",
            monthly_gb * p["S3 Standard GB-month"],
        )
    )
    if req.daily_volume_gb > 1000:
        lines.append(
            CostLine(
                "Redshift (one dc2.large node)",
                f"{hours:g} h x ${p['Redshift dc2.large node-hour']}",
                hours * p["Redshift dc2.large node-hour"],
            )
        )
    allowance = p["serving allowance per consumer-month"]
    lines.append(
        CostLine(
            "serving (queries, dashboard hosting)",
            f"{len(req.consumers)} consumer(s) x ${allowance:g} allowance",
            len(req.consumers) * allowance,
        )
    )
    return [CostLine(line.item, line.working, round(line.usd_month, 2)) for line in lines]


def estimated_monthly_cost(req: Requirements) -> float:
    """The total of :func:`monthly_cost_breakdown`: illustrative figures to compare designs, not a quote."""
    return round(sum(line.usd_month for line in monthly_cost_breakdown(req)), 2)


def decision_matrix(
    options: dict[str, dict[str, float]], weights: dict[str, float]
) -> list[tuple[str, float]]:
    """Rank options by the weighted sum of their criterion scores (higher is better).

    ``options`` maps option -> criterion -> score (e.g. 1-5); every option must
    score every weighted criterion.
    """
    if not weights or any(w < 0 for w in weights.values()):
        raise ValueError("Give non-negative weights for at least one criterion.")
    ranked = []
    for option, scores in options.items():
        missing = [c for c in weights if c not in scores]
        if missing:
            raise ValueError(f"Option {option!r} has no score for {missing}.")
        ranked.append((option, round(sum(weights[c] * scores[c] for c in weights), 2)))
    return sorted(ranked, key=lambda item: (-item[1], item[0]))


#: The lab's pipeline, left to right.
LAB_STEPS: tuple[str, ...] = (
    "RDS MySQL\n(source)",
    "Glue ETL job\n(extract, transform)",
    "S3 data lake\n(Parquet star schema)",
    "Glue crawler\n(Data Catalog)",
    "Athena\n(SQL)",
    "Notebook\ndashboard",
)


def plot_lab_architecture(ax: Any = None) -> Any:
    """Draw the lab's pipeline as boxes joined by arrows (storage highlighted)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(12, 1.8))
    for i, label in enumerate(LAB_STEPS):
        colour = "#ffe8a3" if "S3" in label else "#cfe2ff"
        ax.text(
            i * 2.6,
            0,
            label,
            ha="center",
            va="center",
            fontsize=8.5,
            bbox={"boxstyle": "round,pad=0.5", "fc": colour},
        )
        if i:
            ax.annotate(
                "",
                xy=(i * 2.6 - 1.05, 0),
                xytext=(i * 2.6 - 1.55, 0),
                arrowprops={"arrowstyle": "-|>", "lw": 1.5},
            )
    ax.set_xlim(-1.2, 2.6 * (len(LAB_STEPS) - 1) + 1.2)
    ax.set_ylim(-0.6, 0.6)
    ax.axis("off")
    return ax
