"""A load never loses the previous data: cut dumps, integrity breaks, rollback, server trouble.

Each case checks the message (one line, what happened and what to do) and that the
previous data is intact with no staging database left behind. Server errors are real
where that is practical: a MEMORY table over its size limit gives MariaDB's own 1114
"table is full", a connection killed with ``KILL`` gives pymysql's real "lost connection",
and a private server (tests/foundation/private_mariadb.py) is killed with SIGKILL in the
middle of a seed. Only errno 28 (no space left on the device) is injected at the loader's
execute boundary, with MariaDB's wording.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pymysql
import pytest

from tests.foundation.private_mariadb import private_mariadb, restart
from utils.classicmodels import load_dump, loader, seed
from utils.classicmodels.loader import (
    DiskFullError,
    IncompleteDumpError,
    IntegrityError,
    ServerGoneError,
    rollback,
    rows_in_insert,
)
from utils.classicmodels.testing import table_counts
from utils.config import PROJECT_ROOT
from utils.services.mariadb import connect


def _databases(prefix: str) -> set[str]:
    conn = connect("admin", database=None)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW DATABASES")
            return {row[0] for row in cur.fetchall() if row[0].startswith(prefix)}
    finally:
        conn.close()


def _one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    message = str(exc.value)
    assert "\n" not in message, message
    return message


@pytest.fixture()
def seeded(scratch_db: str) -> dict[str, int]:
    """The scratch database holding generated SF1 data; returns its row counts."""
    seed(1, database=scratch_db, progress=False)
    counts = table_counts(scratch_db)
    assert counts["products"] == 110
    return counts


def test_rows_in_insert_counts_rows_not_parentheses_in_strings() -> None:
    assert rows_in_insert("INSERT INTO t VALUES (1,'a (b), c'),(2,'it''s (x'),(3,UNHEX('00'))") == 3
    assert rows_in_insert("/*!40000 INSERT INTO `t` (`a`,`b`) VALUES (1,\"x)\"),(2,'\\')(')*/") == 2
    assert rows_in_insert("INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE a = VALUES(a)") == 1
    assert rows_in_insert("INSERT INTO t SELECT * FROM u") == 0


def test_a_dump_cut_before_its_last_insert_is_refused_forced_and_rolled_back(
    scratch_db: str, seeded: dict[str, int], quirks_dump: Path, tmp_path: Path
) -> None:
    text = quirks_dump.read_text()
    cut = tmp_path / "cut.sql"
    cut.write_text(text[: text.index("insert  into `products`")])  # at a statement boundary
    with pytest.raises(IncompleteDumpError) as err:
        load_dump(cut, database=scratch_db)
    message = _one_line(err)
    assert message.startswith(f"{cut} looks cut short: it saves session settings at its start (")
    assert "`products` created but given no rows" in message
    assert f"Nothing was loaded; `{scratch_db}` keeps its data" in message and "--force" in message
    assert table_counts(scratch_db) == seeded

    # Forced, it replaces 110 products with 0 (as before #12) ... and a rollback brings them back.
    report = load_dump(cut, database=scratch_db, force=True)
    assert report.rows["products"] == 0
    assert any("order line(s) whose product is missing" in n for n in report.notes), report.notes
    back = rollback(database=scratch_db)
    assert back.rows == seeded == table_counts(scratch_db)
    assert "roll back again to undo" in back.notes[0]
    again = rollback(database=scratch_db)  # undo the rollback: the forced load's data
    assert again.rows["products"] == 0
    rollback(database=scratch_db)
    assert table_counts(scratch_db) == seeded
    assert _databases(scratch_db + "_") == {scratch_db + "_previous"}


def test_a_mysqldump_file_needs_its_trailer(scratch_db: str, quirks_dump: Path, tmp_path: Path) -> None:
    body = quirks_dump.read_text()
    dump = tmp_path / "mysqldump.sql"
    dump.write_text("-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)\n--\n" + body)
    with pytest.raises(IncompleteDumpError, match="lacks mysqldump's last line"):
        load_dump(dump, database=scratch_db)
    dump.write_text(dump.read_text() + "\n-- Dump completed on 2026-01-01 12:00:00\n")
    assert load_dump(dump, database=scratch_db).rows["orderdetails"] == 26


def test_rows_lost_on_the_way_in_refuse_the_load(scratch_db: str, seeded: dict[str, int],
                                                 quirks_dump: Path, tmp_path: Path) -> None:
    text = quirks_dump.read_text()
    # A duplicate order line under INSERT IGNORE. The dump sets UNIQUE_CHECKS=0 (as SQLyog and
    # mysqldump files do), and MariaDB's bulk insert into an empty table then silently drops
    # EVERY row of the statement: the server says 27 rows, the table holds none.
    ignored = tmp_path / "ignored.sql"
    ignored.write_text(text.replace(
        "insert  into `orderdetails`(`orderNumber`,`productCode`,`quantityOrdered`,`priceEach`,"
        "`orderLineNumber`) values \n\n(10100,'S10_1001',30,'136.00',3),",
        "insert ignore into `orderdetails`(`orderNumber`,`productCode`,`quantityOrdered`,`priceEach`,"
        "`orderLineNumber`) values \n\n(10100,'S10_1001',30,'136.00',3),(10100,'S10_1001',1,'1.00',3),"))
    with pytest.raises(IntegrityError) as err:
        load_dump(ignored, database=scratch_db)
    assert "`orderdetails`: the dump carries 27 rows but 0 arrived (duplicate keys?" in _one_line(err)
    assert table_counts(scratch_db) == seeded


def test_rollback_without_a_previous_copy_changes_nothing(scratch_db: str, seeded: dict[str, int]) -> None:
    conn = connect("admin", database=None, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{scratch_db}_previous`")
    finally:
        conn.close()
    result = subprocess.run(
        [sys.executable, "-m", "utils.classicmodels", "rollback", "--database", scratch_db],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: No previous data of `{scratch_db}` is kept (`{scratch_db}_previous` does not exist: "
        "nothing was loaded over it yet, or it was rolled back and dropped). Nothing was changed.")
    assert table_counts(scratch_db) == seeded


def test_a_full_table_ends_in_one_line_and_keeps_the_data(
    scratch_db: str, seeded: dict[str, int], quirks_dump: Path, tmp_path: Path
) -> None:
    # MariaDB's own error 1114, as on a full disk: orderdetails as a MEMORY table capped at 16 KiB.
    text = quirks_dump.read_text()
    start = text.index("CREATE TABLE `orderdetails`")
    end = text.index(") ENGINE=InnoDB", start)
    text = text[:end] + ") ENGINE=MEMORY" + text[end + len(") ENGINE=InnoDB"):]
    rows = ",".join(f"({20000 + i},'S10_1001',1,'1.00',1)" for i in range(3000))
    full = tmp_path / "full.sql"
    full.write_text("SET SESSION max_heap_table_size = 16384;\n" + text
                    + f"\nINSERT INTO `orderdetails` VALUES {rows};\n")
    with pytest.raises(DiskFullError) as err:
        load_dump(full, database=scratch_db)
    message = _one_line(err)
    assert message.startswith("MariaDB ran out of space during the load (1114 The table 'orderdetails' "
                              f"is full); `{scratch_db}` keeps its previous data. Free space on the disk "
                              "holding its data (")
    assert table_counts(scratch_db) == seeded
    assert f"{scratch_db}_staging" not in _databases(scratch_db)


def test_no_space_left_on_the_device_ends_in_one_line(
    scratch_db: str, seeded: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = loader._execute

    def disk_fills_up(cur: pymysql.cursors.Cursor, sql: str, args: object = None) -> int:
        if sql.startswith("LOAD DATA") and "`orderdetails`" in sql:
            raise pymysql.err.OperationalError(
                1030, 'Got error 28 "No space left on device" from storage engine InnoDB')
        return real(cur, sql, args)

    monkeypatch.setattr(loader, "_execute", disk_fills_up)
    with pytest.raises(DiskFullError) as err:
        seed(2, database=scratch_db, progress=False)
    assert _one_line(err).startswith('MariaDB ran out of space during the load (1030 Got error 28 "No space '
                                     f'left on device" from storage engine InnoDB); `{scratch_db}` keeps its '
                                     "previous data.")
    assert table_counts(scratch_db) == seeded
    assert f"{scratch_db}_staging" not in _databases(scratch_db)


def test_a_connection_killed_mid_load_ends_in_one_line(
    scratch_db: str, seeded: dict[str, int], quirks_dump: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = loader._execute

    def killed(cur: pymysql.cursors.Cursor, sql: str, args: object = None) -> int:
        if re.match(r"(?i)insert\s+into\s+`orderdetails`", sql):
            admin = connect("admin", database=None, autocommit=True)
            try:
                with admin.cursor() as other:
                    other.execute(f"KILL CONNECTION {cur.connection.thread_id()}")
            finally:
                admin.close()
        return real(cur, sql, args)

    monkeypatch.setattr(loader, "_execute", killed)
    with pytest.raises(ServerGoneError) as err:
        load_dump(quirks_dump, database=scratch_db)
    message = _one_line(err)
    assert re.match(r"MariaDB went away during the load \((2013|2006) .*\); `" + scratch_db + "` keeps its "
                    r"previous data\. Check it with `make status`, start it with `make up`, then load "
                    r"again\.$", message), message
    assert table_counts(scratch_db) == seeded
    assert f"{scratch_db}_staging" not in _databases(scratch_db)  # dropped on a fresh connection


def test_mariadb_killed_mid_seed_keeps_the_previous_data() -> None:
    with private_mariadb() as server:
        seed(1, progress=False)
        before = table_counts(server.settings.db_name)
        real = loader._execute

        def server_dies(cur: pymysql.cursors.Cursor, sql: str, args: object = None) -> int:
            if sql.startswith("LOAD DATA") and "`orderdetails`" in sql:
                os.kill(server.pid, signal.SIGKILL)  # the private server this test started
            return real(cur, sql, args)

        loader._execute = server_dies
        try:
            with pytest.raises(ServerGoneError) as err:
                seed(2, progress=False)
        finally:
            loader._execute = real
        message = _one_line(err)
        assert message.startswith("MariaDB went away during the load (")
        assert f"`{server.settings.db_name}` keeps its previous data." in message
        assert message.endswith(f"Its staging copy `{server.settings.db_name}_staging` is dropped by the "
                                "next load.")

        # The CLI, with the server gone: one line, no traceback.
        result = subprocess.run(
            [sys.executable, "-m", "utils.classicmodels", "seed", "--sf", "1"], cwd=PROJECT_ROOT,
            capture_output=True, text=True, timeout=60, check=False,
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert result.stderr.strip() == (f"error: Could not connect to MariaDB at 127.0.0.1:"
                                         f"{server.settings.db_port}: the server is not running: start it "
                                         "with `make up`.")

        restart(server)  # InnoDB recovers; the live tables were never touched
        assert table_counts(server.settings.db_name) == before
        seed(1, progress=False)  # the next load drops the leftover staging copy
        assert not _databases(f"{server.settings.db_name}_staging")

