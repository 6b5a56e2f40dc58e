"""A short history of data engineering as data: eras and milestones, plus a timeline plot."""

from __future__ import annotations

from collections.abc import Sequence
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


ERA_STARTS: tuple[tuple[str, int, str], ...] = (
    ("Databases", 1960, "computers create digital data; the relational model and SQL"),
    ("Warehouses & BI", 1980, "data warehouses for analysis; Inmon and Kimball modelling"),
    ("Web & big data", 1998, "internet-scale data; GFS, MapReduce and open-source clones"),
    ("Cloud & streaming", 2006, "rented infrastructure (S3 and EC2, 2006); real-time event streams"),
    ("Modern data engineering", 2020, "cloud-first platforms that serve business goals and AI"),
)
"""THE table of eras: name, first year, theme. Everything else (:data:`ERAS`, :func:`era_of`,
the timeline, the lesson's section headings via :func:`era_span`) is computed from it, so the
boundaries cannot disagree: an era ends the year before the next one starts."""

LAST_YEAR = 2026
"""The last year the timeline shows (the last era is open-ended: "since 2020")."""

ERAS: tuple[Era, ...] = tuple(
    Era(name, start, (ERA_STARTS[i + 1][1] - 1) if i + 1 < len(ERA_STARTS) else LAST_YEAR, theme)
    for i, (name, start, theme) in enumerate(ERA_STARTS)
)

MILESTONES: tuple[Milestone, ...] = (
    Milestone(1970, "Codd publishes the relational model"),
    Milestone(1974, "SEQUEL (later SQL) designed at IBM"),
    Milestone(1979, "Oracle ships a commercial SQL database"),
    Milestone(1988, "Devlin & Murphy describe a business data warehouse"),
    Milestone(1992, "Inmon: Building the Data Warehouse"),
    Milestone(1996, "Kimball: The Data Warehouse Toolkit"),
    Milestone(2003, "Google's GFS paper (a file system over many machines)"),
    Milestone(2004, "Google's MapReduce paper"),
    Milestone(2005, "Nutch runs an open-source MapReduce"),
    Milestone(2006, "AWS launches S3 and EC2; Hadoop splits out of Nutch"),
    Milestone(2011, "Kafka open-sourced by LinkedIn"),
    Milestone(2012, "Amazon Redshift announced"),
    Milestone(2014, "Apache Spark 1.0"),
    Milestone(2015, "Airbnb open-sources Airflow"),
    Milestone(2016, "Amazon Athena: SQL on S3 files, no server"),
    Milestone(2017, "'The Rise of the Data Engineer' essay"),
    Milestone(2022, "Fundamentals of Data Engineering published"),
)


def era_span(era: Era) -> str:
    """How the lesson writes an era's years: ``'2006-2019'``, or ``'Since 2020'`` for the last one."""
    return f"Since {era.start}" if era is ERAS[-1] else f"{era.start}-{era.end}"


def era_of(year: int) -> Era:
    """Return the era a year belongs to."""
    for era in ERAS:
        if era.start <= year <= era.end:
            return era
    raise ValueError(f"{year} is outside the timeline ({ERAS[0].start}-{ERAS[-1].end}).")


def era_name_from_starts(year: int, starts: Sequence[tuple[str, int, str]], last_year: int) -> str | None:
    """The name of the era ``year`` falls in, from a table of ``(name, first year, theme)`` rows.

    An era runs from its first year up to the year before the next era starts (the last one
    up to ``last_year``); a year before the first era or after ``last_year`` has no era (None).
    The same rule builds :data:`ERAS`, so this agrees with :func:`era_of` on the lesson's table.
    """
    if not starts or year < starts[0][1] or year > last_year:
        return None
    name = None
    for era_name, first_year, _theme in starts:
        if year >= first_year:
            name = era_name
    return name


@dataclass(frozen=True)
class StackIdea:
    """A piece of the week-2 lab and the dated idea it rests on."""

    part: str
    year: int
    origin: str


LAB_STACK: tuple[StackIdea, ...] = (
    StackIdea("classicmodels: orders and customers in tables, queried with SQL", 1974,
              "the relational model (1970) and SQL (1974)"),
    StackIdea("a separate copy of the sales data for analysis, apart from the order system", 1988,
              "the business data warehouse (Devlin & Murphy, 1988)"),
    StackIdea("the star schema: fact_orders surrounded by dimension tables", 1996,
              "Kimball's dimensional modelling (1996)"),
    StackIdea("the idea under the course's Spark-based Glue job: split one big job over many machines", 2004,
              "Google's MapReduce paper (2004)"),
    StackIdea("the data lake bucket: storage rented by the gigabyte-month through an API", 2006,
              "Amazon S3 (2006)"),
    StackIdea("Athena: SQL over the Parquet files in S3, with no server to run", 2016,
              "Amazon Athena (2016)"),
)
"""The lab's stack, part by part, with the year of the idea each part rests on (lesson 03, exercise 2)."""


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
        name = era.name.replace(" & ", " &\n").replace("Modern data engineering", "Modern data\nengineering")
        label = f"{name}\n{era_span(era).replace('Since ', 'since ')}"  # the same years as the headings
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
        height = 0.06 + 0.74 * i / n  # one row per milestone: labels never overlap
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
