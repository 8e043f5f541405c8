"""Buckets for tests: create in the server's default state, empty and delete afterwards."""

from __future__ import annotations

import contextlib

import boto3
from botocore.config import Config

from .info import ServerInfo


def admin_client(info: ServerInfo):
    return boto3.client("s3", endpoint_url=info.endpoint, region_name=info.region,
                        aws_access_key_id=info.admin_access_key, aws_secret_access_key=info.admin_secret_key,
                        config=Config(request_checksum_calculation="when_required",
                                      response_checksum_validation="when_required",
                                      s3={"addressing_style": "path"}, retries={"max_attempts": 2}))


def create_bucket(info: ServerInfo, name: str) -> None:
    admin_client(info).create_bucket(Bucket=name)


def empty_and_delete_bucket(info: ServerInfo, name: str) -> None:
    s3 = admin_client(info)
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
            items = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                     for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            _delete(s3, name, items)
    except s3.exceptions.NoSuchBucket:
        return
    except Exception:  # noqa: BLE001 - servers without versioning listing: plain listing
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            _delete(s3, name, [{"Key": o["Key"]} for o in page.get("Contents", [])])
    with contextlib.suppress(s3.exceptions.NoSuchBucket):
        s3.delete_bucket(Bucket=name)


def _delete(s3, bucket: str, items: list[dict]) -> None:
    """A page of keys in one DeleteObjects call where the server takes it, one by one otherwise."""
    if not items:
        return
    try:
        r = s3.delete_objects(Bucket=bucket, Delete={"Objects": items, "Quiet": True})
        if not r.get("Errors"):
            return
    except Exception:  # noqa: BLE001 - no multi-object delete (or its checksum): the slow way
        pass
    for item in items:
        s3.delete_object(Bucket=bucket, **item)
