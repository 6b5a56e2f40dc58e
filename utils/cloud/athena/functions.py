"""Trino functions DuckDB does not have, as DuckDB scalar functions of the engine's database.

Each follows Trino's documented behaviour (trino.io/docs/current/functions): the same results
for the documented examples, the same error names for bad input (raised as
``INVALID_FUNCTION_ARGUMENT: ...``, which the error wording maps back to Athena's).
:func:`register` adds them to a DuckDB connection; the query rewriter
(``dialect.rewrite_trino_functions``) calls them under the names in :data:`NAMES`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

# Trino name -> the DuckDB function registered for it.
NAMES = {
    "from_iso8601_date": "athena_from_iso8601_date",
    "human_readable_seconds": "athena_human_readable_seconds",
    "format_number": "athena_format_number",
    "parse_data_size": "athena_parse_data_size",
}


class FunctionArgumentError(ValueError):
    """Bad input to a function: Athena's INVALID_FUNCTION_ARGUMENT."""

    def __init__(self, message: str) -> None:
        super().__init__(f"INVALID_FUNCTION_ARGUMENT: {message}")


def from_iso8601_date(text: str | None) -> dt.date | None:
    """An ISO 8601 date: ``2020-05-11``, ``2020-05``, ``2020``, week dates ``2020-W10`` /
    ``2020-W10-5``, ordinal dates ``2020-123``."""
    if text is None:
        return None
    value = text.strip()
    try:
        if m := re.fullmatch(r"(\d{4})-?W(\d{2})(?:-?(\d))?", value):
            return dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
        if m := re.fullmatch(r"(\d{4})-(\d{3})", value):
            return dt.date(int(m.group(1)), 1, 1) + dt.timedelta(days=int(m.group(2)) - 1)
        if m := re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", value):
            return dt.date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
    except ValueError:
        pass
    raise FunctionArgumentError(f'Invalid format: "{text}"')


_DURATION_UNITS = (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def human_readable_seconds(seconds: float | None) -> str | None:
    """``96`` -> ``1 minute, 36 seconds`` (weeks, days, hours, minutes, seconds; rounded)."""
    if seconds is None:
        return None
    if math.isnan(seconds) or math.isinf(seconds):
        raise FunctionArgumentError(f"Invalid argument found: {seconds}")
    remaining = int(Decimal(repr(abs(seconds))).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    parts = []
    for unit, size in _DURATION_UNITS:
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count} {unit}{'s' if count > 1 else ''}")
    text = ", ".join(parts) or "0 seconds"
    return f"-{text}" if seconds < 0 and parts else text


def format_number(value: float | None) -> str | None:
    """``123456`` -> ``123K``: K, M, B, T, Q steps of 1000, three significant digits (half up)."""
    if value is None:
        return None
    fractional = Decimal(int(value))
    unit = ""
    for symbol in ("K", "M", "B", "T", "Q"):
        if abs(fractional) >= 1000:
            fractional /= 1000
            unit = symbol
    places = 2 if abs(fractional) < 10 else 1 if abs(fractional) < 100 else 0
    rounded = fractional.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = format(rounded, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return (text if text != "-0" else "0") + unit


_SIZE_UNITS = {"B": 0, "kB": 10, "MB": 20, "GB": 30, "TB": 40, "PB": 50, "EB": 60, "ZB": 70, "YB": 80}


def parse_data_size(text: str | None) -> Decimal | None:
    """``2.3MB`` -> 2411724 bytes (units of 1024, B to YB; the fraction of a byte dropped)."""
    if text is None:
        return None
    match = re.match(r"[0-9.]+", text)
    unit = text[match.end():] if match else ""
    if not match or unit not in _SIZE_UNITS:
        raise FunctionArgumentError(f"Invalid data size: '{text}'")
    try:
        number = Decimal(match.group(0))
    except InvalidOperation:
        raise FunctionArgumentError(f"Invalid data size: '{text}'") from None
    size = int(number * (1 << _SIZE_UNITS[unit]))
    if size >= 10**38:
        raise ValueError(f"NUMERIC_VALUE_OUT_OF_RANGE: Value out of range: '{text}' ('{size}B')")
    return Decimal(size)


def register(connection: Any) -> None:
    """Add the functions to a DuckDB connection (its cursors see them too)."""
    connection.create_function(NAMES["from_iso8601_date"], from_iso8601_date, ["VARCHAR"], "DATE")
    connection.create_function(NAMES["human_readable_seconds"], human_readable_seconds, ["DOUBLE"],
                               "VARCHAR")
    connection.create_function(NAMES["format_number"], format_number, ["DOUBLE"], "VARCHAR")
    connection.create_function(NAMES["parse_data_size"], parse_data_size, ["VARCHAR"], "DECIMAL(38,0)")
