"""The command line against the lab, as an admin runs it: env file in, verdict and exit status out."""

import json
import os
import subprocess
import sys

import pytest
from helpers.lab import on

from mastowizard_lab.nginx import HTML_HOST

pytestmark = pytest.mark.lab


def run(*args, env=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_"))}
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "mastowizard", *args], capture_output=True, text=True, env=e,
                          timeout=120, stdin=subprocess.DEVNULL)


def env_file(tmp_path, bucket, permission, alias=None, secret=None, endpoint=None):
    srv = bucket.server
    text = (
        "# Mastodon\nLOCAL_DOMAIN=example.com\nS3_ENABLED=true\n"
        f"S3_BUCKET={bucket.name}\nS3_REGION={srv.region}\nS3_ENDPOINT={endpoint or srv.endpoint}\n"
        f"S3_HOSTNAME={(endpoint or srv.endpoint).split('://')[1]}\nS3_PROTOCOL=https\n"
        f"S3_ALIAS_HOST={alias or bucket.media_https_base.split('://')[1]}\n"
        f"S3_PERMISSION={'public-read' if permission == 'acl' else ''}\n"
        f"AWS_ACCESS_KEY_ID={srv.writer_access_key}\n"
        f"AWS_SECRET_ACCESS_KEY=\"{secret or srv.writer_secret_key}\"\n")
    f = tmp_path / ".env.production"
    f.write_text(text)
    return str(f)


def admin_env(srv):
    return {"MASTOWIZARD_ADMIN_ACCESS_KEY_ID": srv.admin_access_key,
            "MASTOWIZARD_ADMIN_SECRET_ACCESS_KEY": srv.admin_secret_key}


def pins(lab_info):
    out = []
    for r in lab_info.resolve():
        out += ["--resolve", r]
    return out + ["--ca-bundle", lab_info.ca_pem]


@pytest.mark.parametrize("permission", ["acl", "policy"])
def test_setup_bucket_then_probe_from_env_file(bucket, lab_info, tmp_path, permission):
    f = env_file(tmp_path, bucket, permission)
    p = run("setup-bucket", "--yes", "--env-file", f, "--json", *pins(lab_info), env=admin_env(bucket.server))
    assert p.returncode == 0, p.stdout + p.stderr
    doc = json.loads(p.stdout)
    assert doc["ok"] is True and doc["settings"]["permission"] == permission
    ids = [c["id"] for c in doc["checks"]]
    assert ids[:4] == ["setup.public_access_block", "setup.ownership", "setup.policy", "setup.cors"]
    # the plain probe, human output
    p = run("probe", "--env-file", f, *pins(lab_info))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "0 failed" in p.stdout.splitlines()[-1]
    assert "PASS  Anyone can read an uploaded object through the media host [anon.read]" in p.stdout
    for secret in (bucket.server.writer_secret_key, bucket.server.admin_secret_key):
        if len(secret) > 8:
            assert secret not in p.stdout + p.stderr


def test_setup_bucket_says_what_it_changes_and_asks_first(rgw_bucket, lab_info, tmp_path):
    """Without --yes and without a terminal to ask: what would change, on which bucket, with which
    key, then one line saying to add --yes; the bucket keeps its settings (no CORS, no policy)."""
    from mastowizard_lab import buckets
    srv = rgw_bucket.server
    f = env_file(tmp_path, rgw_bucket, "policy")
    p = run("setup-bucket", "--env-file", f, *pins(lab_info), env=admin_env(srv))
    assert p.returncode == 2, p.stdout + p.stderr
    assert f"change: bucket {rgw_bucket.name} at {srv.endpoint}, with the admin key ****" in p.stdout
    assert "MASTOWIZARD_ADMIN_ACCESS_KEY_ID" in p.stdout and srv.admin_access_key not in p.stdout
    assert "change: bucket policy REPLACED" in p.stdout and "(now: none" in p.stdout
    assert "change: CORS REPLACED by GET and HEAD from any origin (now: none)" in p.stdout
    assert "not readable (KeyError)" not in p.stdout       # RGW keeps no ownership setting: said so
    err = p.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mastowizard: --yes: no terminal to ask before changing the bucket")
    admin = buckets.admin_client(srv)
    for read in (admin.get_bucket_cors, admin.get_bucket_policy):
        with pytest.raises(Exception, match="NoSuch"):
            read(Bucket=rgw_bucket.name)
    assert srv.admin_secret_key not in p.stdout + p.stderr


def test_wrong_secret_in_env_file(bucket, lab_info, tmp_path):
    secret = "Wr0ngSecretValueThatMustNeverBePrinted"
    f = env_file(tmp_path, bucket, "acl", secret=secret)
    p = run("probe", "--env-file", f, "--json", *pins(lab_info))
    assert p.returncode == 1
    doc = json.loads(p.stdout)
    cred = doc["checks"][0]
    assert cred["id"] == "writer.credentials" and cred["status"] == "fail"
    assert "AWS_SECRET_ACCESS_KEY" in cred["fix"]
    assert secret not in p.stdout + p.stderr


def test_media_host_answering_html(bucket, lab_info, tmp_path):
    """S3_ALIAS_HOST points at a web server that answers a page for every path."""
    f = env_file(tmp_path, bucket, "policy", alias=f"{HTML_HOST}:{lab_info.https_port}")
    run("setup-bucket", "--yes", "--env-file", f, *pins(lab_info), env=admin_env(bucket.server))
    p = run("probe", "--env-file", f, "--json", *pins(lab_info))
    assert p.returncode == 1
    checks = {c["id"]: c for c in json.loads(p.stdout)["checks"]}
    assert checks["anon.read"]["status"] == "fail"
    assert "without the object" in checks["anon.read"]["detail"] and "proxies" in checks["anon.read"]["fix"]
    assert [i for i, c in checks.items() if c["status"] == "fail"] == ["anon.read"]


def test_endpoint_answering_html(bucket, lab_info, tmp_path):
    f = env_file(tmp_path, bucket, "acl", endpoint=f"http://127.0.0.1:{lab_info.http_port}")
    p = run("probe", "--env-file", f, "--json", *pins(lab_info))
    assert p.returncode == 1
    b = json.loads(p.stdout)["checks"][1]
    assert b["id"] == "writer.bucket" and "HTML" in b["detail"] and "S3_ENDPOINT" in b["fix"]


def test_media_host_without_pin_does_not_resolve(bucket, lab_info, tmp_path):
    f = env_file(tmp_path, bucket, "acl")
    run("setup-bucket", "--yes", "--env-file", f, *pins(lab_info), env=admin_env(bucket.server))
    p = run("probe", "--env-file", f, "--json", "--ca-bundle", lab_info.ca_pem)
    assert p.returncode == 1
    read = next(c for c in json.loads(p.stdout)["checks"] if c["id"] == "anon.read")
    assert read["status"] == "fail" and "--resolve" in read["fix"]


def test_settings_flags_override_env_file(bucket, lab_info, tmp_path):
    f = env_file(tmp_path, bucket, "acl")
    p = run("policy", "--env-file", f, "--permission", "policy", "--key-prefix", "inst", "--json")
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)["bucket_policy"]["Statement"][0]["Resource"]
    assert f"arn:aws:s3:::{bucket.name}/inst/media_attachments/*" in res


def _aws_home(tmp_path, srv, name="lab-admin", endpoint=True):
    """A scratch HOME with the admin key in ~/.aws/credentials and the region (and endpoint) in ~/.aws/config."""
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text(
        f"[default]\naws_access_key_id = AKIADEFAULTNOTTHISONE\naws_secret_access_key = notthisone\n\n"
        f"[{name}]\naws_access_key_id = {srv.admin_access_key}\naws_secret_access_key = {srv.admin_secret_key}\n")
    (home / ".aws" / "config").write_text(
        f"[profile {name}]\nregion = {srv.region}\n" + (f"endpoint_url = {srv.endpoint}\n" if endpoint else ""))
    return {"HOME": str(home)}


@on("rgw")        # reading the profile does not depend on the S3 server
def test_setup_bucket_takes_the_admin_key_from_an_aws_profile(bucket, lab_info, tmp_path):
    srv = bucket.server
    from mastowizard_lab import buckets
    f = env_file(tmp_path, bucket, "policy")
    home = _aws_home(tmp_path, srv)
    p = run("setup-bucket", "--yes", "--env-file", f, "--admin-profile", "lab-admin", "--json", *pins(lab_info),
            env=home)
    assert p.returncode == 0, p.stdout + p.stderr
    doc = json.loads(p.stdout)
    assert "admin credential: AWS profile 'lab-admin'" in doc["notes"]
    assert {c["id"]: c["status"] for c in doc["checks"]}["setup.policy"] == "pass"
    policy = json.loads(buckets.admin_client(srv).get_bucket_policy(Bucket=bucket.name)["Policy"])   # read back
    assert any(f"arn:aws:s3:::{bucket.name}/media_attachments/*" in str(s["Resource"]) for s in policy["Statement"])
    assert srv.admin_secret_key not in p.stdout + p.stderr
    # the same from MASTOWIZARD_ADMIN_PROFILE, human output
    p = run("setup-bucket", "--yes", "--env-file", f, *pins(lab_info),
            env={**home, "MASTOWIZARD_ADMIN_PROFILE": "lab-admin"})
    assert p.returncode == 0 and "0 failed" in p.stdout.splitlines()[-1], p.stdout + p.stderr
    # a profile that is not there: one line naming it and the files read, exit 2, nothing applied
    for args, env in ((["--admin-profile", "nope"], home), ([], {**home, "MASTOWIZARD_ADMIN_PROFILE": "nope"})):
        p = run("setup-bucket", "--yes", "--env-file", f, *args, *pins(lab_info), env=env)
        lines = p.stderr.strip().splitlines()
        assert p.returncode == 2 and len(lines) == 1 and p.stdout == "", p
        assert "'nope'" in lines[0] and ".aws/config" in lines[0] and ".aws/credentials" in lines[0]
        assert "lab-admin" in lines[0]                       # the profiles there are named
