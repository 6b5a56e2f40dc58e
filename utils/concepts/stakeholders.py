"""Who a data engineer works with, and how to rank work by business value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: People and systems whose data you consume (you depend on them).
UPSTREAM: dict[str, str] = {
    "software engineers": "build the apps and databases that generate the data",
    "database administrators": "run the source databases, their access and their maintenance windows",
    "third-party API providers": "decide the format, limits and changes of the data they share",
    "device / IoT teams": "own the sensors and firmware that emit event streams",
}

#: People and systems that consume what you build (they depend on you).
DOWNSTREAM: dict[str, str] = {
    "data analysts": "explore data and build dashboards to answer business questions",
    "data scientists": "build models and experiments; need clean, documented features",
    "ML engineers": "train and run models in production; need reliable, timely data",
    "business leaders": "decide strategy from metrics they must be able to trust",
    "marketing and sales teams": "act on insights, sometimes through data fed back into their tools",
    "customers": "see analytics embedded in the product they use",
}


def direction(
    role: str,
    *,
    produces_data_you_ingest: bool | None = None,
    uses_what_you_deliver: bool | None = None,
) -> str:
    """Say which way a role faces, from what it does with data.

    A role that produces data you ingest is ``'upstream'``; one that uses what you
    deliver is ``'downstream'``; one that does both is ``'upstream and downstream'``
    (a sales team that types orders into the CRM and reads your dashboard); one that
    does neither is ``'not a stakeholder of this pipeline'``. Without the two answers,
    a role from :data:`UPSTREAM` or :data:`DOWNSTREAM` is looked up by name; for any
    other role, answer the two questions.
    """
    if produces_data_you_ingest is not None or uses_what_you_deliver is not None:
        produces, uses = bool(produces_data_you_ingest), bool(uses_what_you_deliver)
        if produces and uses:
            return "upstream and downstream"
        if produces:
            return "upstream"
        if uses:
            return "downstream"
        return "not a stakeholder of this pipeline"
    key = role.strip().lower()
    if key in (name.lower() for name in UPSTREAM):
        return "upstream"
    if key in (name.lower() for name in DOWNSTREAM):
        return "downstream"
    known = ", ".join([*UPSTREAM, *DOWNSTREAM])
    raise KeyError(
        f"{role!r} is not in these tables (known roles: {known}). Classify it by what it does: "
        f"direction({role!r}, produces_data_you_ingest=..., uses_what_you_deliver=...)."
    )


@dataclass(frozen=True)
class Project:
    """A candidate piece of work: what it is worth to the business and what it costs."""

    name: str
    annual_value_usd: float  # estimated benefit to the business per year
    effort_weeks: float
    stakeholder: str | None  # who asked for it; None means nobody


def value_per_week(project: Project) -> float:
    """Annual value delivered per week of effort; work nobody asked for is worth 0."""
    if project.effort_weeks <= 0:
        raise ValueError(f"{project.name!r}: effort_weeks must be positive.")
    if project.stakeholder is None:
        return 0.0
    return project.annual_value_usd / project.effort_weeks


def prioritize(projects: list[Project]) -> list[tuple[str, float]]:
    """Rank projects by value per week of effort, best first, as ``(name, value/week)``."""
    ranked = sorted(projects, key=lambda p: (-value_per_week(p), p.name))
    return [(p.name, round(value_per_week(p))) for p in ranked]


def hours_recovered(
    team_size: int, hours_per_week: float, share_spent_wrangling: float, share_automated: float
) -> float:
    """Weekly hours a team gets back when a pipeline automates part of its data wrangling."""
    if not (0 <= share_spent_wrangling <= 1 and 0 <= share_automated <= 1):
        raise ValueError("Shares are fractions between 0 and 1.")
    return team_size * hours_per_week * share_spent_wrangling * share_automated


def plot_value_vs_effort(projects: list[Project], ax: Any = None) -> Any:
    """Scatter projects by effort and value; grey points have no stakeholder."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.8))
    for p in projects:
        colour = "#4c72b0" if p.stakeholder else "0.6"
        ax.scatter(p.effort_weeks, p.annual_value_usd / 1000, s=90, color=colour)
        ax.annotate(
            p.name,
            (p.effort_weeks, p.annual_value_usd / 1000),
            textcoords="offset points",
            xytext=(6, 5),
            fontsize=8,
        )
    ax.set_xlabel("effort (weeks)")
    ax.set_ylabel("estimated value (k$ / year)")
    ax.set_xlim(0, max(p.effort_weeks for p in projects) * 1.7)
    ax.set_title("Value against effort")
    return ax


@dataclass(frozen=True)
class StakeholderCase:
    """Someone around the week-2 lab's pipeline (classicmodels -> star schema -> dashboard)."""

    who: str
    produces_data_you_ingest: bool
    uses_what_you_deliver: bool
    why: str

    @property
    def direction(self) -> str:
        """Which way this person faces, by :func:`direction`'s two questions."""
        return direction(self.who, produces_data_you_ingest=self.produces_data_you_ingest,
                         uses_what_you_deliver=self.uses_what_you_deliver)


#: People around the lab's pipeline, for lesson 04's exercise 1.
LAB_STAKEHOLDERS: tuple[StakeholderCase, ...] = (
    StakeholderCase("the web-shop developers who own the orders tables in MariaDB", True, False,
                    "their schema changes and releases decide what your job can read"),
    StakeholderCase("the sales reps, who type phone orders into the order system and check the dashboard "
                    "for their territory", True, True,
                    "the orders they enter are your input, and the dashboard they read is your output"),
    StakeholderCase("the marketing analyst who picks the products to promote from the dashboard", False, True,
                    "she acts on what you deliver and never feeds your source"),
    StakeholderCase("the database administrator who runs MariaDB and its nightly backup window", True, False,
                    "the source's availability, access and maintenance windows are in their hands"),
    StakeholderCase("the finance team, who reports the monthly revenue your star schema computes",
                    False, True,
                    "a wrong total in your fact table becomes a wrong figure in their report"),
    StakeholderCase("the IT help desk, who resets employees' laptop passwords", False, False,
                    "they neither feed this pipeline nor use what it delivers"),
)


def automation_value(
    team_size: int,
    hours_per_week: float,
    share_spent_wrangling: float,
    share_automated: float,
    hourly_cost: float,
    working_weeks: float,
) -> float:
    """Yearly value (in the currency of ``hourly_cost``) of the hours a pipeline hands back.

    The hours of :func:`hours_recovered`, costed at what an hour of the team costs the business,
    over the weeks they work in a year.
    """
    if hourly_cost < 0 or working_weeks < 0:
        raise ValueError("hourly_cost and working_weeks cannot be negative.")
    hours = hours_recovered(team_size, hours_per_week, share_spent_wrangling, share_automated)
    return hours * hourly_cost * working_weeks
