"""After the copy: every file is in the bucket with its size (one more flat listing), and a sample
(or every file) is fetched anonymously through the media host as a browser would: the same bytes,
Content-Type and Cache-Control for public files, a refusal for private ones."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from ..net import HttpOptions, describe_error
from ..net import client as http_client
from ..s3.credential import Credential
from ..settings import CACHE_CONTROL, Settings
from .copy import listing, merged
from .inventory import SourceFile, walk
from .objects import ObjectSpec
from .putter import Putter


@dataclass
class Verification:
    listed: int = 0
    missing: list[str] = field(default_factory=list)
    wrong_size: list[str] = field(default_factory=list)
    public_checked: int = 0
    public_failed: list[dict] = field(default_factory=list)
    private_checked: int = 0
    private_exposed: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.wrong_size or self.public_failed or self.private_exposed)

    def to_json(self) -> dict:
        return {"ok": self.ok, "listed": self.listed, "missing": self.missing[:50], "missing_count": len(self.missing),
                "wrong_size": self.wrong_size[:50], "public_checked": self.public_checked,
                "public_failed": self.public_failed[:50], "private_checked": self.private_checked,
                "private_exposed": self.private_exposed[:50]}


def verify_listing(settings: Settings, credential: Credential, source: str, http: HttpOptions | None = None,
                   splits: list[str] | None = None, files=None, prefixes: list[str] | None = None) -> Verification:
    """Every file under SOURCE (or in FILES) has its object, with its size (a merge of the walk and the
    listing, of only PREFIXES for a shard)."""
    v = Verification()
    remote = listing(Putter(settings, credential, http), settings, splits, prefixes=prefixes)
    for f, spec, listed in merged(files if files is not None else walk(source), remote, settings):
        if listed is None:
            v.missing.append(spec.key)
        elif listed[1] != f.size:
            v.wrong_size.append(spec.key)
        else:
            v.listed += 1
    return v


RETRY_STATUS = {429, 500, 502, 503, 504}


def fetch(c, url: str, attempts: int = 4, backoff: float = 0.5):
    """GET URL as a browser would, retried with backoff when the server is only slow or busy (a
    timeout, a dropped connection, 429 or 5xx): a busy provider must not make a complete copy look
    broken. The last answer, or the last error raised."""
    for attempt in range(attempts):
        try:
            r = c.get(url)
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError):
            if attempt == attempts - 1:
                raise
        else:
            if r.status_code not in RETRY_STATUS or attempt == attempts - 1:
                return r
        time.sleep(backoff * 2 ** attempt)
    raise AssertionError("unreachable")


def _read_local(f: SourceFile) -> bytes:
    with open(f.path, "rb") as fh:
        return fh.read()


def verify_public(settings: Settings, v: Verification, public: list[tuple[SourceFile, ObjectSpec]],
                  private: list[tuple[SourceFile, ObjectSpec]], http: HttpOptions | None = None,
                  jobs: int = 16, read=None) -> Verification:
    """Fetch PUBLIC through the media host (bytes, Content-Type, Cache-Control) and PRIVATE (refused).
    READ(file) gives the file's bytes on disk to compare with (default: this machine's disk)."""
    read = read or _read_local
    with http_client(http) as c:
        def public_one(item):
            f, spec = item
            url = settings.public_url(spec.key)
            try:
                r = fetch(c, url)
            except Exception as e:  # noqa: BLE001
                return {"key": spec.key, "url": url, "error": describe_error(e)}
            problems = []
            if r.status_code != 200:
                problems.append(f"HTTP {r.status_code}")
            else:
                try:
                    if r.content != read(f):
                        problems.append("the bytes differ from the file on disk")
                except Exception as e:  # noqa: BLE001 - a file gone since the copy is not a bad object
                    problems.append(f"the file on disk could not be read again to compare ({e})")
                ctype = r.headers.get("content-type", "")
                if ctype.split(";")[0].strip() != spec.content_type:
                    problems.append(f"Content-Type {ctype or '(none)'}, expected {spec.content_type}")
                if r.headers.get("cache-control", "") != CACHE_CONTROL:
                    problems.append(f"Cache-Control {r.headers.get('cache-control') or '(none)'}")
            return {"key": spec.key, "url": url, "error": "; ".join(problems)} if problems else None

        def private_one(item):
            f, spec = item
            url = settings.public_url(spec.key)
            try:
                r = fetch(c, url)
            except Exception:  # noqa: BLE001 - unreachable is not readable
                return None
            if r.status_code == 200:
                return {"key": spec.key, "url": url, "error": "readable anonymously (HTTP 200)"}
            return None

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for bad in pool.map(public_one, public):
                v.public_checked += 1
                if bad:
                    v.public_failed.append(bad)
            for bad in pool.map(private_one, private):
                v.private_checked += 1
                if bad:
                    v.private_exposed.append(bad)
    return v
