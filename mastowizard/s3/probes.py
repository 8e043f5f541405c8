"""Bucket probes: what the writer credential can do, the bucket's configuration, and (in
anonymous.py) what an anonymous visitor can. `run_probes` runs them all in order.

Every probe object is removed before `run_probes` returns, whatever happened.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import httpx

from ..net import HttpOptions
from ..results import Check
from ..settings import Settings
from . import cors_risk, jobs, policy_audit
from .anonymous import probe_backups, probe_list, probe_put, probe_read
from .client import bucket_url
from .credential import Credential
from .probe_run import (
    ACL_REJECTED,
    ALL_PROBES,
    NOT_SUPPORTED,
    ProbeRun,
    public_read,
    tiny_png,
)
from .probe_run import check as _check


# -- writer probes --------------------------------------------------------------------------
def probe_access(run: ProbeRun) -> bool:
    """Credentials and bucket. Returns False when nothing else can be probed."""
    s = run.settings
    cred, bucket = _check("writer.credentials"), _check("writer.bucket")
    try:
        run.s3.list_objects_v2(Bucket=s.bucket, MaxKeys=1, Prefix=run.key("none"))
    except Exception as exc:  # noqa: BLE001 - every failure is reported, none raised
        e = run.err(exc)
        ev = {"error": e.code, "status": e.status, "message": e.message}
        if e.code == "InvalidAccessKeyId":
            run.add(cred.failed("the provider does not know this access key id",
                                "check AWS_ACCESS_KEY_ID: copy it again from the provider's console", **ev))
            return False
        if e.code == "SignatureDoesNotMatch":
            if _signature_v2_works(run):
                run.add(cred.failed("the provider refuses every SigV4 signature, though the same key signs SigV2 "
                                    "requests correctly: something between here and the provider changes the "
                                    "request (a proxy that rewrites Host, or turns HEAD into GET)",
                                    "make the proxy in front of the S3 API pass Host as it came (nginx: "
                                    "proxy_set_header Host $http_host) and HEAD as HEAD (proxy_cache_convert_head "
                                    "off), or point S3_ENDPOINT at the provider itself", **ev))
                return False
            run.add(cred.failed("the secret key does not match the access key id",
                                "check AWS_SECRET_ACCESS_KEY (no spaces or quotes around it)", **ev))
            return False
        if e.code == "EndpointConnectionError":
            run.add(cred.skipped("the endpoint did not answer"))
            run.add(bucket.failed(f"cannot connect to {s.endpoint or 'AWS for region ' + s.region}",
                                  "check the endpoint URL and port (S3_ENDPOINT), and that the server is up", **ev))
            return False
        if e.code == "NotAnS3Endpoint":
            run.add(cred.skipped("the endpoint is not an S3 API"))
            run.add(bucket.failed(f"{s.endpoint or 'the endpoint'} answered a web page (HTML), not the S3 API",
                                  "S3_ENDPOINT must be the provider's S3 API URL, not the media host or a website",
                                  **ev))
            return False
        if e.code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException",
                      "InvalidRegion") or (e.code == "BadRequest" and e.region_hint):
            run.add(cred.passed("the provider accepted the signature"))
            right = f" The bucket is in {e.region_hint}." if e.region_hint else ""
            run.add(bucket.failed(f"the bucket is not in region {s.region!r} ({e.code}).{right}",
                                  f"set S3_REGION to {e.region_hint or 'the bucket region'}"
                                  + ("" if s.provider == "aws" else " and the matching endpoint"), **ev))
            return False
        if e.code in ("NoSuchBucket", "NotFound"):
            run.add(cred.passed("the provider accepted the signature"))
            run.add(bucket.failed(f"bucket {s.bucket!r} does not exist at this endpoint",
                                  "create the bucket, or fix S3_BUCKET / S3_ENDPOINT", **ev))
            return False
        if e.code == "AccessDenied":
            run.add(cred.passed("the provider accepted the signature"))
            run.add(bucket.warned("the writer may not list the bucket (tootctl media commands need s3:ListBucket)",
                                  "grant s3:ListBucket on the bucket (see `mastowizard policy`)", **ev))
            return True
        run.add(cred.failed(f"unexpected answer: {e.code} {e.message}".strip(),
                            "check the endpoint is an S3 API, the region and the keys", **ev))
        return False
    run.add(cred.passed("the provider accepted the signature"))
    run.add(bucket.passed(f"bucket {s.bucket!r} answered with region {s.region} and {s.addressing}-style addressing"))
    return True


def _signature_v2_works(run: ProbeRun) -> bool:
    """Whether the key signs correctly where the Host header is not signed (SigV2, where the provider
    still takes it): then SigV4's failure is the request changed on the way, not the secret."""
    from .client import make_client
    try:       # ListBuckets: the one request every provider with SigV2 signs the same way, path or not
        make_client(run.settings, run.writer, http=run.http, signature_version="s3").list_buckets()
        return True
    except Exception as exc:  # noqa: BLE001 - refused too (or no SigV2 here): nothing more to tell
        return run.err(exc).code == "AccessDenied"     # the signature was checked first, and passed


def probe_write(run: ProbeRun) -> bool:
    s = run.settings
    chk = _check("writer.write")
    key = run.key("write")
    try:
        run.put(key, s.acl or None)
    except Exception as exc:  # noqa: BLE001
        e = run.err(exc)
        if e.code == "QuotaExceeded":
            run.add(chk.failed("the bucket's quota refused the upload (QuotaExceeded): Mastodon's uploads fail the "
                               "same way until there is room", "raise or remove the bucket's quota at the provider, "
                               "or free space (`tootctl media remove`, `tootctl preview_cards remove`)", error=e.code))
            return False
        if e.code in ACL_REJECTED and s.acl:
            fix = ("enable ACLs on the bucket (object ownership ObjectWriter, lift BlockPublicAcls) "
                   "or use --permission policy")
            run.add(chk.failed(f"upload with ACL {s.acl!r} refused: {e.code}", fix, error=e.code))
        else:
            run.add(chk.failed(f"upload refused: {e.code} {e.message}".strip(),
                               "grant the writer s3:PutObject on the bucket (see `mastowizard policy`)", error=e.code))
        return False
    try:
        body = run.s3.get_object(Bucket=s.bucket, Key=key)["Body"].read()
        run.s3.delete_object(Bucket=s.bucket, Key=key)
    except Exception as exc:  # noqa: BLE001
        e = run.err(exc)
        run.add(chk.failed(f"wrote the object but could not read or delete it: {e.code}",
                           "grant the writer s3:GetObject and s3:DeleteObject", error=e.code))
        return False
    gone = False
    try:
        run.s3.head_object(Bucket=s.bucket, Key=key)
    except Exception:  # noqa: BLE001 - a 403/404 here means it is gone
        gone = True
    if body != tiny_png():
        run.add(chk.failed("the object read back differs from what was written",
                           "check the provider's checksum handling (see docs/troubleshooting.md#checksum)"))
    elif not gone:
        run.add(chk.failed("the object is still there after DeleteObject",
                           "check versioning or object lock on the bucket"))
    else:
        run.created.remove(key)
        acl = f" with ACL {s.acl}" if s.acl else " without an ACL"
        run.add(chk.passed(f"wrote, read back and deleted {key}{acl}"))
    return True


def probe_acl(run: ProbeRun) -> None:
    s = run.settings
    chk = _check("writer.acl")
    key = run.key("acl")
    try:
        run.put(key, "public-read")
    except Exception as exc:  # noqa: BLE001
        e = run.err(exc)
        if s.permission == "acl":
            fix = ("lift BlockPublicAcls/IgnorePublicAcls and set object ownership to ObjectWriter "
                   "(`mastowizard setup-bucket` with an admin credential), or use --permission policy")
            if e.code == "AccessControlListNotSupported":
                detail = "the bucket has ACLs disabled (object ownership BucketOwnerEnforced)"
            elif e.code == "AccessDenied":
                detail = ("a public ACL was refused (Block Public Access BlockPublicAcls, or the writer lacks "
                          "s3:PutObjectAcl)")
            else:
                detail = f"the provider rejects object ACLs ({e.code})"
                fix = "use --permission policy: this provider grants public read another way"
            run.add(chk.failed(detail, fix, error=e.code))
        else:
            run.add(chk.passed(f"the provider rejects public-read ACLs ({e.code}); policy mode is the right choice",
                               error=e.code))
        return
    # Accepted: is it honoured? Anonymous GET straight from the bucket.
    honoured = None
    with contextlib.suppress(httpx.HTTPError):
        honoured = run.get(bucket_url(s, key)).status_code == 200
    if s.permission == "acl":
        if honoured is False and not _bucket_grants_read(run):
            bpa = run.checks.get("bucket.public_access_block")
            flags = bpa.evidence.get("flags") if bpa is not None else None
            if flags and flags.get("IgnorePublicAcls"):
                run.add(chk.failed("the provider accepted public-read but Block Public Access IgnorePublicAcls "
                                   "hides it", "lift IgnorePublicAcls, or use --permission policy",
                                   acl_honoured=False))
            elif flags is None:      # no Block Public Access here: the server itself drops the ACL
                run.add(chk.failed("the provider ignores object ACLs: it accepted public-read, but the object "
                                   "is not public (MinIO and SeaweedFS do this; the ACL was not rejected)",
                                   "use --permission policy (S3_PERMISSION empty, a bucket policy for public "
                                   "reads): ACL mode cannot work on this server", acl_honoured=False))
            else:
                run.add(chk.failed("the provider accepted public-read but the object is not public (ACL ignored, "
                                   "or Block Public Access IgnorePublicAcls)",
                                   "lift IgnorePublicAcls, or use --permission policy", acl_honoured=False))
        else:
            run.add(chk.passed("public-read accepted" + (" and honoured" if honoured else ""), acl_honoured=honoured))
    elif _acl_read_back_public(run, key) is False:     # the bucket policy hides it: read the ACL itself
        run.add(chk.passed("public-read accepted but ignored (the ACL read back grants everyone nothing): "
                           "policy mode is the right choice here", acl_honoured=False, acl_supported=False))
    else:
        run.add(chk.passed("public-read accepted: ACL mode would also work here", acl_honoured=honoured,
                           acl_supported=True))


def _acl_read_back_public(run: ProbeRun, key: str) -> bool | None:
    """Does the object's ACL, read back, grant everyone READ? None when it cannot be read."""
    grants, _ = run.object_grants(key)
    return None if grants is None else public_read(grants)


def _bucket_grants_read(run: ProbeRun) -> bool:
    pol = run.checks.get("bucket.policy")
    return bool(pol and pol.evidence.get("public_read"))


# -- bucket configuration -------------------------------------------------------------------
def probe_bpa(run: ProbeRun) -> None:
    s = run.settings
    chk = _check("bucket.public_access_block")
    cfg, code = run.config("public_access_block")
    if cfg is None:
        if code == "NoSuchPublicAccessBlockConfiguration":
            run.add(chk.passed("no Block Public Access configuration on the bucket", flags={}))
        elif code in NOT_SUPPORTED or code == "NotFound":
            run.add(chk.skipped(f"the server has no Block Public Access ({code})", error=code))
        elif code == "AccessDenied":
            run.add(chk.skipped("the writer may not read it; give an admin credential to check", error=code))
        else:
            run.add(chk.skipped(f"could not read it: {code}", error=code))
        return
    needed = (["BlockPublicAcls", "IgnorePublicAcls"] if s.permission == "acl"
              else ["BlockPublicPolicy", "RestrictPublicBuckets"])
    on = [f for f in needed if cfg.get(f)]
    flags = {k: bool(v) for k, v in cfg.items()}
    if on:
        run.add(chk.failed(f"{' and '.join(on)} on: {s.permission} mode cannot make media public",
                           f"turn off {', '.join(on)} (keep the others on), e.g. `mastowizard setup-bucket`",
                           flags=flags))
    else:
        run.add(chk.passed(f"the flags {s.permission} mode needs are off; others: "
                           + (", ".join(k for k, v in flags.items() if v) or "none") + " on", flags=flags))


def probe_ownership(run: ProbeRun) -> None:
    s = run.settings
    chk = _check("bucket.ownership")
    rules, code = run.config("ownership")
    if rules is None:
        if code == "OwnershipControlsNotFoundError":
            run.add(chk.passed("no ownership controls: ACLs are honoured", ownership=None))
        elif code in NOT_SUPPORTED or code in ("NotFound", "NoSuchOwnershipControls"):
            run.add(chk.skipped(f"the server has no object ownership setting ({code})", error=code))
        else:
            run.add(chk.skipped(f"could not read it: {code}", error=code))
        return
    ownership = rules[0].get("ObjectOwnership") if rules else None
    if ownership is None:
        run.add(chk.passed("no ownership controls: ACLs are honoured", ownership=None))
    elif ownership == "BucketOwnerEnforced" and s.permission == "acl":
        run.add(chk.failed("ACLs are disabled (BucketOwnerEnforced): every public-read upload fails",
                           "set object ownership to ObjectWriter, or use --permission policy", ownership=ownership))
    else:
        run.add(chk.passed(f"object ownership {ownership}", ownership=ownership))


def probe_policy(run: ProbeRun) -> None:
    s = run.settings
    chk = _check("bucket.policy")
    text, code = run.config("policy")
    if text is None:
        if code == "NoSuchBucketPolicy":
            if s.permission == "policy":
                run.add(chk.failed("no bucket policy: nothing makes media public in policy mode",
                                   "apply the bucket policy from `mastowizard policy` (or `mastowizard setup-bucket`)",
                                   public_read=False))
            else:
                run.add(chk.passed("no bucket policy (ACL mode needs none)", public_read=False))
        elif code in NOT_SUPPORTED:
            run.add(chk.skipped(f"the server has no bucket policies ({code})", error=code))
        else:
            run.add(chk.skipped(f"could not read it: {code}", error=code))
        return
    a = policy_audit.audit(text, s.bucket, s.key_prefix)
    ev = {"public_read": a.public_read, "anonymous": sorted(a.capabilities()),
          "grants": [f"{g.action} ({g.statement}{', conditional' if g.conditional else ''})" for g in a.forbidden()]}
    if a.forbidden():
        caps = ", ".join(sorted(a.capabilities()))
        actions = ", ".join(dict.fromkeys(g.action for g in a.forbidden()))
        sids = ", ".join(dict.fromkeys(g.statement for g in a.forbidden()))
        run.add(chk.failed(f"the policy lets anyone {caps}: " + ", ".join(ev["grants"]),
                           f"remove {actions} for Principal * (statement {sids}); allow anonymous "
                           "s3:GetObject only (`mastowizard policy` prints a safe policy)", **ev))
    elif a.backups_readable:
        run.add(chk.failed("the policy makes backups/ public: users' archives readable by anyone with the URL",
                           "limit the GetObject resource to Mastodon's media prefixes (`mastowizard policy`)", **ev))
    elif s.permission == "policy" and not a.public_read:
        run.add(chk.failed("the policy does not grant anonymous s3:GetObject on media",
                           "apply the bucket policy from `mastowizard policy`", **ev))
    else:
        run.add(chk.passed("public GetObject on media only" if a.public_read else "grants nothing anonymous", **ev))


def probe_cors(run: ProbeRun) -> None:
    s = run.settings
    chk = _check("bucket.cors")
    try:
        cors = run.config_client.get_bucket_cors(Bucket=s.bucket)
    except Exception as exc:  # noqa: BLE001
        e = run.err(exc)
        if e.code == "NoSuchCORSConfiguration":
            run.add(chk.failed("no CORS configuration: the web UI cannot read media from another origin",
                               "apply the CORS configuration from `mastowizard policy` "
                               "(GET and HEAD from any origin), or add the header at the media host"))
        elif e.code in NOT_SUPPORTED:
            run.add(chk.skipped(f"the server has no CORS API ({e.code}); set it in the console", error=e.code))
        else:
            run.add(chk.skipped(f"could not read it: {e.code}", error=e.code))
        return
    rating = cors_risk.rate_rules(cors)
    ev = {"risk": rating.severity, "findings": [f.message for f in rating.findings]}
    if rating.severity in ("high", "medium"):
        run.add(chk.failed(rating.summary(), rating.findings[0].fix, **ev))
    elif not rating.allows_public_get:
        run.add(chk.failed("no rule allows GET from any origin", "add AllowedOrigins *, AllowedMethods GET, HEAD",
                           **ev))
    else:
        run.add(chk.passed("GET and HEAD allowed from any origin; " + rating.summary(), **ev))


def probe_mode(run: ProbeRun) -> None:
    s = run.settings
    chk = _check("permission.mode")
    acl = run.checks.get("writer.acl")
    supported = bool(acl and acl.evidence.get("acl_supported"))
    if s.permission == "acl":
        run.add(chk.passed("ACL mode: each upload is public by its own ACL, so Mastodon can make a "
                           "suspended account's media private again"))
    elif supported:
        run.add(chk.warned("policy mode, though this bucket accepts ACLs: a suspended account's media stays "
                           "reachable by URL, because Mastodon hides it by switching its ACL",
                           "consider --permission acl (S3_PERMISSION=public-read)"))
    else:
        run.add(chk.passed("policy mode (no usable object ACLs here): a suspended account's media stays "
                           "reachable by URL, because Mastodon hides it by switching its ACL"))


def run_probes(settings: Settings, writer: Credential, http: HttpOptions | None = None,
               admin: Credential | None = None, on_check: Callable[[Check], None] | None = None) -> list[Check]:
    """Run every probe in order and return their results; probe objects never outlive the call."""
    run = ProbeRun(settings, writer, http or HttpOptions(), admin)
    try:
        if probe_access(run):
            steps = [probe_bpa, probe_ownership, probe_policy, probe_cors, probe_write, probe_acl,
                     probe_read, probe_list, probe_put, probe_backups, probe_mode, jobs.run_jobs]
            for step in steps:
                step(run)
        run.skip_rest(ALL_PROBES, "needs a working writer credential and bucket")
    finally:
        left = run.cleanup()
        run.close()
    checks = [run.checks[cid] for cid, _ in ALL_PROBES]
    if left:
        checks.append(Check("cleanup", "Probe objects removed").failed(
            "could not delete: " + ", ".join(left), "delete them by hand; they are small PNG files"))
    if on_check:
        for c in checks:
            on_check(c)
    return checks
