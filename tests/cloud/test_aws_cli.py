"""The aws CLI (awscli from PyPI) works against the local cloud unchanged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pymysql

from utils.config import get_settings

AWS = str(Path(sys.executable).with_name("aws"))


def aws(*args: str) -> str:
    result = subprocess.run([AWS, *args], capture_output=True, text=True, env=dict(os.environ),
                            timeout=120, check=False)
    assert result.returncode == 0, f"aws {' '.join(args)} failed: {result.stderr}"
    return result.stdout


def test_s3_mb_cp_ls(local_cloud: str, tmp_path: Path) -> None:
    source = tmp_path / "hello.csv"
    source.write_text("a,b\n1,2\n")
    aws("s3", "mb", "s3://cli-test-bucket")
    aws("s3", "cp", str(source), "s3://cli-test-bucket/raw/hello.csv")
    listing = aws("s3", "ls", "s3://cli-test-bucket/raw/")
    assert "hello.csv" in listing
    aws("s3", "cp", "s3://cli-test-bucket/raw/hello.csv", str(tmp_path / "back.csv"))
    assert (tmp_path / "back.csv").read_text() == "a,b\n1,2\n"


def test_glue_get_databases(local_cloud: str) -> None:
    aws("glue", "create-database", "--database-input", '{"Name": "cli_test_db"}')
    names = json.loads(aws("glue", "get-databases", "--query", "DatabaseList[].Name"))
    assert "cli_test_db" in names


def test_course_rds_command_then_pymysql(local_cloud: str) -> None:
    """Lab step 1 exactly as the course prints it, then a connection to what it printed."""
    from utils.cloud.rds import ensure_lab_db_instance

    ensure_lab_db_instance()
    query = ["rds", "describe-db-instances", "--db-instance-identifier", "de-c1w2-rds", "--output", "text"]
    host = aws(*query, "--query", "DBInstances[].Endpoint.Address").strip()
    port = int(aws(*query, "--query", "DBInstances[].Endpoint.Port").strip())
    s = get_settings()
    conn = pymysql.connect(host=host, port=port, user=s.db_admin_user, password=s.db_admin_password,
                           database=s.db_name)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW TABLES")
            assert len(cur.fetchall()) == 8
    finally:
        conn.close()
