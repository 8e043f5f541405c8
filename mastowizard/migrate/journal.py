"""The copy's journal: which keys are stored, from which file (size, mtime) and with which headers
and ACL. A flat listing shows sizes and ETags but not headers or ACLs, so only the journal can say
an object is complete as Mastodon would have stored it. SQLite in WAL mode, each row committed as
the server's answer arrives (a commit without fsync: microseconds): a SIGKILL loses only the objects
whose answer had not arrived, which are uploaded again; what the server confirmed is never written
twice."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
import uuid
from pathlib import Path

from ..settings import Settings

PENDING = "pending:"        # an upload_id that is an intent: the server's id never reached the journal


def journal_path(settings: Settings, shard=None) -> Path:
    """The journal of copies into SETTINGS' bucket from this machine: one per shard (shards.Shard)."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    where = f"{settings.endpoint or 'aws:' + settings.region}|{settings.bucket}|{settings.key_prefix or ''}"
    part = f"-shard-{shard.slug}" if shard is not None else ""
    name = f"{settings.bucket}-{hashlib.sha256(where.encode()).hexdigest()[:12]}{part}.sqlite"
    return Path(base) / "mastowizard" / "migrate" / name


class Journal:
    def __init__(self, path: Path, commit_every: float = 0.0, key_prefix: str | None = None):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.prefix = f"{key_prefix}/" if key_prefix else ""     # a key less this is the shards' path
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS stored (key TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER,"
                        " etag TEXT, signature TEXT)")
        self.db.execute("CREATE TABLE IF NOT EXISTS uploads (upload_id TEXT PRIMARY KEY, key TEXT, started REAL)")
        self.lock = threading.Lock()      # multipart uploads record their ids from the workers
        self.commit_every = commit_every
        self._pending = 0
        self._last = time.monotonic()
        self.db.execute("BEGIN")

    def get(self, key: str) -> tuple[int, int, str, str] | None:
        """The row of KEY: this journal's, else one of the other journals of the same bucket on this
        machine (a shard's, or the whole copy's: each object is journaled once, by whichever stored it)."""
        with self.lock:
            row = self.db.execute("SELECT size, mtime_ns, etag, signature FROM stored WHERE key = ?",
                                  (key,)).fetchone()
        if row is None:
            rel = key[len(self.prefix):] if self.prefix and key.startswith(self.prefix) else key
            for shard, other in self._siblings():
                if shard is not None and not shard.holds(rel):     # that shard never stores this key
                    continue
                try:
                    row = other.execute("SELECT size, mtime_ns, etag, signature FROM stored WHERE key = ?",
                                        (key,)).fetchone()
                except sqlite3.Error:         # being created, or locked by its writer right now
                    continue
                if row is not None:
                    break
        return tuple(row) if row else None

    _others: list | None = None

    def _siblings(self) -> list:
        """(its shard, or None for the whole copy's; a read-only connection) of the other journals of
        this bucket in this directory, opened once."""
        from .shards import parse
        if self._others is None:
            stem = self.path.name.split("-shard-")[0].removesuffix(".sqlite")
            self._others = []
            for p in sorted(self.path.parent.glob(f"{stem}*.sqlite")):
                if p == self.path:
                    continue
                if p.name == f"{stem}.sqlite":
                    shard = None
                elif p.name.startswith(f"{stem}-shard-"):
                    try:
                        shard = parse(p.name[len(stem) + 7:-7].replace("-of-", "/"))
                    except Exception:  # noqa: BLE001 - not one of ours
                        continue
                else:
                    continue
                try:
                    self._others.append((shard, sqlite3.connect(f"file:{p}?mode=ro", uri=True, timeout=1.0,
                                                                check_same_thread=False)))
                except sqlite3.Error:
                    pass
        return self._others

    def record(self, key: str, size: int, mtime_ns: int, etag: str, signature: str) -> None:
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO stored VALUES (?, ?, ?, ?, ?)",
                            (key, size, mtime_ns, etag, signature))
            self._pending += 1
            if time.monotonic() - self._last > self.commit_every:
                self.commit()

    def upload_intent(self, key: str) -> str:
        """Before a multipart upload of KEY is created: a row (committed now) saying one may exist
        from this moment whose id is not known yet. A run killed after the server created it and
        before its answer arrived leaves only this row; the next run finds that upload by its key
        and time, and aborts it."""
        marker = f"{PENDING}{uuid.uuid4().hex}"
        with self.lock:
            self.db.execute("INSERT INTO uploads VALUES (?, ?, ?)", (marker, key, time.time()))
            self.commit()
        return marker

    def upload_opened(self, key: str, upload_id: str, intent: str | None = None) -> None:
        """A multipart upload started: kept (committed now) until it is completed or aborted, so a
        killed run's parts can be aborted by the next one. Its INTENT row is replaced."""
        with self.lock:
            if intent:
                self.db.execute("DELETE FROM uploads WHERE upload_id = ?", (intent,))
            self.db.execute("INSERT OR REPLACE INTO uploads VALUES (?, ?, ?)", (upload_id, key, time.time()))
            self.commit()

    def upload_closed(self, upload_id: str) -> None:
        with self.lock:
            self.db.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))

    def open_uploads(self) -> list[tuple[str, str, float]]:
        """(key, upload id or an intent's PENDING marker, when it started) of every upload not closed."""
        with self.lock:
            return [tuple(r) for r in self.db.execute("SELECT key, upload_id, started FROM uploads ORDER BY started")]

    def forget(self, key: str) -> None:
        self.db.execute("DELETE FROM stored WHERE key = ?", (key,))

    def commit(self) -> None:
        self.db.execute("COMMIT")
        self.db.execute("BEGIN")
        self._pending, self._last = 0, time.monotonic()

    def close(self) -> None:
        with self.lock:
            self.db.execute("COMMIT")
            self.db.close()
            for _, other in self._others or []:
                other.close()
