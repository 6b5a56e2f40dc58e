"""aws-sdk-pandas's test-stack outputs, made on the local cloud instead of read from CloudFormation.

``tests/conformance/run.py`` copies this file to ``tests/unit/conftest.py`` of the laid-out
aws-sdk-pandas tests. Their own ``tests/conftest.py`` stays as published: every fixture that
needs the stack (``region``, ``bucket``, ``glue_database``, ``kms_key``, ``kms_key_id``, and
through them the workgroups and paths) reads ``cloudformation_outputs``; this one fixture,
closer to the tests, overrides it. It builds what the stack ``aws-sdk-pandas-base``
(``test_infra/stacks/base_stack.py``) declares: a versioned bucket, the KMS key and its alias,
the Glue database ``aws_sdk_pandas`` located in the bucket. Outputs of the other stacks
(databases, OpenSearch, Glue Ray, Clean Rooms, the access point) are absent, as they are for
a developer who deployed only the base stack; the tests that need them are excluded in run.py.

It runs inside the aws-sdk-pandas pytest process, which AWS_ENDPOINT_URL points at the local
cloud, and imports nothing from this project.
"""

from __future__ import annotations

import os
import uuid

import boto3
import pytest


@pytest.fixture(scope="session")
def cloudformation_outputs() -> dict[str, str]:
    """The base stack's outputs, for resources created now on the local cloud."""
    assert os.environ.get("AWS_ENDPOINT_URL", "").startswith("http://127.0.0.1:"), \
        "refusing to create test resources: AWS_ENDPOINT_URL does not point at a local cloud"
    region = os.environ["AWS_DEFAULT_REGION"]
    bucket = f"aws-sdk-pandas-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", region_name=region)
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    kms = boto3.client("kms", region_name=region)
    key = kms.create_key(Description="AWS SDK for pandas Test Key.")["KeyMetadata"]
    kms.create_alias(AliasName="alias/aws-sdk-pandas-key", TargetKeyId=key["KeyId"])
    database = "aws_sdk_pandas"
    boto3.client("glue", region_name=region).create_database(
        DatabaseInput={"Name": database, "LocationUri": f"s3://{bucket}"})
    return {"Region": region, "BucketName": bucket, "KmsKeyArn": key["Arn"],
            "GlueDatabaseName": database}
