"""Which objects Mastodon keeps private, told from what a bucket shows; and which headers a repair
rewrites (no server needed: the lab tests are in test_repair.py)."""

from mastowizard.migrate.privacy import KEEP, PUBLIC, Tally, kind_of, should_be_private
from mastowizard.migrate.repair import header_fix
from mastowizard.settings import CACHE_CONTROL, Settings

SETTINGS = Settings.build(bucket="media", provider="aws", region="eu-west-1", permission="acl")
RIGHT = {"content-type": "image/png", "cache-control": CACHE_CONTROL}


def test_kinds_follow_mastodon_s_folders():
    assert kind_of("backups/dumps/000/000/001/original/archive.zip") == "private"
    assert kind_of("imports/data/000/000/001/original/following.csv") == "private"
    assert kind_of("media_attachments/files/110/000/original/a.png") == "attachment"
    assert kind_of("cache/media_attachments/files/110/000/small/a.png") == "attachment"
    assert kind_of("accounts/avatars/000/000/001/original/a.png") == "public"
    assert kind_of("cache/accounts/avatars/000/000/001/original/a.png") == "public"
    assert kind_of("site_uploads/files/000/000/001/@2x/a.png") == "public"
    assert kind_of("admin-notes/readme.txt") == "other"


def test_a_few_private_attachments_are_suspensions_a_private_avatar_share_is_an_accident():
    t = Tally()
    for i in range(100):
        t.add("attachment", i >= 3)         # 3 private of 100: suspended accounts
        t.add("public", True)
    assert not t.suspect
    t.add("public", False)                  # one private avatar: fixed, but not a suspect bucket
    assert not t.suspect
    rclone = Tally()
    for _ in range(10):
        rclone.add("public", False)
        rclone.add("attachment", False)
    assert rclone.suspect and "10 of 10 media attachments private" in rclone.describe()


def test_backups_are_never_public_and_private_attachments_stay_private_unless_chosen():
    assert should_be_private("private", True, PUBLIC) is True
    assert should_be_private("public", False, KEEP) is False
    assert should_be_private("attachment", False, KEEP) is True
    assert should_be_private("attachment", False, PUBLIC) is False
    assert should_be_private("attachment", True, KEEP) is False
    assert should_be_private("other", False, PUBLIC) is None


def test_header_fix_rewrites_what_mastodon_would_not_have_written_only():
    assert header_fix("accounts/avatars/1/original/a.png", RIGHT, SETTINGS) is None
    fix = header_fix("accounts/avatars/1/original/a.png", {"content-type": "binary/octet-stream"}, SETTINGS)
    assert fix["content_type"] == "image/png" and any("Cache-Control" in p for p in fix["problems"])
    # .ogg is audio/ogg in the table; a video/ogg Mastodon stored is of the right kind and is kept
    fix = header_fix("media_attachments/files/1/original/a.ogg", {"content-type": "video/ogg",
                                                                    "cache-control": "no-cache"}, SETTINGS)
    assert fix["content_type"] == "video/ogg"
    fix = header_fix("media_attachments/files/1/original/a.png", {**RIGHT, "x-amz-meta-mtime": "1700000000"},
                     SETTINGS)
    assert fix["problems"] == ["metadata Mastodon never writes (x-amz-meta-mtime)"]
