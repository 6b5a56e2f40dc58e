"""The endpoint routes to moto and listens on loopback only."""

from __future__ import annotations

import socket
from urllib.parse import urlparse

import boto3
import pytest


def test_s3_roundtrip_through_endpoint(local_cloud: str) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="server-test-bucket")
    s3.put_object(Bucket="server-test-bucket", Key="a/b.txt", Body=b"hello")
    body = s3.get_object(Bucket="server-test-bucket", Key="a/b.txt")["Body"].read()
    assert body == b"hello"

    from utils.cloud.backends import ObjectStore

    assert ObjectStore().get("server-test-bucket", "a/b.txt") == b"hello"


def test_listens_on_loopback_only(local_cloud: str) -> None:
    port = urlparse(local_cloud).port
    addresses = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None)}
    addresses -= {"127.0.0.1", "::1"}
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        with socket.socket(family) as sock:
            sock.settimeout(1)
            assert sock.connect_ex((address, port)) != 0, f"reachable on {address}:{port}"


def test_refuses_non_loopback_bind() -> None:
    from utils.cloud.server import serve

    with pytest.raises(ValueError, match="loopback"):
        serve(0, host="0.0.0.0")  # noqa: S104 - asserting that it is refused


@pytest.mark.parametrize(("service", "operation", "kwargs", "code"), [
    ("glue", "create_blueprint", {"Name": "b", "BlueprintLocation": "s3://b/k"},
     "UnknownOperationException"),                                     # JSON 1.1
    ("iam", "get_organizations_access_report", {"JobId": "x" * 36}, "InvalidAction"),  # query XML
    ("lambda", "get_account_settings", {}, "UnknownOperationException"),  # REST-JSON, no route
])
def test_unimplemented_operations_answer_an_aws_400(local_cloud: str, service: str, operation: str,
                                                    kwargs: dict, code: str) -> None:
    """Operations neither we nor moto implement: AWS's 400 error, never an HTML 500 page."""
    from botocore.config import Config
    from botocore.exceptions import ClientError

    client = boto3.client(service, config=Config(retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as caught:
        getattr(client, operation)(**kwargs)
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == code
    assert "local cloud does not implement" in error["Error"]["Message"]
    assert "<html" not in str(error).lower()


def test_errors_take_the_shape_of_the_request_protocol() -> None:
    """EC2's own XML error shape (a full EC2 call would load moto's large EC2 backend)."""
    import botocore.session
    from botocore.parsers import create_parser

    from utils.cloud.server import protocol_error

    environ = {"REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/x-www-form-urlencoded",
               "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/ec2/"
                                     "aws4_request, SignedHeaders=host, Signature=x"}
    response = protocol_error(environ, "InvalidAction", "not here", 400)
    model = botocore.session.get_session().get_service_model("ec2")
    parsed = create_parser("ec2").parse(
        {"status_code": 400, "headers": dict(response.headers), "body": response.get_data()},
        model.operation_model("DescribeCapacityBlockOfferings").output_shape)
    assert parsed["Error"] == {"Code": "InvalidAction", "Message": "not here"}
