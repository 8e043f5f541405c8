"""The live verification checklist: the instance, its bucket and its media host seen from outside,
the way browsers and other servers see them. Independent groups run concurrently; every check
has an id, a status, a detail, evidence and a fix. The test upload is removed, whatever happens."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from ..results import Check
from ..s3 import anonymous, jobs, probes
from ..s3.probe_run import ProbeRun, concurrently
from .context import NOT_ENABLED as NOT_ENABLED
from .context import NOT_ENABLED_FIX as NOT_ENABLED_FIX
from .context import Context as Context
from .media_host import MediaHostChecks
from .media_host import check_media_host as check_media_host
from .old_urls import sample_local_media as sample_local_media
from .public_fetch import MIN_CACHE_SECONDS as MIN_CACHE_SECONDS
from .public_fetch import ORIGIN as ORIGIN
from .titles import BUCKET_GROUP as BUCKET_GROUP
from .titles import INSTANCE_GROUP as INSTANCE_GROUP
from .titles import JOBS_GROUP as JOBS_GROUP
from .titles import ORDER as ORDER
from .titles import TITLES as TITLES
from .titles import new_check
from .upload_chain import TEST_JPEG as TEST_JPEG
from .upload_chain import InstanceChecks


class Checklist(MediaHostChecks, InstanceChecks):
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
