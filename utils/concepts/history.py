"""A short history of data engineering as data: eras and milestones, plus a timeline plot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Era:
    """A period of the history and the idea that defines it."""

    name: str
    start: int
    end: int
    theme: str


@dataclass(frozen=True)
class Milestone:
    """One dated event."""

    year: int
    event: str


ERAS: tuple[Era, ...] = (
    Era("Databases", 1960, 1979, "computers create digital data; the relational model and SQL"),
    Era("Warehouses & BI", 1980, 1997, "data warehouses for analysis; Inmon and Kimball modelling"),
    Era("Web & big data", 1998, 2007, "internet-scale data; MapReduce and Hadoop"),
    Era("Cloud & streaming", 2008, 2019, "rented infrastructure; real-time event streams"),
    Era("Modern data engineering", 2020, 2026, "cloud-first platforms that serve business goals and AI"),
)

MILESTONES: tuple[Milestone, ...] = (
    Milestone(1970, "Codd publishes the relational model"),
    Milestone(1974, "SEQUEL (later SQL) designed at IBM"),
    Milestone(1979, "Oracle ships a commercial SQL database"),
    Milestone(1988, "Devlin & Murphy describe a business data warehouse"),
    Milestone(1992, "Inmon: Building the Data Warehouse"),
    Milestone(1996, "Kimball: The Data Warehouse Toolkit"),
    Milestone(2004, "Google's MapReduce paper"),
    Milestone(2006, "Hadoop starts; AWS launches S3 and EC2"),
    Milestone(2011, "Kafka open-sourced by LinkedIn"),
    Milestone(2012, "Amazon Redshift announced"),
    Milestone(2014, "Apache Spark 1.0"),
    Milestone(2015, "Airbnb open-sources Airflow"),
    Milestone(2017, "'The Rise of the Data Engineer' essay"),
    Milestone(2022, "Fundamentals of Data Engineering published"),
)


def era_of(year: int) -> Era:
    """Return the era a year belongs to."""
    for era in ERAS:
        if era.start <= year <= era.end:
            return era
    raise ValueError(f"{year} is outside the timeline ({ERAS[0].start}-{ERAS[-1].end}).")


def milestones_in(era: Era) -> list[Milestone]:
    """The milestones that fall inside ``era``."""
    return [m for m in MILESTONES if era.start <= m.year <= era.end]


def plot_timeline(ax: Any = None) -> Any:
    """Draw the eras as coloured bands and the milestones as labelled ticks; return the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(11, 5.5))
    colours = plt.get_cmap("Pastel1").colors
    for i, era in enumerate(ERAS):
        ax.axvspan(era.start, era.end + 1, color=colours[i % len(colours)], alpha=0.9)
        label = era.name.replace(" & ", " &\n").replace("Modern data engineering", "Modern data\nengineering")
        ax.text(
            (era.start + era.end + 1) / 2,
            0.98,
            label,
            ha="center",
            va="top",
            fontsize=8.5,
            weight="bold",
            transform=ax.get_xaxis_transform(),
        )
    n = len(MILESTONES)
    for i, m in enumerate(MILESTONES):
        height = 0.06 + 0.78 * i / n  # one row per milestone: labels never overlap
        ax.vlines(m.year, 0, height, color="0.45", linewidth=0.8)
        ax.plot(m.year, height, "o", color="0.2", markersize=3)
        right_side = m.year < 2000
        ax.text(
            m.year + (0.5 if right_side else -0.5),
            height,
            f"{m.year} {m.event}",
            fontsize=7.5,
            va="center",
            ha="left" if right_side else "right",
        )
    ax.set_xlim(ERAS[0].start, ERAS[-1].end + 1)
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.set_title("A short history of data engineering")
    return ax
