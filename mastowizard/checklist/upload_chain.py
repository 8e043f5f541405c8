"""The instance and a real upload (the instance group): /health, then the token judged by a test
upload through the API, where its URLs point, its objects in the bucket, how the media host serves
it, and its removal, whatever happens; old URLs and the page's CSP are checked beside the upload."""

from __future__ import annotations

import base64
import time
from urllib.parse import urlsplit

import httpx

from ..net import client as http_client
from ..net import describe_error
from ..results import Check
from ..s3.probe_run import concurrently
from .instance_csp import InstanceCspChecks
from .old_urls import OldUrlChecks
from .public_fetch import PublicFetchChecks
from .titles import new_check

# A 16x16 JPEG made for this tool (287 bytes): what the checklist uploads.
TEST_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAA0JCgsKCA0LCgsODg0PEyAVExISEyccHhcgLikxMC4pLSwzOko+MzZGNywtQFdBRkxO"
    "UlNSMj5aYVpQYEpRUk//2wBDAQ4ODhMREyYVFSZPNS01T09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09P"
    "T09PT09PT0//wAARCAAQABADASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAP/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QA"
    "FQEBAQAAAAAAAAAAAAAAAAAAAwb/xAAUEQEAAAAAAAAAAAAAAAAAAAAA/9oADAMBAAIRAxEAPwCACtA//9k=")


# What a test upload through the API judges: not run without a token, nor by a read-only watch.
UPLOAD_CHECKS = ("instance.token", "upload", "urls", "objects", "public_fetch", "cleanup")


class InstanceChecks(PublicFetchChecks, InstanceCspChecks, OldUrlChecks):
    """Group 2: the instance and a real upload."""

    def instance_group(self) -> None:
        ctx = self.ctx
        later = list(UPLOAD_CHECKS)
        health = new_check("instance.health")
        if not ctx.instance:
            self.add(health.skipped("no --instance URL"))
            self.skip(later + ["old_urls", "instance.csp"], "needs --instance")
            return
        base = ctx.instance.rstrip("/")
        with http_client(ctx.http) as c:
            try:
                r = c.get(base + "/health")
            except httpx.HTTPError as e:
                self.add(health.failed(f"{base}/health: {describe_error(e)}",
                                       "check the instance URL and that web runs"))
                self.skip(later + ["old_urls", "instance.csp"], "the instance does not answer")
                return
            if r.status_code != 200 or r.text.strip() != "OK":
                html = "html" in r.headers.get("content-type", "")
                self.add(health.failed(f"{base}/health answered {r.status_code}"
                                       + (" with an HTML page: not Mastodon's web process" if html
                                          else f" {r.text[:60]!r}"),
                                       "give the instance's own URL (--instance), and check that mastodon-web runs",
                                       status=r.status_code))
                self.skip(later + ["old_urls", "instance.csp"], "the instance is not healthy")
                return
            self.add(health.passed(f"{base}/health answered OK"))
            def upload_then_csp() -> None:     # the CSP check judges where the uploaded media redirects
                try:
                    self.token_group(c, base, later)
                finally:
                    self.csp(c, base)
            concurrently(lambda: self.old_urls(c, base), lambda: self.prefetch(c, base), upload_then_csp)

    def token_group(self, c: httpx.Client, base: str, later: list[str]) -> None:
        ctx = self.ctx
        if ctx.no_upload:
            self.skip(later, ctx.no_upload)
            return
        if ctx.token is None:
            self.skip(later, "no access token (MASTODON_ACCESS_TOKEN)")
            return
        auth = {"Authorization": f"Bearer {ctx.token.reveal()}"}
        token = new_check("instance.token")          # judged by the upload itself: 401, 403 or accepted
        media_id = None
        try:
            media_id = self.upload(c, base, auth, token)
        finally:
            if media_id:
                self.cleanup(c, base, auth, media_id)
        self.skip(later, "needs a finished upload")

    def upload(self, c: httpx.Client, base: str, auth: dict, token: Check) -> str | None:
        up = new_check("upload")
        t0 = time.monotonic()
        r = c.post(base + "/api/v2/media", headers=auth,
                   files={"file": ("mastowizard-check.jpg", TEST_JPEG, "image/jpeg")},
                   data={"description": "mastowizard test upload (deleted right away)"})
        if r.status_code == 403:
            self.add(token.failed("the token may not upload media (403: outside the authorized scopes)",
                                  "create a token with the write:media scope (Preferences > Development)"))
            return None
        if r.status_code == 401:
            self.add(token.failed("the access token is invalid (401)",
                                  "create a token under Preferences > Development with the write:media scope"))
            self.skip(["upload", "urls", "objects", "public_fetch", "cleanup"], "needs a valid token")
            return None
        self.add(token.passed("the token was accepted for POST /api/v2/media"))
        if r.status_code not in (200, 202):
            self.add(up.failed(f"POST /api/v2/media answered {r.status_code}: {r.text[:160]!r}",
                               "read web and sidekiq logs (`mastowizard doctor`): storage errors show there",
                               status=r.status_code))
            return None
        media = r.json()
        media_id = str(media.get("id"))
        delay = 0.5
        while media.get("url") is None:
            if time.monotonic() - t0 > self.ctx.poll_timeout:
                self.add(up.failed(f"media {media_id} was still processing after {self.ctx.poll_timeout:.0f}s",
                                   "check that sidekiq runs and can reach the bucket (`mastowizard doctor`)",
                                   media_id=media_id))
                return media_id
            time.sleep(delay)
            delay = min(delay * 2, 5)
            p = c.get(f"{base}/api/v1/media/{media_id}", headers=auth)
            if p.status_code in (200, 206):
                media = p.json()
        took = time.monotonic() - t0
        self.add(up.passed(f"uploaded media {media_id} (HTTP {r.status_code}) in {took:.1f}s",
                           media_id=media_id, url=media["url"], preview_url=media.get("preview_url")))
        self.after_upload(c, media)
        return media_id

    def after_upload(self, c: httpx.Client, media: dict) -> None:
        s = self.ctx.settings
        urls = new_check("urls")
        url, preview = media["url"], media.get("preview_url") or media["url"]
        hosts = {urlsplit(u).netloc for u in (url, preview)}
        if s is None and self.ctx.settings_error and "S3_ENABLED" not in self.ctx.settings_error:
            self.skip(["urls", "objects", "public_fetch"], "needs valid S3 settings (see settings)")
            return
        if s is None or "/system/" in urlsplit(url).path and urlsplit(url).netloc == urlsplit(self.ctx.instance).netloc:
            self.add(urls.failed(f"{url} is on the instance's own disk: the running Mastodon still stores media "
                                 "locally", "restart web and sidekiq so they read the new env file "
                                 "(`mastowizard restart`)", url=url))
            self.skip(["objects", "public_fetch"], "media is not on S3")
            return
        bad = [u for u in (url, preview) if urlsplit(u).path.lstrip("/").split("/", 1)[0] == s.bucket]
        if s.alias_host and hosts != {s.alias_host}:
            self.add(urls.failed(f"media URLs are on {', '.join(sorted(hosts))}, not on {s.alias_host}: the running "
                                 "Mastodon has not read the env file since S3_ALIAS_HOST changed",
                                 "restart web and sidekiq (mastodon-web and mastodon-sidekiq, or Compose's web and "
                                 "sidekiq): they read the env file only when they start (`mastowizard restart`)",
                                 url=url))
        elif bad:
            self.add(urls.failed(f"{url} has the bucket name in the path",
                                 "set S3_ALIAS_HOST to a media host that serves the bucket at its root", url=url))
        else:
            self.add(urls.passed(f"{url} and its preview are on {', '.join(sorted(hosts))}", url=url))
        concurrently(lambda: self.objects(url, preview), lambda: self.public_fetch(c, url, preview))

    def objects(self, url: str, preview: str) -> None:
        chk = new_check("objects")
        s, writer = self.ctx.settings, self.ctx.writer
        if writer is None:
            self.add(chk.skipped("no writer credential"))
            return
        from ..s3.client import explain, make_client
        s3 = make_client(s, writer, http=self.ctx.http)
        found, missing = [], []

        def head(u: str) -> tuple[str, int | str]:
            path = urlsplit(u).path.lstrip("/")
            key = path if s.alias_host else path.split("/", 1)[-1]
            try:
                return key, s3.head_object(Bucket=s.bucket, Key=key)["ContentLength"]
            except Exception as e:  # noqa: BLE001
                return key, explain(e).code
        for key, size in concurrently(lambda: head(url), lambda: head(preview)):
            if isinstance(size, int):
                (found if size > 0 else missing).append(f"{key} ({size} bytes)")
            else:
                missing.append(f"{key} ({size})")
        if missing:
            self.add(chk.failed("not in the bucket: " + ", ".join(missing),
                                "S3_ALIAS_HOST must serve this bucket: check the bucket name and the proxy",
                                found=found, missing=missing))
        else:
            self.add(chk.passed("in the bucket: " + ", ".join(found)))

    def cleanup(self, c: httpx.Client, base: str, auth: dict, media_id: str) -> None:
        chk = new_check("cleanup")
        version = self.instance_version(c, base)
        if version is not None and version < (4, 4):
            self.add(chk.passed(f"Mastodon {'.'.join(map(str, version))} has no DELETE /api/v1/media (4.4+): the test "
                                f"upload {media_id} is attached to nothing, and Mastodon itself removes it about a "
                                "day later (its scheduled cleanup of unattached media)", version=list(version)))
            return
        try:
            r = c.delete(f"{base}/api/v1/media/{media_id}", headers=auth)
            if r.status_code == 404 and "Record not found" not in r.text:
                self.add(chk.warned(f"this Mastodon has no DELETE /api/v1/media (before 4.4): media {media_id} "
                                    "stays until Mastodon's own cleanup removes unattached media after about a day",
                                    "nothing to do"))
                return
            gone = c.get(f"{base}/api/v1/media/{media_id}", headers=auth).status_code == 404
        except httpx.HTTPError as e:
            self.add(chk.failed(f"could not delete media {media_id}: {describe_error(e)}",
                                f"delete it by hand: DELETE /api/v1/media/{media_id}"))
            return
        if r.status_code == 200 and gone:
            self.add(chk.passed(f"deleted media {media_id} (only the one this run uploaded)"))
        else:
            self.add(chk.failed(f"DELETE /api/v1/media/{media_id} answered {r.status_code}",
                                f"delete it by hand: DELETE /api/v1/media/{media_id}"))
