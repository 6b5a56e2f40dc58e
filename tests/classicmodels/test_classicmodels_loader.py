"""The loader against the real MariaDB: bulk loads, dumps, validation, atomic swaps."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from utils.classicmodels import (
    TABLES,
    IncompatibleDumpError,
    LoadError,
    generate,
    ground_truth,
    load_dump,
    load_tables,
    seed,
)
from utils.classicmodels.loader import IntegrityError, tsv_bytes
from utils.classicmodels.testing import table_counts
from utils.config import PROJECT_ROOT
from utils.services.mariadb import connect


def _databases() -> set[str]:
    conn = connect("admin", database=None)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW DATABASES")
            return {row[0] for row in cur.fetchall()}
    finally:
        conn.close()


def test_tsv_escapes_tabs_newlines_backslashes_and_nulls() -> None:
    table = pa.table({"a": ["x\ty", "line1\nline2", "C:\\dir", None], "b": [1, None, 3, 4]})
    assert tsv_bytes(table) == b"x\\ty\t1\nline1\\nline2\t\\N\nC:\\\\dir\t3\n\\N\t4\n"


def test_generated_data_round_trips_exactly(scratch_db: str) -> None:
    tables = generate(1)
    report = load_tables(tables, database=scratch_db)
    assert report.rows == {t: tables[t].num_rows for t in TABLES}
    conn = connect("admin", database=scratch_db)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT orderNumber, comments, shippedDate FROM orders ORDER BY orderNumber")
            rows = cur.fetchall()
            cur.execute("SELECT COALESCE(SUM(quantityOrdered * priceEach), 0) FROM orderdetails")
            revenue = cur.fetchone()[0]
            cur.execute("SHOW CREATE TABLE orderdetails")
            ddl = cur.fetchone()[1]
    finally:
        conn.close()
    expected = tables["orders"].select(["orderNumber", "comments", "shippedDate"]).to_pylist()
    assert [(r["orderNumber"], r["comments"], r["shippedDate"]) for r in expected] == list(rows)
    details = tables["orderdetails"].to_pylist()
    assert revenue == sum(r["quantityOrdered"] * r["priceEach"] for r in details)
    assert "FOREIGN KEY (`productCode`) REFERENCES `products`" in ddl


def test_reload_replaces_cleanly_and_leaves_no_staging(scratch_db: str) -> None:
    seed(1, database=scratch_db)
    report = seed(2, database=scratch_db)
    assert table_counts(scratch_db) == report.rows
    assert report.rows["orderdetails"] == 2 * 2996
    leftovers = {d for d in _databases() if d.startswith(scratch_db + "_")}
    assert leftovers == {scratch_db + "_previous"}  # the SF1 data, kept for a rollback
    assert table_counts(scratch_db + "_previous")["orderdetails"] == 2996


def test_quirks_dump_loads_with_every_quirk(scratch_db: str, quirks_dump: Path) -> None:
    report = load_dump(quirks_dump, database=scratch_db)
    assert report.rows == {"productlines": 2, "products": 4, "offices": 2, "employees": 4,
                           "customers": 13, "orders": 12, "orderdetails": 26, "payments": 7}
    truth = ground_truth(database=scratch_db)
    assert truth.order_lines == 26
    assert truth.total_revenue == Decimal("81930.56")
    assert "Norway" in truth.revenue_by_country  # 'Norway  ' trimmed
    conn = connect("admin", database=scratch_db)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT comments FROM orders WHERE orderNumber IN (10103, 10110) ORDER BY 1")
            comments = [r[0] for r in cur.fetchall()]
            cur.execute("SELECT COUNT(DISTINCT city) FROM customers WHERE postalCode = '94217'")
            cities = cur.fetchone()[0]
            cur.execute("SELECT customerName FROM customers WHERE customerNumber = 108")
            name = cur.fetchone()[0]
    finally:
        conn.close()
    assert comments == ["-- not a comment; /* nor this */ # nor this",
                        'Customer says: "ship ASAP; we\'re out"']
    assert cities == 2
    assert name == "Kelly's Gift Shop"


def test_incompatible_dump_names_what_is_missing_and_changes_nothing(
    scratch_db: str, quirks_dump: Path, tmp_path: Path
) -> None:
    seed(1, database=scratch_db)
    before = table_counts(scratch_db)
    text = quirks_dump.read_text()
    renamed = tmp_path / "renamed.sql"
    renamed.write_text(text.replace("`priceEach`", "`unitPrice`"))
    with pytest.raises(IncompatibleDumpError) as err:
        load_dump(renamed, database=scratch_db)
    assert "`orderdetails` lacks column(s): priceEach" in str(err.value)

    no_payments = tmp_path / "no_payments.sql"
    start = text.index("/*Table structure for table `payments` */")
    end = text.index("/*Table structure for table `productlines` */")
    no_payments.write_text(text[:start] + text[end:])
    with pytest.raises(IncompatibleDumpError, match="missing table `payments`"):
        load_dump(no_payments, database=scratch_db)
    assert table_counts(scratch_db) == before


def test_a_dump_failing_half_way_leaves_the_old_data(
    scratch_db: str, quirks_dump: Path, tmp_path: Path
) -> None:
    seed(1, database=scratch_db)
    before = table_counts(scratch_db)
    broken = tmp_path / "broken.sql"
    # Valid up to the last table, whose INSERT references a column that does not exist.
    broken.write_text(quirks_dump.read_text().replace(
        "insert  into `products`(`productCode`", "insert  into `products`(`productKode`"))
    with pytest.raises(LoadError, match=r"INSERT products\) failed") as err:
        load_dump(broken, database=scratch_db)
    assert "Nothing was changed" in str(err.value)
    assert table_counts(scratch_db) == before
    assert not {d for d in _databases() if d.startswith(scratch_db + "_")} - {scratch_db + "_previous"}


def test_dump_with_qualified_names_loads_into_the_target_only(
    scratch_db: str, quirks_dump: Path, tmp_path: Path
) -> None:
    qualified = tmp_path / "qualified.sql"
    qualified.write_text(quirks_dump.read_text().replace(
        "insert  into `customers`", "insert  into `classicmodels`.`customers`"))
    report = load_dump(qualified, database=scratch_db)
    assert report.rows["customers"] == 13
    assert table_counts(scratch_db)["customers"] == 13


def test_cli_seed_prints_counts_and_time(scratch_db: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "utils.classicmodels", "seed", "--sf", "0.5", "--database", scratch_db],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert f"Loaded generated SF0.5 (seed 42) into `{scratch_db}`" in result.stdout
    assert "orderdetails" in result.stdout and "1,498" in result.stdout


def test_cli_reports_an_incompatible_dump(tmp_path: Path, scratch_db: str) -> None:
    bad = tmp_path / "bad.sql"
    bad.write_text("CREATE TABLE customers (customerNumber int);")
    result = subprocess.run(
        [sys.executable, "-m", "utils.classicmodels", "seed", "--dump", str(bad), "--database", scratch_db],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    assert result.returncode == 1
    assert "not a classicmodels-compatible dump" in result.stderr
    assert "missing table `orders`" in result.stderr


def test_a_schema_only_dump_is_refused_and_the_data_kept(
    scratch_db: str, quirks_dump: Path, tmp_path: Path
) -> None:
    from utils.classicmodels.loader import read_dump

    seed(1, database=scratch_db)
    before = table_counts(scratch_db)
    schema_only = tmp_path / "schema_only.sql"
    schema_only.write_text(";\n".join(s for s in read_dump(quirks_dump)
                                      if not s.lstrip().lower().startswith("insert")) + ";\n")
    with pytest.raises(IncompatibleDumpError, match=r"no order lines \(orderdetails is empty: a schema-only "
                                                    r"dump\?\)\. Nothing was loaded"):
        load_dump(schema_only, database=scratch_db)
    assert table_counts(scratch_db) == before


def test_a_truncated_dump_says_so_and_changes_nothing(
    scratch_db: str, quirks_dump: Path, tmp_path: Path
) -> None:
    text = quirks_dump.read_text()
    cut = tmp_path / "cut.sql"
    cut.write_text(text[:text.index("'", text.index("insert  into `customers`") + 200) + 2])
    with pytest.raises(IncompatibleDumpError, match=r"cannot be read as a MySQL script: unterminated .* "
                                                    r"Is the file complete .* Nothing was loaded"):
        load_dump(cut, database=scratch_db)


def test_rows_pointing_at_nothing_refuse_the_load_unless_forced(
    scratch_db: str, quirks_dump: Path, tmp_path: Path
) -> None:
    load_dump(quirks_dump, database=scratch_db)
    before = table_counts(scratch_db)
    dangling = tmp_path / "dangling.sql"
    dangling.write_text(quirks_dump.read_text() + "\nSET FOREIGN_KEY_CHECKS=0;\n"
                        "INSERT INTO `orderdetails` VALUES (10100, 'S99_0000', 1, 1.00, 99);\n")
    with pytest.raises(IntegrityError) as err:
        load_dump(dangling, database=scratch_db)
    message = str(err.value)
    assert "1 order line(s) whose product is missing from products (e.g. S99_0000)" in message
    assert "keeps its data" in message and "--force" in message and "\n" not in message
    assert table_counts(scratch_db) == before
    report = load_dump(dangling, database=scratch_db, force=True)
    assert report.rows["orderdetails"] == before["orderdetails"] + 1
    assert any(note.startswith("loaded anyway (--force): 1 order line(s) whose product is missing")
               for note in report.notes), report.notes
