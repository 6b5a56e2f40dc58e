"""Query failures, worded as Athena words them.

A failed query ends in state FAILED with ``StateChangeReason`` such as
``TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.db.x' does not exist``:
an error name, the position in the SQL text, and a message. Learners meet the
same text on real AWS, so we keep Athena's (Trino's) names and wording.
"""

from __future__ import annotations

# Athena's AthenaError.ErrorCategory: 1 system, 2 user, 3 other.
USER_ERROR = 2
SYSTEM_ERROR = 1
# Athena's AthenaError.ErrorType (the error catalog): 1000 "user error"; 0-8 "query
# exhausted resources at this scale factor".
USER_ERROR_TYPE = 1000
RESOURCES_EXHAUSTED_TYPE = 4


class AthenaQueryError(Exception):
    """A query failure with Athena's error name and, when known, its SQL position."""

    def __init__(self, name: str, message: str, line: int | None = None, column: int | None = None,
                 category: int = USER_ERROR, error_type: int = USER_ERROR_TYPE) -> None:
        super().__init__(message)
        self.name = name
        self.message = message
        self.line = line
        self.column = column
        self.category = category
        self.error_type = error_type

    @property
    def reason(self) -> str:
        """The ``StateChangeReason`` text."""
        where = f"line {self.line}:{self.column}: " if self.line is not None else ""
        return f"{self.name}: {where}{self.message}"

    def __str__(self) -> str:
        return self.reason


def position(sql: str, offset: int | None) -> tuple[int | None, int | None]:
    """1-based (line, column) of a character offset in the SQL text."""
    if offset is None or offset < 0:
        return None, None
    before = sql[:offset]
    line = before.count("\n") + 1
    column = offset - (before.rfind("\n") + 1) + 1
    return line, column


class QueryCancelled(Exception):
    """The query was stopped (StopQueryExecution) before it finished."""
