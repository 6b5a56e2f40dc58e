"""Athena partition projection: a table with ``projection.enabled = true`` has its partitions
computed from its properties instead of read from the Glue catalog.

Per partition column ``c`` (``projection.c.type``):

- ``enum``: ``projection.c.values`` (comma-separated);
- ``integer``: ``projection.c.range`` (``min,max``), ``.interval`` (1), ``.digits`` (zero-padding);
- ``date``: ``projection.c.range`` (dates in ``.format``, or ``NOW[+-N UNIT]``), ``.format`` (a
  Java date pattern), ``.interval`` (1) and ``.interval.unit`` (DAYS, or SECONDS... );
- ``injected``: the values the query's WHERE clause gives (required, as on AWS).

Locations come from ``storage.location.template`` (``${c}`` placeholders) or are
``<table location>/c=value/...``. Partitions whose location holds nothing are simply empty.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import Any

from utils.cloud.athena.errors import AthenaQueryError

# Athena's limit on the partitions one query may project.
MAX_PROJECTED = 1_000_000
# This local engine lists each projected location: beyond this many, narrow the query.
MAX_LISTED = 20_000

_UNITS = {"YEARS": "years", "MONTHS": "months", "WEEKS": "weeks", "DAYS": "days", "HOURS": "hours",
          "MINUTES": "minutes", "SECONDS": "seconds", "MILLISECONDS": "milliseconds"}
# Java DateTimeFormatter letters -> strftime.
_JAVA = [("yyyy", "%Y"), ("yy", "%y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M"),
         ("ss", "%S"), ("SSS", "%f")]


def enabled(table_def: dict[str, Any]) -> bool:
    """True when the table uses partition projection."""
    params = table_def.get("Parameters") or {}
    return str(params.get("projection.enabled", "")).lower() == "true"


def _fail(message: str) -> AthenaQueryError:
    return AthenaQueryError("HIVE_METASTORE_ERROR", message)


def _java_to_strftime(pattern: str) -> str:
    out, i = "", 0
    while i < len(pattern):
        for java, py in _JAVA:
            if pattern.startswith(java, i):
                out += py
                i += len(java)
                break
        else:
            char = pattern[i]
            if char == "'":
                end = pattern.index("'", i + 1) if "'" in pattern[i + 1:] else len(pattern)
                out += pattern[i + 1:end]
                i = end + 1
                continue
            out += "%%" if char == "%" else char
            i += 1
    return out


def _step(value: dt.datetime, amount: int, unit: str) -> dt.datetime:
    if unit in ("years", "months"):
        months = value.month - 1 + amount * (12 if unit == "years" else 1)
        year, month = value.year + months // 12, months % 12 + 1
        day = min(value.day, [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31,
                              30, 31, 31, 30, 31, 30, 31][month - 1])
        return value.replace(year=year, month=month, day=day)
    return value + dt.timedelta(**{unit: amount})


def _date_bound(text: str, fmt: str, column: str) -> dt.datetime:
    text = text.strip()
    relative = re.fullmatch(r"NOW\s*(?:([+-])\s*(\d+)\s*([A-Z]+?)S?)?", text, re.IGNORECASE)
    if relative:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        if not relative.group(1):
            return now
        unit = _UNITS.get(relative.group(3).upper() + "S")
        if unit is None:
            raise _fail(f"Unsupported unit '{relative.group(3)}' in projection.{column}.range")
        sign = 1 if relative.group(1) == "+" else -1
        return _step(now, sign * int(relative.group(2)), unit)
    try:
        return dt.datetime.strptime(text, fmt)
    except ValueError:
        raise _fail(f"Invalid date '{text}' in projection.{column}.range: expected the format of "
                    f"projection.{column}.format") from None


def column_values(params: dict[str, str], column: str, wanted: set[str] | None) -> list[str]:
    """The projected values of one partition column (narrowed to ``wanted`` when the query fixes it)."""
    kind = (params.get(f"projection.{column}.type") or "").lower()
    if kind == "injected":
        if not wanted:
            raise AthenaQueryError(
                "CONSTRAINT_VIOLATION", f"For the injected projected partition column {column}, the WHERE "
                "clause must contain only static equality conditions, and at least one such condition "
                "must be present.")
        return sorted(wanted)
    if kind == "enum":
        listed = (params.get(f"projection.{column}.values") or "").split(",")
        values = [v.strip() for v in listed if v.strip()]
    elif kind == "integer":
        low, high = _range(params, column)
        try:
            start, end = int(low), int(high)
            interval = int(params.get(f"projection.{column}.interval") or 1)
            digits = int(params.get(f"projection.{column}.digits") or 0)
        except ValueError:
            raise _fail(f"projection.{column}: range, interval and digits must be integers") from None
        if (end - start) // max(interval, 1) > MAX_PROJECTED:
            raise _fail(f"projection.{column}.range projects more than {MAX_PROJECTED} partitions")
        values = [f"{v:0{digits}d}" for v in range(start, end + 1, max(interval, 1))]
    elif kind == "date":
        java = params.get(f"projection.{column}.format")
        if not java:
            raise _fail(f"projection.{column}.format is required for a date projection")
        fmt = _java_to_strftime(java)
        low, high = _range(params, column)
        start, end = _date_bound(low, fmt, column), _date_bound(high, fmt, column)
        interval = int(params.get(f"projection.{column}.interval") or 1)
        default_unit = "DAYS" if not any(x in java for x in ("H", "m", "s")) else "SECONDS"
        unit = _UNITS.get((params.get(f"projection.{column}.interval.unit") or default_unit).upper())
        if unit is None:
            raise _fail(f"Unsupported projection.{column}.interval.unit")
        values, current = [], start
        while current <= end:
            values.append(current.strftime(fmt))
            if len(values) > MAX_PROJECTED:
                raise _fail(f"projection.{column}.range projects more than {MAX_PROJECTED} partitions")
            current = _step(current, max(interval, 1), unit)
    else:
        raise _fail(f"Column {column}: projection.{column}.type must be enum, integer, date or injected "
                    f"(got '{kind}')")
    if wanted:
        values = [v for v in values if v in wanted or _same_number(v, wanted)]
    return values


def _same_number(value: str, wanted: set[str]) -> bool:
    try:
        return float(value) in {float(w) for w in wanted}
    except ValueError:
        return False


def _range(params: dict[str, str], column: str) -> tuple[str, str]:
    bounds = (params.get(f"projection.{column}.range") or "").split(",")
    if len(bounds) != 2:
        raise _fail(f"projection.{column}.range must be 'start,end'")
    return bounds[0].strip(), bounds[1].strip()


def locations(table_def: dict[str, Any], partition_filter: dict[str, set[str]] | None
              ) -> list[tuple[dict[str, str], str]]:
    """(partition values, location) of every projected partition the query may read."""
    params = {**(table_def.get("Parameters") or {})}
    keys = [k["Name"].lower() for k in table_def.get("PartitionKeys") or []]
    base = ((table_def.get("StorageDescriptor") or {}).get("Location") or "").rstrip("/")
    if not keys:
        return [({}, base)]
    wanted = partition_filter or {}
    per_column = [column_values(params, key, wanted.get(key)) for key in keys]
    count = 1
    for values in per_column:
        count *= len(values)
    if count > MAX_LISTED:
        raise AthenaQueryError(
            "NOT_SUPPORTED", f"The query projects {count} partitions; the local Athena lists at most "
            f"{MAX_LISTED}: add WHERE conditions on the partition columns ({', '.join(keys)})")
    template = params.get("storage.location.template")
    out = []
    for combo in itertools.product(*per_column):
        values = dict(zip(keys, combo, strict=True))
        if template:
            location = template
            for key, value in values.items():
                location = location.replace("${" + key + "}", value)
        else:
            location = base + "/" + "/".join(f"{k}={v}" for k, v in values.items())
        out.append((values, location))
    return out
