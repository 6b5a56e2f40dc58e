"""Writes: CREATE TABLE AS SELECT, INSERT INTO and UNLOAD.

They write their data files locally first (:class:`DataFiles`) and publish them only
at the query's commit point (:attr:`~.statement.QueryContext.commit`), so a stopped or
failed query leaves nothing behind in S3 or in the Glue catalog.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from utils.cloud.athena import formats
from utils.cloud.athena import sql as athena_sql
from utils.cloud.athena.errors import AthenaQueryError, position
from utils.cloud.athena.objects import put_file, spool_file
from utils.cloud.athena.statement import DEFAULT_CATALOG, HashingFile, QueryContext, StatementResult
from utils.cloud.athena.storage import table_columns
from utils.cloud.athena.types import arrow_to_hive, column_info
from utils.cloud.backends import GlueCatalog, NoSuchBucket, ObjectStore, split_s3_uri

# Athena's limit on the partitions one CTAS/INSERT/UNLOAD may write.
MAX_OPEN_PARTITIONS = 100


def _rows_table(count: int) -> pa.Table:
    return pa.table({"rows": pa.array([count], pa.int64())})


def _parse_create_table(text: str) -> exp.Expression:
    """Parse a CREATE TABLE; when a CTAS's query is what is wrong, report its error as Trino does.

    sqlglot may blame the wrapper (or give up on the whole statement), where
    Trino names the learner's token, at its place in the statement.
    """
    start = athena_sql.ctas_query_start(text)
    try:
        tree = athena_sql.parse(text)
    except AthenaQueryError as err:
        if start is None or err.line is None or (err.line, err.column or 0) < position(text, start):
            raise
        athena_sql.parse_query(text, start)
        raise
    if start is not None and not isinstance(tree, exp.Create):
        athena_sql.parse_query(text, start)  # sqlglot gave up on the statement: find the query's error
    return tree


def _properties(tree: exp.Create) -> dict[str, str]:
    """The WITH (...) properties of a CTAS/UNLOAD, lower-case keys, plain string values."""
    out: dict[str, str] = {}
    properties = tree.args.get("properties")
    for prop in properties.expressions if properties else []:
        if isinstance(prop, exp.FileFormatProperty):
            out["format"] = athena_sql.literal_value(prop.this)
        elif isinstance(prop, exp.PartitionedByProperty):
            out["partitioned_by"] = athena_sql.literal_value(prop.this)
        elif isinstance(prop, exp.LocationProperty):
            out["external_location"] = athena_sql.literal_value(prop.this)
        elif isinstance(prop, exp.WithDataProperty):
            if prop.args.get("no"):
                out["with_no_data"] = "true"
        elif isinstance(prop, exp.Property):
            value = athena_sql.literal_value(prop.args.get("value"))
            out[athena_sql.literal_value(prop.this).lower()] = value
    return out


def _compression(props: dict[str, str]) -> str:
    codec = (props.get("write_compression") or props.get("parquet_compression") or "SNAPPY").lower()
    # Athena's default for Parquet is GZIP; SNAPPY writes faster and every reader accepts it.
    return {"none": "none", "uncompressed": "none"}.get(codec, codec)


def _require_empty(store: ObjectStore, location: str, label: str) -> None:
    try:
        present = store.list_uri(location)
    except NoSuchBucket:
        raise AthenaQueryError("HIVE_PATH_NOT_FOUND", f"Unable to write to {location}: the bucket does not "
                               "exist. Create it first.") from None
    if present:
        raise AthenaQueryError("HIVE_PATH_ALREADY_EXISTS", f"Target directory for table '{label}' already "
                               f"exists: {location}. Use an empty location, or delete its objects first.")


def _insert_batch(batch: pa.RecordBatch, columns: list[Any], position_of: dict[str, int],
                  schema: pa.Schema) -> pa.RecordBatch:
    """An INSERT's rows in the table's column order and types (NULL for columns not listed)."""
    arrays = []
    for col in columns:
        index = position_of.get(col.name)
        if index is None:
            arrays.append(pa.nulls(batch.num_rows, col.arrow_type))
            continue
        values = batch.column(index)
        try:
            arrays.append(values.cast(col.arrow_type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise AthenaQueryError(
                "TYPE_MISMATCH", f"Insert query has mismatched column types: table column "
                f"'{col.name}' is {col.hive_type}, query gives {values.type}", 1, 1) from None
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


class DataFiles:
    """The Parquet files of a CTAS, INSERT or UNLOAD: written locally batch by batch, one
    per partition, then published to S3 at the query's commit (or discarded).

    Nothing is visible in S3 before :meth:`publish`, so a stopped or failed query
    leaves no partial table behind. Used as a context manager, files not published
    are deleted on the way out.
    """

    def __init__(self, folder: Path, location: str, stem: str, schema: pa.Schema, partitioned_by: list[str],
                 compression: str, fmt: str = "PARQUET", delimiter: str = "\x01") -> None:
        self.fmt = fmt
        self.delimiter = delimiter
        self.folder = folder
        self.location = location
        self.stem = stem
        self.schema = schema
        self.partitioned_by = partitioned_by
        self.compression = compression
        self.data_schema = pa.schema([f for f in schema if f.name not in partitioned_by])
        self.rows = 0
        # partition values -> (writer, its hashing sink, local path, S3 folder)
        self._writers: dict[tuple[str, ...], tuple[Any, HashingFile, Path, str]] = {}

    def _writer(self, values: tuple[str, ...]) -> Any:
        if values not in self._writers:
            if len(self._writers) >= MAX_OPEN_PARTITIONS:
                raise AthenaQueryError(
                    "HIVE_TOO_MANY_OPEN_PARTITIONS", f"Exceeded limit of {MAX_OPEN_PARTITIONS} open writers "
                    "for partitions/buckets: write at most 100 partitions per query (split it with WHERE, "
                    "then add the rest with INSERT INTO)")
            path, handle = spool_file(self.folder, f".{self.fmt.lower()}")
            sink = HashingFile(handle)
            writer = formats.open_writer(self.fmt, sink, self.data_schema, self.compression, self.delimiter)
            folder = "/".join(f"{c}={v}" for c, v in zip(self.partitioned_by, values, strict=True))
            where = f"{self.location}/{folder}" if folder else self.location
            self._writers[values] = (writer, sink, path, where)
        return self._writers[values][0]

    def write(self, batch: pa.RecordBatch) -> None:
        """Add a batch of rows (partition columns last, as the table has them)."""
        if batch.num_rows == 0:
            return
        self.rows += batch.num_rows
        if not self.partitioned_by:
            self._writer(()).write(pa.Table.from_batches([batch]))
            return
        table = pa.Table.from_batches([batch])
        keys = table.select(self.partitioned_by).group_by(self.partitioned_by).aggregate([])
        data_names = self.data_schema.names
        for key_row in keys.to_pylist():
            mask = None
            for col in self.partitioned_by:
                value = key_row[col]
                cond = pc.is_null(table[col]) if value is None else pc.equal(table[col], value)
                mask = cond if mask is None else pc.and_(mask, cond)
            values = tuple("__HIVE_DEFAULT_PARTITION__" if key_row[c] is None else _partition_text(key_row[c])
                           for c in self.partitioned_by)
            self._writer(values).write(table.filter(mask).select(data_names))

    def publish(self, store: ObjectStore) -> tuple[list[str], list[tuple[list[str], str]]]:
        """Put every file in S3; return (data file URIs, (partition values, location) pairs)."""
        for writer, sink, _, _ in self._writers.values():
            writer.close()
            sink.close()
        files: list[str] = []
        partitions: list[tuple[list[str], str]] = []
        try:
            for values, (_, sink, path, folder) in self._writers.items():
                uri = f"{folder}/{self.stem}{formats.file_suffix(self.fmt, self.compression)}"
                bucket, key = split_s3_uri(uri)
                put_file(store, bucket, key, path, sink.md5.hexdigest())
                files.append(uri)
                if self.partitioned_by:
                    partitions.append((list(values), folder))
        except NoSuchBucket:
            _delete_objects(store, files)
            raise AthenaQueryError("HIVE_PATH_NOT_FOUND", f"Unable to write to {self.location}: the bucket "
                                   "does not exist. Create it first.") from None
        except BaseException:
            _delete_objects(store, files)
            raise
        finally:
            self.discard()
        return files, partitions

    def discard(self) -> None:
        """Delete the local files not published."""
        for writer, sink, path, _ in self._writers.values():
            try:
                writer.close()
                sink.close()
            except (OSError, ValueError, pa.ArrowException):
                pass  # a writer that failed mid-way: its file goes anyway
            path.unlink(missing_ok=True)
        self._writers.clear()

    def __enter__(self) -> DataFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()


def _delete_objects(store: ObjectStore, uris: list[str]) -> None:
    for uri in uris:
        bucket, key = split_s3_uri(uri)
        store.delete(bucket, key)


def _partition_text(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


class WriteStatements:
    """CTAS, INSERT INTO and UNLOAD (a mixin of :class:`~.engine.AthenaEngine`)."""

    _UNLOAD = re.compile(r"^\s*UNLOAD\s*\((?P<query>.*)\)\s*TO\s*'(?P<to>[^']+)'\s*"
                         r"WITH\s*\((?P<props>.*)\)\s*$", re.IGNORECASE | re.DOTALL)

    # ----------------------------------------------------------------- CTAS

    def _target(self, node: exp.Expression, ctx: QueryContext, glue: GlueCatalog,
                text: str) -> tuple[str, str]:
        table = node.this if isinstance(node, exp.Schema) else node
        database = (table.db or ctx.database).lower()
        name = table.name.lower()
        if not glue.database_exists(database):
            raise AthenaQueryError("SCHEMA_NOT_FOUND", f"Schema '{database}' does not exist",
                                   *position(text, athena_sql.offset_of(table)))
        return database, name

    def _ctas(self, tree: exp.Create, text: str, ctx: QueryContext) -> StatementResult:
        glue = self.glue()
        database, name = self._target(tree.this, ctx, glue, text)
        props = _properties(tree)
        if glue.get_table(database, name) is not None:
            if tree.args.get("exists"):
                return StatementResult("DDL", "CREATE_TABLE_AS_SELECT", output="ctas")
            raise AthenaQueryError("TABLE_ALREADY_EXISTS",
                                   f"Table '{DEFAULT_CATALOG}.{database}.{name}' already exists", 1, 1)
        fmt = formats.check_format(str(props.get("format", "PARQUET")), "CTAS")
        location = props.get("external_location")
        if not location:
            if not ctx.output_location:
                raise AthenaQueryError("INVALID_TABLE_PROPERTY", "No external_location given and no "
                                       "query result location to put the table's data in")
            location = f"{ctx.output_location.rstrip('/')}/tables/{ctx.query_id}"
        location = location.rstrip("/")
        store = self.store()
        _require_empty(store, location, f"{database}.{name}")
        partitioned_by = [c.strip().lower() for c in props.get("partitioned_by", "").split(",") if c.strip()]
        compression = formats.compression_of(fmt, props)
        delimiter = formats.field_delimiter(props)
        with self.run_query(tree.expression, text, ctx, for_table=True) as stream:
            schema = stream.schema
            files = self._data_files(location, schema, partitioned_by, compression, ctx, fmt, delimiter)
            with files:
                if not props.get("with_no_data"):
                    for batch in stream:
                        files.write(batch)
                stream.close()  # free DuckDB before publishing
                ctx.commit()
                uris, partitions = files.publish(store)
        columns = [{"Name": f.name, "Type": arrow_to_hive(f.type)} for f in schema
                   if f.name not in partitioned_by]
        part_keys = [{"Name": f.name, "Type": arrow_to_hive(f.type)} for f in schema
                     if f.name in partitioned_by]
        storage = {"Columns": columns, "Location": location, "Compressed": False,
                   "NumberOfBuckets": 0, "StoredAsSubDirectories": False,
                   **formats.storage_descriptor(fmt, delimiter)}
        glue.put_table(database, {
            "Name": name, "TableType": "EXTERNAL_TABLE", "StorageDescriptor": storage,
            "PartitionKeys": part_keys,
            "Parameters": {"EXTERNAL": "TRUE", "has_encrypted_data": "false", "classification": fmt.lower(),
                           "write.compression": compression.upper(),
                           **({"parquet.compression": compression.upper()} if fmt == "PARQUET" else {})},
        })
        for values, part_location in partitions:
            glue.put_partition(database, name, {
                "Values": values, "StorageDescriptor": {**storage, "Location": part_location}})
        return StatementResult("DDL", "CREATE_TABLE_AS_SELECT", table=_rows_table(files.rows),
                               columns=[column_info("rows", pa.int64())], output="ctas",
                               data_files=uris, bytes_scanned=stream.bytes_scanned,
                               rows_read=stream.rows_read, planning_ms=stream.planning_ms)

    def _data_files(self, location: str, schema: pa.Schema, partitioned_by: list[str], compression: str,
                    ctx: QueryContext, fmt: str = "PARQUET", delimiter: str = "\x01") -> DataFiles:
        """Data files (Parquet unless ``fmt`` says otherwise) for a CTAS/INSERT/UNLOAD, written
        locally until published."""
        names = schema.names
        if partitioned_by and names[-len(partitioned_by):] != partitioned_by:
            raise AthenaQueryError(
                "HIVE_COLUMN_ORDER_MISMATCH", "Partition keys must be the last columns in the table and "
                f"in the same order as the table properties: {partitioned_by}")
        stem = f"{ctx.engine_query_id or ctx.query_id}_{uuid.uuid4()}"
        return DataFiles(self.spool_dir, location, stem, schema, partitioned_by, compression, fmt, delimiter)

    def _unload(self, text: str, ctx: QueryContext) -> StatementResult:
        match = self._UNLOAD.match(text)
        if not match:
            raise AthenaQueryError("SYNTAX_ERROR", "Expected UNLOAD (SELECT ...) TO 's3://...' WITH "
                                   "(format = 'PARQUET')", 1, 1)
        props = _properties(athena_sql.parse(f"CREATE TABLE x WITH ({match.group('props')}) AS SELECT 1"))
        fmt = formats.check_format(str(props.get("format", "TEXTFILE")), "UNLOAD")
        compression = formats.compression_of(fmt, props)
        delimiter = formats.field_delimiter(props)
        location = match.group("to").rstrip("/")
        store = self.store()
        _require_empty(store, location, location)
        tree = athena_sql.parse_query(text, match.start("query"), match.end("query"))
        partitioned_by = [c.strip().lower() for c in props.get("partitioned_by", "").split(",") if c.strip()]
        with self.run_query(tree, text, ctx, for_table=True) as stream:
            files = self._data_files(location, stream.schema, partitioned_by, compression, ctx, fmt,
                                     delimiter)
            with files:
                for batch in stream:
                    files.write(batch)
                stream.close()
                ctx.commit()
                uris, _ = files.publish(store)
        return StatementResult("DML", "UNLOAD", table=_rows_table(files.rows),
                               columns=[column_info("rows", pa.int64())], output="unload",
                               data_files=uris, bytes_scanned=stream.bytes_scanned,
                               rows_read=stream.rows_read, planning_ms=stream.planning_ms)

    def _insert(self, text: str, ctx: QueryContext, tree: exp.Expression | None = None) -> StatementResult:
        if tree is None:
            tree = athena_sql.parse(text)
        if not isinstance(tree, exp.Insert):
            return self._unsupported(text, ctx)
        glue = self.glue()
        target = tree.this
        table_node = target.this if isinstance(target, exp.Schema) else target
        database, name = (table_node.db or ctx.database).lower(), table_node.name.lower()
        ref = athena_sql.TableRef(table_node, DEFAULT_CATALOG, database, name,
                                  athena_sql.offset_of(table_node))
        table_def = self._lookup(ref, text, glue)
        data_cols, part_cols = table_columns(table_def)
        all_cols = data_cols + part_cols
        target_schema = pa.schema([pa.field(c.name, c.arrow_type) for c in all_cols])
        location = (table_def.get("StorageDescriptor") or {}).get("Location", "").rstrip("/")
        store = self.store()
        with self.run_query(tree.expression, text, ctx) as stream:
            if isinstance(target, exp.Schema):
                listed = [c.name.lower() for c in target.expressions]
            else:
                listed = [c.name for c in all_cols]
            width = len(stream.schema)
            if len(listed) != width:
                raise AthenaQueryError("TYPE_MISMATCH", f"Insert query has {width} columns, target "
                                       f"table '{ref.qualified}' has {len(listed)}", 1, 1)
            position_of = {column: index for index, column in enumerate(listed)}
            fmt, codec, delimiter = formats.table_writer(table_def)  # the table's own format
            files = self._data_files(location, target_schema, [c.name for c in part_cols], codec, ctx, fmt,
                                     delimiter)
            with files:
                for batch in stream:
                    files.write(_insert_batch(batch, all_cols, position_of, target_schema))
                stream.close()
                ctx.commit()
                uris, partitions = files.publish(store)
        storage = table_def.get("StorageDescriptor") or {}
        existing = {tuple(p["Values"]) for p in glue.partitions(database, name)} if part_cols else set()
        for values, part_location in partitions:
            if tuple(values) not in existing:
                glue.put_partition(database, name, {
                    "Values": values, "StorageDescriptor": {**storage, "Location": part_location}})
        return StatementResult("DML", "INSERT", table=_rows_table(files.rows),
                               columns=[column_info("rows", pa.int64())], output="ctas", data_files=uris,
                               bytes_scanned=stream.bytes_scanned, rows_read=stream.rows_read,
                               planning_ms=stream.planning_ms)
