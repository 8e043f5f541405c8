"""`mastowizard migrate` against the lab's real S3 servers, ACL and policy mode: a Mastodon-shaped tree
is copied, then every object is checked independently (boto3 as the bucket owner, anonymous HTTP
through nginx as a browser): bytes, Content-Type, Cache-Control, ACL, who can read it."""

import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from mastowizard.migrate.objects import CACHE_CONTROL, content_type
from mastowizard.s3.bucket_setup import setup_bucket
from mastowizard.s3.credential import Credential
from mastowizard.secrets import Secret
from mastowizard.settings import Settings
from mastowizard_lab.media_tree import make_tree

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def settings_for(bucket, permission, prefix=None):
    srv = bucket.server
    return Settings.build(bucket=bucket.name, provider="ceph" if srv.name == "rgw" else "other", region=srv.region,
                          endpoint=srv.endpoint, addressing="path", permission=permission,
                          alias_host=bucket.media_https_base.split("://")[1], protocol="https", key_prefix=prefix)


def migrate(bucket, lab_info, tree_root, state, permission, *extra, prefix=None, timeout=300, wait=True):
    srv = bucket.server
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_"))}
    env.update(AWS_ACCESS_KEY_ID=srv.writer_access_key, AWS_SECRET_ACCESS_KEY=srv.writer_secret_key,
               XDG_STATE_HOME=str(state), TMPDIR=str(state.parent / "tmp"))
    (state.parent / "tmp").mkdir(exist_ok=True)
    args = [sys.executable, "-m", "mastowizard", "migrate", "--source", str(tree_root), "--bucket", bucket.name,
            "--provider", "ceph" if srv.name == "rgw" else "other", "--endpoint", srv.endpoint,
            "--region", srv.region, "--addressing", "path", "--permission", permission,
            "--alias-host", bucket.media_https_base.split("://")[1], "--ca-bundle", lab_info.ca_pem,
            *[a for r in lab_info.resolve() for a in ("--resolve", r)], "--yes", "--json",
            *(["--key-prefix", prefix] if prefix else []), *extra]
    if not wait:
        return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)
    p = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    assert "Traceback" not in p.stderr, p.stderr
    doc = json.loads(p.stdout)
    return p, doc


def journal_rows(state) -> int:
    """How many files a running copy's journal holds as stored (its committed rows), read as SQLite
    reads a database another process writes."""
    for path in (state / "mastowizard" / "migrate").glob("*.sqlite"):
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.1) as db:
                return db.execute("SELECT count(*) FROM stored").fetchone()[0]
        except sqlite3.Error:
            return 0
    return 0


@pytest.fixture
def prepared(bucket, request):
    """The bucket set up for the mode with the lab's admin key (ACLs enabled, or the public-read policy)."""
    def prepare(permission, prefix=None):
        srv = bucket.server
        s = settings_for(bucket, permission, prefix)
        checks = setup_bucket(s, Credential(srv.admin_access_key, Secret(srv.admin_secret_key)))
        assert not [c for c in checks if c.status == "fail"], [(c.id, c.detail) for c in checks]
        return s
    return prepare


def objects_as_a_stranger_and_as_the_owner(bucket, s, tree, anon_http, exposed_ok=False):
    """Every file: stored bytes and headers (owner's view), its ACL, and what an anonymous GET through
    the media host gets. Returns the keys that were readable anonymously."""
    admin = bucket.admin_client
    readable = set()
    for rel in tree.files:
        key = s.key(rel)
        local = (tree.root / rel).read_bytes()
        obj = admin.get_object(Bucket=bucket.name, Key=key)
        assert obj["Body"].read() == local, key
        assert obj["ContentType"] == content_type(rel), (key, obj["ContentType"])
        assert obj["CacheControl"] == CACHE_CONTROL, key
        private = rel in tree.private
        if s.permission == "acl":
            grants = admin.get_object_acl(Bucket=bucket.name, Key=key)["Grants"]
            public = any(g["Grantee"].get("URI") == ALL_USERS and g["Permission"] == "READ" for g in grants)
            assert public == (not private), (key, grants)
        r = anon_http.get(f"{bucket.media_https_base}/{key}")
        if r.status_code == 200:
            assert r.content == local
            readable.add(rel)
    return readable


@pytest.mark.parametrize("permission", ["acl", "policy"])
def test_a_mastodon_tree_is_copied_exactly_and_a_rerun_copies_nothing(bucket, lab_info, prepared, anon_http,
                                                                       tmp_path, permission):
    s = prepared(permission, prefix="masto")
    tree = make_tree(tmp_path / "system", 160, suspended=5)
    p, doc = migrate(bucket, lab_info, tree.root, tmp_path / "state", permission, prefix="masto")
    assert p.returncode == 0 and doc["ok"], doc
    assert doc["files"] == len(tree.files) and doc["copied"] == len(tree.files) and doc["private"] == len(tree.private)
    assert doc["verified"]["ok"] and doc["verified"]["public_checked"] >= 10 and doc["verified"]["private_checked"] >= 2
    assert "files/s" in p.stderr                            # progress went to stderr, not into the JSON

    readable = objects_as_a_stranger_and_as_the_owner(bucket, s, tree, anon_http)
    public = set(tree.files) - set(tree.private)
    archives = {r for r in tree.private if r.startswith(("backups/", "imports/"))}
    suspended = set(tree.private) - archives
    assert public <= readable and not (archives & readable)
    if permission == "acl":
        assert not (suspended & readable)            # 0600 on disk: private object ACL
    else:
        assert suspended <= readable                 # the bucket policy exposes them, and the copy said so
        assert doc["exposed"] == len(suspended)

    p, again = migrate(bucket, lab_info, tree.root, tmp_path / "state", permission, prefix="masto")
    assert p.returncode == 0 and again["copied"] == 0 and again["skipped"] == len(tree.files)


def test_acl_mode_on_a_bucket_with_acls_disabled_stops_with_the_fix(s3server, bucket, lab_info, tmp_path):
    if not s3server.capabilities.get("default_acls_disabled"):
        pytest.skip(f"{s3server.name} buckets start with ACLs enabled")
    tree = make_tree(tmp_path / "system", 120)
    p, doc = migrate(bucket, lab_info, tree.root, tmp_path / "state", "acl")
    assert p.returncode == 1 and not doc["ok"]
    assert "AccessControlListNotSupported" in doc["aborted"]
    assert doc["copied"] + len(doc["failed"]) < len(tree.files)      # it stopped instead of failing every file


def test_a_copy_killed_at_random_points_resumes_to_a_complete_copy(bucket, lab_info, prepared, tmp_path):
    """SIGKILL during the copy, several times, then a rerun: every object complete and byte-identical,
    and what was complete before a kill is not uploaded again."""
    s = prepared("acl")
    tree = make_tree(tmp_path / "system", 400, big=1)    # one video above the multipart threshold
    rng = random.Random(7)
    killed, rows = 0, 0
    for _ in range(3):
        proc = migrate(bucket, lab_info, tree.root, tmp_path / "state", "acl", "--jobs", "8", wait=False)
        target, deadline = rows + rng.randint(20, 120), time.monotonic() + 60
        while proc.poll() is None and rows < target and time.monotonic() < deadline:
            rows = journal_rows(tmp_path / "state")
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.3))         # anywhere: between files, mid-PUT, mid-multipart
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.communicate()
    assert killed >= 1
    p, doc = migrate(bucket, lab_info, tree.root, tmp_path / "state", "acl")
    assert p.returncode == 0 and doc["ok"] and doc["verified"]["listed"] == len(tree.files)
    assert doc["skipped"] > 0                  # the killed runs' complete work was kept
    admin = bucket.admin_client
    for rel in tree.files:
        body = admin.get_object(Bucket=bucket.name, Key=s.key(rel))["Body"].read()
        assert hashlib.md5(body).digest() == hashlib.md5((tree.root / rel).read_bytes()).digest(), rel
    p, again = migrate(bucket, lab_info, tree.root, tmp_path / "state", "acl")
    assert again["copied"] == 0
    # nothing left behind by the kills: no unfinished multipart upload (its parts are billed), no
    # spool file of the walk
    assert admin.list_multipart_uploads(Bucket=bucket.name).get("Uploads", []) == []
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_killed_runs_multipart_upload_is_aborted_and_the_instances_own_are_not(bucket, lab_info, prepared,
                                                                               tmp_path, monkeypatch):
    from mastowizard.migrate.journal import Journal, journal_path
    s = prepared("acl")
    tree = make_tree(tmp_path / "system", 20)
    admin = bucket.admin_client
    ours = admin.create_multipart_upload(Bucket=bucket.name, Key=s.key("media_attachments/files/big.mp4"))
    theirs = admin.create_multipart_upload(Bucket=bucket.name, Key=s.key("media_attachments/files/new.mp4"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    j = Journal(journal_path(s))       # as a run killed in the middle of that upload leaves it
    j.upload_opened(s.key("media_attachments/files/big.mp4"), ours["UploadId"])
    j.close()
    p, doc = migrate(bucket, lab_info, tree.root, tmp_path / "state", "acl")
    assert p.returncode == 0 and doc["ok"]
    left = {u["UploadId"] for u in admin.list_multipart_uploads(Bucket=bucket.name).get("Uploads", [])}
    assert ours["UploadId"] not in left and theirs["UploadId"] in left
    admin.abort_multipart_upload(Bucket=bucket.name, Key=s.key("media_attachments/files/new.mp4"),
                                 UploadId=theirs["UploadId"])
