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
from ..settings import CACHE_CONTROL
from .batch_delete import probe_batch_delete
from .key_scope import probe_key_scope
from .mastodon_client import MIN_PART, MastodonClient, suggested_timeout
from .probe_run import ALL_PROBES, NOT_SUPPORTED, ProbeRun, concurrently
from .probe_run import check as _check
from .retention import probe_retention

TITLES = {cid: title for cid, title in ALL_PROBES if cid.startswith("jobs.")}
IDS = list(TITLES)
SAMPLES = 5


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
            except Exception:  # noqa: BLE001 - the provider keeps it until its own expiry
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
