"""What a Glue crawler infers from Parquet files: tables, columns, partitions. Pure functions.

:func:`infer_tables` takes the objects under one S3 target (key, size, the Parquet
schema read from the file's footer) and returns :class:`TableDefinition` objects;
it touches no store, so it is unit-tested without a server.

The rules follow a Glue crawler on the usual layouts:

- each immediate sub-folder of the target path is a table named after the folder
  (lowercased, with the crawler's TablePrefix); when the target itself holds the
  data files, or only ``key=value`` folders, the target is one table named after
  its last folder;
- folders below a table's folder are partitions: ``key=value`` folders give the
  partition key ``key`` (type string), other folders ``partition_0``, ``partition_1`` ...;
- columns are the union of the files' Parquet columns (lowercased, first-seen
  order), typed with Hive/Glue type names; a column whose types disagree between
  files is widened (int -> bigint -> double) or falls back to string;
- ``_SUCCESS``, ``_temporary``, hidden (``.``) and ``$folder$`` objects are not data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import pyarrow as pa

from utils.cloud.athena.types import arrow_to_hive

PARQUET_INPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"


@dataclass(frozen=True)
class ObjectSchema:
    """One S3 object seen by a crawler: its key, size and Parquet schema (None: not Parquet)."""

    key: str
    size: int
    schema: pa.Schema | None
    num_rows: int = 0


@dataclass
class PartitionDefinition:
    """A partition the crawler found: its values (in key order) and folder."""

    values: list[str]
    location: str
    object_count: int = 0
    size_bytes: int = 0
    record_count: int = 0


@dataclass
class TableDefinition:
    """A table the crawler found: name, folder, typed columns, partition keys and partitions."""

    name: str
    location: str
    columns: list[tuple[str, str]]
    partition_keys: list[str] = field(default_factory=list)
    partitions: list[PartitionDefinition] = field(default_factory=list)
    object_count: int = 0
    size_bytes: int = 0
    record_count: int = 0

    def parameters(self, crawler_name: str) -> dict[str, str]:
        """Table parameters as a Glue crawler writes them for Parquet."""
        return _parameters(self.object_count, self.size_bytes, self.record_count, crawler_name)

    def storage_descriptor(self, location: str | None = None,
                           parameters: dict[str, str] | None = None) -> dict[str, Any]:
        """A Glue ``StorageDescriptor`` for Parquet at ``location`` (default: the table's)."""
        return {
            "Columns": [{"Name": name, "Type": typ} for name, typ in self.columns],
            "Location": location or self.location,
            "InputFormat": PARQUET_INPUT_FORMAT,
            "OutputFormat": PARQUET_OUTPUT_FORMAT,
            "Compressed": False,
            "NumberOfBuckets": -1,
            "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE,
                          "Parameters": {"serialization.format": "1"}},
            "BucketColumns": [],
            "SortColumns": [],
            "Parameters": dict(parameters or {}),
            "StoredAsSubDirectories": False,
        }

    def table_input(self, crawler_name: str) -> dict[str, Any]:
        """The ``TableInput`` a crawler would CreateTable / UpdateTable with."""
        params = self.parameters(crawler_name)
        return {
            "Name": self.name,
            "Owner": "owner",
            "Retention": 0,
            "TableType": "EXTERNAL_TABLE",
            "PartitionKeys": [{"Name": key, "Type": "string"} for key in self.partition_keys],
            "StorageDescriptor": self.storage_descriptor(parameters=params),
            "Parameters": params,
        }

    def partition_input(self, partition: PartitionDefinition, crawler_name: str) -> dict[str, Any]:
        """The ``PartitionInput`` for one of this table's partitions."""
        params = _parameters(partition.object_count, partition.size_bytes, partition.record_count,
                             crawler_name)
        return {"Values": list(partition.values),
                "StorageDescriptor": self.storage_descriptor(partition.location, params),
                "Parameters": params}


@dataclass
class SkippedObject:
    """An object the crawler did not classify, and why (logged by the crawler)."""

    key: str
    reason: str


@dataclass
class Inference:
    """Result of :func:`infer_tables`: the tables and the objects left out."""

    tables: list[TableDefinition]
    skipped: list[SkippedObject]


def _parameters(objects: int, size: int, records: int, crawler_name: str) -> dict[str, str]:
    return {
        "classification": "parquet",
        "compressionType": "none",
        "typeOfData": "file",
        "objectCount": str(objects),
        "recordCount": str(records),
        "sizeKey": str(size),
        "averageRecordSize": str(size // records if records else 0),
        "CrawlerSchemaDeserializerVersion": "1.0",
        "CrawlerSchemaSerializerVersion": "1.0",
        "UPDATED_BY_CRAWLER": crawler_name,
    }


# -- types --------------------------------------------------------------------------

_INT_RANK = {"tinyint": 0, "smallint": 1, "int": 2, "bigint": 3}
_FLOAT_RANK = {"float": 4, "double": 5}


def glue_type(arrow_type: pa.DataType) -> str:
    """The Glue/Hive type name of an Arrow (Parquet) type, as a crawler writes it.

    The mapping is Athena's type pivot (:func:`utils.cloud.athena.types.arrow_to_hive`);
    a crawler differs only in never refusing a column: what Hive has no type for
    (time, interval) is registered as ``string``, which still reads.
    """
    try:
        return arrow_to_hive(arrow_type)
    except ValueError:
        return "string"


def merge_types(current: str, new: str) -> str:
    """One type for a column whose files disagree: the wider number type, else string."""
    if current == new:
        return current
    ranks = {**_INT_RANK, **_FLOAT_RANK}
    if current in ranks and new in ranks:
        return max(current, new, key=lambda t: ranks[t])
    return "string"


# -- layout -------------------------------------------------------------------------

_HIVE_FOLDER = re.compile(r"^([^=/]+)=(.*)$")


def is_data_object(key: str) -> bool:
    """False for folder markers and the bookkeeping files writers leave (``_SUCCESS`` ...)."""
    if key.endswith("/") or key.endswith("$folder$"):
        return False
    parts = key.split("/")
    return not any(part.startswith(("_", ".")) for part in parts if part)


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """A Glue exclusion glob as a regex: ``*`` stays in a folder, ``**`` crosses folders."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "{":
            close = pattern.find("}", i)
            if close > i:
                out.append("(?:" + "|".join(re.escape(x) for x in pattern[i + 1:close].split(",")) + ")")
                i = close + 1
                continue
            out.append(re.escape(char))
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("^" + "".join(out) + "$")


def is_excluded(relative_key: str, exclusions: Sequence[str]) -> bool:
    """True when a key (relative to the target path) matches one of the exclusion globs."""
    return any(glob_to_regex(p).match(relative_key) for p in exclusions)


def split_target(path: str) -> tuple[str, str]:
    """``s3://bucket/a/b/`` -> (``s3://bucket/a/b``, ``a/b/``): the normalised URI and key prefix."""
    uri = path.rstrip("/")
    rest = uri.split("://", 1)[1] if "://" in uri else uri
    _, _, prefix = rest.partition("/")
    return uri, f"{prefix}/" if prefix else ""


def _table_name(raw: str, prefix: str) -> str:
    return f"{prefix}{raw}".lower()


def infer_tables(target_path: str, objects: Iterable[ObjectSchema], exclusions: Sequence[str] = (),
                 table_prefix: str = "") -> Inference:
    """Infer the tables under one S3 target from its objects' Parquet schemas.

    ``objects`` are every object under the target (keys are full bucket keys);
    ``exclusions`` are the target's Glue exclusion globs, relative to the target.
    """
    target_uri, prefix = split_target(target_path)
    skipped: list[SkippedObject] = []
    files: list[tuple[list[str], ObjectSchema]] = []  # (path parts relative to target, object)
    for obj in sorted(objects, key=lambda o: o.key):
        if not obj.key.startswith(prefix):
            continue
        relative = obj.key[len(prefix):]
        if not relative or not is_data_object(relative):
            continue
        if is_excluded(relative, exclusions):
            skipped.append(SkippedObject(obj.key, "excluded by the target's Exclusions"))
            continue
        if obj.schema is None:
            skipped.append(SkippedObject(obj.key, "not a Parquet file (only Parquet is classified)"))
            continue
        files.append((relative.split("/"), obj))
    if not files:
        return Inference([], skipped)

    first_folders = {parts[0] for parts, _ in files if len(parts) > 1}
    direct = [f for f in files if len(f[0]) == 1]
    target_is_table = bool(direct) or all(_HIVE_FOLDER.match(f) for f in first_folders)
    groups: dict[str, tuple[str, list[tuple[list[str], ObjectSchema]]]] = {}
    if target_is_table:
        last = target_uri.split("://", 1)[-1].rstrip("/").split("/")[-1]
        if direct and first_folders and not all(_HIVE_FOLDER.match(f) for f in first_folders):
            # Files beside folders: the files make the table; the folders are another layout.
            for parts, obj in files:
                if len(parts) > 1:
                    skipped.append(SkippedObject(obj.key, "in a sub-folder of a target that also holds "
                                                          "data files directly; move one or the other"))
            files = direct
        groups[last] = (f"{target_uri}/", files)
    else:
        for parts, obj in files:
            if len(parts) == 1:
                continue
            folder = parts[0]
            groups.setdefault(folder, (f"{target_uri}/{folder}/", []))[1].append((parts[1:], obj))

    tables = []
    for raw_name, (location, members) in groups.items():
        table = _infer_table(_table_name(raw_name, table_prefix), location, members, skipped)
        if table is not None:
            tables.append(table)
    return Inference(sorted(tables, key=lambda t: t.name), skipped)


def _infer_table(name: str, location: str, members: list[tuple[list[str], ObjectSchema]],
                 skipped: list[SkippedObject]) -> TableDefinition | None:
    """One table from its files (paths relative to the table folder)."""
    depth = len(members[0][0]) - 1
    first_dirs = members[0][0][:-1]
    keys = []
    for level, folder in enumerate(first_dirs):
        match = _HIVE_FOLDER.match(folder)
        keys.append(match.group(1).lower() if match else f"partition_{level}")
    partitions: dict[tuple[str, ...], PartitionDefinition] = {}
    columns: dict[str, str] = {}
    table = TableDefinition(name, location, [], keys)
    for parts, obj in members:
        dirs = parts[:-1]
        if len(dirs) != depth:
            skipped.append(SkippedObject(obj.key, f"at a different folder depth than the rest of "
                                                  f"table {name} (expected {depth} partition folder(s))"))
            continue
        matches = [_HIVE_FOLDER.match(folder) for folder in dirs]
        if any(m and m.group(1).lower() != keys[level] for level, m in enumerate(matches)):
            skipped.append(SkippedObject(obj.key, f"partition folder names differ from {keys} in "
                                                  f"table {name}"))
            continue
        values = [unquote(m.group(2)) if m else folder for m, folder in zip(matches, dirs, strict=True)]
        assert obj.schema is not None
        for field_ in obj.schema:
            column = field_.name.lower()
            if column in keys:  # the folder is the source of truth for a partition column
                continue
            typ = glue_type(field_.type)
            columns[column] = merge_types(columns[column], typ) if column in columns else typ
        table.object_count += 1
        table.size_bytes += obj.size
        table.record_count += obj.num_rows
        if keys:
            part = partitions.setdefault(tuple(values), PartitionDefinition(
                list(values), location + "/".join(dirs) + "/"))
            part.object_count += 1
            part.size_bytes += obj.size
            part.record_count += obj.num_rows
    if table.object_count == 0:
        return None
    table.columns = list(columns.items())
    table.partitions = list(partitions.values())
    return table
