"""What every bucket probe shares: the run (its clients, the probe objects it made, the results)
and the probe object itself. Every probe object is removed by `ProbeRun.cleanup`."""

from __future__ import annotations

import secrets as _random
import struct
import threading
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..net import HttpOptions
from ..net import client as http_client
from ..results import Check
from ..settings import CACHE_CONTROL, Settings
from ..timing import lap, timed
from .client import S3Error, explain, make_client
from .credential import Credential

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
NOT_SUPPORTED = {"NotImplemented", "MethodNotAllowed", "InvalidRequest", "InvalidArgument", "XNotImplemented"}

# The bucket's settings a run reads (ProbeRun.config), each once: the probes and the read diagnosis share them
CONFIG_READS: dict[str, Callable[[Any, str], Any]] = {
    "versioning": lambda c, b: c.get_bucket_versioning(Bucket=b).get("Status", ""),
    "policy": lambda c, b: c.get_bucket_policy(Bucket=b)["Policy"],
    "public_access_block": lambda c, b: c.get_public_access_block(Bucket=b)["PublicAccessBlockConfiguration"],
    "ownership": lambda c, b: c.get_bucket_ownership_controls(Bucket=b).get("OwnershipControls", {}).get("Rules", []),
}
ACL_REJECTED = {"AccessControlListNotSupported", "AccessDenied", "NotImplemented", "InvalidArgument",
                "InvalidRequest", "UnsupportedAcl"}



def concurrently(*calls: Callable[[], object], workers: int = 8) -> list:
    """Run CALLS at once and return their results in order (an exception is raised where it was). Against
    a distant provider each probe is a few round trips that need not wait for the others."""
    if len(calls) <= 1:
        return [timed(c)() for c in calls]
    with ThreadPoolExecutor(max_workers=min(workers, len(calls))) as pool:
        return [f.result() for f in [pool.submit(timed(c)) for c in calls]]


def tiny_png() -> bytes:
    """A valid 1x1 PNG, so that media hosts and CDNs treat the probe like an image."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"\x00\xff\x00\x00"
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@dataclass
class ProbeRun:
    settings: Settings
    writer: Credential
    http: HttpOptions
    admin: Credential | None = None
    token: str = field(default_factory=lambda: _random.token_hex(6))
    created: list[str] = field(default_factory=list)
    checks: dict[str, Check] = field(default_factory=dict)
    timings: list[float] = field(default_factory=list)       # seconds of the timed requests (jobs.latency)
    part_seconds: list[float] = field(default_factory=list)  # seconds of each multipart part
    client_timeout: float = 10.0                              # our client's read timeout

    def __post_init__(self):
        self.s3 = make_client(self.settings, self.writer, timeout=self.client_timeout, http=self.http)
        self.s3_admin = make_client(self.settings, self.admin, http=self.http) if self.admin else None
        self.web = http_client(self.http)
        self.secrets = [self.writer.secret_access_key] + ([self.admin.secret_access_key] if self.admin else [])
        self._config_lock = threading.Lock()
        self._config: dict[str, tuple[Any, str]] = {}

    # -- helpers ------------------------------------------------------------------------
    def key(self, kind: str) -> str:
        partition = "000/000/000/000/000/000"
        if kind == "backup":
            return self.settings.key(f"backups/dumps/{partition}/original/mastowizard-probe-{self.token}.zip")
        name = f"mastowizard-probe-{self.token}-{kind}.png"
        return self.settings.key(f"media_attachments/files/{partition}/original/{name}")

    def err(self, exc: Exception) -> S3Error:
        return explain(exc, self.secrets)

    def put(self, key: str, acl: str | None, client=None) -> None:
        extra = {"ACL": acl} if acl else {}
        self.created.append(key)
        (client or self.s3).put_object(Bucket=self.settings.bucket, Key=key, Body=tiny_png(),
                                       ContentType="image/png", CacheControl=CACHE_CONTROL, **extra)

    @property
    def config_client(self):
        """The client for reading the bucket's settings: the admin's when given, else the writer's."""
        return self.s3_admin or self.s3

    def config(self, name: str) -> tuple[Any, str]:
        """The bucket's setting NAME (one of CONFIG_READS) read once a run with the config client, or
        (None, the error code) where it is not set, not supported, or may not be read."""
        with self._config_lock:
            if name not in self._config:
                try:
                    self._config[name] = (CONFIG_READS[name](self.config_client, self.settings.bucket), "")
                except Exception as exc:  # noqa: BLE001 - not readable with the keys given, or not set
                    self._config[name] = (None, self.err(exc).code)
            return self._config[name]

    def versioning(self) -> tuple[str | None, str]:
        """The bucket's versioning status ("" when never enabled), or (None, the error code)."""
        return self.config("versioning")

    def object_grants(self, key: str) -> tuple[list | None, str]:
        """The object's ACL grants, read with the writer where it may, else the admin; (None, the
        error code) when neither may."""
        code = ""
        for client in filter(None, (self.s3, self.s3_admin)):
            try:
                return client.get_object_acl(Bucket=self.settings.bucket, Key=key).get("Grants", []), ""
            except Exception as exc:  # noqa: BLE001
                code = self.err(exc).code
        return None, code

    def get(self, url: str, method: str = "GET", **kw) -> httpx.Response:
        return self.web.request(method, url, **kw)

    def add(self, check: Check) -> Check:
        self.checks[check.id] = check
        lap()
        return check

    def skip_rest(self, ids: list[tuple[str, str]], why: str) -> None:
        for cid, title in ids:
            if cid not in self.checks:
                self.add(Check(cid, title).skipped(why))

    @property
    def media_base(self) -> str | None:
        s = self.settings
        return f"{s.protocol}://{s.alias_host}" if s.alias_host else None

    def cleanup(self) -> list[str]:
        """Delete every probe object; the keys that are still there (a key whose upload was refused,
        and that no key given may delete, is not)."""
        left = []
        for key in dict.fromkeys(self.created):
            for c in filter(None, (self.s3, self.s3_admin)):
                try:
                    c.delete_object(Bucket=self.settings.bucket, Key=key)
                    break
                except Exception:  # noqa: BLE001 - the other key may
                    continue
            else:
                if self._there(key):
                    left.append(key)
        self.created.clear()
        return left

    def still_there(self, key: str) -> bool:
        """After a delete: does the writer still see the object? (Any refusal counts as gone.)"""
        try:
            self.s3.head_object(Bucket=self.settings.bucket, Key=key)
            return True
        except Exception:  # noqa: BLE001 - 404: gone
            return False

    def _there(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.settings.bucket, Key=key)
            return True
        except Exception as exc:  # noqa: BLE001
            return self.err(exc).code not in ("404", "NoSuchKey", "NotFound")

    def close(self) -> None:
        self.web.close()


ALL_PROBES = [
    ("writer.credentials", "Writer credential is valid"),
    ("writer.bucket", "Bucket reachable with this region and addressing"),
    ("writer.write", "Writer can write and delete an object"),
    ("writer.acl", "Provider accepts a public-read object ACL"),
    ("bucket.public_access_block", "Block Public Access fits the permission mode"),
    ("bucket.ownership", "Object ownership fits the permission mode"),
    ("bucket.policy", "Bucket policy grants nothing anonymous but reading media"),
    ("bucket.cors", "CORS lets the web UI read media"),
    ("anon.read", "Anyone can read an uploaded object through the media host"),
    ("anon.list", "Nobody can list the bucket anonymously"),
    ("anon.put", "Nobody can upload, overwrite, re-ACL or delete anonymously"),
    ("anon.backups", "Private archives under backups/ are not readable"),
    ("permission.mode", "Permission mode and its consequence"),
]
# What Mastodon's own client and jobs need (jobs.py): measured with the writer, after the probes above.
ALL_PROBES += [("jobs.latency", "The provider answers within Mastodon's timeouts"),
               ("jobs.multipart", "Large uploads go up in parts, as Mastodon sends videos"),
               ("jobs.read_back", "Media reads back in parts, as Sidekiq's thumbnails and transcodes read it"),
               ("jobs.batch_delete", "Batch deletes work within Mastodon's limits"),
               ("jobs.retention", "Nothing deletes or keeps media behind Mastodon's back"),
               ("jobs.key_scope", "The writer key can do what Mastodon needs, and no more")]
TITLES = dict(ALL_PROBES)


def check(cid: str) -> Check:
    return Check(cid, TITLES[cid])


def public_read(grants: list) -> bool:
    """Do these ACL grants let everyone read?"""
    return any(g.get("Grantee", {}).get("URI") == ALL_USERS and g.get("Permission") in ("READ", "FULL_CONTROL")
               for g in grants)
