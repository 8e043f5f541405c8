"""What the media copy's tests share: the bucket prepared for a permission mode (a fixture), its
settings and env file, a bucket filled as rclone fills it or as our copy does, the journal's stored
keys read as another process writes it, and AllUsers' grantee URI."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess

from mastowizard.migrate.copy import copy_tree
from mastowizard.s3.credential import Credential
from mastowizard.secrets import Secret
from mastowizard.settings import Settings

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def settings_for(bucket, permission, prefix=None):
    srv = bucket.server
    return Settings.build(bucket=bucket.name, provider="ceph" if srv.name == "rgw" else "other", region=srv.region,
                          endpoint=srv.endpoint, addressing="path", permission=permission,
                          alias_host=bucket.media_https_base.split("://")[1], protocol="https", key_prefix=prefix)


def journal_keys(state) -> set[str]:
    """The keys a running copy's journal holds as stored (its committed rows), read as SQLite reads
    a database another process writes."""
    for path in (state / "mastowizard" / "migrate").glob("*.sqlite"):
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.1) as db:
                return {k for (k,) in db.execute("SELECT key FROM stored")}
        except sqlite3.Error:
            return set()
    return set()


def journal_rows(state) -> int:
    """How many files a running copy's journal holds as stored."""
    return len(journal_keys(state))


def env_file(tmp_path, bucket, permission, endpoint=None):
    srv = bucket.server
    live = tmp_path / "live"
    live.mkdir(parents=True, exist_ok=True)
    path = live / ".env.production"
    path.write_text(f"LOCAL_DOMAIN=lab.example\nS3_ENABLED=true\nS3_BUCKET={bucket.name}\nS3_REGION={srv.region}\n"
                    f"S3_ENDPOINT={endpoint or srv.endpoint}\nS3_PROTOCOL=https\n"
                    f"S3_ALIAS_HOST={bucket.media_https_base.split('://')[1]}\n"
                    f"S3_PERMISSION={'public-read' if permission == 'acl' else ''}\n"
                    f"AWS_ACCESS_KEY_ID={srv.writer_access_key}\nAWS_SECRET_ACCESS_KEY={srv.writer_secret_key}\n")
    return path


def rclone_copy(tree_root, bucket, *extra):
    """Copy the tree into the bucket as admins did with rclone: its defaults (ACL private, Content-Type
    from the file name, X-Amz-Meta-Mtime), the remote given in the environment, never in argv."""
    srv = bucket.server
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"RCLONE_CONFIG_LAB_TYPE": "s3", "RCLONE_CONFIG_LAB_PROVIDER": "Other",
            "RCLONE_CONFIG_LAB_ENDPOINT": srv.endpoint, "RCLONE_CONFIG_LAB_REGION": srv.region,
            "RCLONE_CONFIG_LAB_ACCESS_KEY_ID": srv.writer_access_key,
            "RCLONE_CONFIG_LAB_SECRET_ACCESS_KEY": srv.writer_secret_key,
            "RCLONE_CONFIG_LAB_FORCE_PATH_STYLE": "true", "RCLONE_CONFIG": "/dev/null"}
    p = subprocess.run(["rclone", "copy", str(tree_root), f"lab:{bucket.name}", "--transfers", "16", *extra],
                       env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]


def copy_as_mastodon(bucket, s, tree):
    srv = bucket.server
    result = copy_tree(s, Credential(srv.writer_access_key, Secret(srv.writer_secret_key)), str(tree.root),
                       jobs=16)
    assert not result.failed and result.copied == len(tree.files), result.failed


def head_with_bytes_checked(admin, bucket: str, key: str, local: bytes) -> dict:
    """HEAD KEY, and check its stored bytes are LOCAL: a single-part ETag is the server's MD5 of what
    it stored, so only a multipart object (whose ETag is no MD5 of the bytes) is read back, which keeps
    a tree's check to one small request per object. The HEAD's answer."""
    obj = admin.head_object(Bucket=bucket, Key=key)
    etag = obj["ETag"].strip('"')
    if "-" in etag:
        assert admin.get_object(Bucket=bucket, Key=key)["Body"].read() == local, key
    else:
        assert etag == hashlib.md5(local).hexdigest(), key
    return obj
