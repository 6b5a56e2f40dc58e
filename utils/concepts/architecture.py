"""Principles of good data architecture, with the arithmetic behind several of them.

- plan for failure: availability of parts in series and in parallel (multi-AZ);
- loose coupling: a queue between producer and consumer absorbs an outage;
- scalability: how many servers a load needs;
- FinOps: what a query costs when you pay per byte scanned.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: The nine principles, each with the question it makes you ask.
PRINCIPLES: dict[str, str] = {
    "Choose common components wisely": (
        "Which shared tools (object storage, catalog, orchestration) serve many teams without boxing them in?"
    ),
    "Plan for failure": (
        "What happens when this part fails, how fast must we recover, and how much data may we lose?"
    ),
    "Architect for scalability": "Can it grow for a spike and shrink afterwards, automatically?",
    "Architecture is leadership": "Am I guiding the team towards good choices rather than dictating tools?",
    "Always be architecting": "Does the design still fit today's needs, or should it evolve?",
    "Build loosely coupled systems": "Can I change or replace one part without breaking the others?",
    "Make reversible decisions": "If this choice is wrong, how cheaply can we undo it?",
    "Prioritize security": (
        "Does each person and service have only the access it needs (least privilege, zero trust)?"
    ),
    "Embrace FinOps": "What does this cost per query, per pipeline, per user, and is it worth it?",
}

ATHENA_USD_PER_TB = 5.0
ATHENA_MIN_BYTES = 10 * 10**6  # every query is billed at least 10 MB (decimal, as in AWS examples)
HOURS_PER_YEAR = 24 * 365


def serial_availability(*parts: float) -> float:
    """Availability of a chain where every part must work (multiply)."""
    _check(parts)
    return math.prod(parts)


def parallel_availability(part: float, copies: int) -> float:
    """Availability of ``copies`` independent replicas where any one is enough.

    Assumes the copies fail independently. Real zones share some causes of failure
    (a bad deployment, a regional control-plane fault, a shared dependency), so the
    true figure is lower than this formula says.
    """
    _check([part])
    if copies < 1:
        raise ValueError("copies must be at least 1.")
    return 1 - (1 - part) ** copies


def downtime_hours_per_year(availability: float) -> float:
    """Expected hours of downtime per year at an availability (0..1)."""
    _check([availability])
    return (1 - availability) * HOURS_PER_YEAR


def _check(values: Sequence[float]) -> None:
    if not values or any(not 0 <= v <= 1 for v in values):
        raise ValueError("Availabilities are fractions between 0 and 1, e.g. 0.995 for 99.5%.")


def servers_needed(requests_per_second: float, per_server: float, headroom: float = 0.2) -> int:
    """Servers to handle a load while keeping ``headroom`` (0.2 = 20%) spare."""
    if per_server <= 0 or not 0 <= headroom < 1:
        raise ValueError("per_server must be positive and headroom in [0, 1).")
    return max(1, math.ceil(requests_per_second / (per_server * (1 - headroom))))


@dataclass(frozen=True)
class CouplingResult:
    """What happened to events during a consumer outage."""

    delivered: int
    lost: int
    backlog: list[int]


def simulate_outage(
    arrivals: Sequence[int], consumer_capacity: int, down: range, *, queued: bool
) -> CouplingResult:
    """Events per minute meet a consumer that is down during ``down`` minutes.

    Tightly coupled (``queued=False``): the producer calls the consumer directly,
    so events sent while it is down are lost. Loosely coupled (``queued=True``):
    events wait in a queue and are processed when the consumer is back.
    """
    backlog, delivered, lost, history = 0, 0, 0, []
    for minute, count in enumerate(arrivals):
        capacity = 0 if minute in down else consumer_capacity
        if queued:
            backlog += count
            done = min(backlog, capacity)
            backlog -= done
            delivered += done
        else:
            done = min(count, capacity)
            delivered += done
            lost += count - done
        history.append(backlog)
    return CouplingResult(delivered, lost, history)


def athena_query_cost_usd(bytes_scanned: float) -> float:
    """Cost of one Athena query: $5 per TB scanned, at least 10 MB billed.

    AWS's pricing examples use decimal units (1 TB = 10**12 bytes, 1 MB = 10**6 bytes),
    so this does too.
    """
    billed = max(bytes_scanned, ATHENA_MIN_BYTES)
    return billed / 10**12 * ATHENA_USD_PER_TB


def bytes_scanned(
    table_bytes: float,
    *,
    columnar: bool,
    columns_read: int,
    total_columns: int,
    compression_ratio: float = 1.0,
) -> float:
    """Bytes a query reads.

    Row formats (CSV) read every column; columnar formats (Parquet) read only the needed ones.
    """
    if not 1 <= columns_read <= total_columns:
        raise ValueError("columns_read must be between 1 and total_columns.")
    stored = table_bytes / compression_ratio
    return stored * columns_read / total_columns if columnar else stored


# --- plan for failure: a whole design, stage by stage -------------------------------------------------


def design_availability(stages: Sequence[tuple[float, int]]) -> float:
    """Availability of a chain of stages, each ``(availability of one copy, copies)``.

    Every stage must work (series: multiply), and a stage works when any one of its copies
    does (parallel: ``1 - (1 - a) ** copies``). An empty design has nothing to fail: 1.0.
    Assumes independent failures, so treat the result as an upper bound.
    """
    return math.prod(parallel_availability(a, copies) for a, copies in stages) if stages else 1.0


def expected_failures(components: int, annual_failure_rate: float, years: float = 1.0) -> float:
    """How many of ``components`` fail in ``years`` at an annual failure rate (0.02 = 2% a year).

    Werner Vogels (Amazon's CTO): "everything fails all the time". One disk failing in 50 a
    year sounds rare; a thousand of them lose one every two or three weeks.
    """
    if components < 0 or not 0 <= annual_failure_rate <= 1:
        raise ValueError("components must be >= 0 and annual_failure_rate a fraction between 0 and 1.")
    return components * annual_failure_rate * years


# --- choose common components wisely, always be architecting ------------------------------------------


def integrations(teams: int, shared: bool) -> int:
    """Data paths to maintain when every team needs every other team's data.

    Without common components each pair of teams builds its own copy job, in each direction
    (``teams * (teams - 1)``); with a shared lake and catalog each team publishes once and
    reads from the same place (``teams``).
    """
    if teams < 1:
        raise ValueError("teams must be at least 1.")
    return teams if shared else teams * (teams - 1)


def months_until_capacity(load: float, capacity: float, monthly_growth: float) -> int | None:
    """Whole months until a load growing by ``monthly_growth`` (0.08 = 8%) exceeds ``capacity``.

    0 when it already does; None when it never will (no growth). The reason to keep
    re-evaluating a design that works today.
    """
    if load <= 0 or capacity <= 0 or monthly_growth < 0:
        raise ValueError("load and capacity must be positive and growth non-negative.")
    if load > capacity:
        return 0
    if monthly_growth == 0:
        return None
    return math.floor(math.log(capacity / load) / math.log(1 + monthly_growth)) + 1


# --- the AWS Well-Architected Framework --------------------------------------------------------------

WELL_ARCHITECTED_PILLARS: dict[str, str] = {
    "Operational excellence": "Can we run, observe and change the system safely: automated, documented?",
    "Security": "Are identities, permissions and data protected: least privilege, secrets, encryption?",
    "Reliability": "Does it recover from failure and meet demand: redundancy, backups that restore, retries?",
    "Performance efficiency": "Are the resources and formats right to be fast enough, as demand changes?",
    "Cost optimization": "Do we deliver the value at the lowest price: right pricing model, no waste?",
    "Sustainability": "Do we minimise the resources and energy used: less data kept, less work repeated?",
}
"""The six pillars of the AWS Well-Architected Framework, each with the question it asks of a design."""

REVIEW_FINDINGS: dict[str, tuple[str, str]] = {
    "password": ("The Glue job's database password is written in the job script, which is in Git.",
                 "Security"),
    "one_zone": ("The source database runs in one Availability Zone, and nobody has ever restored a backup.",
                 "Reliability"),
    "console": ("Changes are made by clicking in the console, with no runbook: nobody can say what changed "
                "last week.", "Operational excellence"),
    "on_demand": ("The warehouse has run at the same size for three years, paid at on-demand prices.",
                  "Cost optimization"),
    "csv_scans": ("Dashboards query raw CSV files, so every refresh reads every column and takes minutes.",
                  "Performance efficiency"),
    "rewrite_all": ("Every night the job recomputes five years of history, although only yesterday's rows "
                    "changed, and keeps every intermediate copy forever.", "Sustainability"),
}
"""A design review of a first version of the lab's pipeline: each finding, and the pillar it falls under."""
