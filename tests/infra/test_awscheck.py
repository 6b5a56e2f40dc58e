"""``make check-aws`` against the local cloud standing in for AWS, and without credentials."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import replace

import pytest

from utils import awscheck
from utils.config import (
    DB_SECRET_NAME,
    GLUE_CONNECTION,
    GLUE_CRAWLER,
    GLUE_DATABASE,
    GLUE_JOB,
    GLUE_ROLE,
    LOCAL_ACCOUNT_ID,
    PROJECT_ROOT,
    RDS_INSTANCE_ID,
    get_settings,
)

# A region no other test provisions: the lab's regional resources do not exist there yet.
REGION = "eu-west-3"
REGIONAL = ("s3 bucket", "secretsmanager secret", "glue database", "glue connection", "glue job",
            "glue crawler", "athena workgroup output")


@pytest.fixture
def aws_target(local_cloud: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """DELAB_TARGET=aws with the in-process local cloud standing in for AWS, in a fresh region."""
    suffix = uuid.uuid4().hex[:8]
    values = {"DELAB_TARGET": "aws", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
              "DELAB_DATA_LAKE_BUCKET": f"de-c1w2-check-{suffix}-data-lake",
              "DELAB_SCRIPTS_BUCKET": f"de-c1w2-check-{suffix}-scripts"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DELAB_AWS_ACCOUNT", raising=False)
    return values


def test_reports_account_region_and_every_missing_resource(aws_target: dict[str, str]) -> None:
    result = awscheck.check()
    assert result.ok, result.problem
    assert (result.account, result.region, result.target) == (LOCAL_ACCOUNT_ID, REGION, "aws")
    names = [r.name for r in result.resources]
    assert names[:2] == [aws_target["DELAB_DATA_LAKE_BUCKET"], aws_target["DELAB_SCRIPTS_BUCKET"]]
    assert {GLUE_ROLE, DB_SECRET_NAME, RDS_INSTANCE_ID, GLUE_DATABASE, GLUE_CONNECTION, GLUE_JOB,
            GLUE_CRAWLER, "primary"} <= set(names)
    for status in result.resources:
        if status.kind in REGIONAL:
            assert status.exists is False, status
            if status.kind != "athena workgroup output":
                assert "terraform apply" in status.detail, status
    assert all(status.exists is not None for status in result.resources), result.resources
    text = awscheck.report(result)
    assert f"account      {LOCAL_ACCOUNT_ID}" in text and f"region       {REGION}" in text
    assert "NOT AWS itself" in text, "the stand-in endpoint is named as such"
    assert "$0.44" in text and awscheck.PRICES_AS_OF in text and "terraform destroy" in text


def test_reports_every_resource_once_provisioned(aws_target: dict[str, str]) -> None:
    from utils.cloud import provision

    # The local provisioner creates the same resources as infra/terraform (plus RDS, locally).
    provision.apply(replace(get_settings(), target="local"), verbose=False)
    result = awscheck.check()
    assert result.ok, result.problem
    missing = [r for r in result.resources if not r.exists]
    assert not missing, missing
    assert "Every lab resource exists." in awscheck.report(result)
    job = result.resource("glue job")
    assert job.detail.startswith("Glue "), job


def test_the_command_prints_the_report(aws_target: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "utils.awscheck"], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, env=dict(os.environ), check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    for expected in (f"account      {LOCAL_ACCOUNT_ID}", f"region       {REGION}", GLUE_JOB, GLUE_CRAWLER,
                     aws_target["DELAB_DATA_LAKE_BUCKET"], RDS_INSTANCE_ID, "what it costs"):
        assert expected in done.stdout, expected


def test_no_credentials_is_one_line(tmp_path: os.PathLike, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    empty = tmp_path / "empty"
    empty.write_text("")
    env.update(DELAB_TARGET="aws", AWS_CONFIG_FILE=str(empty), AWS_SHARED_CREDENTIALS_FILE=str(empty),
               AWS_EC2_METADATA_DISABLED="true", AWS_DEFAULT_REGION="us-east-1")
    done = subprocess.run([sys.executable, "-m", "utils.awscheck"], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, env=env, check=False, timeout=120)
    output = (done.stdout + done.stderr).strip()
    assert done.returncode == 2
    assert len(output.splitlines()) == 1, output
    assert output.startswith("No AWS credentials found") and "Traceback" not in output


def test_refused_credentials_are_one_line(local_cloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials that AWS refuses (here: STS answers an error) say so in one line."""
    from botocore.exceptions import ClientError

    def refuse(*args: object, **kwargs: object) -> dict:
        raise ClientError({"Error": {"Code": "InvalidClientTokenId",
                                     "Message": "The security token included in the request is invalid."}},
                          "GetCallerIdentity")

    monkeypatch.setattr("botocore.client.BaseClient._make_api_call", refuse)
    result = awscheck.check()
    assert not result.ok
    assert awscheck.report(result).count("\n") == 0
    assert "InvalidClientTokenId" in result.problem
