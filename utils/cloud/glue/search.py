"""Glue ``SearchTables`` over the local Data Catalog (moto has no search).

As the Glue API describes it:

- ``SearchText`` matches table names, database names, descriptions, column names and
  comments and parameter values, case-insensitively; in double quotes it must match a
  whole value, otherwise any part of one;
- each ``Filters`` predicate names a field (``Name``, ``DatabaseName``, ``Description``,
  ``TableType``, ``Owner``, ``Location``, a table parameter such as ``classification``,
  or a time field ``CreateTime``/``UpdateTime``/``LastAccessTime``). String fields are
  split into tokens at punctuation and one token must equal the value
  (``Name=link`` finds ``customer-link``, not ``customerlink``); time fields are
  compared with ``Comparator`` (EQUALS, GREATER_THAN, LESS_THAN, GREATER_THAN_EQUALS,
  LESS_THAN_EQUALS);
- ``SortCriteria`` orders by one field (ASC or DESC); by default, database then name.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from utils.cloud.glue.exceptions import InvalidInput

TIME_FIELDS = ("CreateTime", "UpdateTime", "LastAccessTime")
COMPARATORS = ("EQUALS", "GREATER_THAN", "LESS_THAN", "GREATER_THAN_EQUALS", "LESS_THAN_EQUALS")
_TOKEN_SPLIT = re.compile(r"[^0-9A-Za-z]+")


def all_tables(backend: Any) -> list[dict[str, Any]]:
    """Every table of every database of a moto Glue backend, as GetTable describes it."""
    out = []
    for database in list(backend.databases.values()):
        for table in list(database.tables.values()):
            out.append(table.as_dict())
    return out


def _field(table: dict[str, Any], key: str) -> Any:
    if key in ("Name", "TableName"):
        return table.get("Name")
    if key == "Location":
        return (table.get("StorageDescriptor") or {}).get("Location")
    if key in table:
        return table[key]
    return (table.get("Parameters") or {}).get(key)


def _searchable_text(table: dict[str, Any]) -> list[str]:
    descriptor = table.get("StorageDescriptor") or {}
    columns = list(descriptor.get("Columns") or []) + list(table.get("PartitionKeys") or [])
    values = [table.get("Name"), table.get("DatabaseName"), table.get("Description")]
    values += [c.get("Name") for c in columns] + [c.get("Comment") for c in columns]
    values += list((table.get("Parameters") or {}).values())
    return [str(v).lower() for v in values if v]


def matches_text(table: dict[str, Any], text: str) -> bool:
    """True when the table matches a SearchText."""
    text = text.strip()
    if not text:
        return True
    fields = _searchable_text(table)
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].lower() in fields
    return any(text.lower() in field for field in fields)


def _as_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip()
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"Filter value {text!r} is not a time: use an ISO 8601 date "
                           "(2024-01-31T12:00:00Z) or seconds since 1970.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def matches_filter(table: dict[str, Any], predicate: dict[str, Any]) -> bool:
    """True when the table satisfies one PropertyPredicate."""
    key, value = predicate.get("Key"), predicate.get("Value")
    if not key:
        raise InvalidInput("Each filter needs a Key (e.g. {\"Key\": \"DatabaseName\", \"Value\": \"...\"}).")
    actual = _field(table, key)
    if actual is None or value is None:
        return False
    if key in TIME_FIELDS:
        comparator = predicate.get("Comparator") or "EQUALS"
        if comparator not in COMPARATORS:
            raise InvalidInput(f"Comparator {comparator!r} is not one of {', '.join(COMPARATORS)}.")
        left, right = _as_time(actual), _as_time(value)
        return {"EQUALS": left == right, "GREATER_THAN": left > right, "LESS_THAN": left < right,
                "GREATER_THAN_EQUALS": left >= right, "LESS_THAN_EQUALS": left <= right}[comparator]
    actual_text, wanted = str(actual).lower(), str(value).lower()
    return actual_text == wanted or wanted in _TOKEN_SPLIT.split(actual_text)


def search_tables(backend: Any, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The tables a SearchTables request selects, in its order (paging is the caller's)."""
    tables = [t for t in all_tables(backend)
              if matches_text(t, body.get("SearchText") or "")
              and all(matches_filter(t, p) for p in body.get("Filters") or [])]
    criteria = body.get("SortCriteria") or []
    if len(criteria) > 1:
        raise InvalidInput("SortCriteria takes one criterion.")
    if criteria:
        field, order = criteria[0].get("FieldName") or "Name", criteria[0].get("Sort") or "ASC"
        if order not in ("ASC", "DESC"):
            raise InvalidInput("SortCriteria.Sort must be ASC or DESC.")
        present = [t for t in tables if _field(t, field) is not None]
        absent = [t for t in tables if _field(t, field) is None]
        present.sort(key=lambda t: _sort_key(_field(t, field)), reverse=order == "DESC")
        return present + absent
    return sorted(tables, key=lambda t: (t.get("DatabaseName") or "", t.get("Name") or ""))


def _sort_key(value: Any) -> Any:
    return _as_time(value).timestamp() if isinstance(value, datetime) else str(value).lower()
