"""Why an object that should be public is not: the likely causes in order, each with the evidence
read for it (with the writer credential, and the admin one when given). Used when an anonymous
fetch of a probe object or of the checklist's test upload fails."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import httpx

from . import policy_audit
from .client import bucket_url
from .probe_run import NOT_SUPPORTED, ProbeRun, public_read

ORDER = ("media host", "object ACL", "bucket policy", "Block Public Access", "object ownership")


@dataclass
class Cause:
    cause: str               # one of ORDER
    likely: bool
    evidence: str
    fix: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def _media_host(run: ProbeRun, key: str, url: str, status: int) -> Cause | None:
    s = run.settings
    if not s.alias_host:
        return None
    direct = bucket_url(s, key)
    try:
        r = run.get(direct)
    except httpx.HTTPError:
        return None
    if r.status_code == 200:
        return Cause("media host", True, f"the bucket's own URL {direct} answers 200, but the media host answered "
                     f"{status}: it proxies somewhere else (another bucket, a wrong path or a stale cache)",
                     f"S3_ALIAS_HOST does not serve this bucket: point {s.alias_host}'s proxy at "
                     f"{bucket_url(s, '')} (keys at its root) and purge its cache, or set S3_ALIAS_HOST to the "
                     "host that serves this bucket")
    return Cause("media host", False, f"the bucket's own URL answers {r.status_code} too: the bucket refuses the "
                 "read, not the media host")


def _acl(run: ProbeRun, key: str) -> Cause | None:
    s = run.settings
    if not s.acl:
        return None
    if s.acl not in ("public-read", "public-read-write"):
        return Cause("object ACL", True, f"S3_PERMISSION={s.acl}: Mastodon uploads every file with ACL {s.acl}",
                     "set S3_PERMISSION=public-read (ACL mode), or empty it and apply the bucket policy from "
                     "`mastowizard policy` (policy mode)")
    grants, code = run.object_grants(key)
    if grants is None:
        return Cause("object ACL", False, f"the object's ACL could not be read back ({code})"
                     + ("; an admin credential may read it" if run.s3_admin is None else ""))
    if public_read(grants):
        return Cause("object ACL", False, "the object's ACL grants everyone READ, as S3_PERMISSION asks")
    shown = ", ".join(f"{g.get('Grantee', {}).get('DisplayName') or g.get('Grantee', {}).get('ID') or '?'}:"
                      f"{g.get('Permission')}" for g in grants) or "none"
    return Cause("object ACL", True, f"uploaded with x-amz-acl: {s.acl}, but its ACL grants everyone nothing "
                 f"(grants: {shown}): the provider ignores upload ACLs (MinIO and SeaweedFS do), or Block "
                 "Public Access IgnorePublicAcls hides them",
                 "use policy mode (a bucket policy for anonymous s3:GetObject on the media prefixes, "
                 "`mastowizard policy`), or lift IgnorePublicAcls")


def _policy(run: ProbeRun, key: str) -> Cause | None:
    s = run.settings
    text, code = run.config("policy")
    if text is None:
        if code == "NoSuchBucketPolicy":
            if s.permission == "policy":
                return Cause("bucket policy", True, "the bucket has no policy: nothing grants anonymous reads in "
                             "policy mode", "apply the bucket policy from `mastowizard policy` "
                             "(or `mastowizard setup-bucket`)")
            return None
        if code in NOT_SUPPORTED:
            return None
        return Cause("bucket policy", s.permission == "policy", f"the policy could not be read ({code})"
                     + ("; give an admin credential to read it" if run.s3_admin is None else ""),
                     "check the bucket policy in the provider's console against `mastowizard policy`")
    allowed, denied = policy_audit.read_of_key(text, s.bucket, key)
    if denied:
        return Cause("bucket policy", True, f"a Deny statement ({', '.join(denied)}) covers s3:GetObject on {key}",
                     "remove or narrow the Deny for s3:GetObject on the media prefixes")
    if s.permission == "policy" and not allowed:
        return Cause("bucket policy", True, f"the policy grants no anonymous s3:GetObject on {key} (its Resource "
                     "does not cover this key, or the grant is conditional)",
                     "apply the bucket policy from `mastowizard policy`: GetObject on every media prefix")
    return Cause("bucket policy", False, "the policy grants anonymous s3:GetObject on this key" if allowed
                 else "no policy grant (ACL mode needs none)")


def _bpa(run: ProbeRun) -> Cause | None:
    s = run.settings
    cfg, code = run.config("public_access_block")
    if cfg is None:
        if code == "NoSuchPublicAccessBlockConfiguration":
            return Cause("Block Public Access", False, "no Block Public Access configuration on the bucket")
        if code in NOT_SUPPORTED or code == "NotFound":
            return None
        has_it = s.provider == "aws"
        return Cause("Block Public Access", has_it, f"could not be read with the writer credential ({code})"
                     + ("; AWS turns it on for every new bucket" if has_it else ""),
                     "read it with an admin credential (--admin-key-id), or in the console: "
                     + ("IgnorePublicAcls must be off" if s.permission == "acl" else "RestrictPublicBuckets "
                        "must be off"))
    flag = "IgnorePublicAcls" if s.permission == "acl" else "RestrictPublicBuckets"
    if cfg.get(flag):
        return Cause("Block Public Access", True, f"{flag} is on: it overrides every public "
                     + ("ACL" if s.permission == "acl" else "bucket policy"),
                     f"turn off {flag} (keep the others on), e.g. `mastowizard setup-bucket`")
    return Cause("Block Public Access", False, f"{flag} is off")


def _ownership(run: ProbeRun) -> Cause | None:
    s = run.settings
    if s.permission != "acl":
        return None
    rules, _ = run.config("ownership")
    if rules is None:           # none set, or no such API here
        return None
    ownership = rules[0].get("ObjectOwnership") if rules else None
    if ownership == "BucketOwnerEnforced":
        return Cause("object ownership", True, "ACLs are disabled (BucketOwnerEnforced): upload ACLs do nothing",
                     "set object ownership to ObjectWriter, or use policy mode")
    return Cause("object ownership", False, f"object ownership {ownership or 'not set'}")


def diagnose_read(run: ProbeRun, key: str, url: str, status: int) -> list[Cause]:
    """Every cause that applies to this bucket and mode, the likely ones first (in ORDER)."""
    causes = [c for c in (_media_host(run, key, url, status), _acl(run, key), _policy(run, key), _bpa(run),
                          _ownership(run)) if c is not None]
    return sorted(causes, key=lambda c: (not c.likely, ORDER.index(c.cause)))


def summary(causes: list[Cause]) -> tuple[str, str]:
    """(the detail's tail, the fix) for a failed read."""
    likely = [c for c in causes if c.likely]
    if not likely:
        return ("no cause found in the bucket's settings: " + "; ".join(c.evidence for c in causes[:3]),
                "check the media host's proxy and the provider's public access setting in its console")
    tail = "likely: " + "; then ".join(f"{c.cause}: {c.evidence}" for c in likely[:3])
    return tail, likely[0].fix
