"""Bucket pruning: read only the bucket files an equality predicate can match, as Athena does.

A bucketed table (Glue ``StorageDescriptor.BucketColumns`` / ``NumberOfBuckets``, e.g. written by
awswrangler with ``bucketing_info`` or by a CTAS with ``bucketed_by``) spreads its rows over N
files by a hash of the bucket columns. When the WHERE fixes every bucket column to constants
(``c = 0``, ``c IN ('a', 'b')``), Trino's Hive connector reads only the matching buckets' files,
so less data is scanned. The hash is Hive's (bucketing version 1):

- tinyint/smallint/int: the value; bigint: ``(int)(v ^ (v >>> 32))``; boolean: 1 or 0;
- string/varchar/char: ``h = 31 * h + byte`` over the UTF-8 bytes (signed, as Java's);
- several columns: ``h = 31 * h + hash(column)``, in 32-bit arithmetic;
- bucket = ``(h & 0x7fffffff) % N``.

A file's bucket is read from its name (``..._bucket-00003.csv``, ``bucket_00003``, Hive's
``000003_0``); when a file's name carries none, nothing is pruned.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

_INT_TYPES = ("tinyint", "smallint", "int", "integer")
_STRING_TYPES = ("string", "varchar", "char")
_BUCKET_NAME = (re.compile(r"(?:^|[-_.])bucket[-_](\d+)(?:[-_.]|$)", re.IGNORECASE),
                re.compile(r"^(\d+)_\d+"))
MAX_COMBINATIONS = 256


def _int32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def value_hash(hive_type: str, value: str | bool) -> int | None:
    """Hive's hash of one constant for a column of this type; None when it cannot be computed."""
    kind = hive_type.lower().split("(", 1)[0].strip()
    try:
        if kind == "boolean":
            if isinstance(value, bool):
                return int(value)
            return {"true": 1, "false": 0}.get(str(value).lower())
        if isinstance(value, bool):
            return None
        if kind in _INT_TYPES:
            return _int32(int(value))
        if kind == "bigint":
            number = int(value) & 0xFFFFFFFFFFFFFFFF
            return _int32(number ^ (number >> 32))
        if kind in _STRING_TYPES:
            result = 0
            for byte in str(value).encode():
                result = _int32(31 * result + (byte - 256 if byte > 127 else byte))
            return result
    except ValueError:
        return None
    return None


def bucket_of(hashes: list[int], buckets: int) -> int:
    """The bucket number of a row whose bucket columns hash to ``hashes``."""
    result = 0
    for item in hashes:
        result = _int32(31 * result + item)
    return (result & 0x7FFFFFFF) % buckets


def wanted_buckets(table_def: dict[str, Any], equalities: dict[str, set[str | bool]]) -> set[int] | None:
    """The buckets a query can match, or None when it may match any (no pruning)."""
    storage = table_def.get("StorageDescriptor") or {}
    columns = [c.lower() for c in storage.get("BucketColumns") or []]
    buckets = storage.get("NumberOfBuckets") or 0
    if not columns or buckets <= 0 or any(c not in equalities for c in columns):
        return None
    types = {c["Name"].lower(): c["Type"] for c in storage.get("Columns") or []}
    per_column: list[list[int]] = []
    for column in columns:
        if column not in types:
            return None
        hashes = [value_hash(types[column], v) for v in equalities[column]]
        if any(h is None for h in hashes):
            return None
        per_column.append([h for h in hashes if h is not None])
    combinations = 1
    for hashes in per_column:
        combinations *= len(hashes)
    if combinations > MAX_COMBINATIONS:
        return None
    return {bucket_of(list(combo), buckets) for combo in itertools.product(*per_column)}


def file_bucket(key: str) -> int | None:
    """The bucket number in a data file's name, if it has one."""
    name = key.rsplit("/", 1)[-1]
    for pattern in _BUCKET_NAME:
        match = pattern.search(name)
        if match:
            return int(match.group(1))
    return None


def prune(planned: list[tuple[Any, Any]], wanted: set[int] | None) -> list[tuple[Any, Any]]:
    """The planned (object, partition values) pairs whose file can hold a wanted bucket."""
    if wanted is None:
        return planned
    numbers = [file_bucket(obj.key) for obj, _ in planned]
    if any(n is None for n in numbers):
        return planned
    return [item for item, number in zip(planned, numbers, strict=True) if number in wanted]
