"""Bucket to bucket: the instance's current bucket (its env file's settings, read with its key) is
the source, and every object ends up in the new bucket as Mastodon would have written it there:
same key (with the target's S3_KEY_PREFIX), Content-Type from our table, Mastodon's Cache-Control,
storage class, multipart above the threshold, and the ACL from the source as the bucket shows it.

The source is listed flat and, where it uses ACLs, each attachment is asked anonymously whether
anyone can read it: a private attachment stays private (a suspended account's media). backups/ and
imports/ stay private, and an avatar, emoji or card is public whatever it was (Mastodon never makes
them private: a private one is a copy tool's doing); of those only a sample is asked, for the
suspect question. A source mostly private is suspect (privacy.py)
and waits for the operator's choice. Then the copy of copy.py runs with this bucket as its reader:
a server-side CopyObject when both buckets are on one endpoint and the new key can read the old
bucket, otherwise each object streamed from a GET into a PUT (never through the disk). It resumes
from the journal (a source object is known by its ETag) and is verified as a disk copy is."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

from ..errors import InputError
from ..net import HttpOptions
from ..s3.credential import Credential
from ..settings import Settings
from .bounded import ordered_map
from .bucket_gap import place
from .copy import CopyResult, Progress, listing
from .inventory import Inventory, Skipped, SourceFile, files, human_bytes, take_inventory
from .job import CopyReport, copy_and_verify
from .objects import private_on_disk
from .privacy import KEEP, PUBLIC, Tally, kind_of, suspect_line
from .putter import PutError, Putter
from .reading import Body, SourceError
from .run import MigrateOutcome

PUBLIC_MODE, PRIVATE_MODE = 0o100644, 0o100600      # how a source object's privacy reaches spec_for
SERVER_SIDE_LIMIT = 5 * 1024 ** 3                   # CopyObject's limit; larger objects are streamed
GONE = ("NoSuchKey", "HTTP404")
NOT_ASKED = "not asked"     # the survey's answer for an object whose privacy Mastodon decides by its folder
SURVEY_JOBS_MAX = 64        # the survey's anonymous HEADs in flight: twice --jobs up to this, never fewer than --jobs
SERVER_SIDE_JOBS_MAX = 64   # server-side copies in flight: twice --jobs up to this (no byte comes through here)
SAMPLE_FIRST = 50           # objects of a kind decided without asking (avatars, backups): the first ones asked,
SAMPLE_ONE_IN = 8           # then one in this many (by a hash of the key: spread over the whole bucket)


def fingerprint(etag: str) -> int:
    """A source object's identity for the journal, where a file's mtime goes: its ETag, as 56 bits."""
    return int.from_bytes(hashlib.blake2b(etag.encode(), digest_size=7).digest(), "big")


def label(s: Settings) -> str:
    return f"s3://{s.bucket}" + (f"/{s.key_prefix}" if s.key_prefix else "") + (f" at {s.endpoint}" if s.endpoint
                                                                                  else f" ({s.region})")


class BucketReader:
    """The copy's reader for a source bucket: each object's bytes by GET (a large one streamed part
    by part into the multipart upload)."""

    def __init__(self, source: Settings, credential: Credential, http: HttpOptions | None, server_side: bool):
        self.source, self.server_side = source, server_side
        self.putter = Putter(source, credential, http)
        self.how = (f"copied by the server from {label(source)} (CopyObject, headers replaced): no byte comes "
                    "through this machine" if server_side else
                    f"read from {label(source)} and streamed into the new bucket (GET to PUT, never through "
                    "the disk)")

    def key(self, f: SourceFile) -> str:
        return self.source.key(f.rel)

    def copy_source(self, f: SourceFile) -> tuple[str, str] | None:
        return (self.source.bucket, self.key(f)) if self.server_side and f.size < SERVER_SIDE_LIMIT else None

    def request(self, f: SourceFile) -> None:
        pass

    def body(self, f: SourceFile, large: bool) -> Body:
        try:
            if large:
                return Body(file=self.putter.open(self.key(f)), size=f.size)
            _, data = self.putter.get(self.key(f))
        except PutError as e:
            if e.code in GONE:
                raise SourceError("vanished from the old bucket since the inventory (deleted by Mastodon)") from None
            raise SourceError(f"cannot be read from the old bucket: {e}") from None
        return Body(data=data, size=len(data))

    def read_all(self, f: SourceFile) -> bytes:
        return self.putter.get(self.key(f))[1]

    def finish(self) -> None:
        pass

    def close(self) -> None:
        self.putter.close()


@dataclasses.dataclass
class SourceSurvey:
    """What the source bucket showed: per kind, how many objects anyone can read; and how many
    private attachments each top-level folder holds (the ones a PUBLIC choice makes public)."""

    tally: Tally = dataclasses.field(default_factory=Tally)
    private_attachments: dict[str, int] = dataclasses.field(default_factory=dict)
    acl_read: bool = True         # False: a policy-mode source, where no object's ACL says anything
    unasked: list[dict] = dataclasses.field(default_factory=list)   # {key, error}: not copied, a failure each


def walker(source: Settings, credential: Credential, http: HttpOptions | None, survey: SourceSurvey, jobs: int
           ) -> Callable[[Skipped], Iterator[SourceFile]]:
    """The source bucket as the inventory's walk: a SourceFile per object in key order, its mode
    saying whether it must stay private."""
    putter = Putter(source, credential, http, timeout=30.0)
    prefix = f"{source.key_prefix}/" if source.key_prefix else ""
    survey.acl_read = bool(source.acl)

    asked: dict[str, int] = {}

    def needs_asking(rel: str, kind: str) -> bool:
        """Attachments and folders Mastodon does not write: always (their ACL is copied as it is). What
        Mastodon makes public or private whatever the bucket shows (avatars, emoji, cards; backups/,
        imports/): a sample, for the suspect question only."""
        if kind in ("attachment", "other"):
            return True
        n = asked[kind] = asked.get(kind, 0) + 1
        return n <= SAMPLE_FIRST or hashlib.blake2b(rel.encode(), digest_size=1).digest()[0] % SAMPLE_ONE_IN == 0

    def ask(item: tuple[str, int, str]) -> bool | None | str:
        if not survey.acl_read:
            return True
        if not needs_asking(*item[3:]):
            return NOT_ASKED
        return putter.anyone_reads(item[0])

    # A HEAD is a round trip that costs the server little: twice the copy's workers keep more of them in
    # flight (bench/migrate_buckets.py: the survey of 20,000 objects 5.1-6.9 s with 32, 4.1-4.6 s with 64),
    # and only attachments are all asked (half of a Mastodon bucket): the rest is a sample.
    asking = max(jobs, min(2 * jobs, SURVEY_JOBS_MAX))

    def walk(skipped: Skipped) -> Iterator[SourceFile]:
        objects = ((k, size, etag, k[len(prefix):], kind_of(k[len(prefix):]))
                   for k, size, etag in listing(putter, source) if not k.endswith("/"))
        for (key, size, etag, rel, kind), public, error in ordered_map(ask, objects, asking, "mastowizard-source"):
            if error is not None:      # not copied: whether it is private is unknown
                skipped.add(f"could not be asked who may read it ({error})", rel)
                survey.unasked.append({"key": key, "error": f"could not be asked who may read it: {error}"})
                continue
            if public is None:
                skipped.add("vanished from the old bucket during the inventory", rel)
                continue
            if public is NOT_ASKED:
                public = kind == "public"
                survey.tally.sampled.add(kind)
            else:
                survey.tally.add(kind, public)
            private = kind in ("attachment", "other") and not public
            if private and kind == "attachment":
                top = rel.split("/", 1)[0]
                survey.private_attachments[top] = survey.private_attachments.get(top, 0) + 1
            yield SourceFile(rel, key, size, fingerprint(etag), PRIVATE_MODE if private else PUBLIC_MODE)
    return walk


class Chosen:
    """The inventory with private attachments made public (the operator's PUBLIC choice)."""

    def __init__(self, inv: Inventory):
        self.inv = inv

    def __getattr__(self, name: str):
        return getattr(self.inv, name)

    def replay(self) -> Iterator[SourceFile]:
        for f in self.inv.replay():
            if private_on_disk(f.mode) and kind_of(f.rel) == "attachment":
                f = dataclasses.replace(f, mode=PUBLIC_MODE)
            yield f


def server_side_possible(source: Settings, target: Settings, target_key: Credential, http: HttpOptions | None,
                         first: SourceFile | None) -> bool:
    """Both buckets on one endpoint, and the new key can read the old bucket (a HEAD of its first object)."""
    if first is None or (source.endpoint or f"aws:{source.region}") != (target.endpoint or f"aws:{target.region}"):
        return False
    try:
        return Putter(source, target_key, http, timeout=15.0).head(source.key(first.rel)) is not None
    except (PutError, OSError):
        return False


def suspect_question(survey: SourceSurvey) -> str:
    return suspect_line(survey.tally, "the old bucket")


def verified_at(source: Settings, target: Settings) -> Settings:
    """Where a stranger's reads prove the new bucket: its media host, or, when that name still
    serves the old bucket (it keeps its name through the move), the new bucket's own URL."""
    if not target.alias_host or target.alias_host != source.alias_host:
        return target
    scheme = urlsplit(target.endpoint).scheme if target.endpoint else "https"
    return dataclasses.replace(target, alias_host=None, hostname=None, protocol=scheme)


def after_the_copy(source: Settings, target: Settings) -> list[str]:
    """What to do once the new bucket holds everything: the switch, the last copy, the old URLs."""
    lines = [f"every object is in bucket {target.bucket} as Mastodon would have stored it; bucket {source.bucket} "
             "is unchanged",
             "next: `mastowizard apply` with the new settings, restart, then copy what Mastodon stored in the old "
             "bucket meanwhile: `mastowizard migrate --env-file ENV --source-env BACKUP` (BACKUP: the copy of the "
             "env file `apply` made; only new objects are copied)",
             "after that last copy: `mastowizard count-orphans` runs `tootctl media remove-orphans --dry-run` on the "
             "host, to count media Mastodon deleted meanwhile that the copy brought back"]
    if source.alias_host and source.alias_host == target.alias_host:
        lines.append(f"the media host {source.alias_host} keeps its name: point it at the new bucket, the old one "
                     "answering what the new one lacks until the last copy is done (`mastowizard media-host "
                     "--fallback` with the new settings prints that nginx server block)")
    elif source.alias_host:
        lines.append(f"URLs other servers stored name {source.alias_host}: keep it answering (serve the new bucket "
                     "there too, or redirect it to the new media host)")
    else:
        lines.append(f"the old bucket had no S3_ALIAS_HOST: other servers hold URLs naming the old provider "
                     f"({source.public_url('...')}) forever; keep bucket {source.bucket} readable, or redirect that "
                     "host, or old posts' media breaks on other servers")
    return lines


@dataclasses.dataclass
class OldBucket:
    """The old bucket as a copy sees it: its inventory (spooled), what it showed, and its reader."""

    source: Settings
    inventory: Inventory
    survey: SourceSurvey
    reader: BucketReader

    def ambiguous(self, target: Settings) -> bool:
        """Mostly private with private attachments, into a bucket with ACLs: a choice is needed."""
        return bool(self.survey.tally.suspect and self.survey.tally.private("attachment") and target.acl)

    def close(self) -> None:
        self.reader.close()
        self.inventory.close()


def open_old_bucket(source: Settings, source_key: Credential, target: Settings, target_key: Credential,
                    http: HttpOptions | None, jobs: int = 32) -> OldBucket:
    """List SOURCE's bucket (asking who may read each object where it uses ACLs), and choose how its
    objects reach TARGET's: server-side where possible, else streamed."""
    if place(source) == place(target):
        raise InputError("--bucket", f"the new bucket is the one the env file already uses ({source.bucket})",
                         "give the new provider's --bucket (and --endpoint or --provider), or run migrate without "
                         "them to copy the media on disk into this bucket")
    survey = SourceSurvey()
    inv = take_inventory(label(source), spool=True, walker=walker(source, source_key, http, survey, jobs))
    try:
        first = next(inv.replay(), None)
        reader = BucketReader(source, source_key, http, server_side_possible(source, target, target_key, http, first))
    except BaseException:
        inv.close()
        raise
    return OldBucket(source, inv, survey, reader)


def copy_from_old(old: OldBucket, target: Settings, target_key: Credential, *, http: HttpOptions | None,
                  jobs: int = 32, dry_run: bool = False, verify: str = "sample", private_media: str | None = None,
                  on_progress: Callable[[Progress], None] | None = None, cancel=None) -> MigrateOutcome:
    """Copy OLD's objects into TARGET's bucket and verify them; PRIVATE_MEDIA (keep or public) is
    required where OLD is ambiguous (except on a dry run, which keeps them private)."""
    if private_media not in (None, KEEP, PUBLIC):
        raise InputError("--private-media", f"{private_media!r} is not a choice", "use keep or public")
    inv, how = old.inventory, old.reader.how
    if inv.files == 0:
        return MigrateOutcome(inv, CopyReport(CopyResult(failed=list(old.survey.unasked))), how)
    if old.ambiguous(target) and private_media is None and not dry_run:
        raise InputError("--private-media", suspect_question(old.survey), "give --private-media keep or public")
    view = inv
    if private_media == PUBLIC and target.acl:
        for top, n in old.survey.private_attachments.items():
            inv.folders[top].private -= n
        old.survey.private_attachments = {}
        view = Chosen(inv)
    if old.reader.server_side:      # each copy is a request the server answers: keep more of them in flight
        jobs = max(jobs, min(2 * jobs, SERVER_SIDE_JOBS_MAX))
    report = copy_and_verify(target, target_key, inv.source, http=http, jobs=jobs, dry_run=dry_run, verify=verify,
                             on_progress=on_progress, cancel=cancel, inventory=view, reader=old.reader,
                             copy_source=old.reader.copy_source, public=verified_at(old.source, target))
    report.copy.failed.extend(old.survey.unasked)     # the copy is not complete while one was left out
    return MigrateOutcome(inv, report, how, after_the_copy(old.source, target))


def migrate_between(source: Settings, source_key: Credential, target: Settings, target_key: Credential, *,
                    http: HttpOptions, jobs: int, dry_run: bool, verify: str, private_media: str | None = None,
                    decide: Callable[[SourceSurvey], str] | None = None, confirm: Callable[[str], None],
                    on_inventory: Callable[[Inventory, str], None] | None = None,
                    on_progress: Callable[[Progress], None] | None = None) -> MigrateOutcome:
    """Copy every object of SOURCE's bucket into TARGET's, then verify it. ON_INVENTORY(inventory, how
    the objects are read) is told what the old bucket holds before CONFIRM(question) is asked (not on
    a dry run); in a suspect source with private attachments and no PRIVATE_MEDIA, DECIDE(survey)
    is asked for keep or public (it raises to refuse). Prints nothing."""
    if private_media not in (None, KEEP, PUBLIC):
        raise InputError("--private-media", f"{private_media!r} is not a choice", "use keep or public")
    old = open_old_bucket(source, source_key, target, target_key, http, jobs)
    try:
        if on_inventory is not None:
            on_inventory(old.inventory, old.reader.how)
        if old.inventory.files and old.ambiguous(target) and private_media is None and not dry_run:
            if decide is None:
                raise InputError("--private-media", suspect_question(old.survey), "give --private-media keep or "
                                 "public")
            private_media = decide(old.survey)
        if old.inventory.files and not dry_run:
            inv = old.inventory
            confirm(f"Copy {files(inv.files)} ({human_bytes(inv.bytes)}) from bucket {source.bucket} into bucket "
                    f"{target.bucket}? Nothing in {source.bucket} is changed or deleted.")
        return copy_from_old(old, target, target_key, http=http, jobs=jobs, dry_run=dry_run, verify=verify,
                             private_media=private_media, on_progress=on_progress)
    finally:
        old.close()
