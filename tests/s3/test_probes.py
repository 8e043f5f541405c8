"""The bucket probes against real S3 servers (Ceph RGW, MiniStack) behind a real nginx media host.

Each case sets a bucket up the way an admin might have, runs every probe and asserts the verdict a
user would see: which probes fail, and that the fix names the remedy. Nothing else may fail.
"""

import json

import pytest
from helpers.lab import on, servers_where
from helpers.probes import admin, failing, http_options, leftover_probe_keys, settings_for, verdict, writer

import mastowizard_lab as lab
from mastowizard.net import HttpOptions
from mastowizard.s3 import policies
from mastowizard.s3.bucket_setup import setup_bucket
from mastowizard.s3.probes import run_probes

pytestmark = pytest.mark.lab


def probe(bucket, lab_info, permission, **over):
    s = settings_for(bucket, permission, **over)
    checks = run_probes(s, writer(bucket.server), http_options(bucket, lab_info))
    assert leftover_probe_keys(bucket) == []
    return checks


def test_correct_acl_bucket_passes(bucket, lab_info):
    setup = setup_bucket(settings_for(bucket, "acl"), admin(bucket.server))
    assert not failing(setup), [c.to_dict() for c in setup]
    checks = probe(bucket, lab_info, "acl")
    assert failing(checks) == set(), [c.to_dict() for c in checks if c.status == "fail"]
    v = verdict(checks)
    assert v["writer.acl"] == v["anon.read"] == v["anon.list"] == v["anon.put"] == v["anon.backups"] == "pass"
    assert v["permission.mode"] == "pass"


def test_correct_policy_bucket_passes_over_https(bucket, lab_info):
    setup = setup_bucket(settings_for(bucket, "policy"), admin(bucket.server))
    assert not failing(setup)
    checks = probe(bucket, lab_info, "policy", https=True)
    assert failing(checks) == set(), [c.to_dict() for c in checks if c.status == "fail"]
    v = verdict(checks)
    assert v["bucket.policy"] == v["anon.read"] == v["anon.backups"] == v["bucket.cors"] == "pass"
    read = next(c for c in checks if c.id == "anon.read")
    assert read.evidence["url"].startswith("https://") and read.evidence["content_type"] == "image/png"
    # RGW accepts ACLs, so the probe says ACL mode would hide suspended accounts' media there.
    mode = next(c for c in checks if c.id == "permission.mode")
    assert mode.status == ("warn" if bucket.server.capabilities.get("acl") and bucket.server.name == "rgw"
                           else mode.status)
    assert "suspended" in mode.detail


def _extra_statement(bucket, statement):
    s3 = bucket.admin_client
    doc = json.loads(s3.get_bucket_policy(Bucket=bucket.name)["Policy"])
    doc["Statement"].append(statement)
    s3.put_bucket_policy(Bucket=bucket.name, Policy=json.dumps(doc))


def test_policy_that_allows_listing_is_caught(bucket, lab_info):
    setup_bucket(settings_for(bucket, "policy"), admin(bucket.server))
    _extra_statement(bucket, {"Sid": "List", "Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
                              "Resource": f"arn:aws:s3:::{bucket.name}"})
    checks = probe(bucket, lab_info, "policy")
    assert failing(checks) == {"bucket.policy", "anon.list"}
    pol = next(c for c in checks if c.id == "bucket.policy")
    assert "list" in pol.detail and "s3:ListBucket" in pol.fix
    lst = next(c for c in checks if c.id == "anon.list")
    assert "ListBucket" in lst.fix and any(bucket.media_host in u for u in lst.detail.split(", "))


def test_policy_that_allows_anonymous_put_is_caught(bucket, lab_info):
    setup_bucket(settings_for(bucket, "policy"), admin(bucket.server))
    _extra_statement(bucket, {"Sid": "Write", "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
                              "Resource": f"arn:aws:s3:::{bucket.name}/*"})
    checks = probe(bucket, lab_info, "policy")
    assert failing(checks) == {"bucket.policy", "anon.put"}
    put = next(c for c in checks if c.id == "anon.put")
    assert "s3:PutObject" in put.fix and put.evidence["anonymous"] == ["upload", "overwrite"]
    assert bucket.endpoint_in(put.detail)


@pytest.mark.parametrize("s3server, action, kind", [
    *[(name, "s3:DeleteObject", "delete") for name in lab.SERVERS],
    # only where a policy-mode bucket still has object ACLs to change
    *[(name, "s3:PutObjectAcl", "ACL change") for name in servers_where("acl")
      if name not in servers_where("default_acls_disabled")]], indirect=["s3server"])
def test_policy_that_lets_anyone_delete_or_change_acls_is_caught(s3server, bucket, lab_info, action, kind):
    """A stranger who may delete media, or make it private, breaks the instance as surely as one who
    may upload: each is probed by its effect on a probe object of its own."""
    setup_bucket(settings_for(bucket, "policy"), admin(bucket.server))
    _extra_statement(bucket, {"Sid": "Stranger", "Effect": "Allow", "Principal": "*", "Action": action,
                              "Resource": f"arn:aws:s3:::{bucket.name}/*"})
    checks = probe(bucket, lab_info, "policy")          # asserts that every probe object is gone
    assert failing(checks) == {"bucket.policy", "anon.put"}
    put = next(c for c in checks if c.id == "anon.put")
    assert put.detail.startswith(f"anyone can {kind}:"), put.detail
    assert action in put.fix and put.evidence["anonymous"] == [kind]
    assert bucket.endpoint_in(put.detail) and bucket.media_host not in put.detail   # nginx allows only GET


def test_bucket_with_no_public_read(bucket, lab_info):
    # Policy mode chosen, CORS set, but no bucket policy applied: nothing makes media public.
    s = settings_for(bucket, "policy")
    bucket.admin_client.put_bucket_cors(Bucket=bucket.name, CORSConfiguration=policies.cors_configuration())
    if bucket.server.capabilities.get("default_block_public_access"):
        bucket.admin_client.delete_public_access_block(Bucket=bucket.name)
    checks = run_probes(s, writer(bucket.server), http_options(bucket, lab_info))
    assert failing(checks) == {"bucket.policy", "anon.read"}
    read = next(c for c in checks if c.id == "anon.read")
    assert "403" in read.detail or "404" in read.detail
    assert "bucket policy" in read.fix


def test_wrong_secret(bucket, lab_info):
    s = settings_for(bucket, "acl")
    checks = run_probes(s, writer(bucket.server, secret="not-the-right-secret-at-all"), http_options(bucket, lab_info))
    assert failing(checks) == {"writer.credentials"}
    cred = checks[0]
    assert cred.evidence["error"] == "SignatureDoesNotMatch" and "AWS_SECRET_ACCESS_KEY" in cred.fix
    assert "not-the-right-secret" not in json.dumps([c.to_dict() for c in checks])
    assert all(c.status == "skip" for c in checks[2:])


def test_wrong_endpoint(bucket, lab_info):
    s = settings_for(bucket, "acl", endpoint="http://127.0.0.1:1")
    checks = run_probes(s, writer(bucket.server), http_options(bucket, lab_info))
    assert failing(checks) == {"writer.bucket"}
    assert "S3_ENDPOINT" in checks[1].fix


def test_nonexistent_bucket(bucket, lab_info):
    s = settings_for(bucket, "acl", bucket=bucket.name + "-missing")
    checks = run_probes(s, writer(bucket.server), http_options(bucket, lab_info))
    assert failing(checks) == {"writer.bucket"}
    assert "does not exist" in checks[1].detail and "S3_BUCKET" in checks[1].fix


@on(*servers_where("default_acls_disabled"))
def test_default_new_bucket_with_acl_chosen(bucket, lab_info):
    """A new AWS-style bucket (Block Public Access on, ACLs disabled) with ACL mode chosen."""
    checks = probe(bucket, lab_info, "acl")
    f = failing(checks)
    assert {"writer.acl", "bucket.ownership", "bucket.public_access_block", "writer.write"} <= f
    acl = next(c for c in checks if c.id == "writer.acl")
    assert acl.evidence["error"] == "AccessControlListNotSupported"
    assert "ObjectWriter" in acl.fix and "--permission policy" in acl.fix
    own = next(c for c in checks if c.id == "bucket.ownership")
    assert "BucketOwnerEnforced" in own.detail
    # and the admin setup repairs it
    setup_bucket(settings_for(bucket, "acl"), admin(bucket.server))
    assert failing(probe(bucket, lab_info, "acl")) == set()


def test_virtual_host_addressing(bucket, lab_info):
    """Bucket in the host name (S3_OVERRIDE_PATH_STYLE=true), reached through --resolve pins."""
    srv = bucket.server
    port = srv.endpoint.rsplit(":", 1)[1]
    zone = "s3.local" if srv.name == "rgw" else "localhost"   # rgw dns name / MINISTACK_HOST
    http = HttpOptions.build(lab_info.resolve() + [f"{zone}:{port}:127.0.0.1", f"*.{zone}:{port}:127.0.0.1"],
                             lab_info.ca_pem)
    s = settings_for(bucket, "policy", endpoint=f"http://{zone}:{port}", addressing="virtual")
    assert s.to_env(include_secrets=False)["S3_OVERRIDE_PATH_STYLE"] == "true"
    setup_bucket(s, admin(srv), http)
    checks = run_probes(s, writer(srv), http)
    assert failing(checks) == set(), [c.to_dict() for c in checks if c.status == "fail"]
    listing = next(c for c in checks if c.id == "anon.list")
    assert f"http://{bucket.name}.{zone}:{port}/" in listing.detail
    assert leftover_probe_keys(bucket) == []


def test_probe_objects_are_removed_even_when_a_probe_crashes(bucket, lab_info, monkeypatch):
    from mastowizard.s3 import probes

    def crash(run):
        assert run.created, "the anonymous probes left objects to clean up"
        raise RuntimeError("boom")

    setup_bucket(settings_for(bucket, "acl"), admin(bucket.server))
    monkeypatch.setattr(probes, "probe_mode", crash)
    with pytest.raises(RuntimeError):
        run_probes(settings_for(bucket, "acl"), writer(bucket.server), http_options(bucket, lab_info))
    assert leftover_probe_keys(bucket) == []


@on("rgw")        # the listing is the media host's (nginx), whatever the S3 server behind it
@pytest.mark.parametrize("fmt", ["html", "json", "xml"])
def test_a_media_host_with_autoindex_is_a_listing_whatever_the_format(bucket, lab_info, fmt):
    """Keys proxied to a correctly private bucket, but directory paths served by nginx's autoindex
    from the old public/system: anyone sees every file name there."""
    import shutil

    from mastowizard_lab import nginx, sshd
    tree = sshd.shared() / "test-autoindex" / fmt       # where nginx's workers (nobody) may read
    shutil.rmtree(tree, ignore_errors=True)
    (tree / "media_attachments" / "files").mkdir(parents=True)
    (tree / "media_attachments" / "files" / "secret-name.png").write_bytes(b"x")
    for d in (tree.parent, tree, tree / "media_attachments", tree / "media_attachments" / "files"):
        d.chmod(0o755)
    name = f"autoindex-{fmt}.lab.test"
    site = f"test-autoindex-{fmt}"
    port = bucket.server.endpoint.rsplit(":", 1)[1]
    nginx.add_index_site(site, name, f"http://127.0.0.1:{port}/{bucket.name}", tree, fmt)
    try:
        setup_bucket(settings_for(bucket, "policy"), admin(bucket.server))
        checks = probe(bucket, lab_info, "policy", alias_host=f"{name}:{lab_info.http_port}")
        assert failing(checks) == {"anon.list"}, [c.to_dict() for c in checks if c.status == "fail"]
        lst = next(c for c in checks if c.id == "anon.list")
        assert f"http://{name}:{lab_info.http_port}/media_attachments/" in lst.detail
        assert "autoindex" in lst.detail and "autoindex off" in lst.fix
        assert "ListBucket" not in lst.fix          # the bucket itself lists nothing
        assert not any(bucket.endpoint_in(u) for u in lst.evidence["listings"])
    finally:
        nginx.remove_site(site)
        shutil.rmtree(tree, ignore_errors=True)


def _read_causes(checks):
    read = next(c for c in checks if c.id == "anon.read")
    assert read.status == "fail", read.to_dict()
    return read, [c for c in read.evidence["causes"] if c["likely"]]


def test_a_media_host_serving_another_bucket_is_named_as_the_cause(bucket, lab_info):
    from mastowizard_lab import buckets
    from mastowizard_lab.nginx import media_host
    other = bucket.name + "-other"
    buckets.create_bucket(bucket.server, other)
    try:
        setup_bucket(settings_for(bucket, "policy"), admin(bucket.server))
        wrong = f"{media_host(bucket.server.name, other)}:{lab_info.http_port}"
        checks = run_probes(settings_for(bucket, "policy", alias_host=wrong), writer(bucket.server),
                            http_options(bucket, lab_info), admin(bucket.server))
        read, likely = _read_causes(checks)
        assert [c["cause"] for c in likely] == ["media host"], read.evidence["causes"]
        assert "proxies somewhere else" in read.detail and bucket.endpoint_in(read.fix)
    finally:
        buckets.empty_and_delete_bucket(bucket.server, other)


def test_a_deny_in_the_bucket_policy_is_named_as_the_cause(bucket, lab_info):
    setup_bucket(settings_for(bucket, "policy"), admin(bucket.server))
    _extra_statement(bucket, {"Sid": "NoMedia", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                              "Resource": f"arn:aws:s3:::{bucket.name}/media_attachments/*"})
    checks = run_probes(settings_for(bucket, "policy"), writer(bucket.server), http_options(bucket, lab_info),
                        admin(bucket.server))
    read, likely = _read_causes(checks)
    assert likely[0]["cause"] == "bucket policy" and "Deny statement (NoMedia)" in likely[0]["evidence"]
    assert "Deny" in read.fix


@on(*servers_where("default_block_public_access"))
def test_block_public_access_read_with_the_admin_credential_is_named_as_the_cause(bucket, lab_info):
    setup_bucket(settings_for(bucket, "policy"), admin(bucket.server))
    bucket.admin_client.put_public_access_block(Bucket=bucket.name, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": True})
    checks = run_probes(settings_for(bucket, "policy"), writer(bucket.server), http_options(bucket, lab_info),
                        admin(bucket.server))
    read, likely = _read_causes(checks)
    assert likely[0]["cause"] == "Block Public Access" and "RestrictPublicBuckets is on" in likely[0]["evidence"]
    assert "RestrictPublicBuckets" in read.fix


def test_a_policy_that_does_not_cover_media_attachments_is_named_as_the_cause(bucket, lab_info):
    s = settings_for(bucket, "policy")
    setup_bucket(s, admin(bucket.server))
    narrow = {"Version": "2012-10-17", "Statement": [{
        "Sid": "AvatarsOnly", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket.name}/accounts/*"}]}
    bucket.admin_client.put_bucket_policy(Bucket=bucket.name, Policy=json.dumps(narrow))
    checks = run_probes(s, writer(bucket.server), http_options(bucket, lab_info), admin(bucket.server))
    assert failing(checks) == {"bucket.policy", "anon.read"}
    read, likely = _read_causes(checks)
    assert likely[0]["cause"] == "bucket policy" and "does not cover this key" in likely[0]["evidence"]
    assert "GetObject on every media prefix" in read.fix


def test_a_provider_without_multi_object_delete_is_a_warning_that_names_the_cleanup(bucket, lab_info):
    """Google Cloud Storage's XML API has no DeleteObjects: the lab's nginx stands in front of the
    server as the endpoint and answers POST ?delete with 501 NotImplemented, as GCS does."""
    from mastowizard_lab import nginx
    # RGW takes any other Host for a bucket's name (virtual-host style): give it its own `rgw dns name`
    name = "s3.local" if bucket.server.name == "rgw" else f"nobatch-{bucket.server.name}.lab.test"
    port = int(bucket.server.endpoint.rsplit(":", 1)[1])
    nginx.add_no_batch_delete_endpoint(f"test-nobatch-{bucket.server.name}", name, port)
    try:
        setup_bucket(settings_for(bucket, "policy"), admin(bucket.server))
        s = settings_for(bucket, "policy", endpoint=f"http://{name}:{lab_info.http_port}")
        http = HttpOptions.build(lab_info.resolve() + [f"{name}:{lab_info.http_port}:127.0.0.1"], lab_info.ca_pem)
        checks = run_probes(s, writer(bucket.server), http)
        batch = next(c for c in checks if c.id == "jobs.batch_delete")
        assert batch.status == "warn" and "no multi-object delete" in batch.detail, batch.to_dict()
        assert "tootctl media remove" in batch.detail and batch.evidence["error"] == "NotImplemented"
        assert failing(checks) == set(), [c.to_dict() for c in checks if c.status == "fail"]
        assert leftover_probe_keys(bucket) == []          # removed one by one instead
    finally:
        nginx.remove_site(f"test-nobatch-{bucket.server.name}")
    v = verdict(probe(bucket, lab_info, "policy"))                    # the server itself has it
    assert v["jobs.batch_delete"] == "pass"
