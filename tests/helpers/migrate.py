"""What the media copy's tests share: the bucket prepared for a permission mode (a fixture), its
settings, the journal's stored keys read as another process writes it, and AllUsers' grantee URI."""

from __future__ import annotations

import sqlite3

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
