"""DDL on the Glue Data Catalog: CREATE EXTERNAL TABLE, CREATE/DROP DATABASE, DROP TABLE,
CREATE/DROP VIEW, MSCK REPAIR TABLE and ALTER TABLE (partitions, location, columns, properties).
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from sqlglot import exp

from utils.cloud.athena import sql as athena_sql
from utils.cloud.athena.errors import AthenaQueryError, position
from utils.cloud.athena.statement import (
    _VIEW_PREFIX,
    DEFAULT_CATALOG,
    QueryContext,
    StatementResult,
    _ddl,
)
from utils.cloud.athena.storage import table_columns
from utils.cloud.athena.types import arrow_to_hive, hive_name, hive_to_arrow, hive_to_trino, parse_type
from utils.cloud.backends import GlueCatalog, NoSuchBucket

_PARQUET_SERDE = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                  "Parameters": {"serialization.format": "1"}},
}
_TEXT_SERDE = {
    "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
    "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                  "Parameters": {"serialization.format": "1"}},
}
_FORMAT_SERDES: dict[str, dict[str, Any]] = {
    "PARQUET": _PARQUET_SERDE,
    "TEXTFILE": _TEXT_SERDE,
    "ORC": {"InputFormat": "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.orc.OrcSerde"}},
    "AVRO": {"InputFormat": "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat",
             "OutputFormat": "org.apache.hadoop.hive.ql.io.avro.AvroContainerOutputFormat",
             "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.avro.AvroSerDe"}},
}


def _column_def(node: exp.ColumnDef) -> dict[str, str]:
    kind = node.args.get("kind")
    try:
        hive = hive_name(kind) if isinstance(kind, exp.DataType) else "string"
        hive_to_arrow(hive)  # validate early, with a clear message
    except ValueError as err:
        raise AthenaQueryError("NOT_SUPPORTED", f"Column '{node.name}': {err}") from None
    item = {"Name": node.name.lower(), "Type": hive}
    comment = node.find(exp.CommentColumnConstraint)
    if comment is not None:
        item["Comment"] = athena_sql.literal_value(comment.this)
    return item


_TABLE_INPUT_KEYS = ("Name", "Description", "Owner", "LastAccessTime", "LastAnalyzedTime", "Retention",
                     "StorageDescriptor", "PartitionKeys", "ViewOriginalText", "ViewExpandedText",
                     "TableType", "Parameters", "TargetTable")


def _table_input(table_def: dict[str, Any]) -> dict[str, Any]:
    """The TableInput that recreates a Glue table definition (for UpdateTable)."""
    return {k: table_def[k] for k in _TABLE_INPUT_KEYS if table_def.get(k) is not None}


def _partition_clauses(text: str) -> list[tuple[str, str]]:
    """``PARTITION (a='1', b='x') LOCATION 's3://...'`` clauses: (spec text, location or '')."""
    return re.findall(r"PARTITION\s*\(([^)]*)\)\s*(?:LOCATION\s*'([^']*)')?", text, re.IGNORECASE)


def _key_values(text: str) -> dict[str, str]:
    """``('k'='v', 'k2'='v2')`` -> a dict."""
    return dict(re.findall(r"'([^']*)'\s*=\s*'([^']*)'", text))


def _hive_type_text(text: str) -> str:
    """A column type of ALTER TABLE as the catalog stores it (``INTEGER`` -> ``int``)."""
    try:
        return hive_name(parse_type(text, "hive"))
    except ValueError as err:
        raise AthenaQueryError("NOT_SUPPORTED", str(err)) from None


def _column_list(action: str) -> list[dict[str, str]]:
    """``ADD COLUMNS (a int COMMENT 'x', b array<string>)`` -> Glue columns."""
    body = action[action.index("(") + 1:action.rindex(")")] if "(" in action and ")" in action else ""
    columns = []
    depth, start = 0, 0
    items = []
    for i, char in enumerate(body):
        if char in "<(":
            depth += 1
        elif char in ">)":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(body[start:i])
            start = i + 1
    items.append(body[start:])
    for item in (i.strip() for i in items):
        if not item:
            continue
        found = re.match(r"(`[^`]+`|\"[^\"]+\"|\S+)\s+(.+?)(?:\s+COMMENT\s+'([^']*)')?$", item, re.I | re.S)
        if not found:
            raise AthenaQueryError("SYNTAX_ERROR", f"Column definition '{item}' needs a name and a type")
        column = {"Name": athena_sql.unquote(found.group(1)), "Type": _hive_type_text(found.group(2))}
        if found.group(3) is not None:
            column["Comment"] = found.group(3)
        columns.append(column)
    if not columns:
        raise AthenaQueryError("SYNTAX_ERROR", "ADD/REPLACE COLUMNS needs a column list, e.g. (c int)")
    return columns


class CatalogStatements:
    """DDL on the Glue Data Catalog (a mixin of :class:`~.engine.AthenaEngine`)."""

    # ------------------------------------------------------------------ DDL

    def _create_external_table(self, tree: exp.Create, text: str, ctx: QueryContext) -> StatementResult:
        glue = self.glue()
        schema = tree.this
        if not isinstance(schema, exp.Schema):
            raise AthenaQueryError("SYNTAX_ERROR", "CREATE EXTERNAL TABLE needs a column list", 1, 1)
        database, name = self._target(schema, ctx, glue, text)
        if glue.get_table(database, name) is not None:
            if tree.args.get("exists"):
                return _ddl("CREATE_TABLE")
            raise AthenaQueryError("TABLE_ALREADY_EXISTS",
                                   f"Table '{DEFAULT_CATALOG}.{database}.{name}' already exists")
        columns = [_column_def(c) for c in schema.expressions if isinstance(c, exp.ColumnDef)]
        partition_keys: list[dict[str, str]] = []
        serde: dict[str, Any] = json.loads(json.dumps(_TEXT_SERDE))
        location = ""
        parameters: dict[str, str] = {"EXTERNAL": "TRUE"}
        bucketing: dict[str, Any] = {}
        properties = tree.args.get("properties")
        for prop in properties.expressions if properties else []:
            if isinstance(prop, exp.PartitionedByProperty):
                partition_keys = [_column_def(c) for c in prop.this.expressions]
            elif isinstance(prop, exp.FileFormatProperty):
                fmt = athena_sql.literal_value(prop.this).upper()
                if fmt not in _FORMAT_SERDES:
                    raise AthenaQueryError("NOT_SUPPORTED", f"STORED AS {fmt} is not supported")
                serde = json.loads(json.dumps(_FORMAT_SERDES[fmt]))
            elif isinstance(prop, exp.RowFormatDelimitedProperty):
                params = serde["SerdeInfo"].setdefault("Parameters", {})
                if prop.args.get("fields"):
                    params["field.delim"] = athena_sql.literal_value(prop.args["fields"])
            elif isinstance(prop, exp.RowFormatSerdeProperty):
                serde["SerdeInfo"]["SerializationLibrary"] = athena_sql.literal_value(prop.this)
                serde_props = prop.args.get("serde_properties")
                if serde_props is not None:
                    serde["SerdeInfo"]["Parameters"] = {
                        athena_sql.literal_value(p.this): athena_sql.literal_value(p.args.get("value"))
                        for p in serde_props.expressions}
            elif isinstance(prop, exp.LocationProperty):
                location = athena_sql.literal_value(prop.this)
            elif isinstance(prop, exp.ClusteredByProperty):  # CLUSTERED BY (c) INTO n BUCKETS
                bucketing = {"BucketColumns": [c.name.lower() for c in prop.expressions],
                             "NumberOfBuckets": int(athena_sql.literal_value(prop.args.get("buckets")))}
            elif isinstance(prop, exp.Property):
                value = athena_sql.literal_value(prop.args.get("value"))
                parameters[athena_sql.literal_value(prop.this)] = value
        if not location:
            raise AthenaQueryError("SYNTAX_ERROR", "External tables need a LOCATION 's3://bucket/prefix/'")
        storage = {"Columns": columns, "Location": location, "Compressed": False,
                   "NumberOfBuckets": -1, "StoredAsSubDirectories": False, **serde, **bucketing}
        ctx.commit()
        glue.put_table(database, {"Name": name, "TableType": "EXTERNAL_TABLE", "StorageDescriptor": storage,
                                  "PartitionKeys": partition_keys, "Parameters": parameters})
        return _ddl("CREATE_TABLE")

    def _database_ddl(self, text: str, ctx: QueryContext) -> StatementResult:
        match = re.match(rf"^\s*(CREATE|DROP)\s+(?:DATABASE|SCHEMA)\s+(IF\s+(?:NOT\s+)?EXISTS\s+)?"
                         rf"({athena_sql.QUALIFIED_NAME})(.*)$", text, re.IGNORECASE | re.DOTALL)
        if not match:
            raise AthenaQueryError("SYNTAX_ERROR", "Expected CREATE|DROP DATABASE [IF [NOT] EXISTS] name",
                                   1, 1)
        verb, if_clause, name_text, rest = match.groups()
        name = athena_sql.split_name(name_text)[-1]
        glue = self.glue()
        if verb.upper() == "CREATE":
            if glue.database_exists(name):
                if if_clause:
                    return _ddl("CREATE_DATABASE")
                raise AthenaQueryError("SCHEMA_ALREADY_EXISTS", f"Schema '{name}' already exists")
            comment = re.search(r"COMMENT\s+'([^']*)'", rest, re.IGNORECASE)
            ctx.commit()
            glue.create_database(name, comment.group(1) if comment else "")
            return _ddl("CREATE_DATABASE")
        if not glue.database_exists(name):
            if if_clause:
                return _ddl("DROP_DATABASE")
            raise AthenaQueryError("SCHEMA_NOT_FOUND", f"Schema '{name}' does not exist")
        tables = glue.tables(name)
        if tables and "CASCADE" not in rest.upper():
            raise AthenaQueryError("SCHEMA_NOT_EMPTY", f"Database {name} is not empty. One or more tables "
                                   "exist: drop them first, or use DROP DATABASE ... CASCADE")
        ctx.commit()
        for table in tables:
            glue.delete_table(name, table["Name"])
        glue.backend.delete_database(name)
        return _ddl("DROP_DATABASE")

    def _drop_table(self, text: str, ctx: QueryContext) -> StatementResult:
        match = re.match(rf"^\s*DROP\s+(TABLE|VIEW)\s+(IF\s+EXISTS\s+)?({athena_sql.QUALIFIED_NAME})\s*$",
                         text, re.IGNORECASE)
        if not match:
            raise AthenaQueryError("SYNTAX_ERROR", "Expected DROP TABLE [IF EXISTS] [db.]table", 1, 1)
        kind, if_exists, name_text = match.groups()
        parts = athena_sql.split_name(name_text)
        database, name = (parts[-2] if len(parts) > 1 else ctx.database.lower()), parts[-1]
        glue = self.glue()
        substatement = f"DROP_{kind.upper()}"
        if not glue.database_exists(database):
            if if_exists:
                return _ddl(substatement)
            raise AthenaQueryError("SCHEMA_NOT_FOUND", f"Schema '{database}' does not exist",
                                   *position(text, match.start(3)))
        table_def = glue.get_table(database, name)
        if table_def is None:
            if if_exists:
                return _ddl(substatement)
            raise AthenaQueryError("TABLE_NOT_FOUND", f"Table '{DEFAULT_CATALOG}.{database}.{name}' does "
                                   "not exist", *position(text, match.start(3)))
        # Like Athena for external tables: the catalog entry goes, the S3 data stays.
        ctx.commit()
        glue.delete_table(database, table_def["Name"])
        return _ddl(substatement)

    def _create_view(self, text: str, ctx: QueryContext) -> StatementResult:
        match = re.match(rf"^\s*CREATE\s+(OR\s+REPLACE\s+)?VIEW\s+({athena_sql.QUALIFIED_NAME})\s+AS\s+(.*)$",
                         text, re.IGNORECASE | re.DOTALL)
        if not match:
            raise AthenaQueryError("SYNTAX_ERROR", "Expected CREATE [OR REPLACE] VIEW name AS SELECT ...",
                                   1, 1)
        replace, name_text, query_text = match.groups()
        parts = athena_sql.split_name(name_text)
        database, name = (parts[-2] if len(parts) > 1 else ctx.database.lower()), parts[-1]
        glue = self.glue()
        if not glue.database_exists(database):
            raise AthenaQueryError("SCHEMA_NOT_FOUND", f"Schema '{database}' does not exist")
        existing = glue.get_table(database, name)
        if existing is not None and not replace:
            raise AthenaQueryError("TABLE_ALREADY_EXISTS", f"View '{DEFAULT_CATALOG}.{database}.{name}' "
                                   "already exists (use CREATE OR REPLACE VIEW)")
        tree = athena_sql.parse_query(text, match.start(3))
        probe = tree.copy()
        if isinstance(probe, exp.Select):
            probe = probe.limit(0)
        with self.run_query(probe, text, ctx, for_table=True) as stream:
            schema = stream.schema
        ctx.commit()
        view = {"originalSql": query_text.strip(), "catalog": DEFAULT_CATALOG, "schema": database,
                "columns": [{"name": f.name, "type": hive_to_trino(arrow_to_hive(f.type))}
                            for f in schema],
                "owner": "local", "runAsInvoker": False}
        encoded = base64.b64encode(json.dumps(view).encode()).decode()
        glue.put_table(database, {
            "Name": name, "TableType": "VIRTUAL_VIEW",
            "Parameters": {"presto_view": "true", "comment": "Presto View"},
            "ViewOriginalText": f"{_VIEW_PREFIX}{encoded} */", "ViewExpandedText": "/* Presto View */",
            "StorageDescriptor": {"Columns": [{"Name": f.name, "Type": arrow_to_hive(f.type)}
                                              for f in schema],
                                  "Location": "", "SerdeInfo": {}},
            "PartitionKeys": [],
        })
        return _ddl("CREATE_VIEW")

    def _msck_repair(self, text: str, ctx: QueryContext) -> StatementResult:
        match = re.match(rf"^\s*MSCK\s+REPAIR\s+TABLE\s+({athena_sql.QUALIFIED_NAME})\s*$", text,
                         re.IGNORECASE)
        if not match:
            raise AthenaQueryError("SYNTAX_ERROR", "Expected MSCK REPAIR TABLE [db.]table", 1, 1)
        database, name, table_def = self._named_table(match.group(1), text, ctx, match.start(1))
        _, part_cols = table_columns(table_def)
        storage = table_def.get("StorageDescriptor") or {}
        location = storage.get("Location", "").rstrip("/")
        keys = [c.name for c in part_cols]
        found: dict[tuple[str, ...], str] = {}
        try:
            objects = self.store().list_uri(location)
        except NoSuchBucket:
            objects = []
        for obj in objects:
            relative = obj.uri[len(location) + 1:].split("/")[:-1]
            if len(relative) < len(keys):
                continue
            pairs = [seg.split("=", 1) for seg in relative[:len(keys)]]
            if all(len(p) == 2 and p[0].lower() == k for p, k in zip(pairs, keys, strict=True)):
                values = tuple(p[1] for p in pairs)
                found.setdefault(values, f"{location}/" + "/".join(relative[:len(keys)]))
        glue = self.glue()
        existing = {tuple(p["Values"]) for p in glue.partitions(database, name)}
        lines: list[list[str]] = []
        added = [v for v in sorted(found) if v not in existing]
        ctx.commit()
        if added:
            listed = "\t".join(f"{name}:" + "/".join(f"{k}={v}" for k, v in zip(keys, vals, strict=True))
                               for vals in added)
            lines.append([f"Partitions not in metastore:\t{listed}"])
        for values in added:
            glue.put_partition(database, name, {"Values": list(values),
                                                "StorageDescriptor": {**storage, "Location": found[values]}})
            spec = "/".join(f"{k}={v}" for k, v in zip(keys, values, strict=True))
            lines.append([f"Repair: Added partition to metastore {name}:{spec}"])
        return _ddl("MSCK_REPAIR_TABLE", lines, ["result"] if lines else [])

    def _alter_table(self, text: str, ctx: QueryContext) -> StatementResult:
        """Athena's ALTER TABLE (Hive DDL): ADD/DROP/RENAME PARTITION, SET LOCATION, SET TBLPROPERTIES,
        ADD/REPLACE COLUMNS, CHANGE COLUMN. Only the catalog changes; data stays where it is."""
        match = re.match(rf"^\s*ALTER\s+TABLE\s+({athena_sql.QUALIFIED_NAME})\s+(.*)$", text,
                         re.IGNORECASE | re.DOTALL)
        if not match:
            raise AthenaQueryError("SYNTAX_ERROR", "line 1:1: ALTER TABLE needs a table name and an action, "
                                   "e.g. ALTER TABLE t ADD PARTITION (dt='2024-01-01')")
        action = match.group(2).strip()
        words = action.upper().split()
        kind = " ".join(words[:2])
        database, name, table_def = self._named_table(match.group(1), text, ctx, match.start(1))
        glue = self.glue()
        if words[:1] == ["ADD"] and re.match(r"ADD\s+(IF\s+NOT\s+EXISTS\s+)?PARTITION", action, re.I):
            return self._add_partitions(database, name, table_def, action, ctx, glue)
        if words[:1] == ["DROP"] and re.match(r"DROP\s+(IF\s+EXISTS\s+)?PARTITION", action, re.I):
            missing_ok = bool(re.match(r"DROP\s+IF\s+EXISTS", action, re.I))
            existing = {tuple(p["Values"]) for p in glue.partitions(database, name)}
            wanted = [self._partition_values(spec, table_def)
                      for spec, _ in _partition_clauses(action)]
            for values in wanted:
                if tuple(values) not in existing and not missing_ok:
                    raise AthenaQueryError("HIVE_METASTORE_ERROR", f"Partition not found: {values}")
            ctx.commit()
            for values in wanted:
                if tuple(values) in existing:
                    glue.delete_partition(database, name, values)
            return _ddl("ALTER_TABLE_DROP_PARTITION")
        if kind == "SET LOCATION" or re.match(r"PARTITION\s*\(.*\)\s*SET\s+LOCATION", action, re.I | re.S):
            return self._set_location(database, name, table_def, action, ctx, glue)
        if kind in ("SET TBLPROPERTIES", "UNSET TBLPROPERTIES"):
            props = dict(table_def.get("Parameters") or {})
            body = action[len(words[0]) + 1:].strip()[len("TBLPROPERTIES"):].strip()
            if words[0] == "SET":
                props.update(_key_values(body))
            else:
                for key in re.findall(r"'([^']*)'", body):
                    props.pop(key, None)
            ctx.commit()
            glue.put_table(database, {**_table_input(table_def), "Parameters": props})
            return _ddl("ALTER_TABLE_SET_TBLPROPERTIES")
        if kind in ("ADD COLUMNS", "REPLACE COLUMNS"):
            columns = _column_list(action)
            storage = dict(table_def.get("StorageDescriptor") or {})
            current = list(storage.get("Columns") or [])
            if kind == "ADD COLUMNS":
                taken = {c["Name"].lower() for c in current + (table_def.get("PartitionKeys") or [])}
                for col in columns:
                    if col["Name"] in taken:
                        raise AthenaQueryError("HIVE_METASTORE_ERROR",
                                               f"Duplicate column name: {col['Name']}")
                current += columns
            else:
                current = columns
            storage["Columns"] = current
            ctx.commit()
            glue.put_table(database, {**_table_input(table_def), "StorageDescriptor": storage})
            return _ddl("ALTER_TABLE_ADD_COLUMNS" if kind == "ADD COLUMNS" else "ALTER_TABLE_REPLACE_COLUMNS")
        if words[:1] == ["CHANGE"]:
            found = re.match(r"CHANGE\s+(?:COLUMN\s+)?(\S+)\s+(\S+)\s+(.+?)(?:\s+COMMENT\s+'([^']*)')?"
                             r"(?:\s+(FIRST|AFTER\s+\S+))?$", action, re.I | re.S)
            if not found:
                raise AthenaQueryError("SYNTAX_ERROR", "ALTER TABLE ... CHANGE COLUMN old_name new_name type")
            old, new = athena_sql.unquote(found.group(1)), athena_sql.unquote(found.group(2))
            storage = dict(table_def.get("StorageDescriptor") or {})
            columns = [dict(c) for c in storage.get("Columns") or []]
            index = next((i for i, c in enumerate(columns) if c["Name"].lower() == old), None)
            if index is None:
                raise AthenaQueryError("COLUMN_NOT_FOUND", f"Column '{old}' does not exist")
            column = {"Name": new, "Type": _hive_type_text(found.group(3))}
            if found.group(4) is not None:
                column["Comment"] = found.group(4)
            columns[index] = column
            storage["Columns"] = columns
            ctx.commit()
            glue.put_table(database, {**_table_input(table_def), "StorageDescriptor": storage})
            return _ddl("ALTER_TABLE_CHANGE_COLUMN")
        if re.match(r"PARTITION\s*\(.*\)\s*RENAME\s+TO\s+PARTITION", action, re.I | re.S):
            (old_spec, _), (new_spec, _) = _partition_clauses(action)[:2]
            old_values = self._partition_values(old_spec, table_def)
            new_values = self._partition_values(new_spec, table_def)
            partition = next((p for p in glue.partitions(database, name) if p["Values"] == old_values), None)
            if partition is None:
                raise AthenaQueryError("HIVE_METASTORE_ERROR", f"Partition not found: {old_values}")
            ctx.commit()
            glue.delete_partition(database, name, old_values)
            glue.put_partition(database, name, {"Values": new_values,
                                                "StorageDescriptor": partition["StorageDescriptor"]})
            return _ddl("ALTER_TABLE_RENAME_PARTITION")
        raise AthenaQueryError("NOT_SUPPORTED", f"ALTER TABLE ... {' '.join(words[:2])}: Athena's ALTER "
                               "TABLE takes ADD/DROP/RENAME PARTITION, SET LOCATION, SET TBLPROPERTIES, "
                               "ADD/REPLACE COLUMNS or CHANGE COLUMN", 1, 1)

    def _partition_values(self, spec_text: str, table_def: dict[str, Any]) -> list[str]:
        _, part_cols = table_columns(table_def)
        spec = {k.strip().strip('`"').lower(): v.strip().strip("'\"") for k, v in
                (item.split("=", 1) for item in spec_text.split(",") if "=" in item)}
        unknown = sorted(set(spec) - {c.name for c in part_cols})
        if unknown or not part_cols:
            raise AthenaQueryError("HIVE_METASTORE_ERROR", f"Partition spec {spec} does not match the "
                                   f"table's partition keys {[c.name for c in part_cols]}")
        return [spec.get(c.name, "") for c in part_cols]

    def _add_partitions(self, database: str, name: str, table_def: dict[str, Any], action: str,
                        ctx: QueryContext, glue: GlueCatalog) -> StatementResult:
        _, part_cols = table_columns(table_def)
        storage = table_def.get("StorageDescriptor") or {}
        existing = {tuple(p["Values"]) for p in glue.partitions(database, name)}
        if_not_exists = bool(re.match(r"ADD\s+IF\s+NOT\s+EXISTS", action, re.I))
        ctx.commit()
        for spec_text, location in _partition_clauses(action):
            values = self._partition_values(spec_text, table_def)
            if tuple(values) in existing:
                if if_not_exists:
                    continue
                raise AthenaQueryError("ALREADY_EXISTS", f"Partition already exists: {values}")
            part_location = location or storage.get("Location", "").rstrip("/") + "/" + "/".join(
                f"{c.name}={v}" for c, v in zip(part_cols, values, strict=True))
            glue.put_partition(database, name, {"Values": values,
                                                "StorageDescriptor": {**storage, "Location": part_location}})
        return _ddl("ALTER_TABLE_ADD_PARTITION")

    def _set_location(self, database: str, name: str, table_def: dict[str, Any], action: str,
                      ctx: QueryContext, glue: GlueCatalog) -> StatementResult:
        location = re.search(r"SET\s+LOCATION\s+'([^']*)'", action, re.I)
        if not location or not location.group(1).startswith("s3://"):
            raise AthenaQueryError("SYNTAX_ERROR", "SET LOCATION takes an S3 location, "
                                   "e.g. SET LOCATION 's3://bucket/prefix/'")
        clauses = _partition_clauses(action) if action.upper().startswith("PARTITION") else []
        ctx.commit()
        if clauses:
            values = self._partition_values(clauses[0][0], table_def)
            partition = next((p for p in glue.partitions(database, name) if p["Values"] == values), None)
            if partition is None:
                raise AthenaQueryError("HIVE_METASTORE_ERROR", f"Partition not found: {values}")
            glue.delete_partition(database, name, values)
            glue.put_partition(database, name, {"Values": values, "StorageDescriptor": {
                **partition["StorageDescriptor"], "Location": location.group(1)}})
        else:
            storage = {**(table_def.get("StorageDescriptor") or {}), "Location": location.group(1)}
            glue.put_table(database, {**_table_input(table_def), "StorageDescriptor": storage})
        return _ddl("ALTER_TABLE_SET_LOCATION")

    def _named_table(self, name_text: str, text: str, ctx: QueryContext,
                     offset: int) -> tuple[str, str, dict[str, Any]]:
        parts = athena_sql.split_name(name_text)
        database, name = (parts[-2] if len(parts) > 1 else ctx.database.lower()), parts[-1]
        ref = athena_sql.TableRef(exp.Table(), DEFAULT_CATALOG, database, name, offset)
        return database, name, self._lookup(ref, text, self.glue())
