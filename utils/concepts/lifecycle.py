"""The data engineering lifecycle as data: stages, undercurrents, and AWS services for each.

Stages run left to right (generation -> ingestion -> storage -> transformation
-> serving); storage underlies the middle stages and also feeds serving directly;
the undercurrents cut across all of them. The tables here feed the lessons' diagrams and lookups.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Service:
    """One AWS service (or tool): what kind of work it does, why you would pick it, where it fits."""

    name: str
    does: str  # the kind of work: keep, move, transform, query and serve...
    why: str
    areas: tuple[str, ...]  # lifecycle stages and undercurrents it serves


#: The services this curriculum meets, grouped by the kind of work they do.
SERVICES: tuple[Service, ...] = (
    Service(
        "Amazon S3", "keep data", "object storage for the lake: cheap, durable, any file format", ("storage",)
    ),
    Service(
        "Amazon Redshift",
        "keep data",
        "columnar warehouse for modelled data that is queried all day",
        ("storage", "transformation", "serving"),
    ),
    Service(
        "Amazon RDS",
        "keep data",
        "managed MySQL/PostgreSQL: typically an application's database",
        ("generation",),
    ),
    Service(
        "Amazon DynamoDB", "keep data", "key-value tables with millisecond reads behind apps", ("generation",)
    ),
    Service("AWS DMS", "move data", "copies a database once, then streams its changes (CDC)", ("ingestion",)),
    Service(
        "Amazon Kinesis Data Streams",
        "move data",
        "an ordered, replayable stream of events that several readers share",
        ("generation", "ingestion"),
    ),
    Service(
        "Amazon Data Firehose",
        "move data",
        "batches a stream into files in S3 or Redshift, no code",
        ("ingestion",),
    ),
    Service("Amazon SQS", "move data", "a queue: each message is handled by one worker", ("ingestion",)),
    Service(
        "Amazon MSK", "move data", "managed Apache Kafka, when a team already runs on Kafka", ("ingestion",)
    ),
    Service(
        "AWS Glue ETL",
        "transform data",
        "serverless Spark or Python jobs that extract, reshape and load (the lab's job)",
        ("ingestion", "transformation"),
    ),
    Service(
        "AWS Lambda",
        "transform data",
        "small functions run by an event, e.g. a file landing in S3",
        ("transformation",),
    ),
    Service(
        "Amazon EMR",
        "transform data",
        "managed Spark clusters for heavy or custom processing",
        ("transformation",),
    ),
    Service(
        "Amazon Athena",
        "query and serve",
        "SQL straight over files in S3, billed by the bytes it scans",
        ("transformation", "serving"),
    ),
    Service(
        "Amazon QuickSight", "query and serve", "dashboards for people who do not write SQL", ("serving",)
    ),
    Service(
        "Amazon SageMaker", "query and serve", "trains and hosts ML models on prepared data", ("serving",)
    ),
    Service(
        "AWS Glue Data Catalog",
        "describe and govern",
        "table definitions that let Athena and Redshift read the lake",
        ("data management",),
    ),
    Service(
        "AWS Glue crawlers",
        "describe and govern",
        "fill the catalog by reading the files",
        ("data management",),
    ),
    Service(
        "AWS Lake Formation",
        "describe and govern",
        "table-, column- and row-level permissions on the lake",
        ("data management", "security"),
    ),
    Service(
        "AWS IAM", "secure", "who may do what: users, roles and policies (a global service)", ("security",)
    ),
    Service("AWS KMS", "secure", "the keys behind encryption at rest", ("security",)),
    Service(
        "Amazon VPC + security groups",
        "secure",
        "private networks and instance-level firewalls",
        ("security",),
    ),
    Service(
        "Amazon CloudWatch", "watch and alert", "metrics, logs and alarms for jobs and services", ("DataOps",)
    ),
    Service("Amazon SNS", "watch and alert", "delivers an alarm to email, chat or a pager", ("DataOps",)),
    Service(
        "Amazon MWAA", "orchestrate", "managed Apache Airflow: scheduled DAGs of tasks", ("orchestration",)
    ),
    Service(
        "AWS Step Functions",
        "orchestrate",
        "chains AWS services as a state machine, with retries",
        ("orchestration",),
    ),
    Service(
        "Terraform / AWS CloudFormation",
        "build and deploy",
        "infrastructure written as reviewed, versioned code",
        ("software engineering", "data architecture"),
    ),
    Service(
        "Git + CI (GitHub Actions, AWS CodePipeline)",
        "build and deploy",
        "every change reviewed, tested and shipped the same way",
        ("software engineering", "DataOps"),
    ),
    Service(
        "AWS Well-Architected Framework",
        "design",
        "a set of review questions (not a service) for judging a design",
        ("data architecture",),
    ),
)

#: The same services seen per lifecycle stage and undercurrent (derived from :data:`SERVICES`).
AWS_SERVICES: dict[str, list[str]] = {
    area: [service.name for service in SERVICES if area in service.areas]
    for area in [*STAGES, *UNDERCURRENTS]
}


def services_by_kind() -> dict[str, list[Service]]:
    """The services grouped by the kind of work they do, in a stable order."""
    groups: dict[str, list[Service]] = {}
    for service in SERVICES:
        groups.setdefault(service.does, []).append(service)
    return groups


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
    # Storage also feeds serving directly (e.g. Athena or a dashboard reading stored tables).
    ax.annotate("", xy=(9.6, 2.35), xytext=(6.55, 1.75), arrowprops={"arrowstyle": "->", "lw": 1.2})
    ax.add_patch(FancyBboxPatch((0.3, 0.15), 10.6, 0.85, boxstyle="round,pad=0.05", fc="#e2f0d9", ec="0.3"))
    ax.text(5.6, 0.75, "Undercurrents", ha="center", fontsize=10, weight="bold")
    ax.text(5.6, 0.38, "  |  ".join(UNDERCURRENTS), ha="center", fontsize=8.5)
    ax.set_xlim(0, 11.2)
    ax.set_ylim(0, 3.4)
    ax.axis("off")
    ax.set_title("The data engineering lifecycle")
    return ax


@dataclass(frozen=True)
class LabEvent:
    """Something that happens in the week-2 lab, and the one lifecycle concern it is about.

    ``concern`` is a stage (the event moves or changes the data) or an undercurrent (it protects,
    organises or coordinates the data's journey); ``during`` is the stage an undercurrent event
    happens in, which learners often give instead of the undercurrent it is about.
    """

    text: str
    concern: str
    why: str
    during: str | None = None


#: The lab's pipeline as events, one per stage and one per undercurrent, in no particular order.
LAB_EVENTS: tuple[LabEvent, ...] = (
    LabEvent("The ETL job reads MariaDB as a read-only user whose password is kept in Secrets Manager",
             "security", "least privilege and secrets kept out of code protect the source", "ingestion"),
    LabEvent("The shop's order system saves a new order in classicmodels' orders and orderdetails tables",
             "generation", "the source system creates the data; the pipeline neither runs nor owns it"),
    LabEvent("The job joins orders, order lines, products and customers into fact_orders and its dimensions",
             "transformation", "remodelling raw tables into a star schema turns them into something useful"),
    LabEvent("The crawler starts only after the ETL job run has SUCCEEDED",
             "orchestration", "running tasks in dependency order is what orchestration coordinates",
             "storage"),
    LabEvent("Athena runs the dashboard's query for the top products of the selected country",
             "serving", "delivering answers to the people who use them is serving"),
    LabEvent("The crawler records each table's columns and types in the Glue Data Catalog, so analysts can "
             "find and query them", "data management",
             "metadata that makes data discoverable is data management", "storage"),
    LabEvent("The ETL job copies the five tables the star needs out of MariaDB",
             "ingestion", "moving data from a source system into the pipeline is ingestion"),
    LabEvent("Every job run writes its progress and errors to CloudWatch Logs, where a failed run is "
             "diagnosed", "DataOps", "observability and incident response keep the pipeline running",
             "transformation"),
    LabEvent("The star schema is kept as Parquet files under gold/ in the data-lake bucket",
             "storage", "keeping the data durably, in a format suited to how it is read, is storage"),
    LabEvent("The job, the crawler and the database are declared in Terraform files, reviewed and kept "
             "in git",
             "software engineering", "reviewed, version-controlled code for the infrastructure is software "
             "engineering"),
    LabEvent("The team chose Parquet files on S3 queried by Athena rather than running a warehouse server",
             "data architecture", "choosing components and weighing their trade-offs is architecture"),
)
