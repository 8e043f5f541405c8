"""The writer key's real scope (`jobs.key_scope`): what Mastodon needs (writer.write) and what
it can do beyond the bucket's objects. Read-only calls. Part of the jobs checks."""

from __future__ import annotations

from .client import caller_arn
from .probe_run import ProbeRun
from .probe_run import check as _check


def probe_key_scope(run: ProbeRun) -> None:
    """What the writer may do: write and delete objects (writer.write), and beyond them read the bucket's
    ACL or policy (it owns the bucket) or list other buckets; on AWS, whether it is the account's root
    key. Read-only calls; nothing is changed."""
    s, chk = run.settings, _check("jobs.key_scope")
    more = []
    for label, call in (("read the bucket's ACL", run.s3.get_bucket_acl),
                        ("read the bucket policy", run.s3.get_bucket_policy)):
        try:
            call(Bucket=s.bucket)
            more.append(label)
        except Exception as exc:  # noqa: BLE001
            if run.err(exc).code == "NoSuchBucketPolicy":
                more.append(label)
    try:
        names = [b["Name"] for b in run.s3.list_buckets().get("Buckets", [])]
        if len(names) > 1:
            more.append(f"list {len(names)} buckets")
    except Exception:  # noqa: BLE001 - refused: the key is scoped
        pass
    arn = caller_arn(s, run.writer) if s.provider == "aws" and not s.endpoint else None
    writes = run.checks.get("writer.write")
    if writes is not None and writes.status == "fail":
        run.add(chk.failed(f"the writer cannot do what Mastodon needs: {writes.detail}", writes.fix))
    elif arn and arn.endswith(":root"):
        run.add(chk.warned(f"the writer key is the AWS account's root key ({arn}): whoever reads the env file owns "
                           "the whole account", "create an IAM user with `mastowizard policy`'s writer policy and "
                           "put its key in the env file", arn=arn))
    elif more:
        run.add(chk.passed(f"the writer reads, writes and deletes objects; it can also {', '.join(more)} (it owns "
                           "the bucket): fine for Mastodon, though a key limited to the bucket's objects gives "
                           "less away if the env file leaks", can=more))
    else:
        run.add(chk.passed("the writer reads, writes and deletes objects, and may not read the bucket's settings "
                           "or list other buckets"))

