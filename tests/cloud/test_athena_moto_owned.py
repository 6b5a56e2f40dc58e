"""Athena's resources are moto's; our engine only executes (issue 16).

Workgroups, named queries, tags and data catalogs are answered by moto's Athena backend
(extended in ``utils/cloud/athena/moto_athena.py``), the settings a query execution reads
come from there, and they survive a restart of the cloud (moto's backends are persisted).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.cloud.athena_helpers import BUCKET, RESULTS, ensure_lake, wait
from tests.conftest import BASE_ENVIRONMENT, daemon_cloud
from utils.cloud import urls
from utils.cloud.athena import models, moto_athena
from utils.cloud.testing import SubprocessCloud

REGION = "us-east-1"
ACCOUNT = "123456789012"
EXECUTED = ("StartQueryExecution", "GetQueryExecution", "GetQueryResults", "StopQueryExecution",
            "ListQueryExecutions", "BatchGetQueryExecution", "GetQueryRuntimeStatistics",
            "CreatePreparedStatement", "GetPreparedStatement", "ListPreparedStatements")


@pytest.fixture(scope="module")
def lake(local_cloud: str) -> dict:
    """The in-process cloud (its moto backends are this process's) with the test lake."""
    return ensure_lake()


def unique(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def moto_backend() -> moto_athena.LocalAthenaBackend:
    """moto's Athena backend of the test region."""
    return moto_athena.backend(REGION)


def workgroup_arn(name: str) -> str:
    """A workgroup's ARN."""
    return f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/{name}"


# ----------------------------------------------------------------------------- routing


def test_resource_operations_are_routed_to_moto_and_execution_to_us() -> None:
    for operation in urls.ATHENA_MOTO_OPERATIONS:
        assert urls.json_handler("AmazonAthena", operation) is None, operation
    for operation in EXECUTED:
        assert urls.json_handler("AmazonAthena", operation) == "utils.cloud.athena.responses:handle"
    # Our backend keeps no workgroups or named queries of its own any more.
    backend = models.athena_backend(REGION)
    assert not hasattr(backend, "workgroups") and not hasattr(backend, "named_queries")


def test_a_fresh_backend_has_primary_and_the_glue_catalog() -> None:
    fresh = moto_athena.LocalAthenaBackend("eu-west-3", ACCOUNT)
    primary = fresh.get_work_group("primary")
    assert primary["Configuration"]["EnforceWorkGroupConfiguration"] is False
    assert primary["Configuration"]["ResultConfiguration"] == {}
    assert fresh.get_data_catalog("AwsDataCatalog")["Type"] == "GLUE"


# -------------------------------------------------------------------------- workgroups


def test_workgroup_lifecycle_lives_in_moto(lake: dict) -> None:
    athena = boto3.client("athena")
    name = unique("wg")
    before = datetime.now(UTC).replace(microsecond=0)
    athena.create_work_group(Name=name, Description="lesson 3", Tags=[{"Key": "course", "Value": "de"}],
                             Configuration={"ResultConfiguration": {"OutputLocation": f"{RESULTS}{name}/"}})
    group = moto_backend().work_groups[name]
    assert type(moto_backend()) is moto_athena.LocalAthenaBackend
    assert group.configuration["ResultConfiguration"]["OutputLocation"] == f"{RESULTS}{name}/"
    got = athena.get_work_group(WorkGroup=name)["WorkGroup"]
    assert got["Description"] == "lesson 3" and got["State"] == "ENABLED"
    assert got["CreationTime"] >= before
    assert name in [w["Name"] for w in athena.list_work_groups()["WorkGroups"]]
    with pytest.raises(ClientError, match="already exists"):
        athena.create_work_group(Name=name)

    athena.update_work_group(WorkGroup=name, Description="lesson 4", State="DISABLED", ConfigurationUpdates={
        "EnforceWorkGroupConfiguration": False,
        "ResultConfigurationUpdates": {"OutputLocation": f"{RESULTS}{name}-v2/",
                                       "ExpectedBucketOwner": ACCOUNT}})
    assert group.description == "lesson 4" and group.state == "DISABLED"
    assert group.configuration["ResultConfiguration"] == {"OutputLocation": f"{RESULTS}{name}-v2/",
                                                          "ExpectedBucketOwner": ACCOUNT}
    assert group.configuration["EnforceWorkGroupConfiguration"] is False

    athena.delete_work_group(WorkGroup=name)
    assert name not in moto_backend().work_groups
    with pytest.raises(ClientError, match=f"WorkGroup {name} is not found"):
        athena.get_work_group(WorkGroup=name)


def test_workgroup_refusals(lake: dict) -> None:
    athena = boto3.client("athena")
    with pytest.raises(ClientError, match="primary"):
        athena.delete_work_group(WorkGroup="primary")
    with pytest.raises(ClientError, match="is not found"):
        athena.update_work_group(WorkGroup=unique("nowhere"), Description="x")
    with pytest.raises(ClientError, match="OutputLocation"):
        athena.update_work_group(WorkGroup="primary", ConfigurationUpdates={
            "ResultConfigurationUpdates": {"OutputLocation": RESULTS},
            "ManagedQueryResultsConfigurationUpdates": {"Enabled": True}})
    assert "primary" in moto_backend().work_groups


# ----------------------------------------------------------------------- named queries


def test_named_queries_live_in_moto(lake: dict) -> None:
    athena = boto3.client("athena")
    group = unique("wg-named")
    athena.create_work_group(Name=group)
    first = athena.create_named_query(Name="top customers", Database="db", QueryString="SELECT 1",
                                      WorkGroup=group)["NamedQueryId"]
    second = athena.create_named_query(Name="revenue", Database="db", QueryString="SELECT 2",
                                       WorkGroup=group)["NamedQueryId"]
    assert moto_backend().named_queries[first].query_string == "SELECT 1"
    got = athena.get_named_query(NamedQueryId=first)["NamedQuery"]
    assert (got["Name"], got["WorkGroup"], got["QueryString"]) == ("top customers", group, "SELECT 1")
    assert sorted(athena.list_named_queries(WorkGroup=group)["NamedQueryIds"]) == sorted([first, second])
    missing = str(uuid.uuid4())
    batch = athena.batch_get_named_query(NamedQueryIds=[first, missing])
    assert [q["NamedQueryId"] for q in batch["NamedQueries"]] == [first]
    assert [u["NamedQueryId"] for u in batch["UnprocessedNamedQueryIds"]] == [missing]
    athena.delete_named_query(NamedQueryId=first)
    assert first not in moto_backend().named_queries
    with pytest.raises(ClientError, match="was not found"):
        athena.get_named_query(NamedQueryId=first)
    athena.delete_work_group(WorkGroup=group)  # its named queries go with it
    assert second not in moto_backend().named_queries


# ------------------------------------------------------------------------------- tags


def test_tags_live_in_moto(lake: dict) -> None:
    athena = boto3.client("athena")
    name = unique("wg-tags")
    arn = workgroup_arn(name)
    athena.create_work_group(Name=name)
    assert athena.list_tags_for_resource(ResourceARN=arn)["Tags"] == []
    athena.tag_resource(ResourceARN=arn, Tags=[{"Key": "team", "Value": "data"},
                                               {"Key": "cost", "Value": "1"}])
    assert moto_backend().tagger.get_tag_dict_for_resource(arn) == {"team": "data", "cost": "1"}
    athena.untag_resource(ResourceARN=arn, TagKeys=["cost"])
    assert athena.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "data"}]
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        athena.tag_resource(ResourceARN=workgroup_arn(unique("nowhere")), Tags=[{"Key": "k", "Value": "v"}])


# ---------------------------------------------------------------------- data catalogs


def test_data_catalogs_live_in_moto(lake: dict) -> None:
    athena = boto3.client("athena")
    summaries = athena.list_data_catalogs()["DataCatalogsSummary"]
    assert {"CatalogName": "AwsDataCatalog", "Type": "GLUE"}.items() <= summaries[0].items()
    assert athena.get_data_catalog(Name="AwsDataCatalog")["DataCatalog"]["Parameters"] == {
        "catalog-id": ACCOUNT}
    name = unique("hive")
    athena.create_data_catalog(Name=name, Type="HIVE", Description="a metastore",
                               Parameters={"metadata-function": "arn:aws:lambda:us-east-1:1:function:f"})
    assert moto_backend().data_catalogs[name].type == "HIVE"
    athena.update_data_catalog(Name=name, Type="HIVE", Description="renamed")
    assert athena.get_data_catalog(Name=name)["DataCatalog"]["Description"] == "renamed"
    athena.delete_data_catalog(Name=name)
    assert name not in moto_backend().data_catalogs
    with pytest.raises(ClientError, match="is not found"):
        athena.get_data_catalog(Name=name)
    with pytest.raises(ClientError, match="cannot be deleted"):
        athena.delete_data_catalog(Name="AwsDataCatalog")


# -------------------------------------------------- what query execution reads from moto


def test_execution_reads_the_workgroup_settings_from_moto(lake: dict) -> None:
    athena = boto3.client("athena")
    name = unique("wg-settings")
    encryption = {"EncryptionOption": "SSE_S3"}
    athena.create_work_group(Name=name, Configuration={
        "EnforceWorkGroupConfiguration": True,
        "ResultConfiguration": {"OutputLocation": f"{RESULTS}{name}/", "EncryptionConfiguration": encryption,
                                "ExpectedBucketOwner": ACCOUNT}})
    # Enforced: the client's location and encryption give way to the workgroup's.
    client_encryption = {"EncryptionOption": "CSE_KMS", "KmsKey": "k"}
    query_id = athena.start_query_execution(QueryString="SELECT 1", WorkGroup=name, ResultConfiguration={
        "OutputLocation": f"{RESULTS}elsewhere/", "EncryptionConfiguration": client_encryption,
    })["QueryExecutionId"]
    execution = wait(query_id)
    assert execution["ResultConfiguration"] == {"OutputLocation": f"{RESULTS}{name}/{query_id}.csv",
                                                "EncryptionConfiguration": encryption,
                                                "ExpectedBucketOwner": ACCOUNT}

    # A change made in moto's backend itself (no API call of ours) is what the next query uses.
    acl = {"S3AclOption": "BUCKET_OWNER_FULL_CONTROL"}
    moto_backend().update_work_group(name, {
        "EnforceWorkGroupConfiguration": False,
        "ResultConfigurationUpdates": {"OutputLocation": f"s3://{BUCKET}/moved/",
                                       "RemoveEncryptionConfiguration": True, "AclConfiguration": acl}},
        None, None)
    query_id = athena.start_query_execution(QueryString="SELECT 1", WorkGroup=name)["QueryExecutionId"]
    execution = wait(query_id)
    assert execution["ResultConfiguration"]["OutputLocation"] == f"s3://{BUCKET}/moved/{query_id}.csv"
    assert "EncryptionConfiguration" not in execution["ResultConfiguration"]
    assert execution["ResultConfiguration"]["AclConfiguration"] == acl
    # Not enforced any more: the client's location wins.
    query_id = athena.start_query_execution(QueryString="SELECT 1", WorkGroup=name, ResultConfiguration={
        "OutputLocation": f"{RESULTS}client/"})["QueryExecutionId"]
    assert wait(query_id)["ResultConfiguration"]["OutputLocation"] == f"{RESULTS}client/{query_id}.csv"

    # Managed query results, switched on in moto: no OutputLocation, results kept by Athena.
    moto_backend().update_work_group(name, {
        "ResultConfigurationUpdates": {"RemoveOutputLocation": True},
        "ManagedQueryResultsConfigurationUpdates": {"Enabled": True}}, None, None)
    execution = wait(athena.start_query_execution(QueryString="SELECT 1", WorkGroup=name)["QueryExecutionId"])
    assert execution["Status"]["State"] == "SUCCEEDED"
    assert execution["ManagedQueryResultsConfiguration"]["Enabled"] is True
    assert "OutputLocation" not in execution["ResultConfiguration"]

    # Disabled in moto: queries are refused; deleted: unknown.
    moto_backend().work_groups[name].state = "DISABLED"
    with pytest.raises(ClientError, match="disabled"):
        athena.start_query_execution(QueryString="SELECT 1", WorkGroup=name)
    athena.delete_work_group(WorkGroup=name)
    with pytest.raises(ClientError, match="is not found"):
        athena.start_query_execution(QueryString="SELECT 1", WorkGroup=name)
    with pytest.raises(ClientError, match="is not found"):
        athena.list_query_executions(WorkGroup=name)


def test_primary_exists_by_default_and_its_output_location_is_moto_s(lake: dict) -> None:
    primary = moto_backend().work_groups["primary"]
    saved = json.loads(json.dumps(primary.configuration))
    try:
        primary.configuration["ResultConfiguration"] = {"OutputLocation": f"s3://{BUCKET}/primary-default/"}
        query_id = boto3.client("athena").start_query_execution(QueryString="SELECT 1")["QueryExecutionId"]
        assert wait(query_id)["ResultConfiguration"]["OutputLocation"] == \
            f"s3://{BUCKET}/primary-default/{query_id}.csv"
        primary.configuration["ResultConfiguration"] = {}
        with pytest.raises(ClientError, match="No output location provided"):
            boto3.client("athena").start_query_execution(QueryString="SELECT 1")
    finally:
        primary.configuration = saved


def test_an_older_clouds_workgroups_and_named_queries_are_handed_to_moto() -> None:
    region = "ap-southeast-2"
    legacy = {
        "workgroups": [
            {"name": "primary", "description": "", "state": "ENABLED", "output_location": "s3://old/results/",
             "enforce": False, "extra": {}, "tags": {}, "created": datetime(2024, 1, 1, tzinfo=UTC)},
            {"name": "lab", "description": "the lab's", "state": "ENABLED", "output_location": "s3://old/lab/",
             "enforce": True, "extra": {"ResultConfiguration": {"EncryptionConfiguration": {
                 "EncryptionOption": "SSE_S3"}}}, "tags": {"course": "de"},
             "created": datetime(2024, 1, 2, tzinfo=UTC)}],
        "named_queries": [{"Name": "n", "Description": "", "Database": "db", "QueryString": "SELECT 1",
                           "NamedQueryId": "11111111-2222-3333-4444-555555555555", "WorkGroup": "lab"}],
        "executions": [], "tokens": {}}
    backend = models.AthenaBackend(region)
    backend.restore(legacy)
    lab = backend.workgroup("lab")
    assert (lab.output_location, lab.enforce, lab.result_settings) == (
        "s3://old/lab/", True, {"EncryptionConfiguration": {"EncryptionOption": "SSE_S3"}})
    assert backend.workgroup("primary").output_location == "s3://old/results/"
    moto = moto_athena.backend(region)
    assert moto.tagger.get_tag_dict_for_resource(moto.work_groups["lab"].arn) == {"course": "de"}
    assert backend.named_query("11111111-2222-3333-4444-555555555555")["WorkGroup"] == "lab"
    assert "workgroups" not in backend.snapshot() and "named_queries" not in backend.snapshot()


def test_prepared_statements_go_with_their_workgroup(lake: dict) -> None:
    athena = boto3.client("athena")
    name = unique("wg-prepared")
    athena.create_work_group(Name=name, Configuration={"ResultConfiguration": {"OutputLocation": RESULTS}})
    athena.create_prepared_statement(StatementName="one", WorkGroup=name, QueryStatement="SELECT 1")
    assert athena.get_prepared_statement(StatementName="one", WorkGroup=name)["PreparedStatement"][
        "QueryStatement"] == "SELECT 1"
    athena.delete_work_group(WorkGroup=name)
    with pytest.raises(ClientError, match="is not found"):
        athena.get_prepared_statement(StatementName="one", WorkGroup=name)
    athena.create_work_group(Name=name, Configuration={"ResultConfiguration": {"OutputLocation": RESULTS}})
    assert athena.list_prepared_statements(WorkGroup=name)["PreparedStatements"] == []


# ------------------------------------------------------------------------- durability


@pytest.fixture()
def daemon(tmp_path: Path) -> Iterator[SubprocessCloud]:
    """A persisted cloud of its own (``python -m utils.cloud serve --state-dir``)."""
    with daemon_cloud(tmp_path) as cloud:
        yield cloud


def test_workgroups_named_queries_and_tags_survive_a_restart_and_a_kill_9(daemon: SubprocessCloud) -> None:
    athena, s3 = boto3.client("athena"), boto3.client("s3")
    bucket = unique("wg-durable")
    s3.create_bucket(Bucket=bucket)
    name = unique("wg")
    athena.create_work_group(Name=name, Description="kept", Tags=[{"Key": "course", "Value": "de"}],
                             Configuration={"EnforceWorkGroupConfiguration": True, "ResultConfiguration": {
                                 "OutputLocation": f"s3://{bucket}/results/",
                                 "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"}}})
    athena.update_work_group(WorkGroup="primary", ConfigurationUpdates={
        "ResultConfigurationUpdates": {"OutputLocation": f"s3://{bucket}/primary/"}})
    named = athena.create_named_query(Name="kept query", Database="default", QueryString="SELECT 42",
                                      WorkGroup=name)["NamedQueryId"]
    before = athena.get_work_group(WorkGroup=name)["WorkGroup"]

    daemon.stop()
    daemon.start(base_env=BASE_ENVIRONMENT)
    assert athena.get_work_group(WorkGroup=name)["WorkGroup"] == before
    assert athena.get_named_query(NamedQueryId=named)["NamedQuery"]["QueryString"] == "SELECT 42"
    assert athena.list_tags_for_resource(ResourceARN=workgroup_arn(name))["Tags"] == [
        {"Key": "course", "Value": "de"}]
    status = json.loads(daemon.cli("store-status", "--json").stdout)
    assert "moto-athena" in status["components"]

    # A change answered is on disk: it survives a crash right after.
    athena.update_work_group(WorkGroup=name, Description="changed before the crash")
    daemon.kill()
    daemon.start(base_env=BASE_ENVIRONMENT)
    assert athena.get_work_group(WorkGroup=name)["WorkGroup"]["Description"] == "changed before the crash"
    # The restored settings are what a query uses.
    query_id = athena.start_query_execution(QueryString="SELECT 1", WorkGroup=name)["QueryExecutionId"]
    execution = wait(query_id)
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    assert execution["ResultConfiguration"] == {"OutputLocation": f"s3://{bucket}/results/{query_id}.csv",
                                                "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"}}
    query_id = athena.start_query_execution(QueryString="SELECT 1")["QueryExecutionId"]
    assert wait(query_id)["ResultConfiguration"]["OutputLocation"] == f"s3://{bucket}/primary/{query_id}.csv"
