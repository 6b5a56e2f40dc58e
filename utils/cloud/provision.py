"""The lab's resources, provisioned through the AWS API (plan, then apply).

The same names as the course's Terraform (project ``de-c1w2``), created with
boto3 so the code path is the one a real account would see. Locally ``make up``
applies this plan; on real AWS, ``infra/terraform`` creates the same resources.

    >>> for change in plan(): print(change)        # what would be created
    >>> apply()                                     # create what is missing
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.exceptions import ClientError

from utils.config import (
    DB_SECRET_NAME,
    GLUE_CONNECTION,
    GLUE_CRAWLER,
    GLUE_DATABASE,
    GLUE_JOB,
    GLUE_ROLE,
    PROJECT,
    PROJECT_ROOT,
    RDS_INSTANCE_ID,
    Settings,
    get_settings,
)

JOB_SCRIPT = PROJECT_ROOT / "utils" / "etl" / "job.py"
GLUE_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}


@dataclass
class Resource:
    """One resource of the plan: how to tell it exists and how to create it."""

    kind: str
    name: str
    exists: Callable[[], bool]
    create: Callable[[], None]
    # Refreshed on every apply (e.g. the job script); may return a note on what changed.
    always: Callable[[], str | None] | None = None

    def __str__(self) -> str:
        return f"{self.kind:<26} {self.name}"


def _missing(call: Callable[[], object], *codes: str) -> bool:
    try:
        call()
        return False
    except ClientError as err:
        if err.response["Error"]["Code"] in codes:
            return True
        raise


def job_script_key() -> str:
    """Key of the ETL job script in the scripts bucket."""
    return f"{GLUE_JOB}.py"


def resources(settings: Settings | None = None) -> list[Resource]:
    """Every resource of the lab, in creation order."""
    s = settings or get_settings()
    s3 = boto3.client("s3", region_name=s.region)
    glue = boto3.client("glue", region_name=s.region)
    iam = boto3.client("iam", region_name=s.region)
    rds = boto3.client("rds", region_name=s.region)
    secrets = boto3.client("secretsmanager", region_name=s.region)
    athena = boto3.client("athena", region_name=s.region)

    def workgroup_has_output() -> bool:
        config = athena.get_work_group(WorkGroup="primary")["WorkGroup"].get("Configuration", {})
        return bool(config.get("ResultConfiguration", {}).get("OutputLocation"))
    account = boto3.client("sts", region_name=s.region).get_caller_identity()["Account"]
    role_arn = f"arn:aws:iam::{account}:role/{GLUE_ROLE}"

    def bucket(name: str) -> Resource:
        def create() -> None:
            kwargs = {} if s.region == "us-east-1" else {
                "CreateBucketConfiguration": {"LocationConstraint": s.region}}
            s3.create_bucket(Bucket=name, **kwargs)
        return Resource("s3 bucket", name,
                        lambda: not _missing(lambda: s3.head_bucket(Bucket=name), "404", "NoSuchBucket"),
                        create)

    def upload_script() -> None:
        if JOB_SCRIPT.exists():
            s3.put_object(Bucket=s.scripts_bucket, Key=job_script_key(),
                          Body=Path(JOB_SCRIPT).read_bytes())

    secret_value = json.dumps({
        "engine": "mysql", "host": s.db_host, "port": s.db_port, "dbname": s.db_name,
        "username": s.db_etl_user, "password": s.db_etl_password or "",
    })

    def put_secret() -> str | None:
        current = secrets.get_secret_value(SecretId=DB_SECRET_NAME)["SecretString"]
        if current == secret_value:
            return None
        secrets.put_secret_value(SecretId=DB_SECRET_NAME, SecretString=secret_value)
        return ("updated from the settings (.env); if you changed a database password there, run "
                "`make up` so MariaDB uses it too")

    job_args = {
        "--glue_connection": GLUE_CONNECTION,
        "--glue_database": GLUE_DATABASE,
        "--target_path": s.gold_path,
        "--db_secret": DB_SECRET_NAME,
    }
    return [
        bucket(s.data_lake_bucket),
        bucket(s.scripts_bucket),
        Resource("iam role", GLUE_ROLE,
                 lambda: not _missing(lambda: iam.get_role(RoleName=GLUE_ROLE), "NoSuchEntity"),
                 lambda: iam.create_role(RoleName=GLUE_ROLE,
                                         AssumeRolePolicyDocument=json.dumps(GLUE_TRUST_POLICY))),
        Resource("secretsmanager secret", DB_SECRET_NAME,
                 lambda: not _missing(lambda: secrets.describe_secret(SecretId=DB_SECRET_NAME),
                                      "ResourceNotFoundException"),
                 lambda: secrets.create_secret(Name=DB_SECRET_NAME, SecretString=secret_value),
                 always=put_secret),
        Resource("rds db instance", RDS_INSTANCE_ID,
                 lambda: not _missing(lambda: rds.describe_db_instances(
                     DBInstanceIdentifier=RDS_INSTANCE_ID), "DBInstanceNotFound", "DBInstanceNotFoundFault"),
                 lambda: rds.create_db_instance(
                     DBInstanceIdentifier=RDS_INSTANCE_ID, Engine="mysql", DBInstanceClass="db.t3.micro",
                     MasterUsername=s.db_admin_user, MasterUserPassword=s.db_admin_password or "unused",
                     DBName=s.db_name, Port=s.db_port, AllocatedStorage=20,
                     Tags=[{"Key": "project", "Value": PROJECT}])),
        Resource("glue database", GLUE_DATABASE,
                 lambda: not _missing(lambda: glue.get_database(Name=GLUE_DATABASE),
                                      "EntityNotFoundException"),
                 lambda: glue.create_database(DatabaseInput={
                     "Name": GLUE_DATABASE, "Description": "Star schema of the classicmodels retailer"})),
        Resource("glue connection", GLUE_CONNECTION,
                 lambda: not _missing(lambda: glue.get_connection(Name=GLUE_CONNECTION),
                                      "EntityNotFoundException"),
                 lambda: glue.create_connection(ConnectionInput={
                     "Name": GLUE_CONNECTION, "ConnectionType": "JDBC",
                     "ConnectionProperties": {
                         "JDBC_CONNECTION_URL": f"jdbc:mysql://{s.db_host}:{s.db_port}/{s.db_name}",
                         "SECRET_ID": DB_SECRET_NAME}})),
        Resource("s3 object (job script)", f"s3://{s.scripts_bucket}/{job_script_key()}",
                 lambda: not _missing(lambda: s3.head_object(Bucket=s.scripts_bucket, Key=job_script_key()),
                                      "404", "NoSuchKey"),
                 upload_script, always=upload_script),
        Resource("glue job", GLUE_JOB,
                 lambda: not _missing(lambda: glue.get_job(JobName=GLUE_JOB), "EntityNotFoundException"),
                 lambda: glue.create_job(
                     Name=GLUE_JOB, Role=role_arn,
                     # The AWS runtime of infra/terraform/glue.tf (Glue 5.0, Python 3.11; why:
                     # docs/architecture.md "Running on AWS Glue"); tests/infra checks they agree.
                     Command={"Name": "glueetl", "PythonVersion": "3",
                              "ScriptLocation": f"s3://{s.scripts_bucket}/{job_script_key()}"},
                     DefaultArguments=job_args, Connections={"Connections": [GLUE_CONNECTION]},
                     WorkerType="G.1X", NumberOfWorkers=2, Timeout=10, GlueVersion="5.0",
                     ExecutionProperty={"MaxConcurrentRuns": 1})),
        # Query results go to the lab's bucket, not a guessed global default bucket. Only set
        # when the workgroup has no output location (a real account's setting is kept).
        Resource("athena workgroup output", f"primary -> {s.athena_output}", workgroup_has_output,
                 lambda: athena.update_work_group(WorkGroup="primary", ConfigurationUpdates={
                     "ResultConfigurationUpdates": {"OutputLocation": s.athena_output}})),
        Resource("glue crawler", GLUE_CRAWLER,
                 lambda: not _missing(lambda: glue.get_crawler(Name=GLUE_CRAWLER), "EntityNotFoundException"),
                 lambda: glue.create_crawler(
                     Name=GLUE_CRAWLER, Role=role_arn, DatabaseName=GLUE_DATABASE,
                     Targets={"S3Targets": [{"Path": s.gold_path}]},
                     RecrawlPolicy={"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"},
                     SchemaChangePolicy={"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"})),
    ]


def _applicable(resource: Resource, settings: Settings) -> bool:
    # The RDS instance is created here only on the local cloud (where it is a pointer to
    # the local MariaDB); on real AWS the database exists already (the course's) and the
    # rest is created by infra/terraform.
    return settings.is_local or resource.kind != "rds db instance"


def plan(settings: Settings | None = None) -> list[Resource]:
    """The resources that do not exist yet (what ``apply`` would create)."""
    s = settings or get_settings()
    return [r for r in resources(s) if _applicable(r, s) and not r.exists()]


def apply(settings: Settings | None = None, verbose: bool = True) -> list[Resource]:
    """Create every missing resource, refresh the ones that are refreshed always; return the created."""
    s = settings or get_settings()
    created = []
    for resource in resources(s):
        if not _applicable(resource, s):
            continue
        if not resource.exists():
            resource.create()
            created.append(resource)
            if verbose:
                print(f"  + {resource}", flush=True)
        elif resource.always is not None:
            change = resource.always()
            if change and verbose:
                print(f"  ~ {resource}: {change}", flush=True)
    return created
