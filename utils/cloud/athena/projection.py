"""Partition projection: a table's partitions computed from its properties, not read from Glue.

With ``projection.enabled = 'true'`` in the table's TBLPROPERTIES (Glue ``Parameters``), Athena
ignores the partitions registered in the catalog and derives them from, per partition key,
``projection.<key>.type`` (AWS, "Partition projection with Amazon Athena"):

- ``integer``: ``range`` 'a,b', optional ``interval`` (1) and ``digits`` (zero padding);
- ``enum``: ``values`` 'x,y,z';
- ``date``: ``range`` 'start,end' in ``format`` (a Java date pattern) or ``NOW[+-N UNIT]``,
  optional ``interval`` (1) and ``interval.unit`` (the format's finest unit by default);
- ``injected``: no list at all - the query's WHERE must fix the key with equality predicates.

Each partition's location is ``storage.location.template`` with ``${key}`` replaced, or else the
table's LOCATION followed by ``key=value/`` per key (Hive layout). Equality predicates on the
keys cut the enumeration down first, so a filtered query lists only what it can read.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
from typing import Any

from utils.cloud.athena.dialect import joda_to_strftime
from utils.cloud.athena.errors import AthenaQueryError

# More projected partitions than this (after the WHERE's equalities) is refused, with a hint.
MAX_PARTITIONS = 20_000

_UNITS = {"YEARS": "years", "YEAR": "years", "MONTHS": "months", "MONTH": "months", "WEEKS": "weeks",
          "WEEK": "weeks", "DAYS": "days", "DAY": "days", "HOURS": "hours", "HOUR": "hours",
          "MINUTES": "minutes", "MINUTE": "minutes", "SECONDS": "seconds", "SECOND": "seconds"}
# Finest unit of a Java date pattern -> the default interval unit.
_FINEST = (("s", "seconds"), ("m", "minutes"), ("H", "hours"), ("h", "hours"), ("d", "days"),
           ("M", "months"), ("y", "years"))


def enabled(table_def: dict[str, Any]) -> bool:
    """Whether the table's partitions are projected."""
    params = table_def.get("Parameters") or {}
    return str(params.get("projection.enabled", "")).strip().lower() == "true"


def _fail(message: str) -> AthenaQueryError:
    return AthenaQueryError("HIVE_METASTORE_ERROR", f"Partition projection: {message}")


def _param(params: dict[str, str], key: str, name: str, required: bool = True) -> str | None:
    value = params.get(f"projection.{key}.{name}")
    if value is None and required:
        raise _fail(f"table property 'projection.{key}.{name}' is missing for projected column {key}")
    return value


def _integers(params: dict[str, str], key: str) -> list[str]:
    text = _param(params, key, "range") or ""
    try:
        low, high = (int(v.strip()) for v in text.split(","))
        step = int(_param(params, key, "interval", required=False) or 1)
        digits = int(_param(params, key, "digits", required=False) or 0)
    except ValueError:
        raise _fail(f"projection.{key}.range must be 'min,max' integers (got '{text}')") from None
    if step <= 0:
        raise _fail(f"projection.{key}.interval must be positive")
    if (high - low) // step + 1 > MAX_PARTITIONS:
        raise _too_many(key)
    return [str(v).zfill(digits) for v in range(low, high + 1, step)]


def _shift(moment: dt.datetime, amount: int, unit: str) -> dt.datetime:
    if unit in ("years", "months"):
        months = moment.month - 1 + amount * (12 if unit == "years" else 1)
        year, month = moment.year + months // 12, months % 12 + 1
        day = min(moment.day, [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
                               31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1])
        return moment.replace(year=year, month=month, day=day)
    return moment + dt.timedelta(**{unit: amount})


def _moment(text: str, pattern: str, key: str, now: dt.datetime) -> dt.datetime:
    text = text.strip()
    relative = re.fullmatch(r"NOW\s*(?:([+-])\s*(\d+)\s*([A-Za-z]+))?", text, re.IGNORECASE)
    if relative:
        if not relative.group(1):
            return now
        unit = _UNITS.get(relative.group(3).upper())
        if unit is None:
            raise _fail(f"unknown unit '{relative.group(3)}' in projection.{key}.range")
        amount = int(relative.group(2)) * (-1 if relative.group(1) == "-" else 1)
        return _shift(now, amount, unit)
    try:
        return dt.datetime.strptime(text, pattern)
    except ValueError:
        raise _fail(f"'{text}' in projection.{key}.range does not match projection.{key}.format") from None


def _dates(params: dict[str, str], key: str, now: dt.datetime) -> list[str]:
    java = _param(params, key, "format") or ""
    pattern = joda_to_strftime(java)
    text = _param(params, key, "range") or ""
    ends = text.split(",")
    if len(ends) != 2:
        raise _fail(f"projection.{key}.range must be 'start,end' (got '{text}')")
    start, end = (_moment(e, pattern, key, now) for e in ends)
    unit_text = _param(params, key, "interval.unit", required=False)
    if unit_text:
        unit = _UNITS.get(unit_text.strip().upper())
        if unit is None:
            raise _fail(f"unknown projection.{key}.interval.unit '{unit_text}'")
    else:
        letters = re.sub(r"'[^']*'", "", java)
        unit = next((u for letter, u in _FINEST if letter in letters), "days")
    step = int(_param(params, key, "interval", required=False) or 1)
    if step <= 0:
        raise _fail(f"projection.{key}.interval must be positive")
    values: list[str] = []
    moment = start
    while moment <= end:
        values.append(moment.strftime(pattern))
        if len(values) > MAX_PARTITIONS:
            raise _too_many(key)
        moment = _shift(moment, step, unit)
    return values


def _too_many(key: str) -> AthenaQueryError:
    return AthenaQueryError("HIVE_EXCEEDED_PARTITION_LIMIT", f"Partition projection of {key} yields more "
                            f"than {MAX_PARTITIONS} partitions for this query. Add an equality predicate on "
                            "the partition keys to the WHERE clause (or narrow projection ranges).")


def locations(table_def: dict[str, Any], equalities: dict[str, set[str]],
              now: dt.datetime | None = None) -> list[tuple[dict[str, str], str]]:
    """(partition values by key, S3 location) of every projected partition the query can read."""
    params = {k: str(v) for k, v in (table_def.get("Parameters") or {}).items()}
    keys = [k["Name"].lower() for k in table_def.get("PartitionKeys") or []]
    now = now or dt.datetime.now()
    candidates: list[list[str]] = []
    for key in keys:
        kind = (_param(params, key, "type") or "").strip().lower()
        wanted = equalities.get(key)
        if kind == "injected":
            if not wanted:
                raise AthenaQueryError(
                    "CONSTRAINT_VIOLATION", f"For the injected projected partition column {key}, the WHERE "
                    "clause must contain only static equality conditions, and at least one such condition "
                    "must be present.")
            values = sorted(wanted)
        elif kind == "enum":
            values = [v.strip() for v in (_param(params, key, "values") or "").split(",") if v.strip()]
        elif kind == "integer":
            values = _integers(params, key)
        elif kind == "date":
            values = _dates(params, key, now)
        else:
            raise _fail(f"projection.{key}.type must be enum, integer, date or injected (got '{kind}')")
        if wanted and kind != "injected":
            values = [v for v in values if v in wanted or _same_number(v, wanted)]
        candidates.append(values)
    total = 1
    for values in candidates:
        total *= len(values)
    if total > MAX_PARTITIONS:
        raise _too_many(", ".join(keys))
    template = params.get("storage.location.template")
    root = ((table_def.get("StorageDescriptor") or {}).get("Location") or "").rstrip("/")
    out = []
    for combo in itertools.product(*candidates):
        values = dict(zip(keys, combo, strict=True))
        if template:
            location = template
            for key, value in values.items():
                location = re.sub(r"\$\{" + re.escape(key) + r"\}", value.replace("\\", r"\\"), location,
                                  flags=re.IGNORECASE)
        else:
            location = root + "/" + "/".join(f"{k}={v}" for k, v in values.items())
        out.append((values, location if location.endswith("/") else location + "/"))
    return out


def existing(found: list[tuple[dict[str, str], str]], store: Any) -> list[tuple[dict[str, str], str]]:
    """The projected partitions that hold objects, found with one listing of their common prefix
    (instead of one listing per partition: a date range can project thousands)."""
    if len(found) <= 16:
        return found
    common = os.path.commonprefix([location for _, location in found])
    common = common[:common.rfind("/") + 1]
    if common.count("/") < 3:  # s3://bucket/ at least
        return found
    try:
        keys = [f"s3://{obj.bucket}/{obj.key}" for obj in store.list_uri(common)]
    except Exception:  # noqa: BLE001 - the reader reports a missing bucket with Athena's wording
        return found
    folders = set()
    for key in keys:
        end = key.rfind("/")
        while end > len(common) - 1:
            folders.add(key[:end + 1])
            end = key.rfind("/", 0, end)
    return [item for item in found if item[1] in folders]


def _same_number(value: str, wanted: set[str]) -> bool:
    """``c = 1`` matches the projected ``01`` of a zero-padded integer key."""
    if not value.lstrip("-").isdigit():
        return False
    return any(w.lstrip("-").isdigit() and int(w) == int(value) for w in wanted)
