"""What a repair's survey saw: one row per object in a temporary SQLite file (removed when the
repair ends), so tens of millions of objects cost disk, not memory. Each run surveys afresh: what an
earlier (killed) run repaired is seen as repaired, and is not written again."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator


class SurveyRows:
    def __init__(self, directory: str | None = None):
        fd, self.path = tempfile.mkstemp(prefix="mastowizard-repair-", suffix=".sqlite", dir=directory)
        os.close(fd)
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, rel TEXT, etag TEXT, kind TEXT, public INTEGER,"
                        " fix TEXT)")
        self.db.execute("BEGIN")
        self.lock = threading.Lock()

    def add(self, key: str, rel: str, etag: str, kind: str, public: bool, fix: str) -> None:
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO seen VALUES (?, ?, ?, ?, ?, ?)",
                            (key, rel, etag, kind, int(public), fix))

    def rows(self) -> Iterator[tuple[str, str, str, str, bool, str]]:
        """(key, rel, etag, kind, public, fix) of every object surveyed, in key order, read in pages
        of 10,000."""
        with self.lock:
            if self.db.in_transaction:
                self.db.execute("COMMIT")
        last = ""
        while True:
            with self.lock:
                page = self.db.execute("SELECT key, rel, etag, kind, public, fix FROM seen WHERE key > ? "
                                       "ORDER BY key LIMIT 10000", (last,)).fetchall()
            if not page:
                return
            for r in page:
                yield r[0], r[1], r[2], r[3], bool(r[4]), r[5]
            last = page[-1][0]

    def close(self) -> None:
        with self.lock:
            self.db.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
