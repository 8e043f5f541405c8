"""How Mastodon's S3 client is configured by the env file, read as Mastodon's code reads it
(config/initializers/paperclip.rb, app/lib/attachment_batch.rb): Ruby's `.to_i` of the raw values,
with Mastodon's defaults. What the jobs checks measure the provider against."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

MIB = 1024 * 1024
MIN_PART = 5 * MIB                   # the S3 API's smallest part but the last; aws-sdk refuses smaller files
DEFAULT_THRESHOLD = 15 * MIB         # 15.megabytes in paperclip.rb


def ruby_to_i(value: str) -> int:
    """Ruby's String#to_i: the leading integer, 0 when there is none ("15MB" -> 15, "abc" -> 0)."""
    m = re.match(r"\s*([+-]?\d[\d_]*)", value)
    return int(m.group(1).replace("_", "")) if m else 0


@dataclass(frozen=True)
class MastodonClient:
    open_timeout: int = 5
    read_timeout: int = 5
    retry_limit: int = 0
    force_single_request: bool = False
    checksum_mode: bool = False
    multipart_threshold: int = DEFAULT_THRESHOLD
    threshold_raw: str | None = None
    batch_delete_limit: int = 1000

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> MastodonClient:
        def num(name: str, default: int) -> int:
            return ruby_to_i(env[name]) if name in env else default
        return cls(open_timeout=num("S3_OPEN_TIMEOUT", 5), read_timeout=num("S3_READ_TIMEOUT", 5),
                   retry_limit=num("S3_RETRY_LIMIT", 0),
                   force_single_request=env.get("S3_FORCE_SINGLE_REQUEST") == "true",
                   checksum_mode=env.get("S3_ENABLE_CHECKSUM_MODE") == "true",
                   multipart_threshold=num("S3_MULTIPART_THRESHOLD", DEFAULT_THRESHOLD),
                   threshold_raw=env.get("S3_MULTIPART_THRESHOLD"),
                   batch_delete_limit=num("S3_BATCH_DELETE_LIMIT", 1000))

    def threshold_problem(self) -> str | None:
        """Why S3_MULTIPART_THRESHOLD breaks uploads, or None. aws-sdk-s3 sends every file at or
        above it as multipart and refuses multipart for files under 5 MiB."""
        if self.multipart_threshold >= MIN_PART:
            return None
        raw = self.threshold_raw
        return (f"S3_MULTIPART_THRESHOLD={raw} is read as {self.multipart_threshold} bytes (Mastodon takes the "
                f"leading number, in bytes): every upload of {self.multipart_threshold} bytes to 5 MiB fails with "
                "'unable to multipart upload files smaller than 5MB'")

    def timeout_problem(self) -> str | None:
        for name, value in (("S3_OPEN_TIMEOUT", self.open_timeout), ("S3_READ_TIMEOUT", self.read_timeout)):
            if value <= 0:
                return f"{name} is read as {value} s (Mastodon takes the leading whole number): every request times out"
        return None


def suggested_timeout(slowest: float) -> int:
    """A read timeout with room for the slowest answer seen: three times it, at least 10 s."""
    return max(10, int(slowest * 3) + 1)
