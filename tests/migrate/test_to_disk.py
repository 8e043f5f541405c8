"""`mastowizard migrate --to-disk` on this machine against the lab's real S3 servers: a bucket filled as
Mastodon fills it (suspended accounts' media private), copied back into public/system, then every
file checked independently: its bytes, its mode (0600 private, 0644 public), its owner; killed
midway and resumed; an object deleted during the run; refusals before anything is written."""

import json
import os
import pwd
import signal
import subprocess
import sys
import time
from urllib.parse import unquote, urlsplit

from helpers.lab import on
from helpers.migrate import rclone_copy

from mastowizard.migrate.copy import copy_tree
from mastowizard.s3.credential import Credential
from mastowizard.secrets import Secret
from mastowizard_lab.media_tree import make_tree

NOBODY = pwd.getpwnam("nobody")


def copy_as_mastodon(bucket, s, tree):
    srv = bucket.server
    result = copy_tree(s, Credential(srv.writer_access_key, Secret(srv.writer_secret_key)), str(tree.root), jobs=16)
    assert not result.failed and result.copied == len(tree.files), result.failed


def instance(tmp_path, bucket, permission="acl", endpoint=None, extra="", owner=NOBODY):
    """An instance directory whose env file stores media in BUCKET, owned by OWNER (no public/system yet)."""
    srv = bucket.server
    live = tmp_path / "live"
    (live / "public").mkdir(parents=True, exist_ok=True)
    env = live / ".env.production"
    env.write_text(f"LOCAL_DOMAIN=lab.example\nS3_ENABLED=true\nS3_BUCKET={bucket.name}\nS3_REGION={srv.region}\n"
                   f"S3_ENDPOINT={endpoint or srv.endpoint}\nS3_PROTOCOL=https\n"
                   f"S3_ALIAS_HOST={bucket.media_https_base.split('://')[1]}\n"
                   f"S3_PERMISSION={'public-read' if permission == 'acl' else ''}\n"
                   f"AWS_ACCESS_KEY_ID={srv.writer_access_key}\nAWS_SECRET_ACCESS_KEY={srv.writer_secret_key}\n{extra}")
    for p in (live, live / "public", env):
        os.chown(p, owner.pw_uid, owner.pw_gid)
    return env, live / "public" / "system"


def run_to_disk(env, *extra, wait=True, tmp=None):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_"))}
    if tmp is not None:
        clean["TMPDIR"] = str(tmp)
    args = [sys.executable, "-m", "mastowizard", "migrate", "--to-disk", "--env-file", str(env), *extra]
    if not wait:
        return subprocess.Popen(args, env=clean, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True)
    p = subprocess.run(args, env=clean, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert "Traceback" not in p.stderr, p.stderr
    return p, (json.loads(p.stdout) if "--json" in extra and p.stdout.startswith("{") else None)


def check_tree(system, tree, owner, rels=None):
    """Every file of TREE under SYSTEM byte for byte, 0600 when private and 0644 otherwise, owned by OWNER;
    every directory 0755 and owned by OWNER; no temporary file left."""
    for rel in rels if rels is not None else tree.files:
        p = system / rel
        st = p.stat()
        assert p.read_bytes() == (tree.root / rel).read_bytes(), rel
        assert st.st_mode & 0o7777 == (0o600 if rel in tree.private else 0o644), (rel, oct(st.st_mode))
        assert (st.st_uid, st.st_gid) == (owner.pw_uid, owner.pw_gid), rel
    for dirpath, dirs, files in os.walk(system):
        for d in dirs:
            st = os.stat(os.path.join(dirpath, d))
            assert st.st_mode & 0o7777 == 0o755 and st.st_uid == owner.pw_uid, (dirpath, d, oct(st.st_mode))
        assert not [f for f in files if ".mastowizard-" in f], (dirpath, files)


def test_the_bucket_comes_back_to_disk_exactly_with_modes_and_owner_and_a_rerun_writes_nothing(
        bucket, prepared, tmp_path):
    s = prepared("acl")
    tree = make_tree(tmp_path / "source", 120, suspended=5, big=1)     # one video streamed, never held whole
    copy_as_mastodon(bucket, s, tree)
    env, system = instance(tmp_path, bucket)

    p, doc = run_to_disk(env, "--dry-run", "--json")
    assert p.returncode == 0 and doc["dry_run"] and doc["copied"] == len(tree.files), (doc, p.stderr)
    assert not system.exists()                          # a dry run writes nothing

    p, doc = run_to_disk(env, "--yes", "--json", "--jobs", "8")
    assert p.returncode == 0 and doc["ok"], (p.stderr[-2000:], doc)
    assert doc["copied"] == len(tree.files) and doc["private"] == len(tree.private)
    assert doc["verified"]["on_disk"] == len(tree.files) and doc["verified"]["sampled"] >= 10
    assert "server_name " + bucket.media_https_base.split("://")[1].split(":")[0] in doc["nginx"]
    assert "files/s" in p.stderr and "files/s" not in p.stdout          # progress on stderr only
    check_tree(system, tree, NOBODY)
    assert system.stat().st_uid == NOBODY.pw_uid and system.stat().st_mode & 0o7777 == 0o755
    before = {rel: (system / rel).stat().st_ino for rel in tree.files}

    p, doc = run_to_disk(env, "--yes", "--json")
    assert p.returncode == 0 and doc["ok"] and doc["copied"] == 0 and doc["skipped"] == len(tree.files), doc
    assert {rel: (system / rel).stat().st_ino for rel in tree.files} == before     # nothing rewritten

    # a file cut short and one with other bytes of the same size are written again; nothing else
    cut, same_size = tree.files[3], next(r for r in tree.files if r.startswith("accounts/"))
    (system / cut).write_bytes(b"short")
    data = bytearray((system / same_size).read_bytes())
    data[-1] ^= 0xFF
    (system / same_size).write_bytes(bytes(data))
    p, doc = run_to_disk(env, "--yes", "--json")
    assert p.returncode == 0 and doc["ok"] and doc["copied"] == 2, doc
    check_tree(system, tree, NOBODY)

    # without --json: the lines, and the nginx block after a complete copy
    p, _ = run_to_disk(env, "--yes")
    assert p.returncode == 0 and "server {" in p.stdout and "plan --to-disk" in p.stdout, p.stdout
    assert bucket.server.writer_secret_key not in p.stdout + p.stderr


@on("rgw")
def test_a_prefixed_bucket_lands_without_its_prefix_under_paperclip_root_path(s3server, bucket, prepared, tmp_path):
    s = prepared("acl", prefix="mastodon")
    tree = make_tree(tmp_path / "source", 40, suspended=2)
    copy_as_mastodon(bucket, s, tree)
    root = tmp_path / "elsewhere" / "system"
    env, _ = instance(tmp_path, bucket, extra=f"S3_KEY_PREFIX=mastodon\nPAPERCLIP_ROOT_PATH={root}\n")
    bucket.admin_client.put_object(Bucket=bucket.name, Key="mastodon/accounts/", Body=b"")      # a folder marker
    bucket.admin_client.put_object(Bucket=bucket.name, Key="outside/prefix.txt", Body=b"x")    # not Mastodon's
    os.makedirs(root.parent)
    os.chown(root.parent, NOBODY.pw_uid, NOBODY.pw_gid)
    p, doc = run_to_disk(env, "--yes", "--json")
    assert p.returncode == 0 and doc["ok"], (p.stderr[-2000:], doc)
    assert doc["copied"] == len(tree.files) and doc["not_copied"] == {"folder marker (a key ending in /)": 1}
    check_tree(root, tree, NOBODY)
    assert not (root / "outside").exists() and not (root / "mastodon").exists()


@on("rgw")
def test_a_bucket_a_copy_tool_left_private_is_named_and_lands_on_disk_only_as_chosen(s3server, bucket, prepared,
                                                                                      tmp_path):
    """rclone's default ACL is private: every object of its copy refuses strangers. Written as the
    bucket shows it, every attachment would land 0600 and nginx could serve none of them. The copy
    names the bucket suspect, writes nothing until the operator chooses, and writes as chosen."""
    prepared("acl")
    tree = make_tree(tmp_path / "source", 40, suspended=0)
    rclone_copy(tree.root, bucket)
    env, system = instance(tmp_path, bucket)

    p, doc = run_to_disk(env, "--dry-run")
    assert p.returncode == 0 and "is suspect" in p.stdout and "--private-media" in p.stdout, p.stdout
    p, _ = run_to_disk(env, "--yes")
    assert p.returncode == 2 and "--private-media" in p.stderr, (p.returncode, p.stderr)
    assert "is suspect" in p.stdout and not system.exists()                 # nothing written

    p, doc = run_to_disk(env, "--yes", "--json", "--private-media", "public")
    assert p.returncode == 0 and doc["ok"] and doc["private_media"] == "public", (p.stderr[-2000:], doc)
    assert doc["survey"]["suspect"] and doc["copied"] == len(tree.files), doc["survey"]
    check_tree(system, tree, NOBODY)      # attachments 0644 as chosen; backups/ and imports/ still 0600
    assert doc["private"] == len(tree.private) == 2


@on("rgw")
def test_objects_deleted_during_the_run_are_counted_not_failed(s3server, bucket, prepared, tmp_path):
    """Two objects are deleted on the server the moment the copy first GETs them (a proxy deletes each
    for real, then forwards the request): the copy counts them as vanished and is complete. (The
    survey's anonymous HEADs of a sample pass: the deletion comes after the listing.)"""
    from mastowizard_lab.faultproxy import FaultProxy
    s = prepared("acl")
    tree = make_tree(tmp_path / "source", 60, suspended=2)
    copy_as_mastodon(bucket, s, tree)
    admin = bucket.admin_client
    gone = [r for r in tree.files if r.startswith("media_attachments/")][5:7]
    deleted: list[str] = []

    def delete_first(req):
        key = unquote(req.path).split("/", 2)[2]
        admin.delete_object(Bucket=bucket.name, Key=key)
        deleted.append(key)
        return req
    with FaultProxy(urlsplit(s3server.endpoint).port) as proxy:
        for rel in gone:
            proxy.rule(lambda r, rel=rel: unquote(r.path).endswith("/" + rel) and r.method == "GET",
                       "rewrite", times=1, rewrite=delete_first)
        env, system = instance(tmp_path, bucket, endpoint=proxy.endpoint)
        p, doc = run_to_disk(env, "--yes", "--json", "--jobs", "4")
    assert sorted(deleted) == sorted(gone)
    assert p.returncode == 0 and doc["ok"] and doc["vanished"] == 2 and not doc["failed"], (doc, p.stderr[-2000:])
    assert doc["copied"] == len(tree.files) - 2
    check_tree(system, tree, NOBODY, [r for r in tree.files if r not in gone])
    assert not any((system / r).exists() for r in gone)


def test_a_run_killed_midway_resumes_and_writes_no_complete_file_twice(bucket, prepared, tmp_path):
    """Killed once 30 objects were downloaded and the 31st is held on its way to the server (a proxy
    in front of it: the kill point is awaited, never guessed): what was complete on disk stays as it
    is (same inode), the rerun downloads none of it again and ends complete; no temporary file is left."""
    from mastowizard_lab.faultproxy import FaultProxy
    s = prepared("acl")
    tree = make_tree(tmp_path / "source", 100, suspended=4)
    copy_as_mastodon(bucket, s, tree)
    object_get = lambda r: r.method == "GET" and not r.query          # noqa: E731 - not a listing

    def got(proxy) -> list[str]:
        return [unquote(urlsplit(t).path).split("/", 2)[2] for m, t, st in proxy.log.forwarded
                if m == "GET" and st == 200 and not urlsplit(t).query]

    with FaultProxy(urlsplit(bucket.server.endpoint).port) as proxy:
        env, system = instance(tmp_path, bucket, endpoint=proxy.endpoint)
        proxy.rule(object_get, "request", after=30)
        proc = run_to_disk(env, "--yes", "--json", "--jobs", "4", wait=False)
        proxy.wait_held(1, alive=lambda: proc.poll() is None)
        proxy.rule(object_get, "request")            # every further download held too: the set below is final
        proxy.wait_idle()
        first = set(got(proxy))
        assert len(first) == 30, len(first)
        deadline = time.monotonic() + 60              # each downloaded object on disk under its real name
        while missing := {r for r in first if not (system / r).exists()}:
            assert time.monotonic() < deadline, f"30 downloaded files awaited on disk; missing {sorted(missing)[:3]}"
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        complete = {r: (system / r).stat().st_ino for r in first}
        proxy.clear()
        before = len(proxy.log.forwarded)
        p, doc = run_to_disk(env, "--yes", "--json")
        assert p.returncode == 0 and doc["ok"], (doc, p.stderr[-2000:])
        rerun = proxy.log.forwarded[before:]
    # the rerun lists the bucket three times (one page each): what to copy, the copy, the verification;
    # the copy's downloads are those between the second listing and the third (then come the samples')
    listings = [i for i, (m, t, _) in enumerate(rerun) if m == "GET" and "list-type" in urlsplit(t).query]
    assert len(listings) == 3, listings
    again = {unquote(urlsplit(t).path).split("/", 2)[2] for m, t, st in rerun[listings[1]:listings[2]]
             if m == "GET" and not urlsplit(t).query}
    assert len(again) == len(tree.files) - 30, len(again)
    assert doc["skipped"] == 30 and doc["copied"] == len(tree.files) - 30, doc
    assert again.isdisjoint(first), f"downloaded again: {sorted(again & first)[:3]}"
    assert {r: (system / r).stat().st_ino for r in first} == complete, "a complete file was written again"
    check_tree(system, tree, NOBODY)


@on("rgw")
def test_bad_input_is_one_line_and_nothing_is_written(s3server, bucket, prepared, tmp_path):
    s = prepared("acl")
    tree = make_tree(tmp_path / "source", 30, suspended=0)
    copy_as_mastodon(bucket, s, tree)
    env, system = instance(tmp_path, bucket)

    def refused(p, *words, said=""):
        lines = p.stderr.strip().splitlines()
        assert p.returncode == 2 and len(lines) == 1 and lines[0].startswith("mastowizard: "), p.stderr
        assert all(w in lines[0] for w in words), lines[0]
        assert not system.exists() and said in p.stdout and (said or p.stdout == ""), p.stdout

    disk_env = tmp_path / "disk.env"
    disk_env.write_text("LOCAL_DOMAIN=lab.example\nS3_ENABLED=false\nS3_BUCKET=x\n")
    refused(run_to_disk(disk_env, "--yes")[0], "S3_ENABLED is not true")
    refused(run_to_disk(env, "--yes", "--bucket", "other")[0], "--bucket", "does not go with --to-disk")
    refused(run_to_disk(env, "--yes", "--source", str(tmp_path))[0], "--source")
    p, _ = run_to_disk(env)                       # no terminal to ask, no --yes: told what it would copy
    refused(p, "--yes", said="32 to copy")

    mnt = tmp_path / "mnt"
    mnt.mkdir()
    for opts, words in (("ro,size=16m", ("not writable", "Read-only")), ("size=1m", ("free", "needs"))):
        subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(mnt)], check=True)
        try:
            small, target = instance(tmp_path / opts, bucket, extra=f"PAPERCLIP_ROOT_PATH={mnt}/system\n")
            p, _ = run_to_disk(small, "--yes")
            lines = p.stderr.strip().splitlines()
            assert p.returncode == 2 and len(lines) == 1 and all(w in lines[0] for w in words), p.stderr
            assert os.listdir(mnt) == []
        finally:
            subprocess.run(["umount", str(mnt)], check=True)
