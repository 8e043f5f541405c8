"""What the watch records of a setup besides the checks' verdicts: the env file's storage settings
(no secret; the writer key only as a fingerprint of its ID), the bucket's own settings as the writer
key may read them, and the media host's certificate. Each item is a plain JSON value, normalized so
that the same setting read twice compares equal."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any

from ..net import HttpOptions
from ..s3.client import explain, make_client
from ..s3.credential import Credential
from ..s3.probe_run import CONFIG_READS, concurrently
from ..settings import EXTRA_VARIABLES, S3_VARIABLES, Settings
from .certificate import Certificate, read_certificate

# The bucket's settings the watch compares, how each is read, and the error codes that mean "not set"
BUCKET_ITEMS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "policy": (lambda c, b: _policy(CONFIG_READS["policy"](c, b)), ("NoSuchBucketPolicy",)),
    "cors": (lambda c, b: _sorted_rules(c.get_bucket_cors(Bucket=b).get("CORSRules", [])),
             ("NoSuchCORSConfiguration",)),
    "ownership": (lambda c, b: [r.get("ObjectOwnership") for r in CONFIG_READS["ownership"](c, b)],
                  ("OwnershipControlsNotFoundError",)),
    "public_access_block": (CONFIG_READS["public_access_block"], ("NoSuchPublicAccessBlockConfiguration",)),
    "lifecycle": (lambda c, b: _sorted_rules(c.get_bucket_lifecycle_configuration(Bucket=b).get("Rules", [])),
                  ("NoSuchLifecycleConfiguration",)),
    "versioning": (lambda c, b: CONFIG_READS["versioning"](c, b) or None, ()),
}


def storage_settings(values: Mapping[str, str]) -> dict[str, str]:
    """The env file's variables that shape media storage (S3_*, the SDK's checksum switches and
    Mastodon's S3 extras), without the secret key and without the key ID (see writer_key)."""
    names = (set(S3_VARIABLES) | set(EXTRA_VARIABLES)) - {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    return {k: v for k, v in sorted(values.items()) if k in names or (k.startswith("S3_") and "SECRET" not in k)}


def writer_key(values: Mapping[str, str]) -> str | None:
    """A fingerprint of the writer key's ID (never the ID, never the secret): a rotated key shows."""
    key_id = values.get("AWS_ACCESS_KEY_ID")
    return hashlib.sha256(key_id.encode()).hexdigest()[:16] if key_id else None


# Codes that mean "this key may not read it" or "this provider has no such setting": the same on every
# run, so the item is unreadable (not watched). Anything else (a timeout, a 5xx, SlowDown) is tried again,
# then said as not read this run: never a change, never a baseline.
PERMANENT = {"AccessDenied", "AllAccessDisabled", "NotImplemented", "XNotImplemented", "MethodNotAllowed",
             "InvalidRequest", "InvalidArgument", "UnsupportedOperation", "NotSupported", "InvalidAccessKeyId",
             "SignatureDoesNotMatch", "AuthorizationHeaderMalformed", "NoSuchBucket", "PermanentRedirect"}
ATTEMPTS = 3


def bucket_items(settings: Settings, writer: Credential, http: HttpOptions) -> dict[str, Any]:
    """Each of BUCKET_ITEMS as the writer key reads it: its value, None where it is not set,
    {"unreadable": CODE} where the key may not read it or the provider does not have it, or
    {"error": CODE} where it could not be read this time (after ATTEMPTS tries)."""
    client = make_client(settings, writer, http=http)
    secrets = [writer.secret_access_key]

    def read(name: str):
        how, not_set = BUCKET_ITEMS[name]
        code = ""
        for attempt in range(ATTEMPTS):
            try:
                return how(client, settings.bucket)
            except Exception as exc:  # noqa: BLE001 - not set, not allowed, or not there: said as a value
                code = explain(exc, secrets).code
                if code in not_set:
                    return None
                if code in PERMANENT:
                    return {"unreadable": code}
                time.sleep(0.5 * (attempt + 1))       # a transient error: back off, then ask again
        return {"error": code}
    names = list(BUCKET_ITEMS)
    return dict(zip(names, concurrently(*[(lambda n=n: read(n)) for n in names]), strict=True))


def transient(items: dict[str, Any]) -> dict[str, str]:
    """The items that could not be read this time, and why."""
    return {k: v["error"] for k, v in items.items() if isinstance(v, dict) and "error" in v}


def certificate(settings: Settings, http: HttpOptions) -> Certificate | str | None:
    """The media host's certificate; the reason where none could be read; None without an https media host."""
    if not settings.alias_host or settings.protocol != "https":
        return None
    try:
        return read_certificate(settings.alias_host, http)
    except (OSError, ValueError) as e:
        return f"no TLS handshake with {settings.alias_host}: {e}"


def _policy(text: str) -> dict:
    doc = json.loads(text)
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    return {"Version": doc.get("Version"), "Statement": sorted((_canonical(s) for s in statements), key=json.dumps)}


def _canonical(value: Any) -> Any:
    """Lists of one item and their item are the same to S3; keys sorted, lists of strings sorted."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        if len(items) == 1 and isinstance(items[0], str):
            return items[0]
        return sorted(items, key=json.dumps)
    return value


def _sorted_rules(rules: list) -> list:
    return sorted((_canonical(r) for r in rules), key=json.dumps)
