"""What the cloud costs: pay-as-you-go, elasticity, billing options, forgotten resources.

Prices are us-east-1 (N. Virginia) on-demand list prices for Linux, as AWS published
them in 2025, for teaching only (AWS changes them; check the pricing pages for real
decisions). Each service is priced at its own rate: RDS storage is not EBS storage.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

HOURS_PER_MONTH = 730  # AWS bills a month as 730 hours
PRICES_AS_OF = "us-east-1 on-demand list prices, 2025"

#: Approximate on-demand USD per hour, us-east-1.
HOURLY_PRICES: dict[str, float] = {
    "ec2 t3.micro": 0.0104,
    "ec2 t3.small": 0.0208,
    "ec2 m5.large": 0.096,
    "rds db.t3.micro (MySQL)": 0.017,
    "nat gateway": 0.045,
    "public ipv4 address": 0.005,
    "redshift dc2.large": 0.25,
}
EBS_GP3_USD_GB_MONTH = 0.08
#: RDS for MySQL, Single-AZ, General Purpose gp3 storage: RDS's own storage price, dearer than
#: a raw EBS gp3 volume because the managed service is included.
RDS_GP3_USD_GB_MONTH = 0.115
S3_STANDARD_USD_GB_MONTH = 0.023

#: AWS starts a stopped RDS instance again after 7 days (it cannot stay stopped longer).
RDS_MAX_STOPPED_HOURS = 7 * 24

#: Operating systems whose EC2 instances are billed per second (60-second minimum); the others,
#: such as SUSE Linux Enterprise Server, are billed per started hour (as are some AWS
#: Marketplace images that carry an hourly software fee).
PER_SECOND_BILLING_OS = frozenset({"amazon linux", "windows", "red hat enterprise linux", "ubuntu"})
MIN_BILLED_SECONDS = 60

#: Fraction of the on-demand price paid under each billing option (typical figures).
BILLING_OPTIONS: dict[str, dict[str, object]] = {
    "on-demand": {
        "factor": 1.0,
        "committed": False,
        "note": "pay for the time it runs, no commitment: per second for most OS, per hour for some",
    },
    "savings plan 1y": {"factor": 0.65, "committed": True, "note": "commit to an hourly spend for 1 year"},
    "savings plan 3y": {"factor": 0.45, "committed": True, "note": "commit for 3 years (up to ~72% off)"},
    "spot": {
        "factor": 0.30,
        "committed": False,
        "note": "spare capacity, up to ~90% off, can be taken back with 2 minutes' notice",
    },
}


@dataclass(frozen=True)
class Resource:
    """A billable resource: what it costs per hour while running and while stopped.

    ``max_stopped_hours``: after that long stopped, AWS starts it again by itself and it
    bills the running price (RDS: 7 days); ``None`` means it stays stopped.
    """

    name: str
    running_usd_hour: float
    stopped_usd_hour: float = 0.0
    max_stopped_hours: int | None = None


def ebs_usd_hour(gib: float) -> float:
    """Hourly cost of a gp3 EBS volume (it is billed even when its instance is stopped)."""
    return gib * EBS_GP3_USD_GB_MONTH / HOURS_PER_MONTH


def rds_storage_usd_hour(gib: float) -> float:
    """Hourly cost of RDS gp3 storage (Single-AZ; billed while the instance is stopped too)."""
    return gib * RDS_GP3_USD_GB_MONTH / HOURS_PER_MONTH


def billed_seconds(run_seconds: float, operating_system: str = "amazon linux") -> int:
    """Seconds an on-demand EC2 instance is billed for one run of ``run_seconds``.

    Per second with a 60-second minimum for the operating systems in
    :data:`PER_SECOND_BILLING_OS`; every started hour in full for the others (e.g. SUSE).
    """
    if run_seconds < 0:
        raise ValueError("run_seconds cannot be negative.")
    if operating_system.lower() in PER_SECOND_BILLING_OS:
        return max(MIN_BILLED_SECONDS, math.ceil(run_seconds))
    return math.ceil(run_seconds / 3600) * 3600


def lab_resources() -> list[Resource]:
    """The kind of resources a course lab starts: a small VM, a database, networking."""
    disk = ebs_usd_hour(30)
    rds_storage = rds_storage_usd_hour(20)
    return [
        Resource("EC2 t3.small + 30 GiB disk", HOURLY_PRICES["ec2 t3.small"] + disk, disk),
        Resource(
            "RDS db.t3.micro + 20 GiB",
            HOURLY_PRICES["rds db.t3.micro (MySQL)"] + rds_storage,
            rds_storage,
            max_stopped_hours=RDS_MAX_STOPPED_HOURS,
        ),
        Resource("NAT gateway", HOURLY_PRICES["nat gateway"], HOURLY_PRICES["nat gateway"]),
        # An auto-assigned public IPv4 is released when the instance stops; an Elastic IP stays
        # allocated (and, like every public IPv4 since February 2024, billed) until you release it.
        Resource(
            "Elastic IP address", HOURLY_PRICES["public ipv4 address"], HOURLY_PRICES["public ipv4 address"]
        ),
    ]


def cumulative_cost(
    resources: Sequence[Resource],
    hours: int,
    *,
    stop_after: int | None = None,
    delete_after: int | None = None,
) -> list[float]:
    """Cumulative USD after each hour when resources run, then are stopped or deleted.

    ``stop_after`` hours: running prices until then, stopped prices afterwards
    (disks, NAT gateways and addresses keep billing), except that a resource with
    ``max_stopped_hours`` (RDS) is started again by AWS after that long and bills its
    running price from then on. ``delete_after`` hours: nothing is billed afterwards.
    Returns ``hours + 1`` values starting at 0.
    """
    totals = [0.0]
    for hour in range(hours):
        if delete_after is not None and hour >= delete_after:
            rate = 0.0
        elif stop_after is not None and hour >= stop_after:
            rate = sum(_stopped_rate(r, hour - stop_after) for r in resources)
        else:
            rate = sum(r.running_usd_hour for r in resources)
        totals.append(totals[-1] + rate)
    return totals


def _stopped_rate(resource: Resource, hours_stopped: int) -> float:
    if resource.max_stopped_hours is not None and hours_stopped >= resource.max_stopped_hours:
        return resource.running_usd_hour  # restarted by AWS, running (and billing) again
    return resource.stopped_usd_hour


# --- compute without a whole VM: Lambda and Fargate (ECS/EKS) ------------------------------

LAMBDA_USD_PER_MILLION_REQUESTS = 0.20
LAMBDA_USD_PER_GB_SECOND = 0.0000166667  # x86; the first 6 billion GB-s tier
FARGATE_USD_VCPU_HOUR = 0.04048  # Linux/x86
FARGATE_USD_GB_HOUR = 0.004445


def lambda_monthly_usd(requests: float, avg_duration_ms: float, memory_mb: float) -> float:
    """Monthly cost of a Lambda function: a fee per request plus the GB-seconds it runs.

    Duration is billed per millisecond; memory is configured in MB (1 GB = 1024 MB).
    The free tier is left out, as it is for an account past its first year's allowances.
    """
    if requests < 0 or avg_duration_ms < 0 or memory_mb <= 0:
        raise ValueError("requests and duration must be >= 0 and memory > 0.")
    gb_seconds = requests * (avg_duration_ms / 1000) * (memory_mb / 1024)
    return requests / 1_000_000 * LAMBDA_USD_PER_MILLION_REQUESTS + gb_seconds * LAMBDA_USD_PER_GB_SECOND


def fargate_monthly_usd(
    vcpu: float, memory_gb: float, hours: float = HOURS_PER_MONTH, tasks: int = 1
) -> float:
    """Monthly cost of ``tasks`` Fargate tasks (ECS or EKS) of this size running ``hours`` each."""
    return tasks * hours * (vcpu * FARGATE_USD_VCPU_HOUR + memory_gb * FARGATE_USD_GB_HOUR)


def ec2_monthly_usd(instance: str = "t3.small", hours: float = HOURS_PER_MONTH) -> float:
    """Monthly on-demand cost of one instance of a type in :data:`HOURLY_PRICES` (``ec2 <type>``)."""
    return HOURLY_PRICES[f"ec2 {instance}"] * hours


def monthly_cost_by_option(on_demand_usd_hour: float, hours_used: float) -> dict[str, float]:
    """Monthly cost of one instance used ``hours_used`` hours under each billing option.

    Committed options bill every hour of the month whether you use it or not.
    """
    if not 0 <= hours_used <= HOURS_PER_MONTH:
        raise ValueError(f"hours_used must be between 0 and {HOURS_PER_MONTH}.")
    costs = {}
    for option, spec in BILLING_OPTIONS.items():
        billed_hours = HOURS_PER_MONTH if spec["committed"] else hours_used
        costs[option] = round(on_demand_usd_hour * float(spec["factor"]) * billed_hours, 2)  # type: ignore[arg-type]
    return costs


def break_even_hours(option: str) -> float:
    """Hours of use per month above which a committed option beats on-demand."""
    spec = BILLING_OPTIONS[option]
    if not spec["committed"]:
        raise ValueError(f"{option!r} has no commitment, so it has no break-even point.")
    return HOURS_PER_MONTH * float(spec["factor"])  # type: ignore[arg-type]


def synthetic_demand(days: int = 7, *, seed: int = 42, peak_day: int | None = 5) -> list[float]:
    """Hourly demand (in servers' worth of load): a daily cycle, noise and one sale-day spike."""
    rng = random.Random(seed)
    demand = []
    for hour in range(days * 24):
        daily = 4 + 3 * math.sin((hour % 24 - 8) / 24 * 2 * math.pi)
        spike = 8 if peak_day is not None and hour // 24 == peak_day and 10 <= hour % 24 <= 20 else 0
        demand.append(max(0.5, daily + spike + rng.uniform(-0.6, 0.6)))
    return demand


@dataclass(frozen=True)
class CapacityPlan:
    """The outcome of serving a demand curve with a given capacity strategy."""

    strategy: str
    server_hours: int
    cost_usd: float
    hours_overloaded: int


def fixed_capacity(demand: Sequence[float], servers: int, usd_hour: float) -> CapacityPlan:
    """Own ``servers`` machines all the time (the data-centre way)."""
    overloaded = sum(d > servers for d in demand)
    hours = servers * len(demand)
    return CapacityPlan(f"fixed {servers} servers", hours, round(hours * usd_hour, 2), overloaded)


def elastic_capacity(demand: Sequence[float], usd_hour: float) -> CapacityPlan:
    """Run just enough servers each hour (the elastic, pay-as-you-go way)."""
    hours = sum(math.ceil(d) for d in demand)
    return CapacityPlan("elastic", hours, round(hours * usd_hour, 2), 0)


def elastic_servers(demand: Sequence[float]) -> list[int]:
    """Servers an autoscaler would run each hour: demand rounded up."""
    return [math.ceil(d) for d in demand]


def plot_elasticity(demand: Sequence[float], fixed_servers: int, ax: Any = None) -> Any:
    """Plot hourly demand against a fixed fleet and an elastic (autoscaled) fleet."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3.5))
    hours = range(len(demand))
    ax.plot(hours, demand, color="0.3", label="demand")
    ax.step(hours, elastic_servers(demand), where="mid", color="#2ca02c", label="elastic servers")
    ax.axhline(fixed_servers, color="#d62728", linestyle="--", label=f"fixed: {fixed_servers} servers")
    ax.set_xlabel("hour of the week")
    ax.set_ylabel("servers' worth of load")
    ax.legend(loc="upper left")
    return ax


def plot_billing_options(on_demand_usd_hour: float, ax: Any = None) -> Any:
    """Monthly cost of each billing option as hours of use per month grow."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.8))
    hours = list(range(0, HOURS_PER_MONTH + 1, 10))
    for option in BILLING_OPTIONS:
        ax.plot(hours, [monthly_cost_by_option(on_demand_usd_hour, h)[option] for h in hours], label=option)
    ax.set_xlabel("hours used per month")
    ax.set_ylabel("USD per month")
    ax.set_title(f"One instance at ${on_demand_usd_hour}/hour on demand")
    ax.legend()
    return ax


def plot_forgotten_resources(resources: Sequence[Resource], days: int = 30, ax: Any = None) -> Any:
    """Cumulative cost over ``days`` if resources keep running, are stopped, or are deleted after 2 hours."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.8))
    hours = days * 24
    x = [h / 24 for h in range(hours + 1)]
    ax.plot(x, cumulative_cost(resources, hours), label="left running", color="#d62728")
    ax.plot(x, cumulative_cost(resources, hours, stop_after=2), label="stopped after 2 h", color="#ff7f0e")
    ax.plot(x, cumulative_cost(resources, hours, delete_after=2), label="deleted after 2 h", color="#2ca02c")
    ax.set_xlabel("days since the lab started")
    ax.set_ylabel("cumulative USD")
    ax.set_title("What a forgotten lab costs")
    ax.legend()
    return ax
