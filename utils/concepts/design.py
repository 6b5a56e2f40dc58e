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


# --- a requirement changes: which choices change ---------------------------------------------------

LAB_REQUIREMENTS = Requirements(
    max_data_age_minutes=24 * 60,
    daily_volume_gb=0.5,
    consumers=("analysts", "dashboard"),
    source="relational database",
    monthly_budget_usd=200,
)
"""The lab's requirements (lesson 13): daily data, half a GB a day, analysts and a dashboard."""

CHOICES: dict[str, tuple[str, ...]] = {
    "ingestion": ("scheduled glue job", "cdc stream", "event stream"),
    "storage": ("s3 lake", "lake and warehouse"),
    "transformation": ("glue sql", "flink streaming"),
    "serving": ("athena", "dashboard", "ml features", "embedded api", "reverse etl"),
}
"""Short names for the components :func:`propose_architecture` can pick, stage by stage."""

_SERVING_KEYS = {"Amazon Athena": "athena", "Dashboard": "dashboard", "Feature tables": "ml features",
                 "Embedded analytics": "embedded api", "Reverse ETL": "reverse etl"}


def choice_name(stage: str, component: str) -> str:
    """The short name (:data:`CHOICES`) of a component proposed for ``stage``."""
    if stage == "ingestion":
        return ("cdc stream" if component.startswith("Change data capture")
                else "event stream" if "Kinesis" in component else "scheduled glue job")
    if stage == "storage":
        return "lake and warehouse" if "Redshift" in component else "s3 lake"
    if stage == "transformation":
        return "flink streaming" if "Flink" in component else "glue sql"
    if stage == "serving":
        return next(key for prefix, key in _SERVING_KEYS.items() if component.startswith(prefix))
    raise ValueError(f"No short names for the stage {stage!r}; stages are {list(CHOICES)}.")


def design_choices(req: Requirements) -> dict[str, set[str]]:
    """The short names of the components :func:`propose_architecture` picks, per stage of :data:`CHOICES`."""
    chosen: dict[str, set[str]] = {stage: set() for stage in CHOICES}
    for component in propose_architecture(req):
        if component.stage in CHOICES:
            chosen[component.stage].add(choice_name(component.stage, component.component))
    return chosen


def changed_choices(before: Requirements, after: Requirements) -> dict[str, set[str]]:
    """The stages whose choice changes from ``before`` to ``after``, each with the component(s) it gains."""
    old, new = design_choices(before), design_choices(after)
    return {stage: new[stage] - old[stage] for stage in CHOICES if new[stage] != old[stage]}


REQUIREMENT_CHANGES: dict[str, tuple[str, dict[str, Any]]] = {
    "five_minutes": ("Marketing now wants the dashboard to show sales within five minutes.",
                     {"max_data_age_minutes": 5}),
    "two_tb": ("The company buys a marketplace: 2 TB of new order data arrive every day.",
               {"daily_volume_gb": 2000}),
    "crm": ("Sales wants each customer's segment shown inside the CRM they work in all day.",
            {"consumers": ("analysts", "dashboard", "crm")}),
}
"""Three changes to :data:`LAB_REQUIREMENTS`, each told as a stakeholder would, and the fields it changes."""


PRICES_REGION = "us-east-1 (US East, N. Virginia)"
PRICES_AS_OF = "2025"
"""Where and when :data:`PRICES_USD` were read from the AWS pricing pages (on-demand list prices)."""

#: On-demand list prices in :data:`PRICES_REGION` as of :data:`PRICES_AS_OF` (the DMS hour rounded),
#: behind the cost estimate. For comparing designs in a lesson, not a quote: prices change, check
#: the AWS pricing pages before you budget.
PRICES_USD: dict[str, float] = {
    "hours per month": 730,
    "Glue DPU-hour": 0.44,
    "Kinesis shard-hour (provisioned)": 0.015,
    "Kinesis million PUT payload units": 0.014,
    "Firehose GB ingested (billed in 5 KB steps per record)": 0.029,
    "DMS dms.t3.medium hour": 0.08,
    "Flink KPU-hour": 0.11,
    "Flink running application storage GB-month": 0.10,
    "S3 Standard GB-month": 0.023,
    "Redshift dc2.large node-hour": 0.25,
    "serving allowance per consumer-month": 20.0,
}

FLINK_ORCHESTRATION_KPUS_PER_APP = 1
"""Managed Service for Apache Flink bills one extra KPU per application, for orchestration."""
FLINK_STORAGE_GB_PER_KPU = 50
"""Each KPU of an application comes with 50 GB of running application storage, billed per GB-month."""
FIREHOSE_RECORD_STEP_KB = 5
"""Firehose (Direct PUT or a Kinesis stream as source) bills each record rounded up to a multiple of 5 KB."""
FIREHOSE_DEFAULT_BUFFER_MIB = 5
FIREHOSE_DEFAULT_INTERVAL_S = 300
"""Firehose's default buffering hints for S3: it writes a file when 5 MiB have arrived or 300 s have
passed, whichever comes first (the interval may be set from 0 to 900 s)."""


def managed_flink_monthly_usd(kpus: float, applications: int = 1) -> float:
    """A month (730 h) of ``applications`` Managed Service for Apache Flink apps of ``kpus`` KPUs each.

    Each application is billed its KPUs plus one orchestration KPU, every hour, plus 50 GB
    of running application storage per KPU of the application (not of the orchestration).
    """
    if kpus < 1 or applications < 0:
        raise ValueError("An application runs on at least 1 KPU, and applications cannot be negative.")
    p = PRICES_USD
    kpu_hours = applications * (kpus + FLINK_ORCHESTRATION_KPUS_PER_APP) * p["hours per month"]
    compute = kpu_hours * p["Flink KPU-hour"]
    storage = applications * kpus * FLINK_STORAGE_GB_PER_KPU * p["Flink running application storage GB-month"]
    return compute + storage


def firehose_delivery_seconds(bytes_per_second: float, buffer_mib: float = FIREHOSE_DEFAULT_BUFFER_MIB,
                              interval_s: float = FIREHOSE_DEFAULT_INTERVAL_S) -> float:
    """Seconds between two files Firehose writes to S3: the buffer fills, or the interval ends, first.

    A MiB is 2**20 bytes. With no data arriving, only the interval can end the wait.
    """
    if bytes_per_second < 0 or buffer_mib <= 0 or interval_s < 0:
        raise ValueError("The rate must be >= 0, the buffer positive and the interval >= 0.")
    if bytes_per_second == 0:
        return float(interval_s)
    return min(float(interval_s), buffer_mib * 2**20 / bytes_per_second)
#: Assumptions behind the estimate; change them and the numbers follow.
ASSUMPTIONS: dict[str, float] = {
    "batch runs per month": 30,
    "batch run minutes (Glue job)": 10,
    "batch DPUs": 2,
    "crawler minutes per run": 10,
    "average record KB": 1,
    "shard capacity GB per day": 86.4,  # 1 MB/s in per shard
    "Flink KPUs for the job (parallelism 1)": 1,
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
        step = FIREHOSE_RECORD_STEP_KB
        billed_kb = math.ceil(a["average record KB"] / step) * step
        billed_gb = million_records * 1e6 * billed_kb / 1e6
        firehose_price = p["Firehose GB ingested (billed in 5 KB steps per record)"]
        lines.append(
            CostLine(
                "Firehose delivery to S3",
                f"{million_records:g} million records billed as {billed_kb:g} KB each = {billed_gb:g} GB "
                f"x ${firehose_price}",
                billed_gb * firehose_price,
            )
        )
        kpus = a["Flink KPUs for the job (parallelism 1)"]
        lines.append(
            CostLine(
                "Flink: KPUs running the job",
                f"{kpus:g} KPU x {hours:g} h x ${p['Flink KPU-hour']}",
                kpus * hours * p["Flink KPU-hour"],
            )
        )
        lines.append(
            CostLine(
                "Flink: orchestration KPU (one per application)",
                f"{FLINK_ORCHESTRATION_KPUS_PER_APP} KPU x {hours:g} h x ${p['Flink KPU-hour']}",
                FLINK_ORCHESTRATION_KPUS_PER_APP * hours * p["Flink KPU-hour"],
            )
        )
        storage_gb = kpus * FLINK_STORAGE_GB_PER_KPU
        lines.append(
            CostLine(
                "Flink: running application storage",
                f"{storage_gb:g} GB ({FLINK_STORAGE_GB_PER_KPU} per KPU) x "
                f"${p['Flink running application storage GB-month']}",
                storage_gb * p["Flink running application storage GB-month"],
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
