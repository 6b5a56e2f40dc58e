"""SHOW TABLES/DATABASES/COLUMNS/PARTITIONS/CREATE TABLE/VIEWS, DESCRIBE and EXPLAIN."""

from __future__ import annotations

import fnmatch
import re
from typing import Any

import pyarrow as pa
from sqlglot import exp

from utils.cloud.athena import dialect as athena_dialect
from utils.cloud.athena import sql as athena_sql
from utils.cloud.athena.errors import AthenaQueryError
from utils.cloud.athena.query import ResultStream
from utils.cloud.athena.statement import QueryContext, StatementResult, _ddl, _result_columns


def _like(names: list[str], pattern: str | None) -> list[str]:
    """Filter names by a SHOW pattern: ``*`` wildcards, ``|`` alternatives (Hive's)."""
    if not pattern:
        return names
    options = [p.strip().lower() for p in pattern.split("|")]
    return [n for n in names if any(fnmatch.fnmatchcase(n.lower(), o) for o in options)]


def _create_table_text(written_name: str, table_def: dict[str, Any]) -> list[str]:
    storage = table_def.get("StorageDescriptor") or {}
    cols = storage.get("Columns") or []
    lines = [f"CREATE EXTERNAL TABLE `{written_name}`("]
    lines += [f"  `{c['Name']}` {c['Type']}" + ("," if i < len(cols) - 1 else ")")
              for i, c in enumerate(cols)]
    parts = table_def.get("PartitionKeys") or []
    if parts:
        lines.append("PARTITIONED BY ( ")
        lines += [f"  `{c['Name']}` {c['Type']}" + ("," if i < len(parts) - 1 else ")")
                  for i, c in enumerate(parts)]
    serde = storage.get("SerdeInfo") or {}
    lines += ["ROW FORMAT SERDE ", f"  '{serde.get('SerializationLibrary', '')}' ",
              "STORED AS INPUTFORMAT ", f"  '{storage.get('InputFormat', '')}' ",
              "OUTPUTFORMAT ", f"  '{storage.get('OutputFormat', '')}'",
              "LOCATION", f"  '{storage.get('Location', '')}'"]
    params = table_def.get("Parameters") or {}
    if params:
        lines.append("TBLPROPERTIES (")
        items = [(k, params[k]) for k in java_hashmap_order(list(params))]
        lines += [f"  '{k}'='{v}'" + (", " if i < len(items) - 1 else ")") for i, (k, v) in enumerate(items)]
    return lines


def _java_string_hash(text: str) -> int:
    """``java.lang.String.hashCode()`` (UTF-16 code units, 32-bit wrap-around)."""
    h = 0
    data = text.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + int.from_bytes(data[i:i + 2], "big")) & 0xFFFFFFFF
    return h


def java_hashmap_order(keys: list[str]) -> list[str]:
    """The order a ``java.util.HashMap`` holding ``keys`` (put in this order) iterates them.

    Glue and Athena are Java services: the table parameters SHOW CREATE TABLE prints come
    out of a HashMap, so their order is neither insertion nor alphabetical order (awswrangler's
    ``test_athena_generate_create_query`` compares the text against AWS's). A HashMap starts
    with 16 buckets, doubles past a load of 0.75, puts a key in bucket ``(h ^ h >>> 16) &
    (n - 1)`` and keeps a bucket's keys in insertion order (resizes preserve it).
    """
    capacity = 16
    while len(keys) > capacity * 0.75:
        capacity *= 2

    def bucket(key: str) -> int:
        h = _java_string_hash(key)
        return (h ^ (h >> 16)) & (capacity - 1)

    return sorted(keys, key=bucket)  # stable: insertion order within a bucket


class ShowStatements:
    """SHOW, DESCRIBE and EXPLAIN (a mixin of :class:`~.engine.AthenaEngine`)."""

    # -------------------------------------------------------------- EXPLAIN

    def _explain(self, text: str, ctx: QueryContext) -> StatementResult:
        """``EXPLAIN [ANALYZE] [(TYPE t, FORMAT f)] query``: the plan as text in one column
        ``Query Plan`` (the local engine's plan: DuckDB's operators, not Trino's), or, for
        TYPE VALIDATE, one boolean column ``Valid`` once the query is analysed."""
        match = re.match(r"^\s*EXPLAIN\s+(ANALYZE\s+(?:VERBOSE\s+)?)?(?:\(([^)]*)\)\s*)?(.*)$", text,
                         re.IGNORECASE | re.DOTALL)
        if not match or not match.group(3).strip():
            raise AthenaQueryError("SYNTAX_ERROR", "EXPLAIN needs a statement, e.g. EXPLAIN SELECT ...", 1, 1)
        analyze, inner = bool(match.group(1)), match.group(3)
        options = {}
        for option in (match.group(2) or "").split(","):
            words = option.upper().split()
            if len(words) == 2 and words[0] in ("TYPE", "FORMAT"):
                options[words[0]] = words[1]
            elif words:
                raise AthenaQueryError("SYNTAX_ERROR", f"EXPLAIN option '{option.strip()}': use TYPE "
                                       "{LOGICAL | DISTRIBUTED | VALIDATE | IO} or FORMAT {TEXT}", 1, 1)
        kind, fmt = options.get("TYPE", "LOGICAL"), options.get("FORMAT", "TEXT")
        if kind not in ("LOGICAL", "DISTRIBUTED", "VALIDATE", "IO") or (analyze and kind != "DISTRIBUTED"
                                                                         and "TYPE" in options):
            raise AthenaQueryError("NOT_SUPPORTED", f"EXPLAIN {'ANALYZE ' if analyze else ''}TYPE {kind} "
                                   "is not supported", 1, 1)
        if fmt != "TEXT":
            raise AthenaQueryError("NOT_SUPPORTED", f"EXPLAIN FORMAT {fmt} is not supported by the local "
                                   "Athena (it gives FORMAT TEXT)", 1, 1)
        athena_dialect.check_trino_sql(inner)
        tree = athena_sql.parse(inner)
        if not isinstance(tree, exp.Query):
            raise AthenaQueryError("NOT_SUPPORTED", "The local Athena explains queries (SELECT, WITH, "
                                   "VALUES) only", 1, 1)
        stream = self.run_query(tree, inner, ctx)
        try:
            if kind == "VALIDATE":
                answer = pa.table({"Valid": pa.array([True])})
            else:
                answer = pa.table({"Query Plan": pa.array([stream.explain(analyze)])})
        finally:
            stream.close()
        cursor = self._duckdb.cursor()
        try:
            relation = cursor.from_arrow(answer)
            rows = ResultStream(relation, [str(t) for t in relation.types], 16, ctx, lambda err: err,
                                cursor.close, keep_names=True)
            columns = _result_columns(rows.schema)
        except BaseException:
            cursor.close()
            raise
        return StatementResult("DML", "SELECT", stream=rows, columns=columns, output="csv",
                               bytes_scanned=stream.bytes_scanned if analyze else 0)

    # ------------------------------------------------------- SHOW / DESCRIBE

    def _show(self, text: str, ctx: QueryContext) -> StatementResult:
        glue = self.glue()
        name = athena_sql.QUALIFIED_NAME
        if m := re.match(rf"^\s*SHOW\s+TABLES(?:\s+(?:IN|FROM)\s+({name}))?(?:\s+(?:LIKE\s+)?'([^']*)')?\s*$",
                         text, re.IGNORECASE):
            database = athena_sql.split_name(m.group(1))[-1] if m.group(1) else ctx.database.lower()
            if not glue.database_exists(database):
                raise AthenaQueryError("SCHEMA_NOT_FOUND", f"Schema '{database}' does not exist")
            names = sorted(t["Name"] for t in glue.tables(database))
            return _ddl("SHOW_TABLES", [[n] for n in _like(names, m.group(2))], ["tab_name"], "UTILITY")
        if m := re.match(rf"^\s*SHOW\s+VIEWS(?:\s+(?:IN|FROM)\s+({name}))?(?:\s+(?:LIKE\s+)?'([^']*)')?\s*$",
                         text, re.IGNORECASE):
            database = athena_sql.split_name(m.group(1))[-1] if m.group(1) else ctx.database.lower()
            if not glue.database_exists(database):
                raise AthenaQueryError("SCHEMA_NOT_FOUND", f"Schema '{database}' does not exist")
            names = sorted(t["Name"] for t in glue.tables(database) if t.get("TableType") == "VIRTUAL_VIEW")
            return _ddl("SHOW_VIEWS", [[n] for n in _like(names, m.group(2))], ["views"], "UTILITY")
        if m := re.match(r"^\s*SHOW\s+(?:DATABASES|SCHEMAS)(?:\s+(?:LIKE\s+)?'([^']*)')?\s*$", text,
                         re.IGNORECASE):
            names = sorted(glue.databases())
            return _ddl("SHOW_DATABASES", [[n] for n in _like(names, m.group(1))], ["database_name"],
                        "UTILITY")
        if m := re.match(rf"^\s*SHOW\s+COLUMNS\s+(?:IN|FROM)\s+({name})(?:\s+(?:IN|FROM)\s+({name}))?\s*$",
                         text, re.IGNORECASE):
            table_text = f"{m.group(2)}.{m.group(1)}" if m.group(2) else m.group(1)
            _, _, table_def = self._named_table(table_text, text, ctx, m.start(1))
            cols = ((table_def.get("StorageDescriptor") or {}).get("Columns") or []) + \
                (table_def.get("PartitionKeys") or [])
            return _ddl("SHOW_COLUMNS", [[c["Name"]] for c in cols], ["field"], "UTILITY")
        if m := re.match(rf"^\s*SHOW\s+PARTITIONS\s+({name})\s*$", text, re.IGNORECASE):
            database, table, table_def = self._named_table(m.group(1), text, ctx, m.start(1))
            keys = [k["Name"] for k in table_def.get("PartitionKeys") or []]
            specs = sorted("/".join(f"{k}={v}" for k, v in zip(keys, p["Values"], strict=False))
                           for p in glue.partitions(database, table))
            return _ddl("SHOW_PARTITIONS", [[s] for s in specs], ["partition"], "UTILITY")
        if m := re.match(rf"^\s*SHOW\s+CREATE\s+TABLE\s+({name})\s*$", text, re.IGNORECASE):
            database, table, table_def = self._named_table(m.group(1), text, ctx, m.start(1))
            # Hive prints the table name as the statement wrote it: `t` for t, `db.t` for db.t.
            written = ".".join(athena_sql.split_name(m.group(1)))
            lines = _create_table_text(written, table_def)
            return _ddl("SHOW_CREATE_TABLE", [[line] for line in lines], ["createtab_stmt"], "UTILITY")
        raise AthenaQueryError("NOT_SUPPORTED", "The local Athena supports SHOW TABLES, SHOW VIEWS, SHOW "
                               "DATABASES, SHOW COLUMNS, SHOW PARTITIONS and SHOW CREATE TABLE", 1, 1)

    def _describe(self, text: str, ctx: QueryContext) -> StatementResult:
        m = re.match(rf"^\s*DESC(?:RIBE)?\s+(?:FORMATTED\s+|EXTENDED\s+)?({athena_sql.QUALIFIED_NAME})"
                     r"(?:\s+\S+)?\s*$", text, re.IGNORECASE)
        if not m:
            raise AthenaQueryError("SYNTAX_ERROR", "Expected DESCRIBE [db.]table", 1, 1)
        _, _, table_def = self._named_table(m.group(1), text, ctx, m.start(1))
        cols = (table_def.get("StorageDescriptor") or {}).get("Columns") or []
        parts = table_def.get("PartitionKeys") or []

        def line(name: str, kind: str, comment: str = "") -> list[str]:
            return [f"{name:<20}", f"{kind:<20}", f"{comment:<20}"]  # Hive pads to 20 characters

        rows = [line(c["Name"], c["Type"], c.get("Comment") or "") for c in cols + parts]
        if parts:
            rows += [line("", ""), line("# Partition Information", ""),
                     line("# col_name", "data_type", "comment"), line("", "")]
            rows += [line(c["Name"], c["Type"], c.get("Comment") or "") for c in parts]
        return _ddl("DESCRIBE_TABLE", rows, ["col_name", "data_type", "comment"], "UTILITY")
