"""Fixtures for the ETL tests: source databases on the real MariaDB, S3 under moto."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from utils.classicmodels import generate, load_dump, load_tables
from utils.classicmodels.testing import scratch_database
from utils.etl import DbConfig, source_config

QUIRKS_DUMP = Path(__file__).resolve().parents[1] / "data" / "classicmodels_quirks.sql"
BUCKET = "de-c1w2-123456789012-us-east-1-data-lake"


@pytest.fixture(scope="session")
def quirks_db() -> Iterator[DbConfig]:
    """The hand-written quirks dump, loaded into a private database (read as admin)."""
    with scratch_database("etl_quirks") as name:
        load_dump(QUIRKS_DUMP, database=name)
        yield source_config("admin", database=name)


@pytest.fixture(scope="session")
def sf1_db() -> Iterator[DbConfig]:
    """Generated SF1 data in a private database (read as admin)."""
    with scratch_database("etl_sf1") as name:
        load_tables(generate(1), database=name)
        yield source_config("admin", database=name)


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """An in-process S3 (moto) with the data-lake bucket; no endpoint plumbing leaks in."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client
