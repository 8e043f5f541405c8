"""What Mastodon's own S3 client and its Sidekiq jobs need from the provider, judged by their effect
on probe objects of our own: the timeouts, reading media back in parts, multipart uploads, batch
deletes, what deletes or keeps media behind Mastodon's back, and the writer key's scope. Each
failure names the env variable, the value and why. Every probe object is removed by the run."""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

from ..results import Check
from .mastodon_client import MIN_PART, MastodonClient, suggested_timeout
from .probe_run import ALL_PROBES, CACHE_CONTROL, NOT_SUPPORTED, ProbeRun, concurrently

TITLES = {cid: title for cid, title in ALL_PROBES if cid.startswith("jobs.")}
IDS = list(TITLES)
MASTODON_PREFIXES = ("accounts/", "media_attachments/", "custom_emojis/", "site_uploads/", "preview_cards/",
                     "cache/", "backups/", "imports/")
SAMPLES = 5


def _check(cid: str) -> Check:
    return Check(cid, TITLES[cid])


def _timed(run: ProbeRun, call, **kw) -> float:
    t = time.monotonic()
    call(Bucket=run.settings.bucket, **kw)
    took = time.monotonic() - t
    run.timings.append(took)
    return took


# -- the timeouts -----------------------------------------------------------------------------------
def probe_latency(run: ProbeRun, client: MastodonClient) -> None:
    """Small requests timed as Mastodon's client makes them, against S3_OPEN_TIMEOUT/S3_READ_TIMEOUT
    (5 s each, no retry by default): a slower answer is Net::ReadTimeout, an upload that fails."""
    chk = _check("jobs.latency")
    problem = client.timeout_problem()
    if problem:
        run.add(chk.failed(problem, "set S3_OPEN_TIMEOUT and S3_READ_TIMEOUT in whole seconds (default 5), "
                                    "or remove them"))
        return
    key = run.key("latency")
    try:
        run.put(key, run.settings.acl or None)
        for _ in range(SAMPLES):
            _timed(run, run.s3.head_object, Key=key)
    except Exception as exc:  # noqa: BLE001
        e = run.err(exc)
        if e.code in ("ReadTimeout", "ConnectTimeout", "EndpointConnectionError"):
            run.add(chk.failed(f"a request got no answer within {run.client_timeout:.0f} s ({e.code}): Mastodon "
                               f"gives up after {client.read_timeout} s", "check the provider's status; where it is "
                               "slow but working, raise S3_READ_TIMEOUT and set S3_RETRY_LIMIT=2"))
        else:
            run.add(chk.skipped(f"could not time the provider: {e.code}"))
        return
    slowest, median = max(run.timings), statistics.median(run.timings)
    limit = client.read_timeout
    ev = {"samples_s": [round(t, 3) for t in run.timings], "read_timeout_s": limit,
          "open_timeout_s": client.open_timeout, "retry_limit": client.retry_limit}
    seen = f"slowest answer {slowest * 1000:.0f} ms, median {median * 1000:.0f} ms, of {len(run.timings)} requests"
    better = suggested_timeout(slowest)
    if slowest >= limit:
        run.add(chk.failed(f"{seen}: over S3_READ_TIMEOUT={limit} s, so Mastodon's uploads and remote media "
                           "fail with Net::ReadTimeout" + (" and are not retried" if not client.retry_limit else ""),
                           f"set S3_READ_TIMEOUT={better} and S3_RETRY_LIMIT=2 (then restart), or choose a provider "
                           "region nearer the instance", suggest={"S3_READ_TIMEOUT": str(better),
                                                                  "S3_RETRY_LIMIT": "2"}, **ev))
    elif slowest >= limit / 2:
        run.add(chk.warned(f"{seen}: over half of S3_READ_TIMEOUT={limit} s; a busier moment may time out",
                           f"set S3_READ_TIMEOUT={better} and S3_RETRY_LIMIT=2",
                           suggest={"S3_READ_TIMEOUT": str(better), "S3_RETRY_LIMIT": "2"}, **ev))
    else:
        run.add(chk.passed(f"{seen}, within S3_READ_TIMEOUT={limit} s", **ev))


# -- multipart uploads ------------------------------------------------------------------------------
def probe_multipart(run: ProbeRun, client: MastodonClient) -> str | None:
    """A two-part upload as aws-sdk-s3 sends a video above S3_MULTIPART_THRESHOLD: the ACL, Cache-Control
    and Content-Type on `POST ?uploads`, a 5 MiB part and a small last one. Returns the probe's key."""
    s, chk = run.settings, _check("jobs.multipart")
    key = run.key("multipart").rsplit(".", 1)[0] + ".mp4"
    extra = {"ACL": s.acl} if s.acl else {}
    upload_id, step = None, "CreateMultipartUpload (POST ?uploads)"
    run.created.append(key)
    try:
        upload_id = run.s3.create_multipart_upload(Bucket=s.bucket, Key=key, ContentType="video/mp4",
                                                   CacheControl=CACHE_CONTROL, **extra)["UploadId"]
        step = "UploadPart"

        def part(number: int, body: bytes) -> dict:      # aws-sdk-s3 sends the parts at once, in threads
            t = time.monotonic()
            etag = run.s3.upload_part(Bucket=s.bucket, Key=key, UploadId=upload_id, PartNumber=number,
                                      Body=body)["ETag"]
            run.part_seconds.append(time.monotonic() - t)
            return {"PartNumber": number, "ETag": etag}
        parts = concurrently(lambda: part(1, b"\0" * MIN_PART), lambda: part(2, b"mastowizard multipart probe\n"))
        step = "CompleteMultipartUpload"
        run.s3.complete_multipart_upload(Bucket=s.bucket, Key=key, UploadId=upload_id,
                                         MultipartUpload={"Parts": parts})
    except Exception as exc:  # noqa: BLE001
        e = run.err(exc)
        if upload_id:
            try:
                run.s3.abort_multipart_upload(Bucket=s.bucket, Key=key, UploadId=upload_id)
            except Exception:  # noqa: BLE001, S110 - the provider keeps it until its own expiry
                pass
        ev = {"step": step, "error": e.code, "status": e.status}
        if e.code in NOT_SUPPORTED or e.status in (405, 501):
            run.add(chk.failed(f"the provider refused {step}: {e.code}. Mastodon uploads every file above "
                               f"S3_MULTIPART_THRESHOLD ({_size(client.multipart_threshold)}) in parts, so those "
                               "videos and archives fail",
                               "use a provider (or remove the proxy) that takes multipart uploads; until then set "
                               "S3_MULTIPART_THRESHOLD above your largest upload (in bytes, e.g. 104857600) so "
                               "that files go up in one PUT", **ev))
        elif e.status == 413:
            run.add(chk.failed(f"{step} was refused as too large (413): a proxy in front of the S3 API limits "
                               "request bodies below the 5 MiB parts Mastodon sends",
                               "raise the proxy's body limit (nginx: client_max_body_size 0 on the S3 API's "
                               "server) ", **ev))
        elif e.code == "QuotaExceeded":
            run.add(chk.failed(f"the bucket's quota refused {step} (QuotaExceeded): videos and other uploads fail "
                               "once the bucket is that full", "raise or remove the bucket's quota at the provider, or "
                               "free space (`tootctl media remove`)", **ev))
        else:
            run.add(chk.failed(f"{step} failed: {e.code} {e.message}".strip(),
                               "grant the writer s3:PutObject and s3:AbortMultipartUpload, and check the "
                               "provider's multipart support", **ev))
        return None
    problem = client.threshold_problem()
    if problem:
        run.add(chk.failed(problem, "set S3_MULTIPART_THRESHOLD=15728640 (15 MiB, Mastodon's default, in bytes) "
                                    "or remove the line", suggest={"S3_MULTIPART_THRESHOLD": "15728640"}))
    else:
        run.add(chk.passed(f"uploaded a 2-part object (5 MiB and a small last part) with "
                           f"{'ACL ' + s.acl if s.acl else 'no ACL'}; Mastodon sends files above "
                           f"{_size(client.multipart_threshold)} this way",
                           part_seconds=[round(x, 3) for x in run.part_seconds]))
    return key


def _answer(e) -> str:
    """'501 NotImplemented', or for a HEAD (no body, no code) '501 Not Implemented'."""
    if e.code and not e.code.isdigit():
        return f"{e.status} {e.code}" if e.status else e.code
    try:
        return f"{e.status} {HTTPStatus(int(e.status)).phrase}"
    except (TypeError, ValueError):
        return e.code or "an error"


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:g} MiB" if n >= 1024 * 1024 else f"{n} bytes"


# -- reading media back -----------------------------------------------------------------------------
def probe_read_back(run: ProbeRun, client: MastodonClient, key: str | None) -> None:
    """The reads of aws-sdk-s3's download_file (Mastodon's copy_to_local_file), on the multipart probe:
    `HEAD ?partNumber=1`, then ranged GETs, or partNumber GETs where the provider reports the parts;
    each must answer 206 with the Content-Range the SDK splits."""
    s, chk = run.settings, _check("jobs.read_back")
    if key is None:
        run.add(chk.skipped("needs the multipart probe object (see jobs.multipart)"))
        return
    size = MIN_PART + len(b"mastowizard multipart probe\n")
    problems, seen = [], []
    parts, head_refused = None, False
    try:
        parts = run.s3.head_object(Bucket=s.bucket, Key=key, PartNumber=1).get("PartsCount")
        seen.append(f"HEAD ?partNumber=1: parts {parts if parts is not None else 'not reported'}")
    except Exception as exc:  # noqa: BLE001
        e = run.err(exc)
        head_refused = str(e.status) == "403"
        problems.append(f"HEAD ?partNumber=1 answered {_answer(e)}: download_file starts every read with it")
    reads = [("a ranged GET (Range: bytes=0-99)", {"Range": "bytes=0-99"}, f"bytes 0-99/{size}")]
    if parts and parts > 1:
        reads.append(("a partNumber GET (partNumber=2)", {"PartNumber": 2}, f"bytes {MIN_PART}-{size - 1}/{size}"))
    for label, kw, want in reads:
        try:
            r = run.s3.get_object(Bucket=s.bucket, Key=key, **kw)
            r["Body"].read()
        except Exception as exc:  # noqa: BLE001
            e = run.err(exc)
            problems.append(f"{label} answered {_answer(e)}")
            continue
        status, got = r["ResponseMetadata"]["HTTPStatusCode"], r.get("ContentRange")
        seen.append(f"{label}: {status}, Content-Range {got or 'missing'}")
        if status != 206 or got != want:
            problems.append(f"{label} answered {status} with Content-Range {got or 'missing'} "
                            f"(expected 206 and {want})")
    if client.checksum_mode:
        try:
            run.s3.get_object(Bucket=s.bucket, Key=key, ChecksumMode="ENABLED")["Body"].read()
        except Exception as exc:  # noqa: BLE001
            e = run.err(exc)
            run.add(chk.failed(f"S3_ENABLE_CHECKSUM_MODE=true and a GET with x-amz-checksum-mode: ENABLED failed "
                               f"({e.code}): Mastodon's reads of media fail the same way",
                               "remove S3_ENABLE_CHECKSUM_MODE (Mastodon's default leaves checksum mode off)",
                               suggest={"S3_ENABLE_CHECKSUM_MODE": None}, seen=seen))
            return
    if not problems:
        note = (" (S3_FORCE_SINGLE_REQUEST=true is not needed here: Mastodon reads whole objects with it)"
                if client.force_single_request else "")
        how = "partNumber" if parts and parts > 1 else "ranged"
        run.add(chk.passed(f"HEAD ?partNumber=1 and {how} GETs answer as download_file needs (206 with "
                           "Content-Range)" + note, seen=seen))
        return
    if head_refused and len(problems) == 1 and not client.force_single_request:
        run.add(chk.failed(problems[0] + ", though GETs of the same object work: a proxy in front of the S3 API "
                           "turns HEAD into GET (nginx's proxy_cache_convert_head), so the signature no longer "
                           "matches and Sidekiq logs 'Forbidden - cannot copy ... to local file'",
                           "set proxy_cache_convert_head off in that proxy (or point S3_ENDPOINT at the provider); "
                           "until then S3_FORCE_SINGLE_REQUEST=true makes Mastodon read with GETs only",
                           suggest={"S3_FORCE_SINGLE_REQUEST": "true"}, seen=seen, problems=problems))
        return
    if client.force_single_request:
        try:
            body = run.s3.get_object(Bucket=s.bucket, Key=key)["Body"].read()
        except Exception as exc:  # noqa: BLE001
            run.add(chk.failed(f"even a whole-object GET failed: {run.err(exc).code}",
                               "check the provider and any proxy in front of its S3 API", seen=seen))
            return
        run.add(chk.passed(f"{'; '.join(problems)}; S3_FORCE_SINGLE_REQUEST=true makes Mastodon read whole objects "
                           f"in one GET, which works ({len(body)} bytes)", seen=seen, problems=problems))
        return
    symptom = ("\"undefined method 'split' for nil\", 422 Error processing thumbnail"
               if any("Content-Range" in p for p in problems) else "cannot copy ... to local file")
    run.add(chk.failed("; ".join(problems) + ": Sidekiq's thumbnails, transcodes, emoji copies and archives read "
                       f"media this way and fail ({symptom})",
                       "set S3_FORCE_SINGLE_REQUEST=true (Mastodon then reads each object in one GET), or fix the "
                       "proxy that drops Content-Range", suggest={"S3_FORCE_SINGLE_REQUEST": "true"},
                       seen=seen, problems=problems))


# -- batch deletes --------------------------------------------------------------------------------
CAPS = (500, 250, 100, 50, 10, 2)


def versioning(run: ProbeRun) -> str | None:
    """The bucket's versioning status ("" when never enabled), or None when no key given may read it."""
    try:
        return run.config_client.get_bucket_versioning(Bucket=run.settings.bucket).get("Status", "")
    except Exception:  # noqa: BLE001 - not readable
        return None


def probe_batch_delete(run: ProbeRun, client: MastodonClient) -> None:
    """One DeleteObjects of S3_BATCH_DELETE_LIMIT keys (three probe objects, the rest absent keys),
    timed against S3_READ_TIMEOUT; a provider that refuses that many is asked for fewer. Where the
    bucket keeps versions (or may), only the probe objects: an absent key would leave a delete marker."""
    s, chk = run.settings, _check("jobs.batch_delete")
    versions = versioning(run)
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
    left = [k for k in real if _still_there(run, k)]
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
    else:
        size = ("(S3_BATCH_DELETE_LIMIT)" if full else
                f"(not S3_BATCH_DELETE_LIMIT={client.batch_delete_limit}: the bucket "
                f"{'keeps versions' if versions else 'may keep versions'}, and absent keys would leave delete "
                "markers; that size was not verified)")
        run.add(chk.passed(f"deleted {len(real)} probe objects in one DeleteObjects of {len(keys)} keys {size} "
                           f"in {took:.2f} s", **ev))


def _find_cap(run: ProbeRun, refused: int) -> int | None:
    """The largest batch of absent keys the provider takes, among CAPS below REFUSED."""
    for n in (c for c in CAPS if c < refused):
        try:
            run.s3.delete_objects(Bucket=run.settings.bucket, Delete={
                "Objects": [{"Key": run.key(f"absent-{i}")} for i in range(n)], "Quiet": True})
            return n
        except Exception:  # noqa: BLE001, S112 - refused too: try fewer
            continue
    return None


def _still_there(run: ProbeRun, key: str) -> bool:
    try:
        run.s3.head_object(Bucket=run.settings.bucket, Key=key)
        return True
    except Exception:  # noqa: BLE001 - 404: gone
        return False


# -- what deletes or keeps media behind Mastodon's back ------------------------------------------------
def _rule_prefix(rule: dict) -> str:
    f = rule.get("Filter") or {}
    return f.get("Prefix", (f.get("And") or {}).get("Prefix", rule.get("Prefix", ""))) or ""


def probe_retention(run: ProbeRun) -> None:
    """Lifecycle expiry (Mastodon never uploads avatars and headers again), versioning without expiry of
    old versions (every deleted file stays billed), read with the admin key where given."""
    s, chk = run.settings, _check("jobs.retention")
    c, who = run.config_client, ("admin key" if run.s3_admin else "writer key")
    bad, warn, seen, unread = [], [], [], []
    rules: list[dict] = []
    try:
        rules = c.get_bucket_lifecycle_configuration(Bucket=s.bucket).get("Rules", [])
    except Exception as exc:  # noqa: BLE001
        e = run.err(exc)
        if e.code == "NoSuchLifecycleConfiguration":
            seen.append("no lifecycle rules")
        else:
            unread.append(f"lifecycle ({e.code})")
    noncurrent = False
    for rule in (r for r in rules if r.get("Status") == "Enabled"):
        prefix, name = _rule_prefix(rule), rule.get("ID") or "(no id)"
        noncurrent |= "NoncurrentVersionExpiration" in rule
        exp = rule.get("Expiration") or {}
        if not (exp.get("Days") or exp.get("Date")):
            seen.append(f"rule {name}: no expiry of current objects")
            continue
        when = f"after {exp['Days']} days" if exp.get("Days") else f"on {exp['Date']}"
        hit = [p for p in MASTODON_PREFIXES if s.key(p).startswith(prefix) or prefix.startswith(s.key(p))]
        if set(hit) - {"cache/"}:
            bad.append(f"lifecycle rule {name} expires objects under '{prefix or '(everything)'}' {when}: "
                       f"Mastodon's own media there ({', '.join(hit)}) vanishes and is never uploaded again")
        elif hit:
            warn.append(f"lifecycle rule {name} expires cache/ {when}: remote accounts' avatars and headers are "
                        "there too, and Mastodon does not fetch them again")
    try:
        versioning = c.get_bucket_versioning(Bucket=s.bucket).get("Status", "")
        seen.append(f"versioning {versioning or 'never enabled'}")
        if versioning == "Enabled" and not noncurrent:
            warn.append("versioning is on without a rule that expires old versions: every file Mastodon deletes "
                        "or replaces stays stored (and billed)")
    except Exception as exc:  # noqa: BLE001
        unread.append(f"versioning ({run.err(exc).code})")
    ev = {"read_with": who, "seen": seen, "unread": unread}
    if bad:
        run.add(chk.failed("; ".join(bad), "remove the rule, or limit it to a prefix Mastodon does not use "
                                           "(use `tootctl media remove` to clean the cache)", **ev))
    elif warn:
        fix = ("add a lifecycle rule with NoncurrentVersionExpiration (for example 7 days), or suspend versioning"
               if any("versioning" in w for w in warn) else
               "let `tootctl media remove` (Mastodon's own cleanup) expire the cache instead")
        run.add(chk.warned("; ".join(warn), fix, **ev))
    elif unread and not seen:
        run.add(chk.skipped(f"the {who} may not read the bucket's lifecycle or versioning: {', '.join(unread)} "
                            "(give the admin key to read them)", **ev))
    else:
        run.add(chk.passed("; ".join(seen) + (f" (not readable: {', '.join(unread)})" if unread else ""), **ev))


# -- the writer key's scope -------------------------------------------------------------------------
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
    except Exception:  # noqa: BLE001, S110 - refused: the key is scoped
        pass
    arn = _caller_arn(run) if s.provider == "aws" and not s.endpoint else None
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


def _caller_arn(run: ProbeRun) -> str | None:
    import boto3
    try:
        sts = boto3.client("sts", region_name=run.settings.region, aws_access_key_id=run.writer.access_key_id,
                           aws_secret_access_key=run.writer.secret_access_key.reveal())
        return sts.get_caller_identity().get("Arn")
    except Exception:  # noqa: BLE001 - not answered: nothing to say
        return None


def run_jobs(run: ProbeRun) -> None:
    """Every jobs check on RUN (whose cleanup removes the probe objects), the independent ones at once:
    against a distant provider each is a few round trips, and they need not wait for one another."""
    client = MastodonClient.from_env(run.settings.extra_env)
    with ThreadPoolExecutor(max_workers=4) as pool:
        done = [pool.submit(probe_latency, run, client),
                pool.submit(lambda: probe_read_back(run, client, probe_multipart(run, client))),
                pool.submit(probe_batch_delete, run, client),
                pool.submit(lambda: (probe_retention(run), probe_key_scope(run)))]
        for f in done:
            f.result()


# -- what the plan writes from them -----------------------------------------------------------------
def measured(checks: list[Check]) -> dict[str, tuple[str | None, str]]:
    """The env values the jobs checks measured and asked for (None: remove the line), each with its
    reason: what the plan writes, and says why, after a probe or `plan --measure`."""
    out: dict[str, tuple[str | None, str]] = {}
    for c in checks:
        if c.id in TITLES and c.status in ("fail", "warn"):
            for name, value in (c.evidence.get("suggest") or {}).items():
                shown = f"{name} removed" if value is None else f"{name}={value}"
                out[name] = (value, f"{shown}: measured by {c.id}: {c.detail}")
    return out


def measure(settings, writer, http, admin=None) -> tuple[list[Check], dict[str, tuple[str | None, str]]]:
    """Only the jobs checks (after the writer's access), for `plan --measure`: (their results, what the
    plan should write). Probe objects never outlive the call."""
    run = ProbeRun(settings, writer, http, admin)
    try:
        from .probes import probe_access, probe_write
        if probe_access(run):
            probe_write(run)
            run_jobs(run)
    finally:
        run.cleanup()
        run.close()
    checks = [run.checks[cid] for cid in IDS if cid in run.checks]
    return checks, measured(checks)
