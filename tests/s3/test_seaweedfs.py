"""SeaweedFS, a third S3 implementation: it accepts `x-amz-acl: public-read` and silently ignores it
(as MinIO does). A correct policy-mode setup passes every probe and the whole checklist; ACL mode
is told apart from "the ACL was rejected": the probes say the provider ignores object ACLs and
point at policy mode, and a refused read names the object's ACL, read back, as the cause."""

import pytest
from helpers.probes import (
    admin,
    failing,
    http_options,
    leftover_probe_keys,
    settings_for,
    writer,
)

from mastowizard.s3.bucket_setup import setup_bucket
from mastowizard.s3.probes import run_probes

pytestmark = pytest.mark.lab


def test_a_policy_mode_bucket_passes_every_probe(seaweed_bucket, lab_info):
    b = seaweed_bucket
    setup = setup_bucket(settings_for(b, "policy"), admin(b.server))
    assert not [c for c in setup if c.status == "fail"], [c.to_dict() for c in setup]
    checks = run_probes(settings_for(b, "policy", https=True), writer(b.server), http_options(b, lab_info),
                        admin(b.server))
    assert failing(checks) == set(), [c.to_dict() for c in checks if c.status == "fail"]
    v = {c.id: c.status for c in checks}
    assert v["anon.read"] == v["anon.list"] == v["anon.put"] == v["anon.backups"] == v["bucket.cors"] == "pass"
    acl = next(c for c in checks if c.id == "writer.acl")
    assert "accepted but ignored" in acl.detail and v["permission.mode"] == "pass"   # not "consider ACL mode"
    assert leftover_probe_keys(b) == []


def test_acl_mode_on_a_server_that_ignores_acls_says_so(seaweed_bucket, lab_info):
    b = seaweed_bucket
    setup = setup_bucket(settings_for(b, "acl"), admin(b.server))      # CORS and ObjectWriter: ACLs only
    assert not [c for c in setup if c.status == "fail"], [c.to_dict() for c in setup]
    checks = run_probes(settings_for(b, "acl"), writer(b.server), http_options(b, lab_info), admin(b.server))
    by = {c.id: c for c in checks}
    assert {"writer.acl", "anon.read"} <= failing(checks)
    acl = by["writer.acl"]
    assert acl.detail.startswith("the provider ignores object ACLs") and "was not rejected" in acl.detail
    assert "--permission policy" in acl.fix
    assert acl.evidence["acl_honoured"] is False
    read = by["anon.read"]
    first = read.evidence["causes"][0]
    assert first["cause"] == "object ACL" and "grants everyone nothing" in first["evidence"]
    assert "ignores upload ACLs" in first["evidence"] and "policy mode" in read.fix
    assert by["writer.write"].status == "pass"          # the upload itself is accepted: not "rejected"
    assert leftover_probe_keys(b) == []


def test_the_whole_checklist_passes_in_policy_mode(seaweed_bucket, lab_info, tmp_path):
    """The Mastodon stand-in uploads into SeaweedFS (SigV4, no ACL header), the media host serves it."""
    from helpers.checklist import Lab, by_id
    from helpers.checklist import failing as check_failing
    lab = Lab(tmp_path, seaweed_bucket, lab_info, "policy")
    try:
        lab.setup()
        lab.start()
        checks = lab.check()
        assert check_failing(checks) == set(), [c.to_dict() for c in checks if c.status == "fail"]
        ids = by_id(checks)
        for cid in ("anon.list", "anon.put", "anon.backups", "upload", "objects", "public_fetch", "cleanup",
                    "instance.csp"):
            assert ids[cid].status == "pass", ids[cid].to_dict()
    finally:
        lab.stop()
