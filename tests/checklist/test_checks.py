"""The live checklist against the lab: real S3 servers, nginx as media host, the Mastodon stand-in.

A correct ACL setup and a correct policy setup pass every check; each broken setup is caught by the
right check, with the right fix, and nothing else fails."""

import json
import os
import subprocess
import sys

from helpers.checklist import PORT, by_id, failing, once

from mastowizard.net import HttpOptions
from mastowizard.settings import Settings
from mastowizard_lab.nginx import HTML_HOST


def no_test_media_left(bucket):
    objects = bucket.admin_client.list_objects_v2(Bucket=bucket.name).get("Contents", [])
    return [o["Key"] for o in objects]


def test_correct_setup_passes_every_check(lab):
    lab.setup()
    lab.start()
    checks = lab.check()
    assert failing(checks) == set(), [c.to_dict() for c in checks if c.status == "fail"]
    ids = by_id(checks)
    for cid in ("settings", "writer.write", "media_host", "anon.list", "anon.put", "anon.backups", "cors",
                "instance.health", "instance.token", "upload", "urls", "objects", "public_fetch", "cleanup",
                "instance.csp"):
        assert ids[cid].status == "pass", (cid, ids[cid].to_dict())
    assert "it lists nothing, as a media host's root should" in ids["media_host"].detail   # why a 403 is good
    assert no_test_media_left(lab.bucket) == []


def _extra_statement(lab, statement):
    s3 = lab.bucket.admin_client
    doc = json.loads(s3.get_bucket_policy(Bucket=lab.bucket.name)["Policy"]) if lab.permission == "policy" else \
        {"Version": "2012-10-17", "Statement": []}
    doc["Statement"].append(statement)
    if lab.permission == "acl":   # setup left BlockPublicPolicy on: this admin turns it off by hand
        s3.put_public_access_block(Bucket=lab.bucket.name, PublicAccessBlockConfiguration={
            "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False})
    s3.put_bucket_policy(Bucket=lab.bucket.name, Policy=json.dumps(doc))


def test_bucket_listable(lab):
    lab.setup()
    _extra_statement(lab, {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
                           "Resource": f"arn:aws:s3:::{lab.bucket.name}"})
    lab.start()
    checks = lab.check()
    assert failing(checks) == {"anon.list"}
    assert "ListBucket" in by_id(checks)["anon.list"].fix


def test_anonymous_write_allowed(lab):
    lab.setup()
    _extra_statement(lab, {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
                           "Resource": f"arn:aws:s3:::{lab.bucket.name}/*"})
    lab.start()
    checks = lab.check()
    assert failing(checks) == {"anon.put"}
    assert "s3:PutObject" in by_id(checks)["anon.put"].fix
    assert no_test_media_left(lab.bucket) == []


def test_no_public_read(lab):
    lab.setup()
    s3 = lab.bucket.admin_client
    if lab.permission == "policy":
        s3.delete_bucket_policy(Bucket=lab.bucket.name)
    else:   # ACL mode, but uploads carry no public ACL
        lab.env_file.write_text(lab.env_text().replace("S3_PERMISSION=public-read", "S3_PERMISSION=private"))
    lab.start()
    checks = lab.check()
    assert failing(checks) == {"public_fetch"}
    fetch = by_id(checks)["public_fetch"]
    first = fetch.evidence["causes"][0]          # the likely cause first, with its evidence
    assert "403" in fetch.detail and first["likely"]
    if lab.permission == "policy":
        assert first["cause"] == "bucket policy" and "no policy" in first["evidence"]
        assert "mastowizard policy" in fetch.fix
    else:
        assert first["cause"] == "object ACL" and "S3_PERMISSION=private" in first["evidence"]
        assert "S3_PERMISSION=public-read" in fetch.fix
    assert f"likely: {first['cause']}" in fetch.detail


def test_no_cors(lab):
    lab.setup()
    lab.bucket.admin_client.delete_bucket_cors(Bucket=lab.bucket.name)
    lab.start()
    checks = lab.check()
    assert failing(checks) == {"cors"}
    assert "Access-Control-Allow-Origin" in by_id(checks)["cors"].detail
    assert by_id(checks)["public_fetch"].status == "warn"


@once()
def test_alias_host_wrong(lab, tmp_path):
    lab.setup()
    other = f"mw-other-{lab.bucket.name[3:]}.{lab.bucket.server.name}.media.test:{lab.lab_info.https_port}"
    lab.env_file.write_text(lab.env_text(alias=other))
    lab.start()
    checks = lab.check()
    assert failing(checks) == {"public_fetch"}
    fetch = by_id(checks)["public_fetch"]
    assert "S3_ALIAS_HOST does not serve this bucket" in fetch.fix
    assert fetch.evidence["causes"][0]["cause"] == "media host"


def test_alias_host_with_the_bucket_in_the_path(lab):
    lab.setup()
    lab.env_file.write_text(lab.env_text(alias=f"{lab.bucket.server.endpoint.split('://')[1]}/{lab.bucket.name}"))
    lab.start()
    checks = lab.check()
    assert failing(checks) == {"settings"}
    s = by_id(checks)["settings"]
    assert "S3_ALIAS_HOST" in s.detail and "host name" in s.fix


@once()
def test_instance_still_on_local_storage(lab, tmp_path):
    lab.setup()
    text = lab.env_file.read_text()
    lab.env_file.write_text("LOCAL_DOMAIN=lab.example\nS3_ENABLED=false\n")
    lab.start(base_url=f"http://127.0.0.1:{PORT}")        # Mastodon started before the change...
    lab.env_file.write_text(text)                          # ...and was not restarted after it
    checks = lab.check()
    assert failing(checks) == {"urls", "instance.csp"}     # still local disk, and a policy without the host
    assert "restart web and sidekiq" in by_id(checks)["urls"].fix
    assert "has not been restarted" in by_id(checks)["instance.csp"].fix


@once()
def test_token_without_write_media(lab):
    lab.setup()
    lab.start()
    checks = lab.check(token="no-media-token")
    assert failing(checks) == {"instance.token"}
    assert "write:media" in by_id(checks)["instance.token"].fix


@once()
def test_processing_that_never_finishes(lab):
    lab.setup()
    lab.start(never_finish=True)
    checks = lab.check(poll_timeout=1)          # still polled twice (after 0.5 s and 1.5 s) before it gives up
    assert failing(checks) == {"upload"}
    assert "sidekiq" in by_id(checks)["upload"].fix
    assert by_id(checks)["cleanup"].status == "pass"
    assert no_test_media_left(lab.bucket) == []


@once()
def test_server_answering_html(lab):
    lab.setup()
    lab.start()
    checks = lab.check(instance=f"https://{HTML_HOST}:{lab.lab_info.https_port}")
    assert failing(checks) == {"instance.health"}
    assert "HTML" in by_id(checks)["instance.health"].detail


@once()
def test_cli_check_json(lab):
    lab.setup()
    lab.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_", "MASTODON_"))}
    env["MASTODON_ACCESS_TOKEN"] = "good-token"
    args = [sys.executable, "-m", "mastowizard", "check", "--env-file", str(lab.env_file), "--instance", lab.run.url,
            "--json", "--ca-bundle", lab.lab_info.ca_pem]
    for r in lab.lab_info.resolve():
        args += ["--resolve", r]
    p = subprocess.run(args, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    doc = json.loads(p.stdout)
    assert doc["ok"] and {c["id"] for c in doc["checks"]} >= {"upload", "public_fetch", "cleanup"}
    assert "good-token" not in p.stdout + p.stderr
    assert lab.bucket.server.writer_secret_key not in p.stdout + p.stderr


@once()
def test_old_urls_after_the_move(lab, tmp_path):
    """Old media under public/system: the web server keeps serving /system/ from disk (nginx's
    try_files) until the files go; once they are removed, old URLs break unless they are redirected."""
    from mastowizard.checklist.old_urls import sample_local_media
    from mastowizard.host.local import LocalHost
    old = lab.live / "public" / "system" / "media_attachments" / "files" / "109" / "876" / "543" / "original"
    old.mkdir(parents=True)
    (old / "a1b2c3d4e5f6a7b8.jpg").write_bytes(b"old jpeg")
    sample = sample_local_media(LocalHost(), str(lab.live))
    assert sample == ["media_attachments/files/109/876/543/original/a1b2c3d4e5f6a7b8.jpg"]
    lab.setup()
    lab.start()
    assert by_id(lab.check(old_urls=sample))["old_urls"].status == "pass"
    (old / "a1b2c3d4e5f6a7b8.jpg").unlink()          # the admin cleaned the disk after the move
    ctx_checks = lab.check(old_urls=sample)
    assert failing(ctx_checks) == {"old_urls"}
    assert "redirect /system/" in by_id(ctx_checks)["old_urls"].fix


@once()
def test_preflight_refused_at_the_media_host(lab):
    """A media host configured as Mastodon's docs show it (`limit_except GET`) refuses the preflight."""
    lab.setup()
    strict = f"{lab.bucket.name}.{lab.bucket.server.name}-docs.media.test:{lab.lab_info.https_port}"
    lab.env_file.write_text(lab.env_text(alias=strict))
    lab.start()
    checks = lab.check()
    assert failing(checks) == {"cors"}
    assert "limit_except GET OPTIONS" in by_id(checks)["cors"].fix
    assert by_id(checks)["cors"].evidence["preflight"]["status"] == 403


@once("policy")
def test_a_restart_missed_is_named_with_the_services(lab):
    """The env file moved to a new media host, but web and sidekiq still run with the old one: the
    URLs and the web app's policy say so, and name what to restart."""
    lab.setup()
    lab.start()
    new_host = f"{lab.bucket.name}.{lab.bucket.server.name}-docs.media.test:{lab.lab_info.https_port}"
    lab.env_file.write_text(lab.env_text(alias=new_host))          # no restart
    checks = lab.check()
    assert failing(checks) == {"urls", "instance.csp"}, [c.to_dict() for c in checks if c.status == "fail"]
    assert "sidekiq" in by_id(checks)["urls"].fix and "web" in by_id(checks)["urls"].fix
    csp = by_id(checks)["instance.csp"]
    assert f"https://{new_host}" in csp.detail and "img-src, media-src, connect-src" in csp.detail
    assert "has not been restarted" in csp.fix and "a week" in csp.fix
    assert no_test_media_left(lab.bucket) == []


@once("policy")
def test_a_media_host_that_redirects_needs_extra_media_hosts(lab):
    """A media host that 301s every key to the real one: browsers follow it only where the policy
    allows the target, which Mastodon lists only from EXTRA_MEDIA_HOSTS."""
    from mastowizard_lab import nginx
    front = f"redirect-{lab.bucket.name}.lab.test"
    target = lab.bucket.media_https_base
    nginx.add_redirect_site(f"test-{front}", front, target)
    try:
        lab.setup()
        lab.env_file.write_text(lab.env_text(alias=f"{front}:{lab.lab_info.https_port}"))
        lab.start()
        checks = lab.check()
        csp = by_id(checks)["instance.csp"]
        assert csp.status == "fail" and f"redirects to {target}" in csp.detail, csp.to_dict()
        assert f"add {target} to EXTRA_MEDIA_HOSTS" in csp.fix
        assert by_id(checks)["public_fetch"].status in ("pass", "warn")      # browsers follow it
        lab.stop()
        lab.env_file.write_text(lab.env_text(alias=f"{front}:{lab.lab_info.https_port}",
                                             EXTRA_MEDIA_HOSTS=target))
        lab.start()
        assert by_id(lab.check())["instance.csp"].status == "pass"
    finally:
        nginx.remove_site(f"test-{front}")


@once("policy")
def test_http_media_on_an_https_instance_is_mixed_content(lab):
    from mastowizard_lab import nginx
    lab.setup()
    lab.env_file.write_text(lab.env_text(alias=lab.bucket.media_http_base.split("://")[1]).replace(
        "S3_PROTOCOL=https", "S3_PROTOCOL=http"))
    lab.start()
    front = f"instance-{lab.bucket.name}.lab.test"
    nginx.add_site(f"test-{front}", front, f"http://127.0.0.1:{PORT}")      # the instance behind https
    try:
        checks = lab.check(token=None, instance=f"https://{front}:{lab.lab_info.https_port}")
        csp = by_id(checks)["instance.csp"]
        assert csp.status == "fail" and "mixed content" in csp.detail and "S3_PROTOCOL=https" in csp.fix
        assert by_id(checks)["settings"].status == "warn"
    finally:
        nginx.remove_site(f"test-{front}")


@once("policy")
def test_a_scheme_in_the_alias_host_is_a_settings_failure(lab):
    lab.setup()
    lab.env_file.write_text(lab.env_text(alias="https://" + lab.bucket.media_https_base.split("://")[1]))
    lab.start()
    checks = lab.check()
    settings = by_id(checks)["settings"]
    assert settings.status == "fail" and "S3_ALIAS_HOST" in settings.detail and "is a URL" in settings.detail


def test_a_media_host_root_that_answers_a_page_is_a_warning_that_says_what_it_holds(lab_info):
    from mastowizard.checklist.media_host import check_media_host
    s = Settings.build(bucket="any-bucket", provider="other", endpoint="http://127.0.0.1:9",
                       alias_host=f"{HTML_HOST}:{lab_info.https_port}")
    c = check_media_host(s, HttpOptions.build(lab_info.resolve(), lab_info.ca_pem))
    assert c.status == "warn" and "answered 200 (text/html" in c.detail and "Welcome to nginx!" in c.detail, c.detail
    assert "deny /" in c.fix


@once("policy")
def test_before_mastodon_4_4_the_test_upload_is_left_to_mastodon_s_own_cleanup(lab):
    """4.3 has no DELETE /api/v1/media/:id: the version is read from /api/v2/instance and the check
    says the upload goes away by itself, instead of failing."""
    lab.setup()
    lab.start(version="4.3.2")
    checks = lab.check()
    assert failing(checks) == set(), [c.to_dict() for c in checks if c.status == "fail"]
    cleanup = by_id(checks)["cleanup"]
    assert cleanup.status == "pass" and "about a day later" in cleanup.detail and "4.3" in cleanup.detail
    assert no_test_media_left(lab.bucket) != []       # nothing was deleted: Mastodon does it later
