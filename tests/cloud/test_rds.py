"""The lab's RDS instance answers with the local MariaDB's address, where MySQL really listens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
import pymysql
import pytest

from utils.cloud.rds import ensure_lab_db_instance, point_at_local_mariadb
from utils.config import RDS_INSTANCE_ID, get_settings

AWS_CLI = str(Path(sys.executable).with_name("aws"))


def test_ensure_lab_db_instance_is_idempotent(local_cloud: str) -> None:
    settings = get_settings()
    first = ensure_lab_db_instance(settings)
    second = ensure_lab_db_instance(settings)
    assert first is second
    assert first.endpoint == {"Address": settings.db_host.replace("localhost", "127.0.0.1"),
                              "Port": settings.db_port}
    assert (first.engine, first.db_name, first.master_username) == (
        "mysql", "classicmodels", settings.db_admin_user)


def test_describe_over_http_reports_local_mariadb(local_cloud: str) -> None:
    settings = get_settings()
    rds = boto3.client("rds")
    (instance,) = rds.describe_db_instances(DBInstanceIdentifier=RDS_INSTANCE_ID)["DBInstances"]
    assert instance["Endpoint"]["Address"] == "127.0.0.1" if settings.db_host in (
        "127.0.0.1", "localhost") else settings.db_host
    assert instance["Endpoint"]["Port"] == settings.db_port
    assert instance["Engine"] == "mysql" and instance["DBName"] == "classicmodels"
    assert instance["MasterUsername"] == settings.db_admin_user
    assert instance["DBInstanceStatus"] == "available"
    listed = [i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]]
    assert RDS_INSTANCE_ID in listed


def test_other_instances_keep_moto_endpoints(local_cloud: str) -> None:
    rds = boto3.client("rds")
    rds.create_db_instance(DBInstanceIdentifier="some-other-db", DBInstanceClass="db.t3.micro",
                           Engine="postgres", MasterUsername="x", MasterUserPassword="password123",
                           AllocatedStorage=20)
    (other,) = rds.describe_db_instances(DBInstanceIdentifier="some-other-db")["DBInstances"]
    assert other["Endpoint"]["Address"].endswith(".rds.amazonaws.com")


def test_point_at_local_mariadb_keeps_moto_fields(local_cloud: str) -> None:
    from moto.rds.models import rds_backends

    backend = rds_backends["123456789012"]["us-east-1"]
    instance = backend.create_db_instance({"db_instance_identifier": "repointed-db",
                                           "db_instance_class": "db.t3.micro", "engine": "mysql"})
    point_at_local_mariadb(instance, get_settings())
    (described,) = boto3.client("rds").describe_db_instances(
        DBInstanceIdentifier="repointed-db")["DBInstances"]
    assert described["Endpoint"]["Port"] == get_settings().db_port
    assert described["DBInstanceArn"].endswith(":db:repointed-db")


def aws(config: Path, *args: str) -> str:
    """The real aws CLI with an aws config file enabling our endpoint plugin."""
    done = subprocess.run([AWS_CLI, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "AWS_PAGER": "", "AWS_CONFIG_FILE": str(config)})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def cli_config(tmp_path: Path) -> Path:
    """An aws config file with the plugin that makes aws-cli v1 honour AWS_ENDPOINT_URL for rds."""
    config = tmp_path / "aws-config"
    config.write_text("[default]\nregion = us-east-1\n\n[plugins]\ndelab_endpoint = utils.cloud.rds\n")
    return config


def test_lab_step_one_with_the_aws_cli_then_connect(local_cloud: str, cli_config: Path) -> None:
    address = aws(cli_config, "rds", "describe-db-instances", "--db-instance-identifier", "de-c1w2-rds",
                  "--output", "text", "--query", "DBInstances[].Endpoint.Address")
    port = aws(cli_config, "rds", "describe-db-instances", "--db-instance-identifier", "de-c1w2-rds",
               "--output", "text", "--query", "DBInstances[].Endpoint.Port")
    settings = get_settings()
    if not settings.db_admin_password:
        pytest.fail("No DELAB_DB_ADMIN_PASSWORD: run `make up` first (it seeds MariaDB and writes .env).")
    try:
        conn = pymysql.connect(host=address, port=int(port), user=settings.db_admin_user,
                               password=settings.db_admin_password, connect_timeout=5)
    except pymysql.err.OperationalError as exc:
        pytest.fail(f"MariaDB does not answer at {address}:{port} ({exc}). Start it with `make up`.")
    with conn, conn.cursor() as cur:
        cur.execute("SHOW DATABASES")
        assert settings.db_name in {row[0] for row in cur.fetchall()}
