"""What every Athena statement shares: its context in, its result out, and small result helpers.

:class:`QueryContext` is what one execution brings to the engine (database, parameters,
the commit point ...); :class:`StatementResult` what a statement produced (rows, files
written, costs). The statement families (:mod:`.query`, :mod:`.writes`, :mod:`.ddl`,
:mod:`.show`) and :mod:`.models` build on these.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

import pyarrow as pa

from utils.cloud.athena.types import column_info, text_column_info

if TYPE_CHECKING:
    from utils.cloud.athena.query import ResultStream

DEFAULT_CATALOG = "awsdatacatalog"
_VIEW_PREFIX = "/* Presto View: "


@dataclass
class QueryContext:
    """What one execution brings to the engine."""

    query_id: str
    database: str = "default"
    catalog: str = DEFAULT_CATALOG
    output_location: str | None = None
    parameters: list[str] | None = None
    engine_query_id: str = ""
    # Called with the DuckDB cursor while it runs, so the caller can interrupt it.
    on_cursor: Callable[[Any], None] = lambda _cursor: None
    # True once StopQueryExecution asked to stop; checked between steps.
    cancelled: Callable[[], bool] = lambda: False
    # Called right before the statement's first visible effect (an S3 object, a Glue
    # change): raises QueryCancelled if a stop came first; after it, stops are ignored.
    commit: Callable[[], None] = lambda: None


@dataclass
class StatementResult:
    """What a statement produced: rows (SELECT, SHOW...), files written (CTAS, UNLOAD), costs.

    A SELECT's rows come as ``stream`` (read them, then close it); the small tables of
    DDL and utility statements as ``table``.
    """

    statement_type: str
    substatement_type: str
    table: pa.Table | None = None
    stream: ResultStream | None = None
    columns: list[dict[str, Any]] = field(default_factory=list)
    output: str = "csv"  # csv (SELECT), txt (DDL/utility), ctas, unload, none
    data_files: list[str] = field(default_factory=list)
    bytes_scanned: int = 0
    rows_read: int = 0
    planning_ms: int = 0
    engine_ms: int = 0


class HashingFile(io.RawIOBase):
    """A write-only file that also computes the MD5 of what is written (the S3 ETag)."""

    def __init__(self, target: BinaryIO) -> None:
        super().__init__()
        self._target = target
        self.md5 = hashlib.md5()  # noqa: S324 - the S3 ETag, not security
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self._target.write(view)
        self.md5.update(view)
        self.size += view.nbytes
        return view.nbytes

    def tell(self) -> int:
        return self.size

    def close(self) -> None:
        if not self.closed:
            self._target.close()
        super().close()


def _ddl(substatement: str, lines: list[list[str]] | None = None, names: list[str] | None = None,
         statement: str = "DDL") -> StatementResult:
    """A DDL/utility result: tab-separated text rows of string columns."""
    names = names or []
    rows = lines or []
    table = pa.table({n: pa.array([r[i] if i < len(r) else "" for r in rows], pa.string())
                      for i, n in enumerate(names)}) if names else None
    return StatementResult(statement, substatement, table=table,
                           columns=[text_column_info(n) for n in names], output="txt")


def _result_columns(schema: pa.Schema) -> list[dict[str, Any]]:
    return [column_info(f.name, f.type) for f in schema]
