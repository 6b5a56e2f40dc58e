"""The data engineering lifecycle as data: stages, undercurrents, and AWS services for each.

Stages run left to right (generation -> ingestion -> storage -> transformation
-> serving); storage underlies the middle stages; the undercurrents cut across
all of them. The tables here feed the lessons' diagrams and lookups.
"""

from __future__ import annotations

from typing import Any

#: Lifecycle stages in order, with what happens in each.
STAGES: dict[str, str] = {
    "generation": "source systems create data (apps, databases, devices, APIs); you usually do not own them",
    "ingestion": "move data from source systems into your pipeline, in batches or as streams",
    "storage": "keep data durably and cheaply enough, fast enough for how it will be used",
    "transformation": "query, model and reshape raw data into something useful",
    "serving": "make the result available: analytics, machine learning, reverse ETL",
}

#: Undercurrents: concerns that run under every stage.
UNDERCURRENTS: dict[str, str] = {
    "security": "least privilege, encryption, careful handling of sensitive data",
    "data management": "governance, discoverability, lineage and data quality",
    "DataOps": "automation, observability and monitoring, incident response",
    "data architecture": "the blueprint: which components, how they fit, trade-offs",
    "orchestration": "coordinate tasks with dependencies (a DAG), schedule and monitor them",
    "software engineering": "well-tested, reviewed, version-controlled code and infrastructure",
}

#: AWS services commonly used for each stage and undercurrent in this curriculum.
AWS_SERVICES: dict[str, list[str]] = {
    "generation": [
        "Amazon RDS (MySQL, PostgreSQL)",
        "Amazon DynamoDB",
        "Amazon Kinesis Data Streams",
        "Amazon SQS",
        "Amazon MSK (Kafka)",
    ],
    "ingestion": [
        "AWS DMS",
        "AWS Glue",
        "Amazon Kinesis Data Streams",
        "Amazon Data Firehose",
        "Amazon SQS",
        "Amazon MSK",
    ],
    "storage": ["Amazon S3 (data lake)", "Amazon Redshift (warehouse)", "S3 + Redshift (lakehouse)"],
    "transformation": ["AWS Glue ETL", "Amazon Athena (SQL)", "Amazon Redshift (SQL)"],
    "serving": [
        "Amazon Athena",
        "Amazon Redshift",
        "Amazon QuickSight",
        "Superset / Metabase",
        "vector databases for ML",
    ],
    "security": ["AWS IAM (roles, policies)", "Amazon VPC", "security groups"],
    "data management": ["AWS Glue Data Catalog", "AWS Glue crawlers", "AWS Lake Formation"],
    "DataOps": [
        "Amazon CloudWatch (metrics, alarms)",
        "CloudWatch Logs",
        "Amazon SNS (notifications)",
        "Monte Carlo / Bigeye (data observability)",
    ],
    "data architecture": ["AWS Well-Architected Framework"],
    "orchestration": ["Apache Airflow (Amazon MWAA)", "AWS Step Functions", "Dagster / Prefect / Mage"],
    "software engineering": [
        "Git and GitHub",
        "AWS CodeDeploy",
        "Terraform (infrastructure as code)",
        "a cloud IDE on EC2",
    ],
}


def services_for(stage_or_undercurrent: str) -> list[str]:
    """AWS services for a stage or undercurrent (case-insensitive)."""
    for key, services in AWS_SERVICES.items():
        if key.lower() == stage_or_undercurrent.lower():
            return list(services)
    raise KeyError(
        f"{stage_or_undercurrent!r} is not a stage or undercurrent; try one of: {', '.join(AWS_SERVICES)}."
    )


def stage_after(stage: str) -> str | None:
    """The stage that follows ``stage`` (None after serving)."""
    order = list(STAGES)
    if stage not in order:
        raise KeyError(f"{stage!r} is not a lifecycle stage; stages are {', '.join(order)}.")
    i = order.index(stage)
    return order[i + 1] if i + 1 < len(order) else None


def plot_lifecycle(ax: Any = None) -> Any:
    """Draw the lifecycle: five stage boxes joined by arrows over a band of undercurrents."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    if ax is None:
        _, ax = plt.subplots(figsize=(11, 4.2))
    stages = list(STAGES)
    for i, name in enumerate(stages):
        x = 0.3 + i * 2.2
        y = 2.35 if name != "storage" else 1.45
        colour = "#cfe2ff" if name != "storage" else "#ffe8a3"
        ax.add_patch(FancyBboxPatch((x, y), 1.8, 0.75, boxstyle="round,pad=0.05", fc=colour, ec="0.3"))
        ax.text(x + 0.9, y + 0.375, name.capitalize(), ha="center", va="center", fontsize=10, weight="bold")
    for x0, x1 in [(2.1, 2.5), (4.3, 6.9), (8.7, 9.1)]:
        ax.annotate("", xy=(x1, 2.72), xytext=(x0, 2.72), arrowprops={"arrowstyle": "->", "lw": 1.5})
    ax.annotate("", xy=(3.8, 2.35), xytext=(4.8, 1.85), arrowprops={"arrowstyle": "<->", "lw": 1.2})
    ax.annotate("", xy=(7.4, 2.35), xytext=(6.4, 1.85), arrowprops={"arrowstyle": "<->", "lw": 1.2})
    ax.add_patch(FancyBboxPatch((0.3, 0.15), 10.6, 0.85, boxstyle="round,pad=0.05", fc="#e2f0d9", ec="0.3"))
    ax.text(5.6, 0.75, "Undercurrents", ha="center", fontsize=10, weight="bold")
    ax.text(5.6, 0.38, "  |  ".join(UNDERCURRENTS), ha="center", fontsize=8.5)
    ax.set_xlim(0, 11.2)
    ax.set_ylim(0, 3.4)
    ax.axis("off")
    ax.set_title("The data engineering lifecycle")
    return ax
