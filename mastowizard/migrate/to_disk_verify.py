"""After a copy back to disk: the bucket listed again and merged with the files on disk. Every object
must be on disk with its size, owned by the instance's user, 0600 or 0644 (0600 for backups/ and
imports/, 0644 for avatars, emoji and cards); a sample is fetched again and compared byte for
byte, its mode with what anyone on the internet finds (a private object 0600, a public one 0644)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ..settings import Settings
from .dest_tree import is_temp
from .privacy import disk_mode, kind_of, known_mode
from .putter import PutError, Putter
from .to_disk_survey import pairs

SHOWN = 50
SAMPLE_MAX_BYTES = 8 * 1024 * 1024


@dataclass
class Verification:
    listed: int = 0
    on_disk: int = 0
    missing: list[str] = field(default_factory=list)
    missing_count: int = 0
    wrong_size: list[str] = field(default_factory=list)
    wrong_mode: list[dict] = field(default_factory=list)
    wrong_owner: list[dict] = field(default_factory=list)
    sampled: int = 0
    sample_failed: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing_count or self.wrong_size or self.wrong_mode or self.wrong_owner
                    or self.sample_failed)

    def to_json(self) -> dict:
        return {"ok": self.ok, "listed": self.listed, "on_disk": self.on_disk, "missing": self.missing_count,
                "missing_examples": self.missing, "wrong_size": self.wrong_size, "wrong_mode": self.wrong_mode,
                "wrong_owner": self.wrong_owner, "sampled": self.sampled, "sample_failed": self.sample_failed}


def verify(putter: Putter, settings: Settings, target, owner, sample: int = 20, private_media: str | None = None
           ) -> Verification:
    from .copy import Reservoir, listing
    v = Verification()
    picked = Reservoir(sample, random.Random())
    files = (f for f in target.files(with_owner=True) if not is_temp(f.rel))
    for (key, size, _), rel, disk in pairs(listing(putter, settings), files, settings):
        if rel is None:
            continue
        v.listed += 1
        if disk is None:
            v.missing_count += 1
            if len(v.missing) < SHOWN:
                v.missing.append(key)
            continue
        if disk.size != size:
            if len(v.wrong_size) < SHOWN:
                v.wrong_size.append(key)
            continue
        v.on_disk += 1
        if (disk.uid, disk.gid) != (owner.uid, owner.gid) and len(v.wrong_owner) < SHOWN:
            v.wrong_owner.append({"key": key, "owner": f"{disk.uid}:{disk.gid}"})
        want = known_mode(kind_of(rel), private_media)
        if (disk.mode not in (0o600, 0o644) or (want is not None and disk.mode != want)) \
                and len(v.wrong_mode) < SHOWN:
            v.wrong_mode.append({"key": key, "mode": f"{disk.mode:04o}"})
        if size <= SAMPLE_MAX_BYTES:          # a reservoir: bounded memory whatever the bucket
            picked.offer((key, rel, disk.mode))
    for key, rel, mode in picked.items:
        _compare(putter, target, key, rel, mode, v, private_media)
    return v


def _compare(putter: Putter, target, key: str, rel: str, mode: int, v: Verification,
             private_media: str | None) -> None:
    """KEY fetched again and compared with the file byte for byte; its mode with what a stranger gets."""
    try:
        _, data = putter.get(key)
        public = bool(putter.anyone_reads(key))
    except PutError as e:
        if e.status != 404:        # 404: deleted since, nothing to compare
            v.sample_failed.append({"key": key, "error": f"could not be fetched again: {e}"})
        return
    v.sampled += 1
    try:
        local = target.read(rel)
    except OSError as e:
        v.sample_failed.append({"key": key, "error": f"could not be read on disk: {e}"})
        return
    if local != data:
        v.sample_failed.append({"key": key, "error": f"differs from the object ({len(local)} bytes on disk, "
                                                     f"{len(data)} in the bucket)"})
    want = disk_mode(kind_of(rel), public, private_media)
    if mode != want:
        v.sample_failed.append({"key": key, "error": f"mode {mode:04o} on disk, {want:04o} expected "
                                                     f"({'not ' if not public else ''}readable anonymously)"})
