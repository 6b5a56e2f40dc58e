"""The classicmodels schema as data: tables, columns, keys and Arrow types.

``schema.sql`` (next to this module) is the single source of truth; everything
here is parsed from it, so the DDL a learner reads is exactly what the loader
runs and what the generator's Arrow tables must match.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pyarrow as pa

from utils.classicmodels.sqlscript import TableDef, parse_create_table, split_statements

SCHEMA_SQL = Path(__file__).with_name("schema.sql")

# Parents before children: the order to create tables and load data with
# foreign key checks on, and the reverse order to drop them.
TABLES: tuple[str, ...] = (
    "productlines", "products", "offices", "employees",
    "customers", "orders", "orderdetails", "payments",
)

# Columns a dump may leave out and still be "classicmodels-compatible": nothing
# downstream reads them (the product-line HTML page and picture).
OPTIONAL_COLUMNS: dict[str, frozenset[str]] = {
    "productlines": frozenset({"htmlDescription", "image"}),
}


@cache
def table_defs() -> dict[str, TableDef]:
    """Parsed CREATE TABLE statements of ``schema.sql``, keyed by table name."""
    defs = {}
    for statement in split_statements(SCHEMA_SQL.read_text()):
        table = parse_create_table(statement)
        defs[table.name] = table
    missing = set(TABLES) - set(defs)
    if missing:  # pragma: no cover - guards edits of schema.sql
        raise RuntimeError(f"schema.sql lacks tables: {sorted(missing)}")
    return {name: defs[name] for name in TABLES}


@cache
def create_statements() -> dict[str, str]:
    """The CREATE TABLE statement of each table, exactly as in ``schema.sql``."""
    return {parse_create_table(s).name: s for s in split_statements(SCHEMA_SQL.read_text())}


def required_columns(table: str) -> tuple[str, ...]:
    """Columns a compatible dump must define for ``table``."""
    optional = OPTIONAL_COLUMNS.get(table, frozenset())
    return tuple(c.name for c in table_defs()[table].columns if c.name not in optional)


def arrow_type(mysql_type: str) -> pa.DataType:
    """The Arrow type that holds a MySQL column type without loss."""
    base = mysql_type.split("(", 1)[0]
    if base == "smallint":
        return pa.int16()
    if base in ("int", "integer"):
        return pa.int32()
    if base == "bigint":
        return pa.int64()
    if base == "decimal":
        precision, scale = mysql_type[mysql_type.index("(") + 1 : -1].split(",")
        return pa.decimal128(int(precision), int(scale))
    if base == "date":
        return pa.date32()
    if base in ("mediumblob", "blob", "longblob"):
        return pa.binary()
    return pa.string()


@cache
def arrow_schema(table: str) -> pa.Schema:
    """Arrow schema of a table: one field per column, nullability as in the DDL."""
    return pa.schema(
        [pa.field(c.name, arrow_type(c.type), nullable=c.nullable) for c in table_defs()[table].columns]
    )
