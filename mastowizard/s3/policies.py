"""The three documents a Mastodon bucket needs: public-read bucket policy, CORS, writer policy."""

from __future__ import annotations

import json
from typing import Any

from ..settings import Settings

# Attachment classes Mastodon serves publicly (paperclip `:class/:attachment`), and the cache/
# tree of remote accounts' media. Everything else stays private: backups/ holds users' archives,
# imports/ their uploaded follow lists. An allow-list fails closed when Mastodon adds a class.
PUBLIC_PREFIXES = (
    "accounts/",
    "media_attachments/",
    "custom_emojis/",
    "preview_cards/",
    "preview_card_providers/",   # trending links' provider icons (Mastodon 4.1+)
    "site_uploads/",
    "cache/",
)
PRIVATE_PREFIXES = ("backups/", "imports/")

# What Mastodon (web, sidekiq) and tootctl do with the bucket.
WRITER_OBJECT_ACTIONS = (
    "s3:PutObject",            # uploads, multipart uploads
    "s3:GetObject",            # media processing, tootctl media refresh, archive downloads (signed)
    "s3:DeleteObject",         # deletes; DeleteObjects batches are authorised per key
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)
WRITER_ACL_ACTIONS = ("s3:PutObjectAcl",)  # ACL on upload; suspend/unsuspend toggles it
WRITER_BUCKET_ACTIONS = (
    "s3:ListBucket",           # tootctl media usage / remove-orphans
    "s3:GetBucketLocation",
    "s3:ListBucketMultipartUploads",
)


def object_arn(settings: Settings, pattern: str) -> str:
    return f"arn:aws:s3:::{settings.bucket}/{settings.key(pattern)}"


def bucket_policy(settings: Settings) -> dict[str, Any]:
    """Anyone may GET an object under Mastodon's public prefixes: nothing else, never backups/."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "MastodonPublicReadMedia",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": [object_arn(settings, p + "*") for p in PUBLIC_PREFIXES],
            }
        ],
    }


def cors_configuration() -> dict[str, Any]:
    """GET and HEAD from any origin, as the web UI needs; no write method, no credentials."""
    return {
        "CORSRules": [
            {
                "ID": "MastodonPublicMedia",
                "AllowedOrigins": ["*"],
                "AllowedMethods": ["GET", "HEAD"],
                "AllowedHeaders": ["*"],
                "MaxAgeSeconds": 86400,
            }
        ]
    }


def writer_policy(settings: Settings) -> dict[str, Any]:
    """Least privilege for the credential in AWS_ACCESS_KEY_ID: this bucket (and prefix) only."""
    object_actions = list(WRITER_OBJECT_ACTIONS)
    if settings.permission == "acl":
        object_actions += WRITER_ACL_ACTIONS
    list_statement: dict[str, Any] = {
        "Sid": "MastodonListBucket",
        "Effect": "Allow",
        "Action": list(WRITER_BUCKET_ACTIONS),
        "Resource": f"arn:aws:s3:::{settings.bucket}",
    }
    if settings.key_prefix:
        list_statement["Condition"] = {"StringLike": {"s3:prefix": [f"{settings.key_prefix}/*", settings.key_prefix]}}
    return {
        "Version": "2012-10-17",
        "Statement": [
            list_statement,
            {
                "Sid": "MastodonObjects",
                "Effect": "Allow",
                "Action": object_actions,
                "Resource": object_arn(settings, "*"),
            },
        ],
    }


def documents(settings: Settings) -> dict[str, dict[str, Any]]:
    """All three, keyed as the CLI and the UI show them."""
    docs = {
        "bucket_policy": bucket_policy(settings),
        "cors": cors_configuration(),
        "writer_policy": writer_policy(settings),
    }
    return docs


def to_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=False)
