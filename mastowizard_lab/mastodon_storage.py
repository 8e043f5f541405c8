"""Mastodon's own storage code, run for the lab's stand-in: a long-lived Ruby worker
(`mastodon_code/worker.rb`) that stores, reads back, re-permissions and deletes media through
Mastodon 4.4's paperclip.rb, kt-paperclip and Debian's aws-sdk-s3, with the env file read by the
dotenv Mastodon pins. One worker per stand-in process: a restart reads the env file again, as
Mastodon's does.

Stdlib only: the stand-in runs it with /usr/bin/python3 as any user."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mastodon_code", "worker.rb")
# What the worker needs from Debian, beside Ruby (see mastodon_code/PROVENANCE.md).
DEBIAN_PACKAGES = ["ruby", "ruby-aws-sdk-s3", "ruby-aws-sdk-core", "ruby-aws-sigv4", "ruby-activesupport",
                   "ruby-activemodel", "ruby-mime-types", "ruby-marcel", "ruby-mini-mime", "ruby-fastimage",
                   "ruby-climate-control", "file"]


class StorageError(RuntimeError):
    """Mastodon's code raised: the class and message it raised, and what it logged."""

    def __init__(self, error: str, log: str = ""):
        super().__init__(error)
        self.error, self.log = error, log


class MastodonStorage:
    def __init__(self, env_file: str, ruby: str = "ruby", timeout: float = 600):
        self.env_file, self.timeout = env_file, timeout
        self.lock = threading.Lock()
        self.proc = subprocess.Popen([ruby, WORKER, env_file], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=None, text=True, bufsize=1)
        # back once the worker has read the env file, as Mastodon's boot reads it (a later change to the
        # file is not seen); its code goes on loading (about a second: the SDK), and the first call waits
        self._answer()
        self._sdk: str | None = None
        self._loaded = False
        self.tmp = tempfile.mkdtemp(prefix="lab-media-")

    def _until_loaded(self) -> None:
        """Until Mastodon's code is loaded in the worker (its hello); under self.lock."""
        if not self._loaded:
            self._sdk = self._answer().get("sdk")
            self._loaded = True

    @property
    def sdk(self) -> str | None:
        """The aws-sdk-s3 version Mastodon's code runs with (None: no S3 configured)."""
        with self.lock:
            self._until_loaded()
        return self._sdk

    def _answer(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise StorageError(f"Mastodon's storage worker ended (exit {self.proc.poll()}); see the stand-in's log")
        return json.loads(line)

    def call(self, op: str, **req) -> dict:
        with self.lock:
            self._until_loaded()
            self.proc.stdin.write(json.dumps({"op": op, **req}) + "\n")
            self.proc.stdin.flush()
            answer = self._answer()
        if not answer.get("ok"):
            raise StorageError(answer.get("error", "unknown error"), answer.get("log", ""))
        return answer

    # -- what the stand-in does with it ---------------------------------------------------------
    def store(self, media_id: str, name: str, data: bytes, content_type: str) -> dict:
        """An upload, as POST /api/v2/media saves it: keys and URLs of each style, from Mastodon's code."""
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        try:
            return self.call("store", id=media_id, path=path, content_type=content_type)
        finally:
            os.unlink(path)

    def read(self, record: dict, style: str = "original") -> dict:
        return self.call("read", style=style, **record)

    def permissions(self, record: dict, direction: str) -> dict:
        return self.call("permissions", direction=direction, **record)

    def destroy(self, record: dict) -> dict:
        return self.call("destroy", **record)

    def delete(self, records: list[dict]) -> dict:
        return self.call("delete", records=records)

    def settings(self) -> dict:
        return self.call("settings")

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)
