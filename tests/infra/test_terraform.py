"""infra/terraform: parsed statically (python-hcl2); the same names as the local cloud."""

from __future__ import annotations

from pathlib import Path

import hcl2
import pytest

from utils import config

TF_DIR = Path(__file__).resolve().parents[2] / "infra" / "terraform"


def _clean(value: object) -> object:
    """python-hcl2 keeps HCL quotes on strings and block labels; drop them and its markers."""
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


@pytest.fixture(scope="module")
def tf() -> dict:
    merged: dict = {"resource": {}, "variable": {}, "data": {}}
    for path in sorted(TF_DIR.glob("*.tf")):
        with path.open() as fh:
            doc = _clean(hcl2.load(fh))
        for block in doc.get("resource", []):
            for rtype, named in block.items():
                merged["resource"].setdefault(rtype, {}).update(named)
        for block in doc.get("variable", []):
            merged["variable"].update(block)
        for block in doc.get("data", []):
            for dtype, named in block.items():
                merged["data"].setdefault(dtype, {}).update(named)
    return merged


def _one(tf: dict, rtype: str) -> dict:
    resources = tf["resource"][rtype]
    assert len(resources) == 1, f"expected one {rtype}"
    return next(iter(resources.values()))


def _name(value: str) -> str:
    """Resolve the ${var.project} prefix as Terraform would with the default."""
    return value.replace("${var.project}", config.PROJECT)


def test_every_file_parses(tf: dict) -> None:
    assert tf["resource"], "no resources parsed"


def test_resource_names_match_the_local_cloud(tf: dict) -> None:
    assert _name(_one(tf, "aws_glue_catalog_database")["name"]) == config.GLUE_DATABASE
    assert _name(_one(tf, "aws_glue_connection")["name"]) == config.GLUE_CONNECTION
    assert _name(_one(tf, "aws_glue_job")["name"]) == config.GLUE_JOB
    assert _name(_one(tf, "aws_glue_crawler")["name"]) == config.GLUE_CRAWLER
    assert _name(_one(tf, "aws_iam_role")["name"]) == config.GLUE_ROLE
    assert _name(_one(tf, "aws_secretsmanager_secret")["name"]) == config.DB_SECRET_NAME


def test_crawler_matches_the_course(tf: dict) -> None:
    crawler = _one(tf, "aws_glue_crawler")
    assert crawler["s3_target"][0]["path"].endswith("/gold")
    assert crawler["recrawl_policy"][0]["recrawl_behavior"] == "CRAWL_NEW_FOLDERS_ONLY"
    policy = crawler["schema_change_policy"][0]
    assert (policy["update_behavior"], policy["delete_behavior"]) == ("LOG", "LOG")


def test_job_runs_the_repository_script_with_the_lab_arguments(tf: dict) -> None:
    job = _one(tf, "aws_glue_job")
    assert job["command"][0]["name"] == "pythonshell"
    args = job["default_arguments"]
    assert {"--glue_connection", "--glue_database", "--target_path", "--db_secret"} <= set(args)
    script = _one(tf, "aws_s3_object")
    assert script["source"].endswith("utils/etl/job.py")


def test_password_is_sensitive_and_has_no_default(tf: dict) -> None:
    password = tf["variable"]["password"]
    assert password.get("sensitive") is True
    assert "default" not in password


def test_buckets_block_public_access_and_encrypt(tf: dict) -> None:
    buckets = set(tf["resource"]["aws_s3_bucket"])
    blocked = tf["resource"]["aws_s3_bucket_public_access_block"]
    encrypted = tf["resource"]["aws_s3_bucket_server_side_encryption_configuration"]
    assert set(blocked) == buckets and set(encrypted) == buckets
    for block in blocked.values():
        assert all(block[k] is True for k in ("block_public_acls", "block_public_policy",
                                             "ignore_public_acls", "restrict_public_buckets"))


def test_glue_role_policy_is_least_privilege(tf: dict) -> None:
    doc = tf["data"]["aws_iam_policy_document"]["glue"]
    for statement in doc["statement"]:
        actions = statement["actions"]
        assert not any(a == "*" or a.endswith(":*") for a in actions), statement
        if statement["resources"] == ["*"]:
            # only EC2 network-interface calls, which have no resource-level permissions
            assert all(a.startswith("ec2:") for a in actions), statement
