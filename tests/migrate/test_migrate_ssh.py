"""`mastowizard migrate --ssh`: the media tree is on the Mastodon host (the lab's sshd, a real instance
directory owned by the instance's user) and streamed from it, as one tar stream or over SFTP. Every
object is then checked independently with boto3 and anonymous HTTP, as in test_migrate.py."""

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time

import pytest
from helpers.migrate import ALL_USERS, head_with_bytes_checked, journal_rows

from mastowizard.migrate.objects import CACHE_CONTROL, content_type
from mastowizard_lab import sshd
from mastowizard_lab.media_tree import make_tree

PORT = sshd.SSH_PORT


@pytest.fixture(scope="module")
def lab_sshd():
    sshd.start()
    return sshd


@pytest.fixture
def remote_tree(lab_sshd):
    """A Mastodon-shaped tree in the lab instance's public/system, owned by its user (0600 files too)."""
    system = sshd.instance_dir() / "live" / "public" / "system"
    shutil.rmtree(system, ignore_errors=True)
    tree = make_tree(system, 150, suspended=5, seed=3)
    m = pwd.getpwnam(sshd.MASTODON_USER)
    for dirpath, dirs, files in os.walk(system):
        for name in [*dirs, *files]:
            os.chown(os.path.join(dirpath, name), m.pw_uid, m.pw_gid)
    os.chown(system, m.pw_uid, m.pw_gid)
    yield tree
    shutil.rmtree(system, ignore_errors=True)
    system.mkdir()
    os.chown(system, m.pw_uid, m.pw_gid)


def migrate_ssh(bucket, lab_info, tmp_path, user, *extra, permission="acl", wait=True, env_file=True):
    srv = bucket.server
    kh = tmp_path / "known_hosts"
    kh.write_text(sshd.known_hosts_line())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_"))}
    env.update(AWS_ACCESS_KEY_ID=srv.writer_access_key, AWS_SECRET_ACCESS_KEY=srv.writer_secret_key,
               XDG_STATE_HOME=str(tmp_path / "state"), TMPDIR=str(tmp_path / "tmp"),
               MASTOWIZARD_SUDO_PASSWORD=sshd.ADMIN_PASSWORD)
    (tmp_path / "tmp").mkdir(exist_ok=True)
    args = [sys.executable, "-m", "mastowizard", "migrate", "--ssh", f"{user}@127.0.0.1:{PORT}",
            "--identity", str(sshd.client_key()), "--known-hosts", str(kh),
            *(["--env-file", str(sshd.env_file())] if env_file else
              ["--source", str(sshd.instance_dir() / "live" / "public" / "system")]),
            "--bucket", bucket.name, "--provider", "ceph" if srv.name == "rgw" else "other",
            "--endpoint", srv.endpoint, "--region", srv.region, "--addressing", "path", "--permission", permission,
            "--alias-host", bucket.media_https_base.split("://")[1], "--ca-bundle", lab_info.ca_pem,
            *[a for r in lab_info.resolve() for a in ("--resolve", r)], "--yes", "--json", *extra]
    if not wait:
        return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    p = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert "Traceback" not in p.stderr, p.stderr
    return p, (json.loads(p.stdout) if p.stdout.startswith("{") else None)


def check_objects(bucket, s, tree, anon_http):
    admin = bucket.admin_client
    for rel in tree.files:
        key = s.key(rel)
        local = (tree.root / rel).read_bytes()
        obj = head_with_bytes_checked(admin, bucket.name, key, local)
        assert obj["ContentType"] == content_type(rel) and obj["CacheControl"] == CACHE_CONTROL, key
        grants = admin.get_object_acl(Bucket=bucket.name, Key=key)["Grants"]
        public = any(g["Grantee"].get("URI") == ALL_USERS and g["Permission"] == "READ" for g in grants)
        assert public == (rel not in tree.private), (key, grants)
        r = anon_http.get(f"{bucket.media_https_base}/{key}")
        assert (r.status_code == 200) == (rel not in tree.private), (key, r.status_code)


@pytest.mark.parametrize("s3server", ["rgw"], indirect=True)
@pytest.mark.parametrize("transfer", ["tar", "sftp"])
def test_the_hosts_tree_is_streamed_over_ssh_exactly_and_a_rerun_copies_nothing(
        s3server, bucket, lab_info, prepared, anon_http, tmp_path, remote_tree, transfer):
    s = prepared("acl")
    p, doc = migrate_ssh(bucket, lab_info, tmp_path, sshd.MASTODON_USER, "--transfer", transfer)
    assert p.returncode == 0 and doc["ok"], (p.stderr[-2000:], json.dumps(doc))
    assert doc["files"] == len(remote_tree.files) and doc["copied"] == len(remote_tree.files)
    assert doc["verified"]["ok"] and doc["verified"]["public_checked"] >= 10 and doc["verified"]["private_checked"] >= 2
    check_objects(bucket, s, remote_tree, anon_http)
    p, again = migrate_ssh(bucket, lab_info, tmp_path, sshd.MASTODON_USER, "--transfer", transfer)
    assert p.returncode == 0 and again["copied"] == 0 and again["skipped"] == len(remote_tree.files)
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize("s3server", ["ministack"], indirect=True)
def test_an_admin_login_reads_the_instances_private_files_through_sudo(
        s3server, bucket, lab_info, prepared, anon_http, tmp_path, remote_tree):
    s = prepared("policy")
    p, doc = migrate_ssh(bucket, lab_info, tmp_path, sshd.ADMIN_USER, "--sudo-user", sshd.MASTODON_USER,
                         permission="policy")
    assert p.returncode == 0 and doc["ok"], (p.stderr[-2000:], json.dumps(doc))
    assert doc["copied"] == len(remote_tree.files) and doc["private"] == len(remote_tree.private)
    admin = bucket.admin_client
    for rel in remote_tree.files:
        head_with_bytes_checked(admin, s.bucket, s.key(rel), (remote_tree.root / rel).read_bytes())
    assert sshd.ADMIN_PASSWORD not in p.stdout + p.stderr


@pytest.mark.parametrize("s3server", ["rgw"], indirect=True)
def test_without_sudo_the_files_the_login_cannot_read_are_named_with_the_fix(
        s3server, bucket, lab_info, prepared, tmp_path, remote_tree):
    prepared("acl")
    # the admin cannot read .env.production either: the source is given
    p, doc = migrate_ssh(bucket, lab_info, tmp_path, sshd.ADMIN_USER, env_file=False)
    unreadable = {r for r in remote_tree.private if not r.startswith(("backups/", "imports/"))}
    assert p.returncode == 1 and not doc["ok"]
    failed = {f["key"]: f["error"] for f in doc["failed"]}
    assert set(failed) == unreadable, failed
    assert all("permission denied" in e and "--sudo-user" in e for e in failed.values())
    assert doc["copied"] == len(remote_tree.files) - len(unreadable)
    # SFTP cannot read through sudo: refused before anything starts
    p, _ = migrate_ssh(bucket, lab_info, tmp_path, sshd.ADMIN_USER, "--sudo-user", sshd.MASTODON_USER,
                       "--transfer", "sftp", env_file=False)
    assert p.returncode == 2 and "--transfer" in p.stderr and "tar" in p.stderr


@pytest.mark.parametrize("s3server", ["rgw"], indirect=True)
def test_a_copy_over_ssh_killed_midway_resumes_to_a_complete_copy(
        s3server, bucket, lab_info, prepared, anon_http, tmp_path, remote_tree):
    """Killed once 10 objects are stored and the 11th is held on its way to the server (a proxy in
    front of it: the kill point is awaited, never guessed); the rerun sends none of the 10 again."""
    from urllib.parse import urlsplit

    from mastowizard_lab.faultproxy import FaultProxy
    s = prepared("acl")
    single_put = lambda r: r.method == "PUT" and not r.query          # noqa: E731
    with FaultProxy(urlsplit(s3server.endpoint).port) as proxy:
        proxy.rule(single_put, "request", after=10)
        proc = migrate_ssh(bucket, lab_info, tmp_path, sshd.MASTODON_USER, "--jobs", "1", "--endpoint",
                           proxy.endpoint, wait=False)
        proxy.wait_held(1, alive=lambda: proc.poll() is None)
        proxy.wait_idle()
        deadline = time.monotonic() + 60
        while journal_rows(tmp_path / "state") < 10:
            assert time.monotonic() < deadline and proc.poll() is None, journal_rows(tmp_path / "state")
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)          # mid-copy: the journal holds 10 files, the rest are to go
        proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        first = [t for m, t, st in proxy.log.forwarded if m == "PUT" and st == 200]
        assert len(first) == 10
        proxy.clear()
        p, doc = migrate_ssh(bucket, lab_info, tmp_path, sshd.MASTODON_USER, "--endpoint", proxy.endpoint)
        assert p.returncode == 0 and doc["ok"] and doc["verified"]["listed"] == len(remote_tree.files), doc
        assert doc["skipped"] == 10               # what the killed run completed is not sent again
        again = [t for m, t, st in proxy.log.forwarded if m == "PUT" and st == 200]
        assert len(again) == len(set(again)), "an object was written twice"
    check_objects(bucket, s, remote_tree, anon_http)


def test_a_missing_source_on_the_host_is_one_line(lab_sshd, tmp_path):
    kh = tmp_path / "known_hosts"
    kh.write_text(sshd.known_hosts_line())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_"))}
    env.update(AWS_ACCESS_KEY_ID="AKIAEXAMPLEEXAMPLE12", AWS_SECRET_ACCESS_KEY="x" * 40)
    p = subprocess.run([sys.executable, "-m", "mastowizard", "migrate",
                        "--ssh", f"{sshd.MASTODON_USER}@127.0.0.1:{PORT}",
                        "--identity", str(sshd.client_key()), "--known-hosts", str(kh), "--source", "/nowhere/system",
                        "--bucket", "media", "--provider", "aws", "--region", "eu-west-1", "--yes"],
                       env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "/nowhere/system is not a directory on" in p.stderr and "--source" in p.stderr
