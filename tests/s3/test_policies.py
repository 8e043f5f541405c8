"""Generated policies never grant anonymous listing, writing, deleting or policy changes."""

import json

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from mastowizard.s3 import policies, policy_audit
from mastowizard.settings import Settings

bucket_names = st.from_regex(r"[a-z0-9][a-z0-9-]{1,30}[a-z0-9]", fullmatch=True)
prefixes = st.one_of(st.none(), st.from_regex(r"[a-z0-9_-]{1,10}(/[a-z0-9_-]{1,10}){0,2}", fullmatch=True))
modes = st.sampled_from(["acl", "policy"])


def make(bucket, prefix=None, permission="policy"):
    return Settings(bucket=bucket, key_prefix=prefix, permission=permission)


@hsettings(max_examples=300, deadline=None)
@given(bucket=bucket_names, prefix=prefixes, permission=modes)
def test_no_generated_policy_grants_anything_anonymous_but_reading_media(bucket, prefix, permission):
    s = make(bucket, prefix, permission)
    docs = policies.documents(s)
    a = policy_audit.audit(docs["bucket_policy"], bucket, prefix)
    assert a.forbidden() == []
    assert a.public_read is True
    assert a.backups_readable is False
    # The policy survives a JSON round trip unchanged (what the provider stores).
    assert json.loads(json.dumps(docs["bucket_policy"])) == docs["bucket_policy"]
    # The writer policy is an identity policy: no principal, this bucket only, no policy changes.
    for st_ in docs["writer_policy"]["Statement"]:
        assert "Principal" not in st_ and "NotPrincipal" not in st_
        resources = st_["Resource"] if isinstance(st_["Resource"], list) else [st_["Resource"]]
        assert all(r.startswith(f"arn:aws:s3:::{bucket}") for r in resources)
        assert not any(a_.startswith(("s3:PutBucket", "s3:DeleteBucket")) or "*" in a_ for a_ in st_["Action"])
    # Other buckets and other prefixes get nothing.
    other = policy_audit.audit(docs["bucket_policy"], bucket + "x", prefix)
    assert not other.public_read
    if prefix:
        assert not policy_audit.audit(docs["bucket_policy"], bucket, None).public_read


def test_bucket_policy_resources_cover_media_and_not_backups():
    doc = policies.bucket_policy(make("media", "m"))
    res = doc["Statement"][0]["Resource"]
    assert "arn:aws:s3:::media/m/media_attachments/*" in res
    assert "arn:aws:s3:::media/m/cache/*" in res
    assert not any("backups" in r or "imports" in r for r in res)
    assert doc["Statement"][0]["Action"] == "s3:GetObject"


def test_writer_policy_acl_mode_has_put_object_acl_only_then():
    acl = policies.writer_policy(make("media", permission="acl"))
    pol = policies.writer_policy(make("media", permission="policy"))
    acl_actions = acl["Statement"][1]["Action"]
    assert "s3:PutObjectAcl" in acl_actions
    assert "s3:PutObjectAcl" not in pol["Statement"][1]["Action"]
    assert set(acl["Statement"][0]["Action"]) == {"s3:ListBucket", "s3:GetBucketLocation",
                                                   "s3:ListBucketMultipartUploads"}


def test_writer_policy_with_prefix_limits_listing():
    doc = policies.writer_policy(make("media", "inst1"))
    assert doc["Statement"][0]["Condition"] == {"StringLike": {"s3:prefix": ["inst1/*", "inst1"]}}
    assert doc["Statement"][1]["Resource"] == "arn:aws:s3:::media/inst1/*"


def test_cors_configuration_is_read_only():
    cors = policies.cors_configuration()
    rule = cors["CORSRules"][0]
    assert rule["AllowedOrigins"] == ["*"] and set(rule["AllowedMethods"]) == {"GET", "HEAD"}


# -- the auditor must catch what a bad policy grants (else the property test proves nothing) --
def stmt(action, resource, principal="*", **extra):
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource, **extra}]}


@pytest.mark.parametrize("policy,caps", [
    (stmt("s3:ListBucket", "arn:aws:s3:::b"), {"list"}),
    (stmt(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::b/*"), {"write"}),
    (stmt("s3:*", ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]), {"list", "write", "delete", "policy"}),
    (stmt("s3:Delete*", "arn:aws:s3:::b/*"), {"delete"}),
    (stmt("s3:PutBucketPolicy", "arn:aws:s3:::b"), {"policy"}),
    (stmt("*", "*"), {"list", "write", "delete", "policy"}),
    (stmt("s3:list*", "arn:aws:s3:::b"), {"list"}),
    (stmt("s3:GetObject", "arn:aws:s3:::b/*", principal={"AWS": "*"}), set()),
    (stmt("s3:PutObject", "arn:aws:s3:::b/*", principal={"AWS": ["arn:aws:iam::1:user/x", "*"]}), {"write"}),
    (stmt("s3:ListBucket", "arn:aws:s3:::b", principal={"AWS": "arn:aws:iam::1:user/x"}), set()),
    ({"Statement": [{"Effect": "Allow", "Principal": "*", "NotAction": "s3:GetObject",
                     "Resource": "arn:aws:s3:::b/*"}]}, {"write", "delete", "list"}),
])
def test_audit_catches_anonymous_grants(policy, caps):
    a = policy_audit.audit(policy, "b")
    assert a.capabilities() == caps


def test_audit_sees_public_backups():
    a = policy_audit.audit(stmt("s3:GetObject", "arn:aws:s3:::b/*"), "b")
    assert a.public_read and a.backups_readable
    a = policy_audit.audit({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                           "NotResource": "arn:aws:s3:::b/backups/*"}]}, "b")
    assert a.public_read and not a.backups_readable


def test_audit_marks_conditional_grants():
    a = policy_audit.audit(stmt("s3:ListBucket", "arn:aws:s3:::b",
                                Condition={"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}), "b")
    assert a.forbidden()[0].conditional and a.forbidden(include_conditional=False) == []


def test_audit_ignores_deny_and_handles_json_text():
    text = json.dumps({"Statement": {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}})
    assert policy_audit.audit(text, "b").grants == []
