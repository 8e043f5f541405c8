"""The copy's journal: which keys are stored, from which file (size, mtime) and with which headers
and ACL. A flat listing shows sizes and ETags but not headers or ACLs, so only the journal can say
an object is complete as Mastodon would have stored it. SQLite in WAL mode: a SIGKILL loses at
most the last uncommitted rows, whose objects are then simply uploaded again."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from pathlib import Path

from ..settings import Settings


def journal_path(settings: Settings) -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    where = f"{settings.endpoint or 'aws:' + settings.region}|{settings.bucket}|{settings.key_prefix or ''}"
    name = f"{settings.bucket}-{hashlib.sha256(where.encode()).hexdigest()[:12]}.sqlite"
    return Path(base) / "mastowizard" / "migrate" / name


class Journal:
    def __init__(self, path: Path, commit_every: float = 0.5):
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

    def upload_opened(self, key: str, upload_id: str) -> None:
        """A multipart upload started: kept (committed now) until it is completed or aborted, so a
        killed run's parts can be aborted by the next one."""
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO uploads VALUES (?, ?, ?)", (upload_id, key, time.time()))
            self.commit()

    def upload_closed(self, upload_id: str) -> None:
        with self.lock:
            self.db.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))

    def open_uploads(self) -> list[tuple[str, str]]:
        with self.lock:
            return [tuple(r) for r in self.db.execute("SELECT key, upload_id FROM uploads ORDER BY started")]

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
