"""The media host seen from outside: it resolves (or is pinned), its TLS is valid, its root lists
nothing, and it does not keep serving an error from its cache. Part of the bucket group, and on
its own (check_media_host) for the wizard's media host step."""

from __future__ import annotations

import contextlib
import socket
import time
from urllib.parse import urlsplit

import httpx

from ..net import HttpOptions, describe_error
from ..net import client as http_client
from ..results import Check
from ..s3 import anonymous
from ..s3.credential import Credential
from ..settings import Settings
from .context import ChecklistBase, Context
from .titles import new_check


class MediaHostChecks(ChecklistBase):
    """The media_host check: run by the bucket group, or on its own by check_media_host."""

    def media_host(self) -> None:
        s = self.ctx.settings
        chk = new_check("media_host")
        if not s.alias_host:
            self.add(chk.skipped("no media host (S3_ALIAS_HOST) set"))
            return
        base = f"{s.protocol}://{s.alias_host}"
        parts = urlsplit(base)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        pinned = self.ctx.http.pin_for(parts.hostname, port)
        if not pinned:
            try:
                socket.getaddrinfo(parts.hostname, port)
            except OSError:
                self.add(chk.failed(f"{parts.hostname} does not resolve",
                                    "create the DNS record for the media host (or test with --resolve)"))
                return
        try:
            with http_client(self.ctx.http) as c:
                r = c.get(base + "/")
        except httpx.HTTPError as e:
            self.add(chk.failed(f"{base}/: {describe_error(e)}",
                                "check the media host's TLS certificate and that it serves this name"))
            return
        ev = {"url": base + "/", "status": r.status_code, "pinned": pinned}
        kind = anonymous.listing_kind(r)
        if kind:
            self.add(chk.warned(f"{base}/ answers with {kind} (the failure is anon.list's)",
                                "deny / and directory paths on the media host (no autoindex) and remove public "
                                "listing from the bucket", **ev))
        elif r.status_code in (403, 404):
            cached = self.cached_error(base)
            if cached:
                self.add(chk.warned(f"{base} caches its errors: {cached}. Media that failed once (before the copy "
                                    "finished, or while a setting was wrong) stays broken until that entry expires",
                                    "cache only successful answers at the media host (nginx: proxy_cache_valid 200 "
                                    "7d, no 'any' or 404; a CDN: do not cache 4xx/5xx) and purge its cache", **ev))
            else:
                pin = f" (pinned to {pinned})" if pinned else ""
                self.add(chk.passed(f"{base}/ answered {r.status_code}: it lists nothing, as a media host's root "
                                    f"should (only exact keys are served){pin}", **ev))
        elif r.status_code == 200:
            self.add(chk.warned(f"{base}/ answered 200 ({anonymous.describe_body(r)}): no key list, but a media "
                                "host's root should be 403 or 404", "deny / on the media host", **ev))
        else:
            self.add(chk.warned(f"{base}/ answered {r.status_code} without a key list",
                                "a media host's root should be 403 or 404", **ev))

    def cached_error(self, base: str) -> str | None:
        """Whether the media host keeps serving an error from its cache: a missing key asked for, then
        written with the writer key, then asked for again (still an error: cached); without a writer,
        a missing key asked twice with the second answer marked as a cache hit."""
        s, writer = self.ctx.settings, self.ctx.writer
        key = s.key(f"media_attachments/files/000/000/000/000/000/000/original/mastowizard-probe-"
                    f"{int(time.time() * 1000)}-late.png")
        url = f"{base}/{key}"
        s3 = None
        try:
            with http_client(self.ctx.http) as c:
                first = c.get(url)
                if first.status_code < 400:
                    return None
                if writer is not None:
                    from ..s3.client import make_client
                    from ..s3.probe_run import tiny_png
                    from ..settings import CACHE_CONTROL
                    s3 = make_client(s, writer, http=self.ctx.http)
                    s3.put_object(Bucket=s.bucket, Key=key, Body=tiny_png(), ContentType="image/png",
                                  CacheControl=CACHE_CONTROL, **({"ACL": s.acl} if s.acl else {}))
                r = c.get(url)
        except Exception:  # noqa: BLE001 - the media host or the bucket failed: their checks say so
            return None
        finally:
            if s3 is not None:
                with contextlib.suppress(Exception):     # a tiny probe PNG at worst
                    s3.delete_object(Bucket=s.bucket, Key=key)
        if r.status_code < 400:
            return None
        if s3 is not None:
            return (f"a key answered {first.status_code}, was then written to the bucket, and still answered "
                    f"{r.status_code}")
        h = r.headers
        hit = next((f"{k}: {h[k]}" for k in ("x-cache-status", "cf-cache-status", "x-cache")
                    if "HIT" in h.get(k, "").upper()), None)
        if hit is None and h.get("age", "").isdigit() and int(h["age"]) > 0:
            hit = f"Age: {h['age']}"
        return f"a missing key answered {r.status_code} twice, the second time from the cache ({hit})" if hit else None


def check_media_host(settings: Settings, http: HttpOptions, writer: Credential | None = None) -> Check:
    """The media host on its own (DNS or pin, TLS, root, errors cached): for the wizard's media host
    step. With WRITER, whether an error outlives the object's arrival is tried with a probe object."""
    checklist = MediaHostChecks(Context(settings, writer, None, None, http))
    checklist.media_host()
    return checklist.results["media_host"]
