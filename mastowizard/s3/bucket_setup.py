"""With an admin credential (never saved): make the bucket fit the chosen permission mode."""

from __future__ import annotations

import json
import uuid

from ..net import HttpOptions
from ..results import Check
from ..settings import Settings
from . import policies, policy_audit
from .client import explain, make_client
from .credential import Credential

NOT_SUPPORTED = {"NotImplemented", "MethodNotAllowed", "InvalidRequest", "InvalidArgument", "XNotImplemented"}


def public_access_block_for(permission: str) -> dict[str, bool]:
    """Lift only the two flags the mode needs; keep the other two on."""
    acl = permission == "acl"
    return {
        "BlockPublicAcls": not acl,
        "IgnorePublicAcls": not acl,
        "BlockPublicPolicy": acl,
        "RestrictPublicBuckets": acl,
    }


def describe_setup(settings: Settings, admin: Credential, key_from: str, http: HttpOptions | None = None,
                   writer_key_id: str | None = None) -> list[str]:
    """What setup_bucket will change, on which bucket, with which key, and what the bucket has now
    (read with the same key; what cannot be read is said so): the confirmation's lines."""
    from ..secrets import mask
    s3 = make_client(settings, admin, http=http)
    b = settings.bucket
    secrets = [admin.secret_access_key]
    where = settings.endpoint or f"AWS S3 ({settings.region})"
    lines = [f"bucket {b} at {where}, with the admin key {mask(admin.access_key_id)} ({key_from})"]
    if writer_key_id and admin.access_key_id == writer_key_id:
        lines.append("that is the writer key Mastodon uses: it is used here only because it was given as the "
                     "admin key")

    def now(fn, show) -> str:
        try:
            return show(fn())
        except (KeyError, IndexError):           # an answer without the setting: the server has none
            return "not kept by this server"
        except Exception as exc:  # noqa: BLE001 - said, never raised
            code = explain(exc, secrets).code
            return "none" if code.startswith("NoSuch") else f"not readable ({code})"
    flags = public_access_block_for(settings.permission)
    current = now(lambda: s3.get_public_access_block(Bucket=b)["PublicAccessBlockConfiguration"],
                  lambda c: ", ".join(f"{k}={'on' if v else 'off'}" for k, v in c.items()))
    lines.append("Block Public Access: " + ", ".join(f"{k}={'on' if v else 'off'}" for k, v in flags.items())
                 + f" (now: {current})")
    ownership = "ObjectWriter" if settings.permission == "acl" else "BucketOwnerEnforced"
    current = now(lambda: s3.get_bucket_ownership_controls(Bucket=b)["OwnershipControls"]["Rules"][0],
                  lambda r: r["ObjectOwnership"])
    lines.append(f"object ownership: {ownership} (now: {current})"
                 + ("; existing objects' ACLs stop counting" if ownership == "BucketOwnerEnforced" else ""))
    current = now(lambda: json.loads(s3.get_bucket_policy(Bucket=b)["Policy"]).get("Statement", []),
                  lambda st: f"{len(st)} statement(s)")
    if settings.permission == "policy":
        lines.append("bucket policy REPLACED by one granting GetObject to everyone on Mastodon's media prefixes "
                     f"only, never backups/ (now: {current}; a policy's other statements are not kept)")
    else:
        lines.append(f"bucket policy: left as it is (now: {current}; ACL mode needs none)")
    current = now(lambda: s3.get_bucket_cors(Bucket=b)["CORSRules"], lambda r: f"{len(r)} rule(s)")
    lines.append(f"CORS REPLACED by GET and HEAD from any origin (now: {current})")
    return lines


def setup_bucket(settings: Settings, admin: Credential, http: HttpOptions | None = None) -> list[Check]:
    """Apply Block Public Access, object ownership, bucket policy and CORS for the mode. Each step
    reports pass, skip (the server has no such setting) or fail with the provider's error."""
    s3 = make_client(settings, admin, http=http)
    b = settings.bucket
    secrets = [admin.secret_access_key]
    out: list[Check] = []

    def step(cid: str, title: str, fn, done: str) -> None:
        chk = Check(cid, title)
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - reported, never raised
            e = explain(exc, secrets)
            if e.code in NOT_SUPPORTED:
                chk.skipped(f"not supported by this server ({e.code})", error=e.code)
            else:
                chk.failed(f"{e.code}: {e.message}".strip(": "),
                           "check that the admin credential owns the bucket and may change its settings",
                           error=e.code)
        else:
            chk.passed(done)
        out.append(chk)

    flags = public_access_block_for(settings.permission)
    step("setup.public_access_block", "Block Public Access",
         lambda: s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration=flags),
         "set " + ", ".join(f"{k}={'on' if v else 'off'}" for k, v in flags.items()))

    if flags["BlockPublicAcls"] and out[-1].status == "pass":
        _check_writes_survive_block_public_acls(s3, settings, out[-1], secrets)

    ownership = "ObjectWriter" if settings.permission == "acl" else "BucketOwnerEnforced"
    step("setup.ownership", "Object ownership",
         lambda: s3.put_bucket_ownership_controls(
             Bucket=b, OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]}),
         f"set {ownership}")

    if settings.permission == "policy":
        doc = policies.bucket_policy(settings)
        assert not policy_audit.audit(doc, b, settings.key_prefix).forbidden()
        step("setup.policy", "Public-read bucket policy",
             lambda: s3.put_bucket_policy(Bucket=b, Policy=json.dumps(doc)),
             "applied GetObject for everyone on Mastodon's media prefixes")
    else:
        out.append(_existing_policy_note(s3, settings, secrets))

    step("setup.cors", "CORS configuration",
         lambda: s3.put_bucket_cors(Bucket=b, CORSConfiguration=policies.cors_configuration()),
         "GET and HEAD from any origin")
    return out


def _check_writes_survive_block_public_acls(s3, settings: Settings, chk: Check, secrets) -> None:
    """Some servers (Ceph RGW 16) refuse every upload, ACL or not, while BlockPublicAcls is on.
    Mastodon could then store nothing: turn the ACL flags off again and say why."""
    key = settings.key(f"media_attachments/files/mastowizard-probe-bpa-{uuid.uuid4().hex[:8]}.txt")
    try:
        s3.put_object(Bucket=settings.bucket, Key=key, Body=b"probe")
    except Exception as exc:  # noqa: BLE001
        code = explain(exc, secrets).code
        if code != "AccessDenied":
            return
        try:
            s3.put_public_access_block(Bucket=settings.bucket, PublicAccessBlockConfiguration={
                "BlockPublicAcls": False, "IgnorePublicAcls": False,
                "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
        except Exception:  # noqa: BLE001
            chk.failed("with BlockPublicAcls on this server refuses every upload, and turning it off failed",
                       "turn Block Public Access off for the bucket by hand")
            return
        chk.warned("this server refuses every upload while BlockPublicAcls is on (a known Ceph RGW behaviour): "
                   "all four flags left off; the bucket policy still grants only reading media",
                   "nothing to do; on AWS the flags would stay on", server_quirk="block_public_acls_blocks_writes")
    else:
        try:
            s3.delete_object(Bucket=settings.bucket, Key=key)
        except Exception:  # noqa: BLE001
            pass


def _existing_policy_note(s3, settings: Settings, secrets) -> Check:
    chk = Check("setup.policy", "Public-read bucket policy")
    try:
        text = s3.get_bucket_policy(Bucket=settings.bucket)["Policy"]
    except Exception as exc:  # noqa: BLE001
        return chk.skipped(f"ACL mode needs no bucket policy ({explain(exc, secrets).code})")
    audit = policy_audit.audit(text, settings.bucket, settings.key_prefix)
    if audit.forbidden():
        return chk.failed("the bucket's existing policy grants anonymous "
                          + ", ".join(sorted(audit.capabilities())) + "; left unchanged",
                          "remove those statements by hand (the wizard never deletes a policy it did not write)")
    return chk.skipped("ACL mode needs no bucket policy; the existing one grants nothing unsafe")
