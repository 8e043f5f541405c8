"""`mastowizard migrate` against the lab's real S3 servers, ACL and policy mode: a Mastodon-shaped tree
is copied, then every object is checked independently (boto3 as the bucket owner, anonymous HTTP
through nginx as a browser): bytes, Content-Type, Cache-Control, ACL, who can read it."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from helpers.lab import on, servers_where
from helpers.migrate import ALL_USERS, head_with_bytes_checked, journal_keys

from mastowizard.migrate.objects import CACHE_CONTROL, content_type
from mastowizard_lab.media_tree import make_tree


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


def objects_as_a_stranger_and_as_the_owner(bucket, s, tree, anon_http, exposed_ok=False):
    """Every file: stored bytes and headers (owner's view), its ACL, and what an anonymous GET through
    the media host gets. Returns the keys that were readable anonymously."""
    admin = bucket.admin_client
    readable = set()
    for rel in tree.files:
        key = s.key(rel)
        local = (tree.root / rel).read_bytes()
        obj = head_with_bytes_checked(admin, bucket.name, key, local)
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


@on(*servers_where("default_acls_disabled"))
def test_acl_mode_on_a_bucket_with_acls_disabled_stops_with_the_fix(s3server, bucket, lab_info, tmp_path):
    tree = make_tree(tmp_path / "system", 120)
    p, doc = migrate(bucket, lab_info, tree.root, tmp_path / "state", "acl")
    assert p.returncode == 1 and not doc["ok"]
    assert "AccessControlListNotSupported" in doc["aborted"]
    assert doc["copied"] + len(doc["failed"]) < len(tree.files)      # it stopped instead of failing every file


def test_a_copy_killed_at_chosen_points_resumes_without_writing_anything_twice(bucket, lab_info, prepared,
                                                                               tmp_path):
    """SIGKILL at three chosen points, each reached through a proxy in front of the server that holds
    one kind of request (never a guess at how fast the copy runs): mid-PUT once 40 objects are
    stored, mid-multipart with a part in flight, and after the server created a multipart upload
    but before its id reached the copy. Then a rerun: every object complete and byte-identical;
    every object the server stored was written once (the journal kept the killed runs' work); no
    multipart upload left, the instance's own untouched."""
    from urllib.parse import unquote, urlsplit

    from mastowizard_lab.faultproxy import FaultProxy
    s = prepared("acl")
    tree = make_tree(tmp_path / "system", 150, big=1)    # one video above the multipart threshold
    srv = bucket.server
    state = tmp_path / "state"
    admin = bucket.admin_client
    theirs = admin.create_multipart_upload(Bucket=bucket.name, Key=s.key("media_attachments/files/new.mp4"))

    def key_of(target: str) -> str:
        return unquote(urlsplit(target).path).split("/", 2)[2]

    def stored(proxy) -> list[str]:
        """Keys the server stored with a single PUT (not a part, not an ACL), as the proxy saw."""
        return [key_of(t) for m, t, st in proxy.log.forwarded
                if m == "PUT" and st == 200 and not urlsplit(t).query]

    single_put = lambda r: r.method == "PUT" and not r.query                       # noqa: E731
    part = lambda r: r.method == "PUT" and "partNumber=" in r.query                 # noqa: E731
    create = lambda r: r.method == "POST" and r.query.split("&")[0] in ("uploads", "uploads=")   # noqa: E731

    with FaultProxy(urlsplit(srv.endpoint).port) as proxy:
        def killed_at(match, hold, after=0):
            proxy.clear()
            proxy.rule(match, hold, after)
            held = proxy.held()
            proc = migrate(bucket, lab_info, tree.root, state, "acl", "--jobs", "8", "--endpoint", proxy.endpoint,
                           wait=False)
            proxy.wait_held(held + 1, alive=lambda: proc.poll() is None)
            # the copy's other workers go on storing files: from now on their PUTs are held too, so
            # once idle the server stores nothing more and the set of stored keys below is final
            proxy.rule(single_put, "request")
            proxy.wait_idle()                # every answer the server gave has reached the copy
            # ... and every object the server stored is in the journal before the kill: awaited, key
            # by key (a count would be met early by a completed multipart upload, which is journaled
            # but is not a single PUT)
            want = set(stored(proxy))
            deadline = time.monotonic() + 60
            while missing := want - journal_keys(state):
                assert time.monotonic() < deadline, \
                    f"{len(want)} stored keys awaited in the journal; {len(missing)} missing: {sorted(missing)[:3]}"
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.02)
            assert proc.poll() is None, "the copy must still be running when it is killed"
            proc.send_signal(signal.SIGKILL)
            proc.communicate()

        killed_at(single_put, "request", after=40)       # mid-PUT: the 41st never reaches the server
        assert len(stored(proxy)) == 40
        killed_at(part, "request")                       # mid-multipart: a part in flight
        killed_at(create, "response")                    # the upload exists; its id never reached the copy
        orphans = [u for u in admin.list_multipart_uploads(Bucket=bucket.name).get("Uploads", [])
                   if u["UploadId"] != theirs["UploadId"]]
        assert len(orphans) == 1, orphans                # run 2's was aborted by run 3; run 3's is left
        proxy.clear()                                    # a well-behaved server from now on
        before = len(proxy.log.forwarded)
        p, doc = migrate(bucket, lab_info, tree.root, state, "acl", "--endpoint", proxy.endpoint)
        assert p.returncode == 0 and doc["ok"] and doc["verified"]["listed"] == len(tree.files), \
            (doc["failed"], p.stderr[-2000:])
        assert doc["skipped"] >= 40                      # the killed runs' complete work was kept
        again = [key_of(t) for m, t, st in proxy.log.forwarded[before:] if m == "PUT" and st == 200
                 and not urlsplit(t).query]
        twice = {k for k in stored(proxy) if stored(proxy).count(k) > 1}
        assert not twice, f"written twice: {sorted(twice)[:5]}"
        assert set(again).isdisjoint(stored(proxy)[:40])
        p, rerun = migrate(bucket, lab_info, tree.root, state, "acl", "--endpoint", proxy.endpoint)
        assert rerun["copied"] == 0
    for rel in tree.files:
        body = admin.get_object(Bucket=bucket.name, Key=s.key(rel))["Body"].read()
        assert hashlib.md5(body).digest() == hashlib.md5((tree.root / rel).read_bytes()).digest(), rel
    # nothing left behind by the kills: no unfinished multipart upload (its parts are billed), no
    # spool file of the walk; the instance's own upload in progress is untouched
    left = [u["UploadId"] for u in admin.list_multipart_uploads(Bucket=bucket.name).get("Uploads", [])]
    assert left == [theirs["UploadId"]], left
    admin.abort_multipart_upload(Bucket=bucket.name, Key=s.key("media_attachments/files/new.mp4"),
                                 UploadId=theirs["UploadId"])
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


@on("rgw")          # the retries are the copy's, whatever the server behind the proxy
def test_a_busy_provider_slows_the_copy_and_its_verification_but_fails_no_file(bucket, lab_info, prepared,
                                                                               tmp_path):
    """A provider that answers 503 SlowDown to ten uploads, to one upload five
    times in a row (six seconds of backoff: busy for a while, not gone), and to the verification's
    first fetches: every file is stored once, and verified."""
    import zlib
    from urllib.parse import urlsplit

    import httpx

    from mastowizard.migrate.verify import fetch
    from mastowizard_lab.faultproxy import FaultProxy
    prepared("acl")
    tree = make_tree(tmp_path / "system", 60)
    with FaultProxy(urlsplit(bucket.server.endpoint).port) as proxy:
        stubborn = f"/{bucket.name}/{tree.files[-1]}"
        proxy.rule(lambda r: r.method == "PUT" and r.path == stubborn, "answer", times=5)
        proxy.rule(lambda r: r.method == "PUT" and not r.query and zlib.crc32(r.path.encode()) % 3 == 0, "answer",
                   times=10)
        p, doc = migrate(bucket, lab_info, tree.root, tmp_path / "state", "acl", "--endpoint", proxy.endpoint)
        assert len(proxy.log.answered) == 15, proxy.log.answered        # the faults really happened
        assert p.returncode == 0 and doc["ok"] and not doc["failed"], doc["failed"]
        assert doc["copied"] == len(tree.files)
        stored = [t for m, t, st in proxy.log.forwarded if m == "PUT" and st == 200]
        assert len(stored) == len(set(stored)) == len(tree.files)       # each once, after its 503
        # the verification's fetch: two 503s and a timeout-free third answer
        proxy.clear()
        proxy.rule(lambda r: r.method == "GET", "answer", times=2)
        key = f"{bucket.name}/{next(f for f in tree.files if f not in tree.private)}"
        with httpx.Client(timeout=10) as c:
            r = fetch(c, f"{proxy.endpoint}/{key}", backoff=0.05)
        assert [st for _, _, st in proxy.log.answered[-2:]] == [503, 503] and r.status_code == 200, r.status_code
