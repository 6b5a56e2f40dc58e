"""Fine-grained access to lake tables, as AWS Lake Formation grants it, in miniature.

Lake Formation keeps permissions on the Glue Data Catalog's databases, tables and
columns, and the engines that read the lake (Athena, Glue, Redshift Spectrum, EMR)
enforce them. Instead of granting column by column, you tag columns with LF-tags (here
``classification``: public, internal, pii) and grant a role every column whose tag has
certain values; a data filter can also restrict rows. :func:`visible` evaluates such grants
on the columns of the lab's ``dim_customers`` table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

DIM_CUSTOMERS_TAGS: dict[str, str] = {
    "customerNumber": "internal",
    "customerName": "public",
    "contactLastName": "pii",
    "contactFirstName": "pii",
    "phone": "pii",
    "addressLine1": "pii",
    "addressLine2": "pii",
    "creditLimit": "internal",
    "country": "public",
}
"""The columns of the lab's ``dim_customers`` (plus ``country`` from its location) and their LF-tag."""


@dataclass(frozen=True)
class TagGrant:
    """``role`` may SELECT the columns whose classification is in ``values``, in rows passing ``row_filter``.

    ``row_filter`` maps a column to the value a row must have (a Lake Formation data filter).
    """

    role: str
    values: tuple[str, ...]
    row_filter: Mapping[str, Any] = field(default_factory=dict)  # column -> required value


def visible(rows: Sequence[Mapping[str, Any]], tags: Mapping[str, str], grants: Sequence[TagGrant],
            role: str) -> list[dict[str, Any]]:
    """What ``role`` sees of ``rows``: only granted columns, only rows its filter lets through.

    No grant for the role means no access at all (an empty result): deny by default, as in IAM.
    """
    mine = [g for g in grants if g.role == role]
    if not mine:
        return []
    seen = []
    for row in rows:
        columns: set[str] = set()
        for grant in mine:
            if all(row.get(col) == value for col, value in grant.row_filter.items()):
                columns |= {c for c, tag in tags.items() if tag in grant.values}
        if columns:
            seen.append({c: v for c, v in row.items() if c in columns})
    return seen
