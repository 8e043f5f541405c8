"""Before a copy back to disk: the bucket named by the env file, listed flat, merged in key order with
the files already under public/system. An object is on disk when a file has its key (less
S3_KEY_PREFIX) as path and its size; the copy also compares single-part ETags with MD5s.
Used by `migrate --to-disk` (what to copy, the space it needs) and by `apply --to-disk` (the guard)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from ..errors import InputError, MastowizardError
from ..settings import Settings, from_env
from .dest_tree import DiskFile, is_temp
from .privacy import Tally, kind_of
from .to_disk_privacy import Sampler

LISTED = tuple[str, int, str]        # (key, size, etag) as copy.listing yields them


def s3_settings(env_file: str, values: Mapping[str, str]) -> Settings:
    """The bucket the env file stores media in; refused when it keeps media on disk already."""
    reading = from_env(values)
    if not reading.enabled or reading.settings is None:
        raise InputError("--env-file", f"{env_file} has no object storage (S3_ENABLED is not true): Mastodon keeps "
                         "media on local disk already, there is nothing to copy back",
                         "give the env file of the instance that stores media in S3")
    return reading.settings


def s3_or_none(values: Mapping[str, str]) -> Settings | None:
    """The settings of the bucket VALUES store media in, or None (media on disk, or a bad value)."""
    try:
        reading = from_env(values)
    except InputError:
        return None
    return reading.settings if reading.enabled else None


def bucket_values(host, env_path: str, values: Mapping[str, str]) -> Mapping[str, str] | None:
    """The env values that name the bucket the media comes back from: the file's own while it still
    stores media in S3, else its newest backup's (the one `apply --to-disk` made, for the copy of
    what Mastodon stored in the bucket before the restart); None when neither names one."""
    from ..env.apply import newest_backup
    from ..env.plan import EnvFile
    if s3_or_none(values) is not None:
        return values
    backup = newest_backup(host, env_path)
    if backup is None:
        return None
    try:
        before = EnvFile.read(host, backup).doc.values()
    except MastowizardError:
        return None
    return before if s3_or_none(before) is not None else None


def source_bucket(host, env_path: str, values: Mapping[str, str]) -> tuple[Mapping[str, str] | None, Settings]:
    """The bucket the way back reads: (the values of the backup naming it when the env file no longer
    does, else None; its settings). Refused, as s3_settings refuses, when neither names one."""
    old = bucket_values(host, env_path, values)
    return (old if old is not values else None), s3_settings(env_path, old or values)


def rel_of(key: str, settings: Settings) -> str | None:
    """The path under public/system for KEY, or None when it cannot be one: a folder marker, or a
    name that would leave the folder or is not a plain path (never written)."""
    prefix = f"{settings.key_prefix}/" if settings.key_prefix else ""
    rel = key[len(prefix):] if key.startswith(prefix) else None
    if not rel or rel.endswith("/") or rel.startswith("/") or "\0" in rel:
        return None
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts) or is_temp(rel):
        return None
    return rel


def why_not(key: str) -> str:
    return "folder marker (a key ending in /)" if key.endswith("/") else "not a safe path on disk"


def pairs(listed: Iterator[LISTED], disk: Iterator[DiskFile], settings: Settings
          ) -> Iterator[tuple[LISTED, str | None, DiskFile | None]]:
    """Each object with its path (None: not writable) and the file at that path (None: not there),
    in one pass over two key-ordered streams. Files that are no object are not looked at."""
    current = next(disk, None)
    for obj in listed:
        rel = rel_of(obj[0], settings)
        if rel is None:
            yield obj, None, None
            continue
        while current is not None and current.rel < rel:
            current = next(disk, None)
        yield obj, rel, current if current is not None and current.rel == rel else None


@dataclass
class Survey:
    bucket: str
    dest: str
    where: str
    objects: int = 0
    bytes: int = 0
    missing: int = 0             # not on disk, or there with another size
    missing_bytes: int = 0
    not_copied: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)
    temps: list[str] = field(default_factory=list)       # temporary files a killed run left
    sampler: Sampler = field(default_factory=Sampler)    # keys of each kind, to ask who may read them
    privacy: Tally | None = None                         # the sample, asked (to_disk_privacy.sampled_privacy)

    @property
    def suspect(self) -> bool:
        """Most of one kind private, and private attachments among them: a choice is needed."""
        return bool(self.privacy and self.privacy.suspect and self.privacy.private("attachment"))

    def to_json(self) -> dict:
        return {"bucket": self.bucket, "dest": self.dest, "host": self.where, "objects": self.objects,
                "bytes": self.bytes, "missing": self.missing, "missing_bytes": self.missing_bytes,
                "not_copied": self.not_copied, "examples": self.examples[:20], "suspect": self.suspect,
                "sampled": ({"seen": self.privacy.seen, "readable": self.privacy.readable} if self.privacy
                            else None)}


def survey(putter, settings: Settings, target) -> Survey:
    """How many objects the bucket holds and how many are not on disk with their size yet."""
    from .copy import listing
    s = Survey(settings.bucket, target.dest, target.where)

    def files() -> Iterator[DiskFile]:
        for f in target.files():
            if is_temp(f.rel):
                if len(s.temps) < 100_000:
                    s.temps.append(f.rel)
                continue
            yield f
    for (key, size, _), rel, disk in pairs(listing(putter, settings), files(), settings):
        if rel is None:
            reason = why_not(key)
            s.not_copied[reason] = s.not_copied.get(reason, 0) + 1
            continue
        s.objects += 1
        s.bytes += size
        s.sampler.add(kind_of(rel), key)
        if disk is None or disk.size != size:
            s.missing += 1
            s.missing_bytes += size
            if len(s.examples) < 20:
                s.examples.append(key)
    return s
