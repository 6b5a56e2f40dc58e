"""Table-level lineage of the week-2 lab, read from the SQL the lab really runs.

Lineage answers "what is built from what": for every table the ETL job writes (and for the
dashboard's query), the tables its SQL reads. It is computed from
:data:`utils.etl.job.STAGING_SQL`, :data:`utils.etl.job.STAR_SQL` and
:data:`utils.teaching.dashboard.SALES_SQL`, so it follows the lab when the lab changes.
Lesson 02 uses it to turn a change in a source table into the list of everything downstream
that it can break.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

DASHBOARD = "dashboard"
"""The node name of the lab's dashboard (its one Athena query, ``SALES_SQL``)."""

_CTE = re.compile(r"(?:\bWITH|,)\s+([A-Za-z_]\w*)\s+AS\s*\(", re.IGNORECASE)
_SOURCE = re.compile(r"\b(?:FROM|JOIN)\s+([A-Za-z_]\w*)", re.IGNORECASE)
_COMMENT = re.compile(r"--[^\n]*")


def sql_inputs(sql: str) -> set[str]:
    """The tables a SELECT reads (after FROM or JOIN), without its own CTE names, lower-cased."""
    text = _COMMENT.sub("", sql)
    ctes = {name.lower() for name in _CTE.findall(text)}
    return {name.lower() for name in _SOURCE.findall(text)} - ctes


def lab_lineage() -> dict[str, set[str]]:
    """Every table the lab builds (and the dashboard) -> the tables it reads."""
    from utils.etl.job import STAGING_SQL, STAR_SQL
    from utils.teaching.dashboard import SALES_SQL

    lineage = {name: sql_inputs(sql) for name, sql in {**STAGING_SQL, **STAR_SQL}.items()}
    lineage[DASHBOARD] = sql_inputs(SALES_SQL)
    return lineage


def source_tables(lineage: Mapping[str, set[str]]) -> set[str]:
    """The tables that are read but not built: the source system's tables."""
    read = set().union(*lineage.values()) if lineage else set()
    return read - set(lineage)


def downstream_of(table: str, lineage: Mapping[str, set[str]]) -> set[str]:
    """Everything built, directly or through other tables, from ``table`` (``table`` excluded)."""
    affected: set[str] = set()
    frontier = [table]
    while frontier:
        changed = frontier.pop()
        for built, inputs in lineage.items():
            if changed in inputs and built not in affected:
                affected.add(built)
                frontier.append(built)
    affected.discard(table)
    return affected
