"""What is judged against the bucket itself: the settings, the writer credential (access, write),
the media host, what anonymous clients may do, the bucket's CORS rules (group 1), and what
Mastodon's own S3 client and jobs need (group 3, s3/jobs.py)."""

from __future__ import annotations

from ..results import Check
from ..s3 import anonymous, jobs, probes
from ..s3.probe_run import ProbeRun, concurrently
from .media_host import MediaHostChecks
from .titles import TITLES, new_check


class BucketChecks(MediaHostChecks):
    """Groups 1 and 3: each judges the bucket with probe objects of its own."""

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
                self.add(Check(cid, TITLES[cid], c.status, c.detail, c.fix, c.evidence, c.seconds))
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
            self.add(Check(c.id, TITLES[c.id], c.status, c.detail, c.fix, c.evidence, c.seconds))
        self.skip(jobs.IDS, "needs a working writer credential and bucket")
