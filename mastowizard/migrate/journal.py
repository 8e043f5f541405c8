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


def journal_path(settings: Settings) -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    where = f"{settings.endpoint or 'aws:' + settings.region}|{settings.bucket}|{settings.key_prefix or ''}"
    name = f"{settings.bucket}-{hashlib.sha256(where.encode()).hexdigest()[:12]}.sqlite"
    return Path(base) / "mastowizard" / "migrate" / name


class Journal:
    def __init__(self, path: Path, commit_every: float = 0.0):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
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
        with self.lock:
            row = self.db.execute("SELECT size, mtime_ns, etag, signature FROM stored WHERE key = ?",
                                  (key,)).fetchone()
        return tuple(row) if row else None

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
