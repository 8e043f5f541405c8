"""The live verification checklist: the instance, its bucket and its media host seen from outside,
the way browsers and other servers see them. Independent groups run concurrently; every check
has an id, a status, a detail, evidence and a fix. The test upload is removed, whatever happens."""

from __future__ import annotations

import base64
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable
from urllib.parse import urlsplit

import httpx

from ..net import client as http_client
from ..net import describe_error
from ..results import Check
from ..s3 import anonymous, jobs, probes
from ..s3.probe_run import ProbeRun, concurrently
from .context import NOT_ENABLED as NOT_ENABLED
from .context import NOT_ENABLED_FIX as NOT_ENABLED_FIX
from .context import Context as Context
from .instance_csp import InstanceCspChecks
from .media_host import MediaHostChecks
from .media_host import check_media_host as check_media_host
from .old_urls import OldUrlChecks
from .old_urls import sample_local_media as sample_local_media
from .public_fetch import MIN_CACHE_SECONDS as MIN_CACHE_SECONDS
from .public_fetch import ORIGIN as ORIGIN
from .public_fetch import PublicFetchChecks
from .titles import BUCKET_GROUP as BUCKET_GROUP
from .titles import INSTANCE_GROUP as INSTANCE_GROUP
from .titles import JOBS_GROUP as JOBS_GROUP
from .titles import ORDER as ORDER
from .titles import TITLES as TITLES
from .titles import new_check

# A 16x16 JPEG made for this tool (287 bytes): what the checklist uploads.
TEST_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAA0JCgsKCA0LCgsODg0PEyAVExISEyccHhcgLikxMC4pLSwzOko+MzZGNywtQFdBRkxO"
    "UlNSMj5aYVpQYEpRUk//2wBDAQ4ODhMREyYVFSZPNS01T09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09P"
    "T09PT09PT0//wAARCAAQABADASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAP/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QA"
    "FQEBAQAAAAAAAAAAAAAAAAAAAwb/xAAUEQEAAAAAAAAAAAAAAAAAAAAA/9oADAMBAAIRAxEAPwCACtA//9k=")


class Checklist(MediaHostChecks, PublicFetchChecks, InstanceCspChecks, OldUrlChecks):
    # -- group 1: configuration, bucket, media host ---------------------------------------
    def bucket_group(self) -> None:
        ctx, s = self.ctx, self.ctx.settings
        chk = new_check("settings")
        if s is None:
            self.add(chk.failed(ctx.settings_error or "object storage is not configured", ctx.settings_fix))
            self.skip(["writer.credentials", "writer.bucket", "writer.write", "media_host", "anon.list",
                       "anon.put", "anon.backups", "cors"], "needs S3 settings")
            return
        if not s.alias_host:
            self.add(chk.warned("no S3_ALIAS_HOST: media URLs point at the S3 endpoint with the bucket in the path",
                                "serve the bucket from a media host and set S3_ALIAS_HOST", notes=ctx.notes))
        elif s.protocol == "http" and (ctx.instance or "").startswith("https://"):
            self.add(chk.warned("S3_PROTOCOL=http on an https instance: browsers block the media as mixed content",
                                "serve the media host over https and set S3_PROTOCOL=https"))
        elif ctx.notes:
            self.add(chk.warned("; ".join(ctx.notes), "clean up the env file (`mastowizard plan` does)"))
        else:
            self.add(chk.passed(f"bucket {s.bucket} in {s.region}" + (f" at {s.endpoint}" if s.endpoint else "")
                                + f", media host {s.alias_host}, {s.permission} mode"))
        if ctx.writer is None:
            self.skip(["writer.credentials", "writer.bucket", "writer.write", "anon.put", "anon.backups"],
                      "no writer credential (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)")
        if ctx.writer is None:
            self.media_host()
            return
        run = ProbeRun(s, ctx.writer, ctx.http)

        def probe() -> None:
            if probes.probe_access(run):
                concurrently(lambda: probes.probe_write(run), lambda: anonymous.probe_list(run),
                             lambda: anonymous.probe_put(run), lambda: anonymous.probe_backups(run),
                             lambda: probes.probe_cors(run))
        try:
            concurrently(self.media_host, probe)
        finally:
            run.cleanup()
            run.close()
        for cid in ("writer.credentials", "writer.bucket", "writer.write", "anon.list", "anon.put", "anon.backups"):
            if cid in run.checks:
                c = run.checks[cid]
                self.add(Check(cid, TITLES[cid], c.status, c.detail, c.fix, c.evidence))
        self.skip(["writer.write", "anon.list", "anon.put", "anon.backups"], "needs a working writer credential")
        self.bucket_cors = run.checks.get("bucket.cors")

    # -- group 3: what Mastodon's own client and jobs need ------------------------------------------
    def jobs_group(self) -> None:
        """The jobs checks (s3/jobs.py), beside the bucket group with probe objects of their own."""
        ctx = self.ctx
        if ctx.settings is None or ctx.writer is None:
            self.skip(jobs.IDS, "needs S3 settings" if ctx.settings is None else
                      "no writer credential (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)")
            return
        for c in jobs.measure(ctx.settings, ctx.writer, ctx.http)[0]:
            self.add(Check(c.id, TITLES[c.id], c.status, c.detail, c.fix, c.evidence))
        self.skip(jobs.IDS, "needs a working writer credential and bucket")

    # -- group 2: the instance and a real upload -------------------------------------------
    def instance_group(self) -> None:
        ctx = self.ctx
        later = ["instance.token", "upload", "urls", "objects", "public_fetch", "cleanup"]
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
                self.add(health.failed(f"{base}/health: {describe_error(e)}", "check the instance URL and that web runs"))
                self.skip(later + ["old_urls", "instance.csp"], "the instance does not answer")
                return
            if r.status_code != 200 or r.text.strip() != "OK":
                html = "html" in r.headers.get("content-type", "")
                self.add(health.failed(f"{base}/health answered {r.status_code}"
                                       + (" with an HTML page: not Mastodon's web process" if html else f" {r.text[:60]!r}"),
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
        r = c.post(base + "/api/v2/media", headers=auth, files={"file": ("mastowizard-check.jpg", TEST_JPEG, "image/jpeg")},
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

    def run(self, only: set[str] | None = None) -> list[Check]:
        """All checks, or (ONLY) the group(s) those checks belong to: a retry of one check reruns
        what it depends on, and nothing more."""
        groups = []
        if only is None or only & BUCKET_GROUP:
            groups.append(self.bucket_group)
        if only is None or only & JOBS_GROUP:
            groups.append(self.jobs_group)
        if only is None or only & INSTANCE_GROUP:
            groups.append(self.instance_group)
        with ThreadPoolExecutor(max_workers=3) as pool:
            for f in [pool.submit(g) for g in groups]:
                f.result()
        if only is None or "cors" in only or (only & INSTANCE_GROUP and only & BUCKET_GROUP):
            self.cors(self.fetched)
        from .knowledge import link_failures
        return link_failures([self.results[cid] for cid in ORDER if cid in self.results])


def run_checks(ctx: Context, on_check: Callable[[Check], None] | None = None,
               only: set[str] | None = None) -> list[Check]:
    return Checklist(ctx, on_check).run(only)
