"""Prepared statements: the API's Create/Get/Update/Delete/List(PreparedStatement) and the SQL
``PREPARE name FROM ...``, ``EXECUTE name [USING ...]`` and ``DEALLOCATE PREPARE name``.

A prepared statement belongs to a workgroup (as on AWS). EXECUTE runs its text with the
USING values (or the query's ExecutionParameters) in place of its ``?`` placeholders.
The statements are kept by :class:`~utils.cloud.athena.models.AthenaBackend` and made
durable with the rest of Athena's state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from utils.cloud.athena.errors import AthenaQueryError

# Athena's StatementName: 1-256 characters of [a-zA-Z_0-9@:].
NAME_PATTERN = re.compile(r"[a-zA-Z_0-9@:]{1,256}")
_NAME = r'("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_@:]*)'
_PREPARE = re.compile(rf"PREPARE\s+{_NAME}\s+FROM\s+(.+)", re.IGNORECASE | re.DOTALL)
_EXECUTE = re.compile(rf"EXECUTE\s+{_NAME}(?:\s+USING\s+(.+))?", re.IGNORECASE | re.DOTALL)
_DEALLOCATE = re.compile(rf"DEALLOCATE\s+PREPARE\s+{_NAME}", re.IGNORECASE | re.DOTALL)


@dataclass
class Statement:
    """One parsed PREPARE / EXECUTE / DEALLOCATE PREPARE."""

    kind: str  # PREPARE, EXECUTE, DEALLOCATE
    name: str
    body: str = ""  # PREPARE: the statement prepared
    using: list[str] | None = None  # EXECUTE ... USING: the values' SQL text


def _strip(sql: str) -> str:
    """The statement without leading comments, trailing semicolons and blanks."""
    text = sql
    while True:
        text = text.lstrip()
        if text.startswith("--"):
            text = text.split("\n", 1)[1] if "\n" in text else ""
        elif text.startswith("/*"):
            text = text.split("*/", 1)[1] if "*/" in text else ""
        else:
            break
    return text.rstrip().rstrip(";").rstrip()


def _name(token: str) -> str:
    return token[1:-1].replace('""', '"') if token.startswith('"') else token


def parse(sql: str) -> Statement | None:
    """The statement when ``sql`` is a PREPARE, EXECUTE or DEALLOCATE PREPARE; otherwise None."""
    text = _strip(sql)
    word = text.split(None, 1)[0].upper() if text else ""
    if word == "PREPARE":
        match = _PREPARE.fullmatch(text)
        if match is None:
            raise AthenaQueryError("SYNTAX_ERROR", "Expected PREPARE statement_name FROM statement", 1, 1)
        return Statement("PREPARE", _name(match.group(1)), body=match.group(2).strip())
    if word == "EXECUTE":
        match = _EXECUTE.fullmatch(text)
        if match is None:
            raise AthenaQueryError("SYNTAX_ERROR", "Expected EXECUTE statement_name [USING value, ...]", 1, 1)
        using = _split_values(match.group(2)) if match.group(2) else None
        return Statement("EXECUTE", _name(match.group(1)), using=using)
    if word == "DEALLOCATE":
        match = _DEALLOCATE.fullmatch(text)
        if match is None:
            raise AthenaQueryError("SYNTAX_ERROR", "Expected DEALLOCATE PREPARE statement_name", 1, 1)
        return Statement("DEALLOCATE", _name(match.group(1)))
    return None


def _split_values(text: str) -> list[str]:
    """USING's comma-separated values (commas inside quotes or parentheses do not split)."""
    values: list[str] = []
    depth, quote, start = 0, "", 0
    for i, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""  # a doubled quote closes and reopens: same result
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            values.append(text[start:i].strip())
            start = i + 1
    values.append(text[start:].strip())
    if any(not v for v in values):
        raise AthenaQueryError("SYNTAX_ERROR", "EXECUTE ... USING: a value is missing between commas", 1, 1)
    return values


def document(workgroup: str, name: str, query: str, description: str | None) -> dict[str, Any]:
    """A stored prepared statement (GetPreparedStatement's ``PreparedStatement``)."""
    doc: dict[str, Any] = {"StatementName": name, "QueryStatement": query, "WorkGroupName": workgroup,
                           "LastModifiedTime": datetime.now(UTC)}
    if description:
        doc["Description"] = description
    return doc


def not_found(name: str) -> AthenaQueryError:
    """EXECUTE / DEALLOCATE of a statement the workgroup does not have (Trino's wording)."""
    return AthenaQueryError("NOT_FOUND", f"Prepared statement not found: {name}", 1, 1)
