"""Schema drift policy, connection errors and credentials."""

from __future__ import annotations

import time

import boto3
import pyarrow as pa
import pytest
from moto import mock_aws

from tests.e2e.tcp_proxy import TcpProxy
from utils.classicmodels import generate
from utils.etl import job, source_config
from utils.etl.job import (
    DbConfig,
    SchemaDriftError,
    SourceConnectionError,
    build_star,
    check_source_schema,
    extract,
    resolve_db_config,
)
from utils.services.mariadb import connect


@pytest.fixture(scope="module")
def source() -> dict[str, pa.Table]:
    return generate(1)


def test_an_added_column_is_tolerated_and_logged(source: dict[str, pa.Table]) -> None:
    tables = dict(source)
    tables["customers"] = source["customers"].append_column("loyaltyTier", pa.array(["gold"] * 122))
    trimmed, notes = check_source_schema(tables)
    assert "loyaltyTier" not in trimmed["customers"].column_names
    assert notes == ["customers: new source column(s) loyaltyTier ignored (not in the star schema)"]


def test_a_renamed_column_fails_naming_table_and_column(source: dict[str, pa.Table]) -> None:
    tables = dict(source)
    tables["customers"] = source["customers"].rename_columns(
        ["zip" if c == "postalCode" else c for c in source["customers"].column_names])
    expected = r"customers\.postalCode is missing \(new column\(s\) zip: renamed\?\)"
    with pytest.raises(SchemaDriftError, match=expected):
        check_source_schema(tables)


def test_a_retyped_column_fails(source: dict[str, pa.Table]) -> None:
    tables = dict(source)
    details = source["orderdetails"]
    index = details.column_names.index("quantityOrdered")
    tables["orderdetails"] = details.set_column(index, "quantityOrdered",
                                                details["quantityOrdered"].cast(pa.string()))
    with pytest.raises(SchemaDriftError, match=r"orderdetails\.quantityOrdered is now string"):
        check_source_schema(tables)


def test_a_column_name_differing_in_case_is_accepted(source: dict[str, pa.Table]) -> None:
    tables = dict(source)
    tables["products"] = source["products"].rename_columns(
        [c.lower() for c in source["products"].column_names])
    trimmed, _ = check_source_schema(tables)
    assert "MSRP" in trimmed["products"].column_names


def test_drift_in_the_real_database(sf1_db: DbConfig) -> None:
    conn = connect("admin", database=sf1_db.database, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("ALTER TABLE customers ADD COLUMN loyaltyTier varchar(10) DEFAULT 'gold'")
            try:
                _, result, notes = build_star(sf1_db)
                assert result.ok
                assert any("loyaltyTier" in note for note in notes)
                cur.execute("ALTER TABLE orders RENAME COLUMN orderDate TO orderedOn")
                try:
                    with pytest.raises(SchemaDriftError, match=r"orders\.orderDate is missing.*orderedOn"):
                        build_star(sf1_db)
                finally:
                    cur.execute("ALTER TABLE orders RENAME COLUMN orderedOn TO orderDate")
            finally:
                cur.execute("ALTER TABLE customers DROP COLUMN loyaltyTier")
    finally:
        conn.close()


def test_wrong_password_gives_a_clear_error_fast() -> None:
    good = source_config("etl")
    wrong = DbConfig(good.host, good.port, good.user, "wrong-password", good.database,
                     origin="DELAB_DB_ETL_PASSWORD / the secret de-c1w2/etl-db-credentials")
    started = time.perf_counter()
    with pytest.raises(SourceConnectionError) as err:
        extract(wrong)
    assert time.perf_counter() - started < 5, "no 30 s connection-pool retries"
    assert str(err.value) == (
        f"Could not connect to MariaDB at {good.host}:{good.port} as {good.user}: access denied: check "
        "DELAB_DB_ETL_PASSWORD / the secret de-c1w2/etl-db-credentials (wrong user or password)")


def test_server_down_gives_a_clear_error() -> None:
    down = DbConfig("127.0.0.1", 1, "etl_reader", "x", "classicmodels")
    with pytest.raises(SourceConnectionError, match="the server is not reachable: is MariaDB running"):
        extract(down)


def _through(proxy: TcpProxy, db: DbConfig) -> DbConfig:
    return DbConfig("127.0.0.1", proxy.port, db.user, db.password, db.database)


def test_server_lost_mid_read_fails_at_once_naming_the_table(sf1_db: DbConfig) -> None:
    proxy = TcpProxy((sf1_db.host, sf1_db.port), cut_after=50_000)  # orderdetails is ~100 kB
    started = time.perf_counter()
    lost = r"Lost the connection to MariaDB .* while reading \w+\.orderdetails .*make up.*previous tables"
    with pytest.raises(SourceConnectionError, match=lost):
        extract(_through(proxy, sf1_db), ["orderdetails"])
    assert proxy.cut.is_set()
    assert time.perf_counter() - started < 15, "the first failed read ends the run"


def test_server_gone_before_the_reads_connect_fails_without_the_pools_30_s_retry(
    sf1_db: DbConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = TcpProxy((sf1_db.host, sf1_db.port))
    check = job.open_source

    def check_then_server_stops(db: DbConfig, timeout: int = 10) -> object:
        conn = check(db, timeout)  # the password check passes ...
        proxy.close()  # ... then the server goes away: every new connection is refused
        return conn

    monkeypatch.setattr(job, "open_source", check_then_server_stops)
    started = time.perf_counter()
    with pytest.raises(SourceConnectionError, match=r"stopped accepting connections while \w+ was being "
                                                    r"read\. Is the server still running \(make up\)\?"):
        extract(_through(proxy, sf1_db))
    assert time.perf_counter() - started < 15, "connectorx alone retries a refused connection for 30 s"


def test_etl_user_reads_the_source_read_only() -> None:
    db = source_config("etl")
    tables = extract(db, ["orderdetails"])
    assert tables["orderdetails"].num_rows > 0
    conn = connect("etl")
    try:
        with conn.cursor() as cur, pytest.raises(Exception, match="command denied"):
            cur.execute("DELETE FROM orderdetails WHERE orderNumber = -1")
    finally:
        conn.close()


def test_credentials_come_from_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("DELAB_DB_ETL_PASSWORD", raising=False)
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        client.create_secret(Name="de-c1w2/etl-db-credentials", SecretString=(
            '{"engine": "mysql", "host": "db.example", "port": 3307, "username": "etl_reader", '
            '"password": "s3cret", "dbname": "classicmodels"}'))
        db = resolve_db_config("de-c1w2/etl-db-credentials", "us-east-1")
        assert (db.host, db.port, db.user, db.password, db.database) == (
            "db.example", 3307, "etl_reader", "s3cret", "classicmodels")
        with pytest.raises(SourceConnectionError, match="Could not read the database secret 'missing'"):
            resolve_db_config("missing", "us-east-1")
