"""What Mastodon would have stored for each file: key, Content-Type, ACL; the walk in the bucket's order."""

import os

import pytest

from mastowizard.migrate.inventory import source_dir, take_inventory, walk
from mastowizard.migrate.objects import UNKNOWN_TYPE, content_type, spec_for
from mastowizard.settings import Settings


def settings(permission="acl", prefix=None):
    return Settings.build(bucket="media", provider="ceph", endpoint="https://s3.example.com", region="us-east-1",
                          addressing="path", permission=permission, key_prefix=prefix)


@pytest.mark.parametrize("name,expected", [
    ("x.jpg", "image/jpeg"), ("x.JPEG", "image/jpeg"), ("x.png", "image/png"), ("x.gif", "image/gif"),
    ("x.webp", "image/webp"), ("x.avif", "image/avif"), ("x.heic", "image/heic"), ("x.mp4", "video/mp4"),
    ("x.m4v", "video/x-m4v"), ("x.webm", "video/webm"), ("x.mov", "video/quicktime"), ("x.mp3", "audio/mpeg"),
    ("x.ogg", "audio/ogg"), ("x.oga", "audio/ogg"), ("x.opus", "audio/ogg"), ("x.m4a", "audio/mp4"),
    ("x.flac", "audio/flac"), ("x.wav", "audio/wav"), ("x.zip", "application/zip"),
])
def test_content_type_comes_from_an_explicit_table(name, expected):
    # Python's own table (no /etc/mime.types) knows none of ogg, oga, m4a, flac, m4v: never rely on it
    assert content_type(name) == expected


def test_an_unknown_extension_is_octet_stream():
    assert content_type("x.exe") == UNKNOWN_TYPE and content_type("noext") == UNKNOWN_TYPE


def test_acl_mode_public_and_private_files():
    s = settings("acl", prefix="mastodon")
    media = spec_for("media_attachments/files/109/876/543/210/987/654/original/a.jpg", 0o100644, s)
    assert media.key == "mastodon/media_attachments/files/109/876/543/210/987/654/original/a.jpg"
    assert (media.acl, media.private, media.exposed) == ("public-read", False, False)
    suspended = spec_for("media_attachments/files/1/original/a.jpg", 0o100600, s)
    assert (suspended.acl, suspended.private) == ("private", True)
    umask027 = spec_for("media_attachments/files/1/original/a.jpg", 0o100640, s)   # a normal file under umask 027
    assert umask027.acl == "public-read"
    for rel in ("backups/dumps/1/original/archive.zip", "imports/data/1/original/follows.csv"):
        assert spec_for(rel, 0o100644, s).acl == "private"


def test_policy_mode_sends_no_acl_and_names_what_the_policy_exposes():
    s = settings("policy")
    assert spec_for("accounts/avatars/1/original/a.png", 0o100644, s).acl is None
    suspended = spec_for("media_attachments/files/1/original/a.jpg", 0o100600, s)
    assert (suspended.acl, suspended.private, suspended.exposed) == (None, True, True)
    backup = spec_for("backups/dumps/1/original/archive.zip", 0o100644, s)
    assert (backup.acl, backup.private, backup.exposed) == (None, True, False)   # outside the policy's prefixes


def test_walk_yields_keys_in_the_bucket_order(tmp_path):
    for rel in ("a/b/c.png", "a-b/x.png", "a.png", "ab/y.png", "a/b.png", "a/b/d/e.png", "A/z.png", "é/q.png"):
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    os.symlink(tmp_path / "a.png", tmp_path / "link.png")
    keys = [f.rel for f in walk(str(tmp_path))]
    assert keys == sorted(keys, key=lambda k: k.encode())      # S3 lists keys in UTF-8 byte order
    assert "link.png" not in keys and len(keys) == 8


def test_inventory_counts_per_folder(tmp_path):
    from mastowizard_lab.media_tree import make_tree
    tree = make_tree(tmp_path, 120, suspended=4)
    inv = take_inventory(str(tmp_path))
    assert inv.files == len(tree.files) and inv.bytes == tree.bytes
    assert inv.private == len(tree.private) >= 6          # 4 suspended, one backup, one import
    assert inv.folders["backups"].private == 1 and inv.folders["imports"].private == 1
    assert set(inv.folders) >= {"media_attachments", "accounts", "cache", "backups", "imports"}


def test_source_dir_honours_paperclip_root_path():
    assert source_dir("/home/mastodon/live/.env.production") == "/home/mastodon/live/public/system"
    assert source_dir("/srv/m/.env.production", {"PAPERCLIP_ROOT_PATH": ":rails_root/media"}) == "/srv/m/media"
    assert source_dir("/srv/m/.env.production", {"PAPERCLIP_ROOT_PATH": "/data/system"}) == "/data/system"


def test_one_file_is_one_file():
    from mastowizard.migrate.inventory import files
    assert (files(0), files(1), files(303)) == ("0 files", "1 file", "303 files")


def test_the_inventory_says_one_file_per_folder(tmp_path):
    from mastowizard.migrate.inventory import take_inventory
    from mastowizard.migrate.run import inventory_lines
    from mastowizard.settings import Settings
    (tmp_path / "backups" / "dump").mkdir(parents=True)
    (tmp_path / "backups" / "dump" / "archive.zip").write_bytes(b"z")
    lines = inventory_lines(take_inventory(str(tmp_path)), Settings.build(bucket="files-example", provider="wasabi",
                                                                          region="eu-central-1"))
    assert ": 1 file," in lines[0] and "        1 file " in lines[1], lines
