"""A copy whose journal is not here (a shard rerun on another host after its first host died, a journal
deleted) keeps what the bucket already holds exactly as Mastodon stores it, and writes only what
differs: proved by the PUTs the server received (through a proxy that logs them) and by each
object's headers and ACL read back as the bucket owner."""

from urllib.parse import unquote, urlsplit

import pytest
from helpers.lab import on
from helpers.migrate import ALL_USERS, head_with_bytes_checked

from mastowizard.migrate.adopt import etag_of
from mastowizard.migrate.copy import copy_tree
from mastowizard.migrate.objects import CACHE_CONTROL, MULTIPART_THRESHOLD, content_type, part_size
from mastowizard.migrate.reading import Body
from mastowizard.s3.credential import Credential
from mastowizard.secrets import Secret
from mastowizard.settings import Settings
from mastowizard_lab.faultproxy import FaultProxy
from mastowizard_lab.media_tree import make_tree


def test_the_etag_of_a_large_file_is_the_multipart_etag_of_the_parts_this_tool_cuts(tmp_path):
    import hashlib
    size = 2 * part_size(20 << 20, MULTIPART_THRESHOLD) + 123
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    path = tmp_path / "big.mp4"
    path.write_bytes(data)
    step = part_size(size, MULTIPART_THRESHOLD)
    parts = [hashlib.md5(data[i:i + step]).digest() for i in range(0, size, step)]
    with open(path, "rb") as fh:
        assert etag_of(Body(file=fh, size=size), MULTIPART_THRESHOLD) == \
            f"{hashlib.md5(b''.join(parts)).hexdigest()}-{len(parts)}"
        assert fh.tell() == 0                   # rewound: the upload that may follow reads it whole
    assert etag_of(Body(data=b"abc", size=3), MULTIPART_THRESHOLD) == hashlib.md5(b"abc").hexdigest()


@pytest.fixture
def via_proxy(bucket, prepared, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    prepared("acl")
    srv = bucket.server
    with FaultProxy(urlsplit(srv.endpoint).port) as proxy:
        s = Settings.build(bucket=bucket.name, provider="ceph", region=srv.region, endpoint=proxy.endpoint,
                           addressing="path", permission="acl", alias_host="media.example", protocol="https")
        yield s, Credential(srv.writer_access_key, Secret(srv.writer_secret_key)), proxy


def puts(proxy, since: int) -> list[str]:
    """The keys the server stored (PUT answered 200) from the SINCE-th request the proxy forwarded on,
    multipart parts and ACL changes included."""
    return [unquote(urlsplit(path).path).split("/", 2)[2] for method, path, status in proxy.log.forwarded[since:]
            if method == "PUT" and status == 200]


@on("rgw")
def test_a_rerun_without_the_journal_keeps_what_is_exact_and_rewrites_only_what_differs(bucket, via_proxy, tmp_path):
    s, cred, proxy = via_proxy
    tree = make_tree(tmp_path / "system", 80, suspended=3, big=1)
    first = copy_tree(s, cred, str(tree.root), jobs=8)
    assert not first.failed and first.copied == len(tree.files), first.failed
    admin = bucket.admin_client
    big = next(rel for rel in tree.files if (tree.root / rel).stat().st_size > MULTIPART_THRESHOLD)
    assert "-" in admin.head_object(Bucket=bucket.name, Key=big)["ETag"]      # stored in parts

    # the journal is gone, as on a host that never ran this shard
    for j in (tmp_path / "state").rglob("*.sqlite*"):
        j.unlink()
    mark = len(proxy.log.forwarded)
    again = copy_tree(s, cred, str(tree.root), jobs=8)
    assert not again.failed, again.failed
    assert puts(proxy, mark) == [] and again.copied == 0, puts(proxy, mark)[:5]
    assert again.adopted == again.skipped == len(tree.files), again.to_json()

    # four objects made different from what Mastodon stores, with the same bytes (so the same ETag)
    public = [rel for rel in tree.files if rel not in tree.private and rel != big]
    wrong_type, with_meta, made_private = public[:3]
    private = next(rel for rel in tree.private if rel.startswith("media_attachments/"))
    for rel, extra in ((wrong_type, {"ContentType": "text/plain", "ACL": "public-read"}),
                       (with_meta, {"ContentType": content_type(with_meta), "ACL": "public-read",
                                    "Metadata": {"mtime": "1700000000"}}),
                       (made_private, {"ContentType": content_type(made_private), "ACL": "private"})):
        admin.copy_object(Bucket=bucket.name, Key=rel, CopySource={"Bucket": bucket.name, "Key": rel},
                          MetadataDirective="REPLACE", CacheControl=CACHE_CONTROL, **extra)
    admin.put_object_acl(Bucket=bucket.name, Key=private, ACL="public-read")      # a suspended account's, exposed
    for j in (tmp_path / "state").rglob("*.sqlite*"):
        j.unlink()
    mark = len(proxy.log.forwarded)
    third = copy_tree(s, cred, str(tree.root), jobs=8)
    assert not third.failed, third.failed
    assert sorted(puts(proxy, mark)) == sorted([wrong_type, with_meta, made_private, private]), puts(proxy, mark)
    assert third.copied == 4 and third.adopted == len(tree.files) - 4, third.to_json()
    for rel in (wrong_type, with_meta, made_private, private):
        obj = head_with_bytes_checked(admin, bucket.name, rel, (tree.root / rel).read_bytes())
        assert (obj["ContentType"], obj["CacheControl"], obj["Metadata"]) == (content_type(rel), CACHE_CONTROL, {})
        grants = admin.get_object_acl(Bucket=bucket.name, Key=rel)["Grants"]
        public_now = any(g["Grantee"].get("URI") == ALL_USERS and g["Permission"] == "READ" for g in grants)
        assert public_now == (rel not in tree.private), (rel, grants)

    # and with the journal back in place nothing is asked at all beyond the listing
    mark = len(proxy.log.forwarded)
    fourth = copy_tree(s, cred, str(tree.root), jobs=8)
    assert fourth.copied == fourth.adopted == 0 and fourth.skipped == len(tree.files), fourth.to_json()
    asked = [f for f in proxy.log.forwarded[mark:] if f[0] != "GET" or "list-type=2" not in f[1]]
    assert asked == [], asked[:5]
