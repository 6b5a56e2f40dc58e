"""Object storage for real: put, list and get objects in S3 (local cloud or AWS).

Uses plain boto3, so it runs unchanged against the local cloud (``AWS_ENDPOINT_URL``)
and a real account.
"""

from __future__ import annotations

import json

import boto3


def put_and_list(bucket: str, prefix: str = "lessons/07/") -> list[str]:
    """Write three small objects under ``prefix``, then list and read them back.

    Returns what happened, line by line, to show that S3 has no folders: a
    "folder" is a key prefix, and a delimiter groups keys that share one.
    """
    s3 = boto3.client("s3")
    objects = {
        f"{prefix}raw/orders/2024-01-01.csv": b"orderNumber,status\n10100,Shipped\n10101,Shipped\n",
        f"{prefix}raw/orders/2024-01-02.csv": b"orderNumber,status\n10102,On Hold\n",
        f"{prefix}raw/customers.json": json.dumps([{"customerNumber": 103}]).encode(),
    }
    lines = []
    for key, body in objects.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        lines.append(f"put  {key}  ({len(body)} bytes)")
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    lines.append(f"list {prefix}: {listing['KeyCount']} objects")
    for item in listing["Contents"]:
        lines.append(f"     {item['Key']}  {item['Size']} bytes")
    grouped = s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}raw/", Delimiter="/")
    folders = [p["Prefix"] for p in grouped.get("CommonPrefixes", [])]
    files = [o["Key"] for o in grouped.get("Contents", [])]
    lines.append(f"with Delimiter='/': 'folders' {folders}, objects {files}")
    body = s3.get_object(Bucket=bucket, Key=f"{prefix}raw/orders/2024-01-02.csv")["Body"].read()
    lines.append(f"get  {prefix}raw/orders/2024-01-02.csv -> {body.decode().splitlines()}")
    return lines


def delete_prefix(bucket: str, prefix: str = "lessons/07/") -> int:
    """Delete every object under ``prefix``; return how many (clean up after the lesson)."""
    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
    if keys:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    return len(keys)
