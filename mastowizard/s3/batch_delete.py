"""What Mastodon's cleanups need from the provider (`jobs.batch_delete`): one DeleteObjects of
S3_BATCH_DELETE_LIMIT keys, timed against S3_READ_TIMEOUT, and the provider's cap per call where it
has one. Part of the jobs checks (jobs.py)."""

from __future__ import annotations

import time

from .mastodon_client import MastodonClient
from .probe_run import NOT_SUPPORTED, ProbeRun, concurrently
from .probe_run import check as _check

CAPS = (500, 250, 100, 50, 10, 2)


def probe_batch_delete(run: ProbeRun, client: MastodonClient) -> None:
    """One DeleteObjects of S3_BATCH_DELETE_LIMIT keys (three probe objects, the rest absent keys),
    timed against S3_READ_TIMEOUT; a provider that refuses that many is asked for fewer. Where the
    bucket keeps versions (or may), only the probe objects: an absent key would leave a delete marker."""
    s, chk = run.settings, _check("jobs.batch_delete")
    versions, _ = run.versioning()
    full = versions == ""
    limit = max(1, client.batch_delete_limit) if full else 3
    real = [run.key(f"batch-{i}") for i in range(min(3, limit))]
    try:
        concurrently(*[lambda k=k: run.put(k, s.acl or None) for k in real])
    except Exception as exc:  # noqa: BLE001
        run.add(chk.skipped(f"could not upload the probe objects: {run.err(exc).code}"))
        return
    keys = real + [run.key(f"absent-{i}") for i in range(limit - len(real))]
    t = time.monotonic()
    try:
        answer = run.s3.delete_objects(Bucket=s.bucket, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True})
    except Exception as exc:  # noqa: BLE001
        e = run.err(exc)
        if e.code in ("ReadTimeout",):
            run.add(chk.failed(f"a DeleteObjects of {len(keys)} keys got no answer within {run.client_timeout:.0f} s",
                               f"set S3_BATCH_DELETE_LIMIT=100 (and S3_READ_TIMEOUT above {run.client_timeout:.0f})",
                               suggest={"S3_BATCH_DELETE_LIMIT": "100"}))
            return
        cap = _find_cap(run, len(keys)) if len(keys) > 1 else None
        ev = {"error": e.code, "status": e.status, "keys": len(keys)}
        if cap:
            run.add(chk.failed(f"the provider refused a DeleteObjects of {len(keys)} keys ({e.code}) and took one of "
                               f"{cap}: Mastodon's cleanups send S3_BATCH_DELETE_LIMIT={limit} keys a call, fail, "
                               "and the bucket keeps growing", f"set S3_BATCH_DELETE_LIMIT={cap}",
                               suggest={"S3_BATCH_DELETE_LIMIT": str(cap)}, **ev))
        elif e.code in NOT_SUPPORTED or e.code in ("MalformedXML", "MissingContentMD5") or e.status in (400, 405, 501):
            run.add(chk.warned(f"the provider has no multi-object delete (DeleteObjects answered {e.code}): media "
                               "serves fine, but Mastodon's media removal (tootctl media remove, account deletions, "
                               "the scheduled cleanup) fails and the bucket keeps growing",
                               "a known limit of some providers (Google Cloud Storage's XML API): choose one with "
                               "DeleteObjects, or accept that removed media stays in the bucket", **ev))
        else:
            run.add(chk.failed(f"DeleteObjects refused: {e.code} {e.message}".strip(),
                               "grant the writer s3:DeleteObject (DeleteObjects needs it for every key)", **ev))
        return
    took = time.monotonic() - t
    errors = answer.get("Errors", [])
    left = [k for k in real if run.still_there(k)]
    for key in real:
        if key not in left:
            run.created.remove(key)
    ev = {"keys": len(keys), "seconds": round(took, 3), "read_timeout_s": client.read_timeout}
    if errors:
        run.add(chk.failed("DeleteObjects answered with errors: " + ", ".join(
            f"{x.get('Key')}: {x.get('Code')}" for x in errors[:3]), "grant the writer s3:DeleteObject on every key",
            errors=errors[:10], **ev))
    elif left:
        run.add(chk.failed(f"DeleteObjects said deleted, but {len(left)} of {len(real)} probe objects are still there",
                           "check versioning or object lock on the bucket", left=left, **ev))
    elif took >= client.read_timeout:
        smaller = max(1, int(len(keys) * client.read_timeout / 2 / took))
        run.add(chk.failed(f"a DeleteObjects of {len(keys)} keys took {took:.1f} s, over S3_READ_TIMEOUT="
                           f"{client.read_timeout} s that Mastodon before 4.5.3 waits for it (4.5.3+ waits 120 s): "
                           "cleanups fail and the bucket keeps growing",
                           f"set S3_BATCH_DELETE_LIMIT={smaller}", suggest={"S3_BATCH_DELETE_LIMIT": str(smaller)},
                           **ev))
    elif full:
        run.add(chk.passed(f"deleted {len(real)} probe objects in one DeleteObjects of {len(keys)} keys "
                           f"(S3_BATCH_DELETE_LIMIT) in {took:.2f} s", **ev))
    else:      # DeleteObjects works, but Mastodon's batch size was not tried: not a pass
        why = ("the bucket keeps versions" if versions else
               "the bucket may keep versions (its versioning could not be read)")
        run.add(chk.warned(f"deleted {len(real)} probe objects in one DeleteObjects of {len(keys)} keys in "
                           f"{took:.2f} s; a batch of S3_BATCH_DELETE_LIMIT={client.batch_delete_limit} was not "
                           f"tried: {why}, and absent keys would leave delete markers",
                           "give the admin key (it may read the bucket's versioning) to try the full batch on an "
                           "unversioned bucket; on a versioned one, watch Mastodon's logs for failed batch "
                           "deletes (`mastowizard doctor`)", **ev))


def _find_cap(run: ProbeRun, refused: int) -> int | None:
    """The largest batch of absent keys the provider takes, among CAPS below REFUSED."""
    for n in (c for c in CAPS if c < refused):
        try:
            run.s3.delete_objects(Bucket=run.settings.bucket, Delete={
                "Objects": [{"Key": run.key(f"absent-{i}")} for i in range(n)], "Quiet": True})
            return n
        except Exception:  # noqa: BLE001 - refused too: try fewer
            continue
    return None
