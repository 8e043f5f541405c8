"""Before a switch from one bucket to another: how many objects of the old bucket are not in the new
one yet. Once Mastodon reads media from the new bucket, each of them answers 404 or 403 (every old
attachment, avatar, emoji). Measured as the disk's gap is (gap.py), and guarded the same way: the
count typed, never --yes alone.

The measure is a merge of two flat listings, in key order (each without its S3_KEY_PREFIX): an
object counts as there when the new bucket lists its key with its size."""

from __future__ import annotations

from collections.abc import Iterator

from ..net import HttpOptions
from ..s3.credential import Credential
from ..settings import Settings
from .copy import listing
from .gap import MediaGap
from .inventory import human_bytes
from .putter import Putter


class BucketGap(MediaGap):
    """MediaGap between two buckets: FILES are the old bucket's objects, MISSING those the new one lacks."""

    kind = "bucket"
    unmeasured = "the old bucket"
    fix_first = "copy them first (`mastowizard migrate` with the old env file and the new bucket's settings)"

    def lines(self) -> list[str]:
        if not self.known:
            return [f"{self.source} could not be compared with bucket {self.bucket}: {self.error}",
                    f"objects of {self.source} not in bucket {self.bucket} answer 404 after the switch "
                    "(attachments, avatars, headers, emoji)"]
        if self.missing == 0:
            return [f"all {self.files} object(s) of {self.source} are in bucket {self.bucket}"]
        shown = ", ".join(self.examples[:3])
        return [f"{self.missing} of {self.files} object(s) of {self.source} ({human_bytes(self.missing_bytes)}) are "
                f"NOT in bucket {self.bucket} yet, e.g. {shown}",
                f"after the restart Mastodon serves media from bucket {self.bucket}: those {self.missing} answer 404 "
                "(old posts' attachments, avatars, headers, emoji) until they are copied",
                "copy them first (`mastowizard migrate` with the old env file and the new bucket's settings); a "
                "rerun copies only what is missing"]

    def risk(self, what: str) -> str:
        return f"{what} would leave {self.token} object(s) of {self.source} out of bucket {self.bucket}"


def place(s: Settings) -> tuple:
    """Where a bucket's objects are: endpoint (or AWS region), bucket, key prefix."""
    return (s.endpoint or f"aws:{s.region}", s.bucket, s.key_prefix or "")


def _rels(settings: Settings, writer: Credential, http: HttpOptions | None) -> Iterator[tuple[str, int]]:
    cut = len(settings.key_prefix) + 1 if settings.key_prefix else 0
    for key, size, _ in listing(Putter(settings, writer, http), settings):
        yield key[cut:], size


def bucket_gap(old: Settings, old_writer: Credential | None, new: Settings, new_writer: Credential | None,
               http: HttpOptions | None = None) -> BucketGap:
    """Objects in OLD's bucket that NEW's does not hold with their size. Never raises for what it
    cannot list: the gap is then unknown and says why."""
    gap = BucketGap(f"bucket {old.bucket}", new.bucket, old.endpoint or f"AWS {old.region}")
    if old_writer is None or new_writer is None:
        gap.error = f"the env file has no key to list bucket {old.bucket if old_writer is None else new.bucket} with"
        return gap
    try:
        target = _rels(new, new_writer, http)
        there = next(target, None)
        for rel, size in _rels(old, old_writer, http):
            gap.files += 1
            while there is not None and there[0] < rel:
                there = next(target, None)
            if there is None or there[0] != rel or there[1] != size:
                gap.missed(rel, size)
    except Exception as e:  # noqa: BLE001 - a listing that fails leaves the gap unknown, never a traceback
        gap.unknown(e)
    return gap
