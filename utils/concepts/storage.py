"""Storage from the bottom up: raw hardware, storage systems, storage abstractions.

Figures are orders of magnitude for teaching (prices change; the ratios are
what matter): RAM is tens of times dearer than SSD and thousands of times
faster; hard disks are a few times cheaper than SSD and much slower.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Medium:
    """A raw storage ingredient."""

    name: str
    usd_per_gb: float  # purchase price, order of magnitude
    read_latency_s: float  # one random read
    throughput_mb_s: float  # sequential read
    volatile: bool  # loses data without power


HARDWARE: tuple[Medium, ...] = (
    Medium("RAM", 3.0, 100e-9, 20_000, True),
    Medium("SSD (NVMe)", 0.07, 100e-6, 3_000, False),
    Medium("HDD (magnetic)", 0.025, 10e-3, 200, False),
)

#: The three cloud storage types, the AWS service for each, and what they are for.
STORAGE_TYPES: dict[str, dict[str, str]] = {
    "object": {
        "aws": "Amazon S3",
        "unit": "whole objects (files) addressed by bucket + key over HTTP; write once, read many",
        "good for": "data lakes, logs, images, video, backups, Parquet tables; any data, huge scale",
    },
    "block": {
        "aws": "Amazon EBS",
        "unit": "fixed-size blocks attached to one machine like a local disk",
        "good for": "database storage, VM file systems, low-latency random reads and writes",
    },
    "file": {
        "aws": "Amazon EFS",
        "unit": "files in folders, shared by many machines at once",
        "good for": "shared home directories, content management, lift-and-shift apps",
    },
}

#: Storage systems built from the hardware, and the abstractions built from the systems.
SYSTEMS: tuple[str, ...] = (
    "database management systems (row or column stores)",
    "object storage (S3)",
    "open table formats (Apache Iceberg) over object storage",
    "caches and in-memory stores",
    "streaming storage (Kafka, Kinesis)",
)
ABSTRACTIONS: dict[str, str] = {
    "data warehouse": "structured, modelled data for fast SQL analytics (e.g. Amazon Redshift)",
    "data lake": "any data, raw and cheap, in object storage (e.g. Amazon S3)",
    "data lakehouse": "lake storage with warehouse features: tables, schemas, transactions",
}


def medium(name: str) -> Medium:
    """Look up a hardware medium by (case-insensitive, prefix) name."""
    for item in HARDWARE:
        if item.name.lower().startswith(name.lower()):
            return item
    raise KeyError(f"No medium {name!r}; choose one of {', '.join(m.name for m in HARDWARE)}.")


def price_ratio(dearer: str, cheaper: str) -> float:
    """How many times more one medium costs per GB than another."""
    return medium(dearer).usd_per_gb / medium(cheaper).usd_per_gb


def read_time_s(gigabytes: float, name: str) -> float:
    """Seconds to read ``gigabytes`` sequentially from a medium."""
    return gigabytes * 1000 / medium(name).throughput_mb_s


def choose_storage_type(
    *, shared_by_many_machines: bool, attached_database_or_os: bool, accessed_over_api_at_scale: bool
) -> str:
    """Suggest object, block or file storage from three questions about the workload."""
    if attached_database_or_os:
        return "block"
    if shared_by_many_machines and not accessed_over_api_at_scale:
        return "file"
    return "object"


def plot_hardware(ax: Any = None) -> Any:
    """Log-log scatter of price per GB against read latency for each medium."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4))
    for m in HARDWARE:
        ax.scatter(m.read_latency_s, m.usd_per_gb, s=120)
        ax.annotate(m.name, (m.read_latency_s, m.usd_per_gb), textcoords="offset points", xytext=(8, 6))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(3e-8, 1e-1)
    ax.set_ylim(0.01, 10)
    ax.set_xlabel("random read latency (seconds, log scale)")
    ax.set_ylabel("price per GB (USD, log scale)")
    ax.set_title("Faster storage costs more")
    return ax


# --- what storage costs on S3: storage classes and a tiered design -------------------------------

#: S3 storage classes: us-east-1 list price per GB-month (2025, first 50 TB of Standard) and the
#: minimum storage duration in days (an object deleted or moved earlier is billed for the minimum).
S3_STORAGE_CLASSES: dict[str, dict[str, float]] = {
    "STANDARD": {"usd_gb_month": 0.023, "minimum_days": 0},
    "STANDARD_IA": {"usd_gb_month": 0.0125, "minimum_days": 30},
    "GLACIER_IR": {"usd_gb_month": 0.004, "minimum_days": 90},
    "GLACIER": {"usd_gb_month": 0.0036, "minimum_days": 90},
    "DEEP_ARCHIVE": {"usd_gb_month": 0.00099, "minimum_days": 180},
}


def tiered_monthly_cost(daily_gb: float, plan: list[tuple[str, int]]) -> float:
    """Steady-state monthly storage bill of data that arrives at ``daily_gb`` per day.

    ``plan`` lists ``(storage_class, until_day)`` in order: data sits in the first class
    from day 0 to its ``until_day``, then moves to the next class, and is deleted after
    the last ``until_day``. Once the pipeline has run longer than that, each class holds
    ``daily_gb x days spent in it`` GB, billed at least for the class's minimum storage
    duration. Retrieval, request and transition fees are left out.
    """
    if daily_gb < 0:
        raise ValueError("daily_gb cannot be negative.")
    total, start = 0.0, 0
    for storage_class, until_day in plan:
        if storage_class not in S3_STORAGE_CLASSES:
            known = ", ".join(S3_STORAGE_CLASSES)
            raise KeyError(f"unknown storage class {storage_class!r}; use one of {known}")
        if until_day <= start:
            raise ValueError(f"{storage_class}: until_day {until_day} must come after day {start}.")
        spec = S3_STORAGE_CLASSES[storage_class]
        billed_days = max(until_day - start, spec["minimum_days"])
        total += daily_gb * billed_days * spec["usd_gb_month"]
        start = until_day
    return round(total, 2)
