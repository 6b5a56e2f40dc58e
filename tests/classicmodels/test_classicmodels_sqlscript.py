"""The dump reader: statement splitting, CREATE TABLE parsing, and the DDL itself."""

from __future__ import annotations

import pytest

from utils.classicmodels import schema
from utils.classicmodels.sqlscript import (
    SqlScriptError,
    parse_create_table,
    redirect_statement,
    split_statements,
    statement_kind,
    unwrap,
)

# The public mysqlsampledatabase.sql (v3.1): column name -> type, per table.
PUBLIC_COLUMNS = {
    "customers": [("customerNumber", "int(11)"), ("customerName", "varchar(50)"),
                  ("contactLastName", "varchar(50)"), ("contactFirstName", "varchar(50)"),
                  ("phone", "varchar(50)"), ("addressLine1", "varchar(50)"),
                  ("addressLine2", "varchar(50)"), ("city", "varchar(50)"), ("state", "varchar(50)"),
                  ("postalCode", "varchar(15)"), ("country", "varchar(50)"),
                  ("salesRepEmployeeNumber", "int(11)"), ("creditLimit", "decimal(10,2)")],
    "employees": [("employeeNumber", "int(11)"), ("lastName", "varchar(50)"), ("firstName", "varchar(50)"),
                  ("extension", "varchar(10)"), ("email", "varchar(100)"), ("officeCode", "varchar(10)"),
                  ("reportsTo", "int(11)"), ("jobTitle", "varchar(50)")],
    "offices": [("officeCode", "varchar(10)"), ("city", "varchar(50)"), ("phone", "varchar(50)"),
                ("addressLine1", "varchar(50)"), ("addressLine2", "varchar(50)"), ("state", "varchar(50)"),
                ("country", "varchar(50)"), ("postalCode", "varchar(15)"), ("territory", "varchar(10)")],
    "orderdetails": [("orderNumber", "int(11)"), ("productCode", "varchar(15)"),
                     ("quantityOrdered", "int(11)"), ("priceEach", "decimal(10,2)"),
                     ("orderLineNumber", "smallint(6)")],
    "orders": [("orderNumber", "int(11)"), ("orderDate", "date"), ("requiredDate", "date"),
               ("shippedDate", "date"), ("status", "varchar(15)"), ("comments", "text"),
               ("customerNumber", "int(11)")],
    "payments": [("customerNumber", "int(11)"), ("checkNumber", "varchar(50)"), ("paymentDate", "date"),
                 ("amount", "decimal(10,2)")],
    "productlines": [("productLine", "varchar(50)"), ("textDescription", "varchar(4000)"),
                     ("htmlDescription", "mediumtext"), ("image", "mediumblob")],
    "products": [("productCode", "varchar(15)"), ("productName", "varchar(70)"),
                 ("productLine", "varchar(50)"), ("productScale", "varchar(10)"),
                 ("productVendor", "varchar(50)"), ("productDescription", "text"),
                 ("quantityInStock", "smallint(6)"), ("buyPrice", "decimal(10,2)"),
                 ("MSRP", "decimal(10,2)")],
}
PUBLIC_KEYS = {
    "customers": (("customerNumber",), {(("salesRepEmployeeNumber",), "employees")}),
    "employees": (("employeeNumber",), {(("reportsTo",), "employees"), (("officeCode",), "offices")}),
    "offices": (("officeCode",), set()),
    "orderdetails": (("orderNumber", "productCode"),
                     {(("orderNumber",), "orders"), (("productCode",), "products")}),
    "orders": (("orderNumber",), {(("customerNumber",), "customers")}),
    "payments": (("customerNumber", "checkNumber"), {(("customerNumber",), "customers")}),
    "productlines": (("productLine",), set()),
    "products": (("productCode",), {(("productLine",), "productlines")}),
}


def test_schema_matches_the_public_sample() -> None:
    defs = schema.table_defs()
    assert sorted(defs) == sorted(PUBLIC_COLUMNS)
    for table, columns in PUBLIC_COLUMNS.items():
        assert [(c.name, c.type) for c in defs[table].columns] == columns, table
        primary, foreign = PUBLIC_KEYS[table]
        assert defs[table].primary_key == primary, table
        assert {(cols, ref) for cols, ref, _ in defs[table].foreign_keys} == foreign, table


def test_split_respects_quotes_escapes_and_comments() -> None:
    script = """/* header; with a semicolon */
/*!40101 SET NAMES utf8 */;
-- a line comment; still a comment
insert into `t` values ('a;b','Kelly\\'s',"dq;",'it''s',-1, 3--1); # trailing comment
SELECT '-- not a comment', '/* nor this */', '# nor this';
"""
    statements = list(split_statements(script))
    assert statements == [
        "/*!40101 SET NAMES utf8 */",
        "insert into `t` values ('a;b','Kelly\\'s',\"dq;\",'it''s',-1, 3--1)",
        "SELECT '-- not a comment', '/* nor this */', '# nor this'",
    ]
    assert statement_kind(statements[0]) == "SET"
    assert unwrap(statements[0]) == "SET NAMES utf8"
    assert statement_kind(statements[1]) == "INSERT"


def test_split_honours_delimiter_changes() -> None:
    script = "DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END$$\nDELIMITER ;\nSELECT 3;"
    assert list(split_statements(script)) == [
        "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END", "SELECT 3"]


@pytest.mark.parametrize("script", ["INSERT INTO t VALUES ('never closed);", "SELECT 1 /* open"])
def test_split_reports_unterminated_text(script: str) -> None:
    with pytest.raises(SqlScriptError, match="unterminated"):
        list(split_statements(script))


def test_parse_create_table_with_qualified_name_and_extra_column() -> None:
    table = parse_create_table(
        "CREATE TABLE IF NOT EXISTS `classicmodels`.`orders` (\n"
        "  `orderNumber` int(11) NOT NULL, `orderDate` datetime NOT NULL, `note` json,\n"
        "  PRIMARY KEY (`orderNumber`),\n"
        "  CONSTRAINT `fk` FOREIGN KEY (`customerNumber`) REFERENCES `classicmodels`.`customers` "
        "(`customerNumber`)) ENGINE=InnoDB")
    assert table.name == "orders"
    assert [c.name for c in table.columns] == ["orderNumber", "orderDate", "note"]
    assert table.column("ORDERDATE").family == "datetime"
    assert table.primary_key == ("orderNumber",)
    assert table.foreign_keys == ((("customerNumber",), "customers", ("customerNumber",)),)


def test_redirect_rewrites_targets_not_data() -> None:
    rename = {"customers": "customers", "orders": "orders"}
    insert = "insert  into `classicmodels`.`customers`(`a`) values ('classicmodels.customers')"
    expected = "insert  into `customers`(`a`) values ('classicmodels.customers')"
    assert redirect_statement(insert, rename) == expected
    ddl = "CREATE TABLE classicmodels.orders (x int, FOREIGN KEY (x) REFERENCES classicmodels.customers (c))"
    assert redirect_statement(ddl, rename) == (
        "CREATE TABLE `orders` (x int, FOREIGN KEY (x) REFERENCES `customers` (c))")
    assert redirect_statement("insert into other values (1)", rename) == "insert into other values (1)"
