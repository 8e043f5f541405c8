"""What Mastodon's own S3 client and Sidekiq jobs need, each class of failure made real in the lab:
the fault proxy on 127.0.0.1 in front of a lab S3 server, or the server's own settings (lifecycle,
versioning). Each broken setup is caught by the right jobs check, with a fix that names the env
variable; where Mastodon's own storage code can show the same failure, it is run through the same
fault (the stand-in's worker: Mastodon 4.4's paperclip.rb, kt-paperclip, aws-sdk-s3)."""

import dataclasses
import json
import os
import subprocess
import sys
import uuid

import pytest
from helpers.lab import on

from mastowizard.net import HttpOptions
from mastowizard.s3 import jobs, probes
from mastowizard.s3.bucket_setup import setup_bucket
from mastowizard.s3.credential import Credential
from mastowizard.s3.probe_run import ProbeRun
from mastowizard.secrets import Secret
from mastowizard.settings import Settings
from mastowizard_lab.faultproxy import FaultProxy
from mastowizard_lab.mastodon_storage import MastodonStorage, StorageError

MIB = 1024 * 1024


def settings(bucket, endpoint=None, permission="acl", **extra) -> Settings:
    srv = bucket.server
    s = Settings.build(bucket=bucket.name, provider="ceph" if srv.name == "rgw" else "other",
                       endpoint=endpoint or srv.endpoint, permission=permission)
    setup_bucket(dataclasses.replace(s, endpoint=srv.endpoint),
                 Credential(srv.admin_access_key, Secret(srv.admin_secret_key)))
    return dataclasses.replace(s, extra_env={k: str(v) for k, v in extra.items()})


def run_jobs(bucket, s: Settings, admin: bool = False, writer: Credential | None = None, with_write: bool = False,
             left_ok: bool = False) -> dict:
    """The jobs checks as `mastowizard check` runs them (after the writer's access and write), by id;
    WITH_WRITE adds writer.write's result."""
    srv = bucket.server
    run = ProbeRun(s, writer or Credential(srv.writer_access_key, Secret(srv.writer_secret_key)), HttpOptions(),
                   Credential(srv.admin_access_key, Secret(srv.admin_secret_key)) if admin else None)
    try:
        assert probes.probe_access(run), run.checks
        probes.probe_write(run)
        jobs.run_jobs(run)
    finally:
        left = run.cleanup()
        run.close()
    assert left_ok or not left, f"probe objects left in the bucket: {left}"
    return {cid: run.checks[cid] for cid in jobs.IDS + (["writer.write"] if with_write else [])}


def not_passing(checks: dict) -> dict:
    return {cid: (c.status, c.detail) for cid, c in checks.items() if c.status != "pass"}


class Mastodon:
    """Mastodon's own storage code on an env file (the stand-in's Ruby worker)."""

    def __init__(self, tmp_path, bucket, endpoint, permission="acl", **extra):
        srv = bucket.server
        env = {"S3_ENABLED": "true", "S3_BUCKET": bucket.name, "S3_REGION": srv.region, "S3_ENDPOINT": endpoint,
               "S3_ALIAS_HOST": "media.lab.test", "S3_PERMISSION": "public-read" if permission == "acl" else "",
               "AWS_ACCESS_KEY_ID": srv.writer_access_key, "AWS_SECRET_ACCESS_KEY": srv.writer_secret_key, **extra}
        self.env_file = tmp_path / f"env-{uuid.uuid4().hex[:6]}"
        self.env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        self.code = MastodonStorage(str(self.env_file))

    def store(self, size: int, content_type: str = "video/mp4") -> dict:
        media_id = str(110_000_000_000_000_000 + int(uuid.uuid4().int % 10**9))
        ext = content_type.split("/")[1]
        stored = self.code.store(media_id, f"{uuid.uuid4().hex[:16]}.{ext}", os.urandom(64) * (size // 64),
                                 content_type)
        return {"id": media_id, "file_name": stored["file_name"], "content_type": content_type}

    def close(self):
        self.code.close()


@pytest.fixture
def mastodon_code(tmp_path):
    made = []

    def make(bucket, endpoint, **extra):
        m = Mastodon(tmp_path, bucket, endpoint, **extra)
        made.append(m)
        return m
    yield make
    for m in made:
        m.close()


def upstream_port(bucket) -> int:
    return int(bucket.server.endpoint.rsplit(":", 1)[1])


# -- healthy ------------------------------------------------------------------------------------------
def test_a_healthy_bucket_passes_every_jobs_check(bucket):
    """RGW and MiniStack as they are: every check passes, and says what it measured."""
    checks = run_jobs(bucket, settings(bucket, permission="acl" if bucket.server.name == "rgw" else "policy"))
    assert not not_passing(checks)
    assert "DeleteObjects of 1000 keys" in checks["jobs.batch_delete"].detail
    assert "within S3_READ_TIMEOUT=5 s" in checks["jobs.latency"].detail


def test_seaweedfs_passes_every_jobs_check(seaweed_bucket):
    checks = run_jobs(seaweed_bucket, settings(seaweed_bucket, permission="policy"))
    assert not not_passing(checks)


# -- 1. timeouts --------------------------------------------------------------------------------------
@on("rgw")
def test_a_provider_slower_than_the_read_timeout_fails_latency_and_mastodon_s_upload(bucket, mastodon_code):
    with FaultProxy(upstream_port(bucket)) as proxy:
        proxy.rule(lambda r: r.method == "HEAD" and r.path.endswith("-latency.png"), hold="delay", seconds=1.5,
                   times=1)                                               # one slow answer is enough
        checks = run_jobs(bucket, settings(bucket, proxy.endpoint, S3_READ_TIMEOUT=1))
        lat = checks["jobs.latency"]
        assert lat.status == "fail", lat
        assert "over S3_READ_TIMEOUT=1 s" in lat.detail and "Net::ReadTimeout" in lat.detail
        assert "S3_READ_TIMEOUT=10" in lat.fix and "S3_RETRY_LIMIT=2" in lat.fix
        # Mastodon's own code, same env, same provider: the upload fails the way the check says.
        proxy.clear()
        proxy.rule(lambda r: r.method == "PUT", hold="delay", seconds=1.5)
        m = mastodon_code(bucket, proxy.endpoint, S3_READ_TIMEOUT="1")
        with pytest.raises(StorageError) as e:
            m.store(1000, "image/png")
        assert "ReadTimeout" in e.value.error or "Timeout" in e.value.error, e.value.error


# -- 2. reading media back --------------------------------------------------------------------------
@on("rgw")
def test_a_proxy_that_drops_content_range_fails_read_back_and_mastodon_s_thumbnail_read(bucket, mastodon_code):
    with FaultProxy(upstream_port(bucket)) as proxy:
        proxy.rule(lambda r: r.method == "GET" and any(k.lower() == "range" for k, _ in r.headers),
                   hold="drop", drop=("Content-Range",))
        checks = run_jobs(bucket, settings(bucket, proxy.endpoint))
        rb = checks["jobs.read_back"]
        assert rb.status == "fail", rb
        assert "Content-Range missing" in rb.detail
        assert "S3_FORCE_SINGLE_REQUEST=true" in rb.fix
        assert rb.evidence["suggest"] == {"S3_FORCE_SINGLE_REQUEST": "true"}
        # Mastodon's copy_to_local_file of a 6 MiB original, through the same proxy: broken ...
        m = mastodon_code(bucket, proxy.endpoint)
        media = m.store(6 * MIB)
        with pytest.raises(StorageError) as e:
            m.code.read(media)
        assert "split" in e.value.error, e.value.error
        # ... and with the fix the check names, both work.
        fixed = mastodon_code(bucket, proxy.endpoint, S3_FORCE_SINGLE_REQUEST="true")
        assert fixed.code.read(media)["size"] == 6 * MIB
        again = run_jobs(bucket, settings(bucket, proxy.endpoint, S3_FORCE_SINGLE_REQUEST="true"))
        assert again["jobs.read_back"].status == "pass", again["jobs.read_back"]
        assert "S3_FORCE_SINGLE_REQUEST=true makes Mastodon read whole objects" in again["jobs.read_back"].detail


@on("rgw")
def test_a_provider_without_part_numbers_fails_read_back(bucket, mastodon_code):
    """Cloudflare R2 answered HEAD ?partNumber=1 with 501 (mastodon#26394)."""
    with FaultProxy(upstream_port(bucket)) as proxy:
        proxy.rule(lambda r: r.method in ("HEAD", "GET") and "partNumber=" in r.query, hold="answer", answer=501)
        rb = run_jobs(bucket, settings(bucket, proxy.endpoint))["jobs.read_back"]
        assert rb.status == "fail" and "HEAD ?partNumber=1 answered 501 Not Implemented" in rb.detail, rb
        assert "S3_FORCE_SINGLE_REQUEST=true" in rb.fix
        m = mastodon_code(bucket, proxy.endpoint)
        read = m.code.read(m.store(1000, "image/png"))      # Mastodon logs it and goes on without the file
        assert read["copied"] is False and "cannot copy" in read["log"], read


@on("rgw")
def test_checksum_mode_on_a_provider_without_it_fails_read_back(bucket):
    """S3_ENABLE_CHECKSUM_MODE=true sends x-amz-checksum-mode: ENABLED with every read; a provider that
    refuses it (R2 and B2 did, mastodon#26469) breaks them all."""
    with FaultProxy(upstream_port(bucket)) as proxy:
        proxy.rule(lambda r: any(k.lower() == "x-amz-checksum-mode" for k, _ in r.headers), hold="answer",
                   answer=400, code="InvalidArgument")
        rb = run_jobs(bucket, settings(bucket, proxy.endpoint, S3_ENABLE_CHECKSUM_MODE="true"))["jobs.read_back"]
        assert rb.status == "fail" and "S3_ENABLE_CHECKSUM_MODE=true" in rb.detail and "InvalidArgument" in rb.detail
        assert "remove S3_ENABLE_CHECKSUM_MODE" in rb.fix
        assert rb.evidence["suggest"] == {"S3_ENABLE_CHECKSUM_MODE": None}
        # Not shown with Mastodon's own code here: Debian's aws-sdk-s3 (1.117) predates checksum mode in
        # download_file, so it never sends the header; Mastodon 4.4 pins 1.219, which does.


# -- 3. multipart -----------------------------------------------------------------------------------
@on("rgw")
def test_a_provider_without_multipart_fails_and_so_do_mastodon_s_videos(bucket, mastodon_code):
    with FaultProxy(upstream_port(bucket)) as proxy:
        proxy.rule(lambda r: r.method == "POST" and r.query.startswith("uploads"), hold="answer", answer=501)
        checks = run_jobs(bucket, settings(bucket, proxy.endpoint))
        mp = checks["jobs.multipart"]
        assert mp.status == "fail", mp
        assert "refused CreateMultipartUpload (POST ?uploads): NotImplemented" in mp.detail
        assert "S3_MULTIPART_THRESHOLD" in mp.fix
        assert checks["jobs.read_back"].status == "skip"
        m = mastodon_code(bucket, proxy.endpoint)
        with pytest.raises(StorageError) as e:
            m.store(16 * MIB)                   # above the 15 MiB threshold: multipart
        assert "NotImplemented" in e.value.error, e.value.error
        m.store(1000, "image/png")              # below it: one PUT, fine


@on("rgw")
def test_a_threshold_written_in_megabytes_fails_multipart(bucket, mastodon_code):
    checks = run_jobs(bucket, settings(bucket, S3_MULTIPART_THRESHOLD="15"))
    mp = checks["jobs.multipart"]
    assert mp.status == "fail", mp
    assert "S3_MULTIPART_THRESHOLD=15 is read as 15 bytes" in mp.detail
    assert "S3_MULTIPART_THRESHOLD=15728640" in mp.fix
    m = mastodon_code(bucket, bucket.server.endpoint, S3_MULTIPART_THRESHOLD="15")
    with pytest.raises(StorageError) as e:
        m.store(1000, "image/png")
    assert "unable to multipart upload files smaller than 5MB" in e.value.error


# -- 4. batch deletes ---------------------------------------------------------------------------------
@on("rgw")
def test_a_provider_that_caps_keys_per_delete_is_found_and_named(bucket):
    with FaultProxy(upstream_port(bucket)) as proxy:
        proxy.rule(lambda r: r.method == "POST" and r.query.startswith("delete") and r.body.count(b"<Key>") > 250,
                   hold="answer", answer=400, code="MalformedXML")
        bd = run_jobs(bucket, settings(bucket, proxy.endpoint))["jobs.batch_delete"]
    assert bd.status == "fail", bd
    assert "refused a DeleteObjects of 1000 keys (MalformedXML) and took one of 250" in bd.detail
    assert bd.fix == "set S3_BATCH_DELETE_LIMIT=250"


@on("rgw")
def test_a_slow_batch_delete_fails_and_so_does_mastodon_s_cleanup(bucket, mastodon_code):
    with FaultProxy(upstream_port(bucket)) as proxy:
        proxy.rule(lambda r: r.method == "POST" and r.query.startswith("delete"), hold="delay", seconds=1.5)
        bd = run_jobs(bucket, settings(bucket, proxy.endpoint, S3_READ_TIMEOUT=1))["jobs.batch_delete"]
        assert bd.status == "fail", bd
        assert "over S3_READ_TIMEOUT=1 s" in bd.detail and "S3_BATCH_DELETE_LIMIT=" in bd.fix
        m = mastodon_code(bucket, proxy.endpoint, S3_READ_TIMEOUT="1", S3_BATCH_DELETE_RETRY="0")
        media = m.store(1000, "image/png")
        with pytest.raises(StorageError) as e:
            m.code.delete([media])
        assert "Timeout" in e.value.error, e.value.error


# -- 5. media that vanishes outside Mastodon --------------------------------------------------------
@on("rgw", "ministack")
def test_a_lifecycle_rule_that_expires_media_fails(bucket):
    s = settings(bucket, permission="acl" if bucket.server.name == "rgw" else "policy")
    bucket.admin_client.put_bucket_lifecycle_configuration(Bucket=bucket.name, LifecycleConfiguration={"Rules": [
        {"ID": "tidy", "Status": "Enabled", "Filter": {"Prefix": "media_attachments/"}, "Expiration": {"Days": 30}}]})
    ret = run_jobs(bucket, s, admin=True)["jobs.retention"]
    assert ret.status == "fail", ret
    assert "lifecycle rule tidy expires objects under 'media_attachments/' after 30 days" in ret.detail
    assert "never uploaded again" in ret.detail


@on("rgw", "ministack")
def test_versioning_without_expiry_of_old_versions_warns(bucket):
    s = settings(bucket, permission="acl" if bucket.server.name == "rgw" else "policy")
    bucket.admin_client.put_bucket_versioning(Bucket=bucket.name, VersioningConfiguration={"Status": "Enabled"})
    ret = run_jobs(bucket, s, admin=True)["jobs.retention"]
    assert ret.status == "warn", ret
    assert "versioning is on without a rule that expires old versions" in ret.detail
    assert "NoncurrentVersionExpiration" in ret.fix


@on("rgw")
def test_a_lifecycle_rule_on_the_cache_only_warns(bucket):
    s = settings(bucket)
    bucket.admin_client.put_bucket_lifecycle_configuration(Bucket=bucket.name, LifecycleConfiguration={"Rules": [
        {"ID": "cache", "Status": "Enabled", "Filter": {"Prefix": "cache/"}, "Expiration": {"Days": 7}}]})
    ret = run_jobs(bucket, s, admin=True)["jobs.retention"]
    assert ret.status == "warn" and "remote accounts' avatars and headers" in ret.detail, ret


# -- the CLI, as an admin sees it ---------------------------------------------------------------------
def cli_behind_a_proxy_dropping_content_range(bucket, tmp_path, *command: str) -> subprocess.CompletedProcess:
    """`mastowizard COMMAND --env-file ENV` for an env file whose S3_ENDPOINT is a proxy that drops
    Content-Range from ranged answers (nothing of the test's environment passed on)."""
    settings(bucket)
    srv = bucket.server
    with FaultProxy(upstream_port(bucket)) as proxy:
        proxy.rule(lambda r: r.method == "GET" and any(k.lower() == "range" for k, _ in r.headers),
                   hold="drop", drop=("Content-Range",))
        env_file = tmp_path / ".env.production"
        env_file.write_text(f"S3_ENABLED=true\nS3_BUCKET={bucket.name}\nS3_REGION={srv.region}\n"
                            f"S3_ENDPOINT={proxy.endpoint}\nS3_ALIAS_HOST={bucket.media_host}\nS3_PERMISSION=public-read\n"
                            f"AWS_ACCESS_KEY_ID={srv.writer_access_key}\nAWS_SECRET_ACCESS_KEY={srv.writer_secret_key}\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_", "MASTODON_"))}
        return subprocess.run([sys.executable, "-m", "mastowizard", command[0], "--env-file", str(env_file),
                               *command[1:]], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL,
                              timeout=120, check=False)


@on("rgw")
def test_check_names_the_jobs_failure_and_its_variable(bucket, tmp_path):
    p = cli_behind_a_proxy_dropping_content_range(bucket, tmp_path, "check", "--json")
    doc = json.loads(p.stdout)
    rb = next(c for c in doc["checks"] if c["id"] == "jobs.read_back")
    assert p.returncode == 1 and rb["status"] == "fail", p.stdout[-2000:] + p.stderr
    assert "S3_FORCE_SINGLE_REQUEST=true" in rb["fix"]
    assert bucket.server.writer_secret_key not in p.stdout + p.stderr


@on("rgw")
def test_plan_measure_writes_what_the_jobs_checks_measured(bucket, tmp_path):
    """`plan --measure` behind a proxy that drops Content-Range: the diff adds S3_FORCE_SINGLE_REQUEST=true
    and the notes say what was measured."""
    srv = bucket.server
    p = cli_behind_a_proxy_dropping_content_range(bucket, tmp_path, "plan", "--measure")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "+S3_FORCE_SINGLE_REQUEST=true" in p.stdout, p.stdout
    assert "note: S3_FORCE_SINGLE_REQUEST=true: measured by jobs.read_back" in p.stdout
    assert "note: measured: jobs.multipart pass" in p.stdout
    assert srv.writer_secret_key not in p.stdout + p.stderr


# -- 7. proxies in front of the S3 API -------------------------------------------------------------------
def _host_set_to(host):
    """What nginx's proxy_pass does by default (Host: $proxy_host, the upstream's own address)."""
    return lambda req: dataclasses.replace(req, headers=[(k, host if k.lower() == "host" else v)
                                                         for k, v in req.headers])


def _head_as_get(req):
    return dataclasses.replace(req, method="GET") if req.method == "HEAD" else req


@on("rgw")
def test_a_proxy_that_rewrites_host_is_named_not_the_secret(bucket, mastodon_code):
    """SigV4 signs Host: every request fails with SignatureDoesNotMatch, yet the secret is right (the
    same key's SigV2 requests, which do not sign Host, pass). Mastodon's code fails the same way."""
    with FaultProxy(upstream_port(bucket)) as proxy:
        proxy.rule(lambda r: True, hold="rewrite", rewrite=_host_set_to(f"127.0.0.1:{upstream_port(bucket)}"))
        s = settings(bucket, proxy.endpoint)
        srv = bucket.server
        run = ProbeRun(s, Credential(srv.writer_access_key, Secret(srv.writer_secret_key)), HttpOptions())
        try:
            assert not probes.probe_access(run)
        finally:
            run.close()
        cred = run.checks["writer.credentials"]
        assert cred.status == "fail" and "something between here and the provider changes the request" in cred.detail
        assert "proxy_set_header Host $http_host" in cred.fix
        m = mastodon_code(bucket, proxy.endpoint)
        with pytest.raises(StorageError) as e:
            m.store(1000, "image/png")
        assert "SignatureDoesNotMatch" in e.value.error, e.value.error


@on("rgw")
def test_a_proxy_that_turns_head_into_get_breaks_mastodon_s_reads_and_is_named(bucket, mastodon_code):
    with FaultProxy(upstream_port(bucket)) as proxy:
        proxy.rule(lambda r: r.method == "HEAD", hold="rewrite", rewrite=_head_as_get)
        rb = run_jobs(bucket, settings(bucket, proxy.endpoint))["jobs.read_back"]
        assert rb.status == "fail", rb
        assert "turns HEAD into GET" in rb.detail and "proxy_cache_convert_head off" in rb.fix
        m = mastodon_code(bucket, proxy.endpoint)
        read = m.code.read(m.store(1000, "image/png"))
        assert read["copied"] is False and "Forbidden" in read["log"], read
        fixed = mastodon_code(bucket, proxy.endpoint, S3_FORCE_SINGLE_REQUEST="true")
        media = fixed.store(1000, "image/png")
        assert fixed.code.read(media)["copied"] is True


# -- 6. the wrong key ------------------------------------------------------------------------------------
def scoped(bucket, uid: str, actions: list[str]) -> Credential:
    """Another RGW user's key, allowed only ACTIONS in this bucket by its policy (the owner's key writes it)."""
    from mastowizard_lab import rgw
    access, secret = rgw.scoped_key(uid)
    rgw.grant(bucket.admin_client, bucket.name, uid, actions)
    return Credential(access, Secret(secret))


@on("rgw")
def test_a_key_that_cannot_delete_fails_and_mastodon_s_deletes_leave_media_behind(bucket, mastodon_code):
    s = settings(bucket, permission="policy")       # ACL mode blocks every bucket policy on RGW: the grant is one
    key = scoped(bucket, "mw-nodelete", ["s3:GetObject", "s3:PutObject", "s3:PutObjectAcl", "s3:ListBucket"])
    checks = run_jobs(bucket, s, writer=key, with_write=True, left_ok=True)   # its probes: removed by the owner
    assert checks["writer.write"].status == "fail" and "could not read or delete" in checks["writer.write"].detail
    assert checks["jobs.key_scope"].status == "fail", checks["jobs.key_scope"]
    assert "the writer cannot do what Mastodon needs" in checks["jobs.key_scope"].detail
    bd = checks["jobs.batch_delete"]
    assert bd.status == "fail" and "s3:DeleteObject" in bd.fix, bd
    env = {"AWS_ACCESS_KEY_ID": key.access_key_id, "AWS_SECRET_ACCESS_KEY": key.secret_access_key.reveal(),
           "S3_BATCH_DELETE_RETRY": "0"}         # Mastodon's retries, with their back-off, would only add time
    m = mastodon_code(bucket, bucket.server.endpoint, permission="policy", **env)
    media = m.store(1000, "image/png")                    # uploads work ...
    m.code.destroy(media)                                 # ... the media's own delete says nothing ...
    with pytest.raises(StorageError) as e:
        m.code.delete([media])                            # ... and a cleanup's batch is refused
    assert "AccessDenied" in e.value.error
    left = bucket.admin_client.list_objects_v2(Bucket=bucket.name, Prefix="media_attachments/files/110").get("KeyCount")
    assert left == 2, "both styles are still in the bucket, billed and unseen"


@on("rgw")
def test_a_key_that_can_only_read_fails_and_so_do_mastodon_s_uploads(bucket, mastodon_code):
    s = settings(bucket, permission="policy")
    key = scoped(bucket, "mw-readonly", ["s3:GetObject", "s3:ListBucket"])
    checks = run_jobs(bucket, s, writer=key, with_write=True)
    assert checks["writer.write"].status == "fail" and "upload refused: AccessDenied" in checks["writer.write"].detail
    assert "s3:PutObject" in checks["writer.write"].fix
    assert checks["jobs.key_scope"].status == "fail" and checks["jobs.multipart"].status == "fail"
    env = {"AWS_ACCESS_KEY_ID": key.access_key_id, "AWS_SECRET_ACCESS_KEY": key.secret_access_key.reveal()}
    with pytest.raises(StorageError) as e:
        mastodon_code(bucket, bucket.server.endpoint, permission="policy", **env).store(1000, "image/png")
    assert "AccessDenied" in e.value.error


# -- 5. a quota ---------------------------------------------------------------------------------------
@on("rgw")
def test_a_bucket_quota_that_refuses_large_uploads_is_named(bucket, mastodon_code):
    from mastowizard_lab import rgw
    s = settings(bucket)
    rgw.set_bucket_quota(bucket.name, 1024 * 1024)         # 1 MiB: small images fit, a video does not
    checks = run_jobs(bucket, s, with_write=True)
    assert checks["writer.write"].status == "pass"
    mp = checks["jobs.multipart"]
    assert mp.status == "fail" and "the bucket's quota refused" in mp.detail and "QuotaExceeded" in mp.detail, mp
    assert "quota" in mp.fix
    with pytest.raises(StorageError) as e:
        mastodon_code(bucket, bucket.server.endpoint).store(6 * MIB)
    assert "QuotaExceeded" in e.value.error


@on("rgw")
def test_a_key_that_may_not_read_the_bucket_s_settings_is_not_green_for_what_it_could_not_see(bucket):
    """A writer limited to objects (the key admins should use) may not read versioning or lifecycle: the
    batch is tried with the probe objects only and said to be untried at Mastodon's size (a warning),
    and retention is not verified (a skip), never a pass."""
    s = settings(bucket, permission="policy")
    key = scoped(bucket, "mw-objects", ["s3:GetObject", "s3:PutObject", "s3:PutObjectAcl", "s3:DeleteObject",
                                        "s3:ListBucket"])
    checks = run_jobs(bucket, s, writer=key, with_write=True)
    assert checks["writer.write"].status == "pass" and checks["jobs.key_scope"].status == "pass"
    bd = checks["jobs.batch_delete"]
    assert bd.status == "warn" and "a batch of S3_BATCH_DELETE_LIMIT=1000 was not tried" in bd.detail, bd
    ret = checks["jobs.retention"]
    assert ret.status == "skip" and "may not read the bucket's lifecycle" in ret.detail, ret
