"""What the cloud costs: pay-as-you-go, elasticity, billing options, forgotten resources.

Prices are rounded us-east-1 list prices at the time of writing, for teaching
only (AWS changes them; check the pricing pages for real decisions).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

HOURS_PER_MONTH = 730  # AWS bills a month as 730 hours

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
S3_STANDARD_USD_GB_MONTH = 0.023

#: Fraction of the on-demand price paid under each billing option (typical figures).
BILLING_OPTIONS: dict[str, dict[str, object]] = {
    "on-demand": {"factor": 1.0, "committed": False, "note": "pay per second of use, no commitment"},
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
    """A billable resource: what it costs per hour while running and while stopped."""

    name: str
    running_usd_hour: float
    stopped_usd_hour: float = 0.0


def ebs_usd_hour(gib: float) -> float:
    """Hourly cost of a gp3 EBS volume (it is billed even when its instance is stopped)."""
    return gib * EBS_GP3_USD_GB_MONTH / HOURS_PER_MONTH


def lab_resources() -> list[Resource]:
    """The kind of resources a course lab starts: a small VM, a database, networking."""
    disk = ebs_usd_hour(30)
    return [
        Resource("EC2 t3.small + 30 GiB disk", HOURLY_PRICES["ec2 t3.small"] + disk, disk),
        Resource(
            "RDS db.t3.micro + 20 GiB",
            HOURLY_PRICES["rds db.t3.micro (MySQL)"] + ebs_usd_hour(20),
            ebs_usd_hour(20),
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
    (disks, NAT gateways and addresses keep billing). ``delete_after`` hours:
    nothing is billed afterwards. Returns ``hours + 1`` values starting at 0.
    """
    totals = [0.0]
    for hour in range(hours):
        if delete_after is not None and hour >= delete_after:
            rate = 0.0
        elif stop_after is not None and hour >= stop_after:
            rate = sum(r.stopped_usd_hour for r in resources)
        else:
            rate = sum(r.running_usd_hour for r in resources)
        totals.append(totals[-1] + rate)
    return totals


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
