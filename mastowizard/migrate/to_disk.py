"""`mastowizard migrate --to-disk`: the bucket named by the env file copied back into public/system
(or PAPERCLIP_ROOT_PATH), on this machine or on the Mastodon host over SSH, exactly as Mastodon
would have the files on disk: the object's bytes, owned by the instance's user, 0644, or 0600 for
what is private (backups/, imports/, and attachments nobody may read anonymously: suspended
accounts' media, which UpdateMediaAttachmentsPermissionsService chmods 0600); directories 0755.

Resumable: a file already on disk with the object's size (and, for a single-part ETag, its MD5) is
never written again; each file appears under its real name only complete (disk_writers.py). An
object that vanishes meanwhile is counted, not failed. Nothing in the bucket is changed or deleted.
Prints nothing: the CLI renders the result."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice

from ..errors import InputError
from ..net import HttpOptions
from ..s3.credential import Credential
from .bounded import bounded_map
from .copy import Progress, listing
from .disk_target import Owner, target_for
from .disk_writers import WriteError
from .inventory import files as n_files
from .inventory import human_bytes
from .privacy import KEEP, PUBLIC, Tally, disk_mode, kind_of, known_mode, suspect_line
from .putter import PutError, Putter
from .to_disk_privacy import sampled_privacy
from .to_disk_survey import Survey, pairs, s3_settings, survey, why_not
from .to_disk_verify import Verification, verify

LARGE = 8 * 1024 * 1024          # objects above this are streamed (to the file, or a spool for the tar stream)
CHUNK = 1000                     # objects looked at together: one checksum command on the host per chunk
SPACE_MARGIN = 64 * 1024 * 1024  # free space kept beyond the bytes to write


class Vanished(Exception):
    """The object was deleted since it was listed."""


@dataclass
class ToDiskResult:
    bucket: str
    dest: str
    host: str
    owner: str = ""
    how: str = ""
    objects: int = 0
    bytes: int = 0
    copied: int = 0
    copied_bytes: int = 0
    skipped: int = 0             # already on disk, complete
    private: int = 0             # written 0600
    modes_fixed: int = 0
    vanished: int = 0            # deleted from the bucket since it was listed: counted, not failed
    temps_removed: int = 0
    not_copied: dict[str, int] = field(default_factory=dict)
    failed: list[dict] = field(default_factory=list)
    aborted: str = ""
    error: str = ""              # the writer on the host failed as a whole
    seconds: float = 0.0
    dry_run: bool = False
    cancelled: bool = False
    private_media: str | None = None     # the operator's choice for a suspect bucket's private attachments
    survey: Survey | None = None
    verification: Verification | None = None

    @property
    def ok(self) -> bool:
        if self.dry_run:
            return not self.failed
        return (not self.failed and not self.aborted and not self.error and not self.cancelled
                and self.verification is not None
                and self.verification.ok)

    def to_json(self) -> dict:
        return {"ok": self.ok, "bucket": self.bucket, "dest": self.dest, "host": self.host, "owner": self.owner,
                "how": self.how, "objects": self.objects, "bytes": self.bytes, "copied": self.copied,
                "copied_bytes": self.copied_bytes, "skipped": self.skipped, "private": self.private,
                "modes_fixed": self.modes_fixed, "vanished": self.vanished, "temps_removed": self.temps_removed,
                "not_copied": self.not_copied, "failed": self.failed, "aborted": self.aborted, "error": self.error,
                "seconds": round(self.seconds, 3), "dry_run": self.dry_run, "cancelled": self.cancelled,
                "private_media": self.private_media,
                "survey": self.survey.to_json() if self.survey else None,
                "verified": self.verification.to_json() if self.verification else None}


@dataclass(frozen=True)
class Task:
    key: str
    rel: str
    size: int
    kind: str


def expected_mode(kind: str, putter: Putter, key: str, private_media: str | None = None) -> int:
    """0600 for what Mastodon keeps private, else 0644: backups/ and imports/ always; avatars, emoji,
    cards never; attachments (and folders Mastodon does not write) as anyone on the internet finds them,
    unless the operator chose to make private attachments PUBLIC."""
    known = known_mode(kind, private_media)
    if known is not None:
        return known
    readable = putter.anyone_reads(key)
    if readable is None:
        raise Vanished()
    return disk_mode(kind, readable, private_media)


class _Md5Sink:
    def __init__(self, fh):
        self.fh, self.md5, self.n = fh, hashlib.md5(), 0

    def write(self, block: bytes) -> None:
        self.md5.update(block)
        self.n += len(block)
        self.fh.write(block)


def _check_etag(headers: Mapping[str, str], md5: str) -> None:
    etag = (headers.get("etag") or "").strip('"').lower()
    if etag and "-" not in etag and len(etag) == 32 and etag != md5:
        raise WriteError(f"its bytes do not match its ETag ({md5} != {etag}): not written")


def to_disk(env_file: str, values: Mapping[str, str], writer_key: Credential, *, host=None, jobs: int = 16,
            dry_run: bool = False, http: HttpOptions | None = None, confirm: Callable[[str], None] = lambda q: None,
            on_survey: Callable[[Survey, Owner, str], None] | None = None,
            on_progress: Callable[[Progress], None] | None = None, sample: int = 20,
            private_media: str | None = None, decide: Callable[[Tally], str] | None = None,
            cancel: threading.Event | None = None, s3_values: Mapping[str, str] | None = None) -> ToDiskResult:
    """Copy the env file's bucket into its public/system on HOST (None: this machine). ON_SURVEY is told
    what is to be written before CONFIRM(question) is asked (not on a dry run, nor when nothing is
    missing and nothing is to be checked); refusals are InputError, raised before anything is written.
    A suspect bucket (mostly private, as a copy tool leaves it) needs PRIVATE_MEDIA (keep: its private
    attachments 0600; public: 0644), else DECIDE(the sample's tally) is asked, or it is refused.
    S3_VALUES name the bucket when VALUES no longer do (after the switch: its backup's)."""
    if private_media not in (None, KEEP, PUBLIC):
        raise InputError("--private-media", f"{private_media!r} is not a choice", "use keep or public")
    from ..host.local import LocalHost
    from .inventory import source_dir
    settings = s3_settings(env_file, s3_values or values)
    host = host or LocalHost()
    target = target_for(host, source_dir(env_file, values), env_file)
    owner = target.owner()
    target.check(owner)
    putter = Putter(settings, writer_key, http)
    found = survey(putter, settings, target)
    found.privacy = sampled_privacy(putter, found.sampler, jobs)
    free = target.free_bytes()
    if found.missing_bytes and free is not None and free < found.missing_bytes + SPACE_MARGIN:
        raise InputError(target.dest, f"has {human_bytes(free)} free on {target.where}, and the copy needs "
                         f"{human_bytes(found.missing_bytes)} (+{human_bytes(SPACE_MARGIN)} kept free); nothing was "
                         "written", "free some space, or point PAPERCLIP_ROOT_PATH at a larger disk")
    result = ToDiskResult(settings.bucket, target.dest, target.where, str(owner), dry_run=dry_run, survey=found,
                          objects=found.objects, bytes=found.bytes, not_copied=dict(found.not_copied))
    if on_survey is not None:
        on_survey(found, owner, getattr(target, "how", ""))
    if dry_run:
        result.copied, result.copied_bytes = found.missing, found.missing_bytes
        result.skipped = found.objects - found.missing
        return result
    if found.suspect and private_media is None:
        if decide is None:
            raise InputError("--private-media", suspect_line(found.privacy, f"bucket {settings.bucket}"),
                             "give --private-media keep (their files 0600) or public (0644)")
        private_media = decide(found.privacy)
    result.private_media = private_media
    confirm(f"Copy {n_files(found.missing)} ({human_bytes(found.missing_bytes)}) from bucket {settings.bucket} into "
            f"{target.dest} on {target.where}, owned by {owner.name} (0644; 0600 for private files)? Nothing in the "
            "bucket is changed or deleted.")
    target.remove_temps(found.temps)
    result.temps_removed = len(found.temps)
    _copy(settings, putter, target, owner, result, jobs, on_progress, cancel or threading.Event())
    if not result.aborted and not result.cancelled:
        result.verification = verify(putter, settings, target, owner, sample, private_media)
    return result


def _copy(settings, putter: Putter, target, owner: Owner, result: ToDiskResult, jobs: int,
          on_progress: Callable[[Progress], None] | None, cancel: threading.Event) -> None:
    progress = Progress(result.objects, result.bytes)
    writer = target.writer(owner)
    result.how = writer.how

    def tasks() -> Iterator[Task]:
        stream = pairs(listing(putter, settings), target.files(), settings)
        while batch := list(islice(stream, CHUNK)):
            sums = target.md5([rel for (key, size, etag), rel, disk in batch
                               if disk is not None and disk.size == size and etag and "-" not in etag])
            fix: dict[int, list[str]] = {}
            for (key, size, etag), rel, disk in batch:
                if rel is None:
                    continue
                kind = kind_of(rel)
                if disk is not None and disk.size == size and ("-" in etag or not etag
                                                               or sums.get(rel) == etag.lower()):
                    progress.files += 1
                    progress.bytes += size
                    progress.skipped += 1
                    want = known_mode(kind, result.private_media)
                    if want is not None and disk.mode != want:
                        fix.setdefault(want, []).append(rel)
                    continue
                yield Task(key, rel, size, kind)
            for mode, rels in fix.items():
                target.chmod(rels, mode)
                result.modes_fixed += len(rels)
            if on_progress:
                on_progress(progress)

    def fetch(t: Task) -> tuple[int, int]:
        try:
            mode = expected_mode(t.kind, putter, t.key, result.private_media)
            if t.size > LARGE:
                seen: list = []

                def fill(fh) -> None:
                    sink = _Md5Sink(fh)
                    headers, _ = putter.get(t.key, into=sink)
                    _check_etag(headers, sink.md5.hexdigest())
                    seen.append(sink.n)
                writer.put(t.rel, mode, fill=fill)
                return mode, seen[0]
            headers, data = putter.get(t.key)
            _check_etag(headers, hashlib.md5(data).hexdigest())
            writer.put(t.rel, mode, data=data)
            return mode, len(data)
        except PutError as e:
            if e.status == 404:
                raise Vanished() from None
            raise

    try:
        for t, done, exc in bounded_map(fetch, tasks(), jobs, cancel, name="mastowizard-to-disk"):
            progress.files += 1
            progress.bytes += t.size
            if isinstance(exc, Vanished):
                result.vanished += 1
            elif exc is not None:
                progress.failed += 1
                result.failed.append({"key": t.key, "error": str(exc)})
                _maybe_abort(result, progress, jobs, cancel)
            else:
                progress.copied += 1
                progress.copied_bytes += done[1]
                result.private += done[0] == 0o600
            if on_progress:
                on_progress(progress)
    except BaseException:
        writer.abort()
        raise
    result.cancelled = cancel.is_set() and not result.aborted
    try:
        writer.finish()
    except Exception as e:  # noqa: BLE001 - tar on the host failed: the verification says what is missing
        result.error = str(e)
    target.remove_temps([])
    result.copied, result.copied_bytes, result.skipped = progress.copied, progress.copied_bytes, progress.skipped
    result.seconds = progress.seconds


def _maybe_abort(result: ToDiskResult, progress: Progress, jobs: int, cancel: threading.Event) -> None:
    """The first downloads all failed alike (the key refused, the bucket gone): stop instead of
    failing every object the same way."""
    probe = max(8, min(2 * jobs, 32))
    if result.aborted or progress.copied or len(result.failed) < probe:
        return
    codes = [f["error"].split(" ")[0] for f in result.failed]
    common = max(set(codes), key=codes.count)
    if codes.count(common) >= 0.9 * len(codes):
        result.aborted = next(f["error"] for f in result.failed if f["error"].startswith(common))
        cancel.set()


__all__ = ["ToDiskResult", "to_disk", "why_not"]
