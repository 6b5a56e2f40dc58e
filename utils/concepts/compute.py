"""Where should a workload run, and where should its data live? Rules of thumb as code.

Three small decision functions, each a rule a data engineer applies every week:

- :func:`choose_compute`: AWS Lambda for short, event-triggered code; containers on
  Fargate (under ECS or EKS) for packaged jobs and services when you do not want to
  manage servers; EC2 when you need the machine itself (OS control, special hardware,
  software that must be installed on a server).
- :func:`choose_database`: RDS for an application's transactions (many small reads and
  writes of whole rows); Redshift for analytics over large tables (few big queries that
  scan, join and sum columns).
- :func:`utils.concepts.storage.choose_storage_type`: object, block or file storage.

:data:`WORKLOADS` describes a few workloads by their traits only; :func:`recommend` turns
the traits into a service. Lesson 07's exercise asks the learner to place them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from utils.concepts.storage import choose_storage_type

LAMBDA_MAX_RUN_SECONDS = 15 * 60
"""A Lambda invocation is stopped after at most 15 minutes."""

COMPUTE_SERVICES = ("Lambda", "Fargate", "EC2")
DATABASE_SERVICES = ("RDS", "Redshift")
STORAGE_SERVICES = {"object": "S3", "block": "EBS", "file": "EFS"}


def choose_compute(
    *,
    run_seconds: float,
    triggered_by_events: bool,
    needs_os_control: bool,
    packaged_as_container: bool,
) -> str:
    """``"Lambda"``, ``"Fargate"`` (containers on ECS/EKS without servers to manage) or ``"EC2"``.

    - the machine itself is needed (kernel modules, root, special drivers) -> EC2;
    - short (within Lambda's 15-minute limit) and triggered by events -> Lambda;
    - otherwise a container image runs on Fargate; code that is not containerised runs on EC2.
    """
    if needs_os_control:
        return "EC2"
    if triggered_by_events and run_seconds <= LAMBDA_MAX_RUN_SECONDS:
        return "Lambda"
    return "Fargate" if packaged_as_container else "EC2"


def choose_database(*, analytical: bool) -> str:
    """``"Redshift"`` for analytical scans over large tables; ``"RDS"`` for an application's
    transactions."""
    return "Redshift" if analytical else "RDS"


@dataclass(frozen=True)
class Workload:
    """A workload described by its traits; ``kind`` says which decision applies to it."""

    description: str
    kind: str  # "compute", "database" or "storage"
    traits: dict[str, object] = field(default_factory=dict)


WORKLOADS: dict[str, Workload] = {
    "thumbnails": Workload(
        "make a thumbnail of each photo uploaded to S3 (about 2 s per photo, a few thousand a day, none at "
        "night)",
        "compute",
        {"run_seconds": 2, "triggered_by_events": True, "needs_os_control": False,
         "packaged_as_container": False},
    ),
    "nightly_etl": Workload(
        "the nightly ETL job: a container image that runs for about 40 minutes",
        "compute",
        {"run_seconds": 40 * 60, "triggered_by_events": False, "needs_os_control": False,
         "packaged_as_container": True},
    ),
    "legacy_scanner": Workload(
        "a vendor's scanner that installs a kernel module and must run as root, all day",
        "compute",
        {"run_seconds": 24 * 3600, "triggered_by_events": False, "needs_os_control": True,
         "packaged_as_container": False},
    ),
    "shop_orders": Workload(
        "the web shop's orders: many small inserts and lookups of single orders, in transactions",
        "database",
        {"analytical": False},
    ),
    "sales_history": Workload(
        "five years of order lines for analysts' SQL: sums and group-bys over billions of rows",
        "database",
        {"analytical": True},
    ),
    "lake_files": Workload(
        "raw CSV exports and Parquet tables of the data lake, read by Glue and Athena",
        "storage",
        {"shared_by_many_machines": True, "attached_database_or_os": False,
         "accessed_over_api_at_scale": True},
    ),
    "mysql_disk": Workload(
        "the disk under a MySQL server you run yourself on one EC2 instance",
        "storage",
        {"shared_by_many_machines": False, "attached_database_or_os": True,
         "accessed_over_api_at_scale": False},
    ),
    "team_home": Workload(
        "home directories shared by the analysts' five Linux VMs",
        "storage",
        {"shared_by_many_machines": True, "attached_database_or_os": False,
         "accessed_over_api_at_scale": False},
    ),
}  # fmt: skip
"""The lesson's workloads, keyed by a short name, described by traits only."""


def recommend(workload: Workload) -> str:
    """The AWS service the rules of thumb give for a workload (e.g. ``"Lambda"``, ``"S3"``)."""
    if workload.kind == "compute":
        return choose_compute(**workload.traits)  # type: ignore[arg-type]
    if workload.kind == "database":
        return choose_database(**workload.traits)  # type: ignore[arg-type]
    if workload.kind == "storage":
        return STORAGE_SERVICES[choose_storage_type(**workload.traits)]  # type: ignore[arg-type]
    raise ValueError(f"unknown workload kind {workload.kind!r}; use compute, database or storage")


def services_for(kind: str) -> tuple[str, ...]:
    """The services a workload of this kind may be placed on."""
    return {"compute": COMPUTE_SERVICES, "database": DATABASE_SERVICES,
            "storage": tuple(STORAGE_SERVICES.values())}[kind]  # fmt: skip
