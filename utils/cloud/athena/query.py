"""Queries: SELECT / WITH / VALUES, executed by DuckDB over the Glue catalog and S3.

:class:`QueryStatements` resolves the tables a query reads in the Glue catalog, reads
their objects from the local S3 in process (``storage.py``) or from the decoded-data
cache (:mod:`.cache`), runs the translated SQL in DuckDB and streams its rows
(:class:`ResultStream`) without holding them whole in Python. The writes (CTAS,
INSERT, UNLOAD) and EXPLAIN run their queries through :meth:`QueryStatements.run_query`.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
from sqlglot import exp

from utils.cloud.athena import buckets, memory, projection
from utils.cloud.athena import dialect as athena_dialect
from utils.cloud.athena import sql as athena_sql
from utils.cloud.athena.cache import _NativeTable
from utils.cloud.athena.errors import AthenaQueryError, QueryCancelled, position
from utils.cloud.athena.statement import (
    _VIEW_PREFIX,
    DEFAULT_CATALOG,
    QueryContext,
    StatementResult,
    _result_columns,
)
from utils.cloud.athena.storage import Scan, TableReader, choose_columns, table_columns
from utils.cloud.athena.types import arrow_to_hive, duck_to_arrow, hive_to_trino
from utils.cloud.backends import GlueCatalog


class ResultStream:
    """A query's rows, read from DuckDB batch by batch as Athena shapes them.

    Nothing is computed until :attr:`schema` or iteration asks for it; DuckDB then
    produces the rows as they are consumed (its own operators spill to disk), so
    a 100-million-row result costs one batch of memory here. Close it (or use it
    as a context manager) to free the cursor and the cached tables it reads.
    """

    def __init__(self, relation: Any, duck_types: list[str], batch_rows: int, ctx: QueryContext,
                 failure: Callable[[Exception], Exception], release: Callable[[], None],
                 keep_names: bool = False) -> None:
        self._relation = relation
        self._keep_names = keep_names  # EXPLAIN's "Query Plan": Trino's own column label
        self._duck_types = duck_types
        self._batch_rows = batch_rows
        self._ctx = ctx
        self._failure = failure
        self._release = release
        self._reader: Any = None
        self._schema: pa.Schema | None = None
        self.rows = 0
        self.bytes_scanned = 0
        self.rows_read = 0
        self.planning_ms = 0

    def _open(self) -> None:
        if self._reader is not None:
            return
        self._check_cancelled()
        try:
            self._reader = self._relation.to_arrow_reader(self._batch_rows)
        except Exception as err:  # noqa: BLE001 - DuckDB's failures are worded for Athena
            raise self._failure(err) from None
        self._schema = pa.schema([pa.field(f.name if self._keep_names else f.name.lower(),
                                           _athena_type(f.type, duck))
                                  for f, duck in zip(self._reader.schema, self._duck_types, strict=False)])

    def _check_cancelled(self) -> None:
        if self._ctx.cancelled():
            raise QueryCancelled(self._ctx.query_id)

    @property
    def schema(self) -> pa.Schema:
        """The result's Arrow schema, with Athena's column names and types."""
        self._open()
        assert self._schema is not None
        return self._schema

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        self._open()
        while True:
            self._check_cancelled()
            try:
                batch = self._reader.read_next_batch()
            except StopIteration:
                return
            except Exception as err:  # noqa: BLE001 - DuckDB's failures are worded for Athena
                raise self._failure(err) from None
            self.rows += batch.num_rows
            yield _shape_batch(batch, self.schema, self._duck_types)

    def explain(self, analyze: bool) -> str:
        """The engine's plan of this query (run, with actual row counts and times, for ANALYZE)."""
        self._check_cancelled()
        try:
            return str(self._relation.explain(type="analyze" if analyze else "standard"))
        except Exception as err:  # noqa: BLE001 - DuckDB's failures are worded for Athena
            raise self._failure(err) from None

    def close(self) -> None:
        """Free the DuckDB cursor and the cached tables the query reads."""
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()
        release, self._release = self._release, lambda: None
        release()

    def __enter__(self) -> ResultStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class _Plan:
    """What one query reads: its tables, cached or to scan, and what that costs."""

    refs: list[tuple[athena_sql.TableRef, dict[str, Any]]]
    wanted: set[str] | None
    started: float
    reader: TableReader
    registrations: dict[str, pa.Table] = field(default_factory=dict)
    # (reference, table definition, scan signature, planned objects) of tables not cached yet
    to_scan: list[tuple[athena_sql.TableRef, dict[str, Any], tuple[Any, ...], Any]] = field(
        default_factory=list)
    in_use: list[_NativeTable] = field(default_factory=list)
    scanned: int = 0
    rows_read: int = 0
    date_columns: set[str] = field(default_factory=set)
    fractional_columns: set[str] = field(default_factory=set)
    # decimal/integer columns by name, for Trino's exact decimal arithmetic (None: ambiguous)
    decimal_columns: dict[str, athena_sql.Shape | None] = field(default_factory=dict)

    def add_decimal_columns(self, columns: list[Any]) -> None:
        for column in columns:
            dtype = column.arrow_type
            if pa.types.is_decimal(dtype):
                shape: athena_sql.Shape | None = (dtype.precision, dtype.scale, True)
            elif pa.types.is_integer(dtype):
                shape = ({1: 3, 2: 5, 4: 10}.get(dtype.bit_width // 8, 19), 0, False)
            else:
                shape = None
            if column.name in self.decimal_columns and self.decimal_columns[column.name] != shape:
                shape = None
            self.decimal_columns[column.name] = shape


_INFORMATION_SCHEMA = {
    "schemata": pa.schema([("catalog_name", pa.string()), ("schema_name", pa.string())]),
    "tables": pa.schema([("table_catalog", pa.string()), ("table_schema", pa.string()),
                         ("table_name", pa.string()), ("table_type", pa.string())]),
    "columns": pa.schema([("table_catalog", pa.string()), ("table_schema", pa.string()),
                          ("table_name", pa.string()), ("column_name", pa.string()),
                          ("ordinal_position", pa.int64()), ("column_default", pa.string()),
                          ("is_nullable", pa.string()), ("data_type", pa.string()),
                          ("comment", pa.string())]),
}


def _information_schema_table(ref: athena_sql.TableRef,
                              where: tuple[int | None, int | None]) -> dict[str, Any]:
    schema = _INFORMATION_SCHEMA.get(ref.name)
    if schema is None:
        raise AthenaQueryError("TABLE_NOT_FOUND", f"Table '{ref.qualified}' does not exist", *where)
    return {"Name": ref.name, "StorageDescriptor": {
        "Columns": [{"Name": f.name, "Type": arrow_to_hive(f.type)} for f in schema]}}


def _athena_type(arrow_type: pa.DataType, duck_type: str) -> pa.DataType:
    """The Arrow type Athena's result has for a DuckDB column."""
    if duck_type in ("HUGEINT", "UHUGEINT", "UBIGINT"):
        return pa.int64()  # Trino sums integers as BIGINT; DuckDB widens to HUGEINT.
    if pa.types.is_large_string(arrow_type) or str(arrow_type) == "string_view":
        return pa.string()
    if pa.types.is_timestamp(arrow_type):
        # The precision Trino's type has (DuckDB's TIMESTAMP: timestamp(3), see types.py).
        return pa.timestamp(duck_to_arrow(duck_type).unit, arrow_type.tz)
    return arrow_type


def _duck_arrow_guess(duck_type: str) -> pa.DataType:
    """A stand-in Arrow type of a DuckDB type, only to size result batches."""
    return duck_to_arrow(duck_type, fallback=pa.list_(pa.string()))


def _shape_batch(batch: pa.RecordBatch, schema: pa.Schema, duck_types: list[str]) -> pa.RecordBatch:
    """Give DuckDB's batch Athena's shape: lower-case names, Trino's types."""
    arrays = []
    for column, target, duck_type in zip(batch.columns, schema, duck_types, strict=False):
        if column.type != target.type:
            try:
                # A timestamp(3) drops the microseconds DuckDB computed with, as Athena shows none.
                column = column.cast(target.type, safe=not pa.types.is_timestamp(target.type))
            except pa.ArrowInvalid:
                if duck_type in ("HUGEINT", "UHUGEINT", "UBIGINT"):
                    raise AthenaQueryError("NUMERIC_VALUE_OUT_OF_RANGE", f"bigint addition overflow in "
                                           f"column '{target.name}'") from None
                raise
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, schema=schema) if arrays else batch


_DUCK_ERROR_CLASSES = {"Conversion": "ConversionException", "Out of Memory": "OutOfMemoryException",
                       "Invalid Input": "InvalidInputException", "Binder": "BinderException",
                       "Parser": "ParserException", "Out of Range": "OutOfRangeException",
                       "Not implemented": "NotImplementedException", "Constraint": "ConstraintException"}


def _as_duckdb_error(message: str) -> duckdb.Error:
    """A DuckDB error raised through Arrow's stream interface (an OSError with DuckDB's text)
    as the DuckDB exception it was, so that it is worded like any other."""
    kind = message.split(" Error:", 1)[0] if " Error:" in message else ""
    cls = getattr(duckdb, _DUCK_ERROR_CLASSES.get(kind, ""), duckdb.Error)
    return cls(message)


def _check_table_columns(schema: pa.Schema) -> None:
    seen: set[str] = set()
    for f in schema:
        if f.name in seen:
            raise AthenaQueryError("DUPLICATE_COLUMN_NAME",
                                   f"Column name '{f.name}' specified more than once")
        seen.add(f.name)
        if pa.types.is_null(f.type):
            raise AthenaQueryError("COLUMN_TYPE_UNKNOWN", f"Column type is unknown: {f.name}. Cast it, "
                                   f"e.g. CAST(NULL AS VARCHAR) AS {f.name}")


class QueryStatements:
    """SELECT / WITH / VALUES (a mixin of :class:`~.engine.AthenaEngine`)."""

    # --------------------------------------------------------------- SELECT

    def _select(self, text: str, ctx: QueryContext, tree: exp.Expression | None = None) -> StatementResult:
        if tree is None:
            tree = athena_sql.parse(text)
        if isinstance(tree, exp.Values):
            # A bare VALUES is a query in Trino; its columns are _col0, _col1...
            width = len(tree.expressions[0].expressions) if tree.expressions else 1
            alias = exp.TableAlias(this=exp.to_identifier("_values"),
                                   columns=[exp.to_identifier(f"_col{i}") for i in range(width)])
            tree = exp.select("*").from_(exp.Subquery(this=tree, alias=alias))
        if not isinstance(tree, exp.Query):
            return self._unsupported(text, ctx)
        stream = self.run_query(tree, text, ctx)
        try:
            columns = _result_columns(stream.schema)
        except BaseException:
            stream.close()
            raise
        return StatementResult("DML", "SELECT", stream=stream, columns=columns, output="csv",
                               bytes_scanned=stream.bytes_scanned, rows_read=stream.rows_read,
                               planning_ms=stream.planning_ms)

    def run_query(self, tree: exp.Expression, text: str, ctx: QueryContext,
                  for_table: bool = False) -> ResultStream:
        """Execute a parsed query; return its rows as a stream (close it after use).

        The stream also carries what the query cost: ``bytes_scanned``, ``rows_read``
        and ``planning_ms``. ``for_table``: the rows become a table (CTAS...), so
        every column needs a name and a known type, as Athena requires.
        """
        planning_started = time.perf_counter()
        athena_sql.substitute_parameters(tree, ctx.parameters)
        glue = self.glue()
        refs = self._resolve(tree, text, ctx, glue)
        wanted = athena_sql.needed_columns(tree)
        plan = _Plan(refs=refs, wanted=wanted, started=planning_started,
                     reader=TableReader(self.store(), self.cache))
        for index, (ref, table_def) in enumerate(refs):
            data_cols, part_cols = table_columns(table_def)
            all_cols = data_cols + part_cols
            plan.date_columns |= {c.name for c in all_cols if pa.types.is_date(c.arrow_type)}
            plan.fractional_columns |= {c.name for c in all_cols if pa.types.is_floating(c.arrow_type)
                                        or pa.types.is_decimal(c.arrow_type)}
            plan.add_decimal_columns(all_cols)
            if ref.database == "information_schema":
                ref.registered_as = f"__athena_{index}_{ref.name}"
                plan.registrations[ref.registered_as] = self._information_schema(ref, glue)
                continue
            ref.partition_filter = athena_sql.partition_predicates(ref, [c.name for c in part_cols])
            if part_cols and projection.enabled(table_def):  # partitions from the table's properties
                part_locations = projection.existing(projection.locations(table_def, ref.partition_filter),
                                                     plan.reader.store)
            else:
                part_locations = list(glue.iter_locations(ref.database, ref.name))
            planned = plan.reader.plan(table_def, part_locations, ref.partition_filter)
            bucket_columns = [c.lower() for c in (table_def.get("StorageDescriptor") or {}).get(
                "BucketColumns") or []]
            if bucket_columns:  # read only the buckets an equality predicate can match
                planned = buckets.prune(planned, buckets.wanted_buckets(
                    table_def, athena_sql.column_equalities(ref, bucket_columns)))
            chosen, chosen_parts = choose_columns(table_def, wanted)
            columns = {c.name for c in chosen + chosen_parts}
            signature = (ref.database, ref.name, tuple(
                (o.bucket, o.key, o.etag, tuple(sorted(v.items()))) for o, v in planned))
            native = self.native.acquire(signature, columns)
            if native is None:
                plan.to_scan.append((ref, table_def, signature, planned))
            else:
                plan.in_use.append(native)
                ref.registered_as = native.name
                plan.scanned += native.bytes_for(columns)
                plan.rows_read += native.rows
        cursor = self._duckdb.cursor()
        released: list[bool] = []

        def release() -> None:
            if released:
                return
            released.append(True)
            cursor.close()
            for native in plan.in_use:
                self.native.release(native)

        try:
            stream = self._execute(tree, text, ctx, for_table, plan, cursor, release)
        except BaseException:
            release()
            raise
        return stream

    def _execute(self, tree: exp.Expression, text: str, ctx: QueryContext, for_table: bool,
                 plan: _Plan, cursor: Any, release: Callable[[], None]) -> ResultStream:
        """Read what is not cached yet, rewrite the SQL for DuckDB, bind it on the query's cursor."""
        renames: dict[str, str] = {}

        def failure(err: Exception) -> Exception:
            return self._failure(err, text, tree, renames, ctx)

        ctx.on_cursor(cursor)
        try:
            for ref, table_def, signature, planned in plan.to_scan:
                stats = Scan()
                batches = plan.reader.scan(table_def, planned, plan.wanted, stats, ctx.cancelled)
                native = self.native.materialise(signature, plan.reader.schema(table_def, plan.wanted),
                                                 batches, stats, cursor)
                plan.in_use.append(native)
                ref.registered_as = native.name
                plan.scanned += stats.bytes_scanned
                plan.rows_read += stats.rows_read
        except (duckdb.Error, OSError, pa.ArrowException) as err:
            raise failure(err) from None
        for ref, _ in plan.refs:
            renames[ref.registered_as] = ref.name
            node = ref.node
            if not node.alias:
                node.set("alias", exp.TableAlias(this=exp.to_identifier(ref.name)))
            node.set("this", exp.to_identifier(ref.registered_as))
            node.set("db", None)
            node.set("catalog", None)
        athena_sql.keep_dates(tree, plan.date_columns)
        athena_sql.round_integer_casts(tree, plan.fractional_columns)
        athena_sql.exact_decimals(tree, plan.decimal_columns)
        athena_dialect.rewrite_trino_functions(tree)
        unnamed = athena_sql.name_result_columns(tree)
        duck_sql = athena_sql.to_duckdb(tree)
        planning_ms = int((time.perf_counter() - plan.started) * 1000)
        cursor.execute("SET integer_division = true")  # Trino: 7 / 2 = 3
        for name, data in plan.registrations.items():
            cursor.register(name, data)
        if ctx.cancelled():
            raise QueryCancelled(ctx.query_id)
        try:
            relation = cursor.sql(duck_sql)  # binds the query: unknown columns, GROUP BY... fail here
            duck_types = [str(t) for t in relation.types]
        except duckdb.Error as err:
            raise failure(err) from None
        if for_table and unnamed:
            # Trino analyses the query first: only a valid query gets this error.
            index, offset = unnamed[0]
            raise AthenaQueryError("MISSING_COLUMN_NAME", f"Column name not specified at position {index}",
                                   *position(text, offset))
        batch_rows = memory.rows_per_batch(
            pa.schema([pa.field(f"c{i}", _duck_arrow_guess(t)) for i, t in enumerate(duck_types)]),
            self.budget.batch_bytes)
        stream = ResultStream(relation, duck_types, batch_rows, ctx, failure, release)
        stream.bytes_scanned, stream.rows_read, stream.planning_ms = plan.scanned, plan.rows_read, planning_ms
        if for_table:
            try:
                _check_table_columns(stream.schema)
            except BaseException:
                stream.close()
                raise
        return stream

    def _failure(self, err: Exception, text: str, tree: exp.Expression, renames: dict[str, str],
                 ctx: QueryContext) -> Exception:
        """The exception a DuckDB (or Arrow stream) failure becomes: cancelled, out of memory, or
        the Athena error a learner would see on AWS."""
        if isinstance(err, (AthenaQueryError, QueryCancelled)):
            return err
        message = str(err)
        if ctx.cancelled() or isinstance(err, duckdb.InterruptException) or message.startswith("INTERRUPT"):
            return QueryCancelled(ctx.query_id)
        if isinstance(err, duckdb.OutOfMemoryException) or message.startswith("Out of Memory Error"):
            return memory.exceeded_memory_error(self.budget, message)
        if not isinstance(err, duckdb.Error):
            err = _as_duckdb_error(message)

        def rename(message: str) -> str:
            for registered, original in renames.items():
                message = message.replace(registered, original)
            return message

        return athena_sql.duckdb_error(err, text, tree, rename)

    def _resolve(self, tree: exp.Expression, text: str, ctx: QueryContext,
                 glue: GlueCatalog) -> list[tuple[athena_sql.TableRef, dict[str, Any]]]:
        """Resolve every table reference (expanding views); fail like Athena when one is missing."""
        for _depth in range(10):
            resolved = []
            expanded = False
            for ref in athena_sql.table_refs(tree, ctx.database.lower(), ctx.catalog.lower()):
                table_def = self._lookup(ref, text, glue)
                if table_def.get("TableType") == "VIRTUAL_VIEW":
                    self._expand_view(ref, table_def)
                    expanded = True
                    continue
                resolved.append((ref, table_def))
            if not expanded:
                return resolved
        raise AthenaQueryError("VIEW_IS_RECURSIVE", "View definitions nest too deeply (recursive view?)")

    def _lookup(self, ref: athena_sql.TableRef, text: str, glue: GlueCatalog) -> dict[str, Any]:
        where = position(text, ref.offset)
        if ref.catalog != DEFAULT_CATALOG:
            raise AthenaQueryError("CATALOG_NOT_FOUND", f"Catalog '{ref.catalog}' does not exist", *where)
        if ref.database == "information_schema":
            return _information_schema_table(ref, where)
        if not glue.database_exists(ref.database):
            raise AthenaQueryError("SCHEMA_NOT_FOUND", f"Schema '{ref.database}' does not exist", *where)
        table_def = glue.get_table(ref.database, ref.name)
        if table_def is None:
            raise AthenaQueryError("TABLE_NOT_FOUND", f"Table '{ref.qualified}' does not exist", *where)
        return table_def

    def _expand_view(self, ref: athena_sql.TableRef, table_def: dict[str, Any]) -> None:
        original = table_def.get("ViewOriginalText") or ""
        try:
            encoded = original.split(_VIEW_PREFIX, 1)[1].rsplit("*/", 1)[0].strip()
            view = json.loads(base64.b64decode(encoded))
            query = athena_sql.parse(view["originalSql"])
        except (IndexError, ValueError, KeyError, AthenaQueryError):
            raise AthenaQueryError("INVALID_VIEW", f"View '{ref.qualified}' is stale or in invalid "
                                   "state: its definition cannot be read") from None
        cte_names = {cte.alias_or_name.lower() for cte in query.find_all(exp.CTE)}
        for table in query.find_all(exp.Table):
            if not table.args.get("db") and table.name.lower() not in cte_names:
                table.set("db", exp.to_identifier(view.get("schema") or ref.database))
        subquery = exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier(ref.alias)))
        ref.node.replace(subquery)

    def _information_schema(self, ref: athena_sql.TableRef, glue: GlueCatalog) -> pa.Table:
        rows: list[dict[str, Any]] = []
        for database in sorted(glue.databases()):
            if ref.name == "schemata":
                rows.append({"catalog_name": DEFAULT_CATALOG, "schema_name": database})
                continue
            for table_def in sorted(glue.tables(database), key=lambda t: t["Name"]):
                if ref.name == "tables":
                    kind = "VIEW" if table_def.get("TableType") == "VIRTUAL_VIEW" else "BASE TABLE"
                    rows.append({"table_catalog": DEFAULT_CATALOG, "table_schema": database,
                                 "table_name": table_def["Name"], "table_type": kind})
                else:
                    storage = table_def.get("StorageDescriptor") or {}
                    columns = (storage.get("Columns") or []) + (table_def.get("PartitionKeys") or [])
                    for position_, col in enumerate(columns, start=1):
                        rows.append({"table_catalog": DEFAULT_CATALOG, "table_schema": database,
                                     "table_name": table_def["Name"], "column_name": col["Name"],
                                     "ordinal_position": position_, "column_default": None,
                                     "is_nullable": "YES", "data_type": hive_to_trino(col["Type"]),
                                     "comment": col.get("Comment")})
        schema = _INFORMATION_SCHEMA[ref.name]
        return pa.Table.from_pylist(rows, schema=schema)
