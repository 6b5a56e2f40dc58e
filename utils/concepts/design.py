"""Designing a data architecture: from requirements to components to trade-offs.

:func:`propose_architecture` turns a few measurable requirements into a list of
components, one per lifecycle stage, each with the reason it was chosen, so a
learner can change a requirement and watch the design change.
:func:`decision_matrix` ranks alternative designs by weighted criteria.
"""

from __future__ import annotations

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


def propose_architecture(req: Requirements) -> list[Component]:
    """Choose one component per stage (and undercurrent) from the requirements."""
    streaming = req.max_data_age_minutes < 15
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
    if streaming:
        design.append(
            Component(
                "ingestion",
                "Amazon Kinesis Data Streams + Amazon Data Firehose",
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
    design.append(
        Component(
            "transformation",
            "SQL transforms into a star schema (Glue job)",
            "analysts need a model that is easy to understand and fast to query",
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


def estimated_monthly_cost(req: Requirements) -> float:
    """A very rough monthly cost to compare designs (teaching figures, not a quote)."""
    streaming = req.max_data_age_minutes < 15
    ingestion = 400.0 if streaming else 30.0  # always-on shards vs a few job runs a day
    storage = req.daily_volume_gb * 30 * 0.023  # S3 standard, one month of data
    warehouse = 180.0 if req.daily_volume_gb > 1000 else 0.0
    return round(ingestion + storage + warehouse + 20.0 * len(req.consumers), 2)


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
