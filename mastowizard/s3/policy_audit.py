"""What a bucket policy lets an anonymous visitor do: read media, list, write, delete, change policy."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

# Anonymous capabilities that must never be granted, and the S3 actions behind each.
FORBIDDEN = {
    "list": ("s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads",
             "s3:ListMultipartUploadParts"),
    "write": ("s3:PutObject", "s3:PutObjectAcl", "s3:PutObjectVersionAcl", "s3:PutObjectTagging",
              "s3:RestoreObject", "s3:AbortMultipartUpload", "s3:ReplicateObject"),
    "delete": ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:DeleteBucket", "s3:DeleteObjectTagging"),
    "policy": ("s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketAcl", "s3:PutBucketCORS",
               "s3:PutBucketPublicAccessBlock", "s3:PutBucketOwnershipControls", "s3:PutBucketWebsite",
               "s3:PutLifecycleConfiguration", "s3:PutEncryptionConfiguration", "s3:PutBucketVersioning"),
}


# Actions authorised on the bucket's ARN; every other one on an object's ARN.
BUCKET_LEVEL_PREFIXES = ("s3:ListBucket", "s3:DeleteBucket", "s3:PutBucket", "s3:PutLifecycle",
                         "s3:PutEncryption")


def _is_bucket_action(action: str) -> bool:
    return action.startswith(BUCKET_LEVEL_PREFIXES)


@dataclass
class Grant:
    capability: str      # list | write | delete | policy | read
    action: str
    statement: str       # Sid or index
    conditional: bool


@dataclass
class PolicyAudit:
    grants: list[Grant] = field(default_factory=list)
    public_read: bool = False           # GetObject on a Mastodon media key, unconditionally
    backups_readable: bool = False      # GetObject on backups/ (users' private archives)

    def forbidden(self, include_conditional: bool = True) -> list[Grant]:
        return [g for g in self.grants if g.capability != "read" and (include_conditional or not g.conditional)]

    def capabilities(self) -> set[str]:
        return {g.capability for g in self.forbidden()}


@lru_cache(maxsize=512)
def _pattern(glob: str) -> re.Pattern[str]:
    """IAM wildcards: * any run of characters (slashes too), ? one character; case as given."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob) + r"\Z",
                      re.DOTALL)


def _listify(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _matches_action(patterns: list[str], action: str) -> bool:
    return any(_pattern(p.lower()).match(action.lower()) for p in patterns)


def _matches_resource(patterns: list[str], arn: str) -> bool:
    return any(_pattern(p).match(arn) for p in patterns)


def is_anonymous(statement: dict[str, Any]) -> bool:
    if "NotPrincipal" in statement:  # Allow with NotPrincipal: everyone but a few
        return True
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if isinstance(principal, dict):
        for key in ("AWS", "CanonicalUser"):
            if "*" in _listify(principal.get(key)):
                return True
    return False


def _allows(statement: dict[str, Any], action: str, arn: str) -> bool:
    if "NotAction" in statement:
        if _matches_action(_listify(statement["NotAction"]), action):
            return False
    elif not _matches_action(_listify(statement.get("Action")), action):
        return False
    if "NotResource" in statement:
        return not _matches_resource(_listify(statement["NotResource"]), arn)
    return _matches_resource(_listify(statement.get("Resource")), arn)


def audit(policy: dict[str, Any] | str | None, bucket: str, key_prefix: str | None = None) -> PolicyAudit:
    """Evaluate Allow statements for the anonymous principal. Deny statements are not credited:
    a scanner may not assume a Deny covers every way in, so it reports the Allow it sees."""
    result = PolicyAudit()
    if policy is None:
        return result
    doc = json.loads(policy) if isinstance(policy, str) else policy
    prefix = f"{key_prefix}/" if key_prefix else ""
    bucket_arn = f"arn:aws:s3:::{bucket}"
    media_arn = f"{bucket_arn}/{prefix}media_attachments/files/000/000/001/original/a.jpg"
    backup_arn = f"{bucket_arn}/{prefix}backups/dumps/000/000/001/original/archive.zip"
    probe_object = f"{bucket_arn}/{prefix}media_attachments/files/x"
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    for index, st in enumerate(statements):
        if st.get("Effect") != "Allow" or not is_anonymous(st):
            continue
        sid = str(st.get("Sid") or index)
        conditional = bool(st.get("Condition"))
        for capability, actions in FORBIDDEN.items():
            for action in actions:
                arns = (bucket_arn,) if _is_bucket_action(action) else (probe_object, backup_arn)
                if any(_allows(st, action, arn) for arn in arns):
                    result.grants.append(Grant(capability, action, sid, conditional))
        if _allows(st, "s3:GetObject", media_arn):
            result.grants.append(Grant("read", "s3:GetObject", sid, conditional))
            if not conditional:
                result.public_read = True
        if _allows(st, "s3:GetObject", backup_arn):
            result.backups_readable = True
    return result


def read_of_key(policy: dict[str, Any] | str | None, bucket: str, key: str) -> tuple[bool, list[str]]:
    """For one key: does an anonymous Allow grant s3:GetObject on it unconditionally, and which
    Deny statements (for anyone) name it? (allowed, the denying statements' ids)"""
    if policy is None:
        return False, []
    doc = json.loads(policy) if isinstance(policy, str) else policy
    arn = f"arn:aws:s3:::{bucket}/{key}"
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    allowed, denied = False, []
    for index, st in enumerate(statements):
        if not _allows(st, "s3:GetObject", arn):
            continue
        if st.get("Effect") == "Deny" and (is_anonymous(st) or st.get("Principal") is None):
            denied.append(str(st.get("Sid") or index))
        elif st.get("Effect") == "Allow" and is_anonymous(st) and not st.get("Condition"):
            allowed = True
    return allowed, denied
