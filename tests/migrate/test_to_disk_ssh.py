"""`mastowizard migrate --to-disk --ssh`: the bucket copied back into the public/system of the Mastodon
host (the lab's sshd, an instance directory owned by the instance's user), as one tar stream into
`tar -x` run there through sudo as that user. Every file is then checked on the host's disk
independently: bytes, owner, mode; directories 0755; no temporary name left."""

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from urllib.parse import unquote, urlsplit

import pytest
from test_to_disk import check_tree, copy_as_mastodon

from mastowizard_lab import sshd
from mastowizard_lab.media_tree import make_tree

PORT = sshd.SSH_PORT


@pytest.fixture
def remote_instance(lab_info, tmp_path):
    """An instance directory on the lab host owned by the instance's user, its public/system not made yet."""
    sshd.start()
    live = sshd.instance_dir() / f"todisk-{os.getpid()}-{tmp_path.name[-12:]}"
    shutil.rmtree(live, ignore_errors=True)
    (live / "public").mkdir(parents=True)
    m = pwd.getpwnam(sshd.MASTODON_USER)
    for p in (live, live / "public"):
        os.chown(p, m.pw_uid, m.pw_gid)
    yield live
    shutil.rmtree(live, ignore_errors=True)


def write_env(live, bucket, endpoint=None):
    srv = bucket.server
    env = live / ".env.production"
    env.write_text(f"LOCAL_DOMAIN=lab.example\nS3_ENABLED=true\nS3_BUCKET={bucket.name}\nS3_REGION={srv.region}\n"
                   f"S3_ENDPOINT={endpoint or srv.endpoint}\nS3_PROTOCOL=https\n"
                   f"S3_ALIAS_HOST={bucket.media_https_base.split('://')[1]}\nS3_PERMISSION=public-read\n"
                   f"AWS_ACCESS_KEY_ID={srv.writer_access_key}\nAWS_SECRET_ACCESS_KEY={srv.writer_secret_key}\n")
    m = pwd.getpwnam(sshd.MASTODON_USER)
    os.chown(env, m.pw_uid, m.pw_gid)
    os.chmod(env, 0o600)
    return env


def to_disk_ssh(tmp_path, env, user, *extra, wait=True):
    kh = tmp_path / "known_hosts"
    kh.write_text(sshd.known_hosts_line())
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_"))}
    clean.update(MASTOWIZARD_SUDO_PASSWORD=sshd.ADMIN_PASSWORD, TMPDIR=str(tmp_path))
    args = [sys.executable, "-m", "mastowizard", "migrate", "--to-disk", "--ssh", f"{user}@127.0.0.1:{PORT}",
            "--identity", str(sshd.client_key()), "--known-hosts", str(kh), "--env-file", str(env), "--yes", "--json",
            *extra]
    if not wait:
        return subprocess.Popen(args, env=clean, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)
    p = subprocess.run(args, env=clean, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert "Traceback" not in p.stderr, p.stderr
    return p, (json.loads(p.stdout) if p.stdout.startswith("{") else None)


@pytest.mark.parametrize("s3server", ["rgw"], indirect=True)
def test_an_admin_login_writes_the_bucket_to_the_hosts_disk_as_the_instances_user(
        s3server, bucket, prepared, tmp_path, remote_instance):
    s = prepared("acl")
    tree = make_tree(tmp_path / "source", 150, suspended=5, seed=5, big=1)     # one spooled, then streamed
    copy_as_mastodon(bucket, s, tree)
    env = write_env(remote_instance, bucket)
    system = remote_instance / "public" / "system"
    mastodon = pwd.getpwnam(sshd.MASTODON_USER)

    # the admin login is not the instance's user: without --sudo-user, refused before anything is written;
    # the env file (0600) cannot even be read, and where it can, the files could not belong to the instance
    p, _ = to_disk_ssh(tmp_path, env, sshd.ADMIN_USER)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(lines) == 1 and "permission denied" in lines[0] and not system.exists(), p.stderr
    os.chmod(env, 0o644)
    p, _ = to_disk_ssh(tmp_path, env, sshd.ADMIN_USER)
    os.chmod(env, 0o600)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(lines) == 1 and not system.exists(), p.stderr
    assert f"--sudo-user {sshd.MASTODON_USER}" in lines[0] and "nothing was written" in lines[0], lines[0]

    p, doc = to_disk_ssh(tmp_path, env, sshd.ADMIN_USER, "--sudo-user", sshd.MASTODON_USER)
    assert p.returncode == 0 and doc["ok"], (p.stderr[-2000:], json.dumps(doc)[-3000:])
    assert doc["copied"] == len(tree.files) and doc["private"] == len(tree.private)
    assert "tar" in doc["how"] and doc["verified"]["on_disk"] == len(tree.files) and doc["verified"]["sampled"] >= 10
    check_tree(system, tree, mastodon)
    assert sshd.ADMIN_PASSWORD not in p.stdout + p.stderr
    assert bucket.server.writer_secret_key not in p.stdout + p.stderr
    inodes = {r: (system / r).stat().st_ino for r in tree.files}

    p, doc = to_disk_ssh(tmp_path, env, sshd.ADMIN_USER, "--sudo-user", sshd.MASTODON_USER)
    assert p.returncode == 0 and doc["ok"] and doc["copied"] == 0 and doc["skipped"] == len(tree.files), doc
    assert {r: (system / r).stat().st_ino for r in tree.files} == inodes
    assert [x for x in os.listdir(tmp_path) if x.startswith("mastowizard-")] == []     # no spool left here


@pytest.mark.parametrize("s3server", ["rgw"], indirect=True)
def test_a_copy_to_the_host_killed_midway_resumes_without_rewriting_a_complete_file(
        s3server, bucket, prepared, tmp_path, remote_instance):
    """Killed once 40 objects were downloaded and streamed, the 41st held on its way to the server:
    the files tar had put under their real names are complete and stay (same inode); the rerun
    removes the temporary names, downloads none of those again and ends complete."""
    from mastowizard_lab.faultproxy import FaultProxy
    s = prepared("acl")
    tree = make_tree(tmp_path / "source", 120, suspended=4, seed=6)
    copy_as_mastodon(bucket, s, tree)
    system = remote_instance / "public" / "system"
    object_get = lambda r: r.method == "GET" and not r.query          # noqa: E731 - not a listing
    with FaultProxy(urlsplit(s3server.endpoint).port) as proxy:
        env = write_env(remote_instance, bucket, endpoint=proxy.endpoint)
        proxy.rule(object_get, "request", after=40)
        proc = to_disk_ssh(tmp_path, env, sshd.ADMIN_USER, "--sudo-user", sshd.MASTODON_USER, "--jobs", "4",
                           wait=False)
        proxy.wait_held(1, alive=lambda: proc.poll() is None)
        proxy.rule(object_get, "request")
        proxy.wait_idle()
        first = {unquote(urlsplit(t).path).split("/", 2)[2] for m, t, st in proxy.log.forwarded
                 if m == "GET" and st == 200 and not urlsplit(t).query}
        assert len(first) == 40
        # tar on the host has linked each of them under its real name: awaited, file by file
        deadline = time.monotonic() + 60
        while missing := {r for r in first if not (system / r).exists()}:
            assert time.monotonic() < deadline, f"40 streamed files awaited on the host; missing {sorted(missing)[:3]}"
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        complete = {r: (system / r).stat().st_ino for r in first}
        temps = [f for _, _, fs in os.walk(system) for f in fs if ".mastowizard-" in f]
        assert temps, "the killed run's temporary names are expected on the host"
        proxy.clear()
        before = len(proxy.log.forwarded)
        p, doc = to_disk_ssh(tmp_path, env, sshd.ADMIN_USER, "--sudo-user", sshd.MASTODON_USER)
        rerun = proxy.log.forwarded[before:]
    assert p.returncode == 0 and doc["ok"], (p.stderr[-2000:], json.dumps(doc)[-3000:])
    assert doc["skipped"] == 40 and doc["temps_removed"] == len(temps), doc
    listings = [i for i, (m, t, _) in enumerate(rerun) if m == "GET" and "list-type" in urlsplit(t).query]
    assert len(listings) == 3, listings
    again = {unquote(urlsplit(t).path).split("/", 2)[2] for m, t, st in rerun[listings[1]:listings[2]]
             if m == "GET" and not urlsplit(t).query}
    assert again.isdisjoint(first) and len(again) == len(tree.files) - 40, sorted(again & first)[:3]
    assert {r: (system / r).stat().st_ino for r in first} == complete, "a complete file was written again"
    check_tree(system, tree, pwd.getpwnam(sshd.MASTODON_USER))
