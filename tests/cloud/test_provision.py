"""Provisioning the lab's resources: idempotent, and it says what it changed."""

from __future__ import annotations

import json
from dataclasses import replace

import boto3
import pytest

from utils.cloud import provision
from utils.config import get_settings


def test_a_changed_password_updates_the_secret_and_says_so(local_cloud: str,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    settings = get_settings()
    provision.apply(settings, verbose=False)
    capsys.readouterr()
    assert provision.apply(settings) == []
    assert "~" not in capsys.readouterr().out, "nothing changed, nothing to say"

    provision.apply(replace(settings, db_etl_password="a-new-password"))
    out = capsys.readouterr().out
    assert "~ secretsmanager secret" in out and provision.DB_SECRET_NAME in out and "make up" in out
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=provision.DB_SECRET_NAME)
    assert json.loads(secret["SecretString"])["password"] == "a-new-password"
    provision.apply(settings, verbose=False)
