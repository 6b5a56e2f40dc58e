"""infra/terraform: parsed statically (python-hcl2); the same names as the local cloud."""

from __future__ import annotations

import json
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
    merged: dict = {"resource": {}, "variable": {}, "data": {}, "locals": {}}
    for path in sorted(TF_DIR.glob("*.tf")):
        with path.open() as fh:
            doc = _clean(hcl2.load(fh))
        for block in doc.get("resource", []):
            for rtype, named in block.items():
                merged["resource"].setdefault(rtype, {}).update(named)
        for block in doc.get("variable", []):
            merged["variable"].update(block)
        for block in doc.get("locals", []):
            merged["locals"].update(block)
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
    assert _tf_path(crawler["s3_target"][0]["path"], tf) == "s3://<data lake>/gold"
    assert crawler["recrawl_policy"][0]["recrawl_behavior"] == "CRAWL_NEW_FOLDERS_ONLY"
    policy = crawler["schema_change_policy"][0]
    assert (policy["update_behavior"], policy["delete_behavior"]) == ("LOG", "LOG")


def test_job_runs_the_repository_script_with_the_lab_arguments(tf: dict) -> None:
    job = _one(tf, "aws_glue_job")
    # Glue 5.0 (Python 3.11), see glue.tf and tests/infra/test_glue_runtime.py
    assert (job["command"][0]["name"], job["glue_version"]) == ("glueetl", "5.0")
    assert (job["worker_type"], job["number_of_workers"]) == ("G.1X", 2)
    args = job["default_arguments"]
    assert {"--glue_connection", "--glue_database", "--target_path", "--db_secret"} <= set(args)
    script = _one(tf, "aws_s3_object")
    assert script["source"].endswith("utils/etl/job.py")


# ------------------------------------------------- agreement with the local provisioner


@pytest.fixture(scope="module")
def provisioned(local_cloud: str) -> dict:
    """What utils/cloud/provision.py creates, read back through the AWS API of the local cloud."""
    import boto3

    from utils.cloud import provision

    settings = config.get_settings()
    provision.apply(settings, verbose=False)
    glue = boto3.client("glue", region_name=settings.region)
    return {
        "settings": settings,
        "job": glue.get_job(JobName=config.GLUE_JOB)["Job"],
        "crawler": glue.get_crawler(Name=config.GLUE_CRAWLER)["Crawler"],
        "connection": glue.get_connection(Name=config.GLUE_CONNECTION)["Connection"],
        "role": boto3.client("iam").get_role(RoleName=config.GLUE_ROLE)["Role"],
    }


def _tf_path(value: str, tf: dict) -> str:
    """``s3://${aws_s3_bucket.data_lake.id}/${local.gold_prefix}`` -> ``s3://<data lake>/gold``."""
    for name, local_value in tf["locals"].items():
        value = value.replace(f"${{local.{name}}}", str(local_value))
    for reference in ("${aws_s3_bucket.data_lake.id}", "${aws_s3_bucket.data_lake.arn}"):
        value = value.replace(reference, "<data lake>")
    return value


def test_job_agrees_with_the_local_provisioner(tf: dict, provisioned: dict) -> None:
    job, local = _one(tf, "aws_glue_job"), provisioned["job"]
    lake = provisioned["settings"].data_lake_bucket
    assert _name(job["name"]) == local["Name"]
    assert local["Role"].endswith(f"role/{_name(_one(tf, 'aws_iam_role')['name'])}")
    assert local["Connections"]["Connections"] == [config.GLUE_CONNECTION]
    runs = job["execution_property"][0]["max_concurrent_runs"]
    assert runs == local["ExecutionProperty"]["MaxConcurrentRuns"]
    assert local["Command"]["ScriptLocation"].endswith("/" + _name(_one(tf, "aws_s3_object")["key"]))
    tf_args = {k: _tf_path(str(v), tf) for k, v in job["default_arguments"].items()}
    for key, value in local["DefaultArguments"].items():
        assert key in tf_args, f"{key} is set by the local provisioner but not by glue.tf"
        if key == "--target_path":
            assert tf_args[key] == value.replace(lake, "<data lake>")
    # the job's defaults name its staging path; the local job uses the same by default
    from utils.etl.job import default_staging_path

    assert tf_args["--staging_path"] == default_staging_path(
        local["DefaultArguments"]["--target_path"]).replace(lake, "<data lake>")


def test_job_runtime_agrees_with_the_local_provisioner(tf: dict, provisioned: dict) -> None:
    job, local = _one(tf, "aws_glue_job"), provisioned["job"]
    assert local["Command"]["Name"] == job["command"][0]["name"]
    assert local["Command"].get("PythonVersion") == job["command"][0]["python_version"]
    assert local.get("GlueVersion") == job["glue_version"]
    workers = (job["worker_type"], job["number_of_workers"])
    assert (local.get("WorkerType"), local.get("NumberOfWorkers")) == workers
    assert local.get("Timeout") == job["timeout"]


def test_crawler_and_connection_agree_with_the_local_provisioner(tf: dict, provisioned: dict) -> None:
    crawler, local = _one(tf, "aws_glue_crawler"), provisioned["crawler"]
    lake = provisioned["settings"].data_lake_bucket
    assert [_tf_path(crawler["s3_target"][0]["path"], tf)] == [
        t["Path"].replace(lake, "<data lake>") for t in local["Targets"]["S3Targets"]]
    assert crawler["recrawl_policy"][0]["recrawl_behavior"] == local["RecrawlPolicy"]["RecrawlBehavior"]
    policy = crawler["schema_change_policy"][0]
    assert (policy["update_behavior"], policy["delete_behavior"]) == (
        local["SchemaChangePolicy"]["UpdateBehavior"], local["SchemaChangePolicy"]["DeleteBehavior"])
    props = _one(tf, "aws_glue_connection")["connection_properties"]
    local_props = provisioned["connection"]["ConnectionProperties"]
    assert set(props) == set(local_props)
    assert props["JDBC_CONNECTION_URL"].startswith("jdbc:mysql://")
    assert local_props["JDBC_CONNECTION_URL"].startswith("jdbc:mysql://")
    trust = json.dumps(provisioned["role"]["AssumeRolePolicyDocument"])
    assert "glue.amazonaws.com" in trust
    assert tf["data"]["aws_iam_policy_document"]["glue_assume"]["statement"][0]["principals"][0][
        "identifiers"] == ["glue.amazonaws.com"]


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
            # only EC2 Describe calls, which have no resource-level permissions
            assert all(a.startswith("ec2:Describe") for a in actions), statement


def _statements(tf: dict) -> dict[str, dict]:
    return {s["sid"]: s for s in tf["data"]["aws_iam_policy_document"]["glue"]["statement"]}


def test_glue_role_writes_only_the_jobs_prefixes(tf: dict) -> None:
    """Writes go to gold/, the staging path and the temp dir the job is given; nothing else."""
    writers = [s for s in _statements(tf).values()
               if any(a == "s3:DeleteObject" or a.startswith("s3:Put") for a in s["actions"])]
    written = {_tf_path(r, tf) for s in writers for r in s["resources"]}
    assert written == {"<data lake>/gold/*", "<data lake>/etl-staging/*", "<data lake>/glue-temp/*"}
    args = {k: _tf_path(str(v), tf) for k, v in _one(tf, "aws_glue_job")["default_arguments"].items()}
    assert {args["--target_path"] + "/*", args["--staging_path"] + "/*", args["--TempDir"] + "*"} == {
        w.replace("<data lake>", "s3://<data lake>") for w in written}
    listing = _statements(tf)["ListOnlyTheJobPrefixes"]
    assert listing["condition"][0]["variable"] == "s3:prefix"


def test_glue_role_reads_only_its_script_and_its_secret(tf: dict) -> None:
    statements = _statements(tf)
    readers = [s for s in statements.values() if "s3:GetObject" in s["actions"]]
    resources = {r for s in readers for r in s["resources"]}
    assert "${aws_s3_bucket.scripts.arn}/${aws_s3_object.etl_job_script.key}" in resources
    assert not any(r.endswith(("}/*", ".arn}")) and "scripts" in r for r in resources), resources
    secrets = [s for s in statements.values() if any(a.startswith("secretsmanager:") for a in s["actions"])]
    assert [(s["actions"], s["resources"]) for s in secrets] == [
        (["secretsmanager:GetSecretValue"], ["${aws_secretsmanager_secret.etl_db.arn}"])]


def test_glue_role_uses_only_its_catalog_database_and_connection(tf: dict) -> None:
    for statement in _statements(tf).values():
        if not any(a.startswith("glue:") for a in statement["actions"]):
            continue
        for resource in statement["resources"]:
            assert resource in ("${local.glue_arn}:catalog", "${aws_glue_catalog_database.analytics.arn}",
                                "${local.glue_arn}:table/${aws_glue_catalog_database.analytics.name}/*",
                                "${aws_glue_connection.rds.arn}"), resource
        assert not any(a.startswith(("glue:Delete", "glue:Create")) and a != "glue:CreateTable"
                       for a in statement["actions"]), statement
