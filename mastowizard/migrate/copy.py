"""Copy the tree into the bucket as Mastodon would have stored it, fast, resumable and idempotent.

One pass merges the sorted walk of the disk with a flat sorted listing of the bucket (fetched ahead
in a thread) and the journal: a file is skipped when its object is listed with the size and ETag
the journal recorded for this file (same size and mtime) and these headers; everything else is
uploaded by a pool of workers, at most 2x workers files in flight, so memory stays bounded
whatever the size of the tree. A PUT is atomic (and checked against Content-MD5), a multipart
upload appears only when complete: an interrupted run never leaves a truncated object under a key.
"""

from __future__ import annotations

import base64
import hashlib
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from ..errors import TargetError
from ..net import HttpOptions
from ..s3.credential import Credential
from ..settings import CACHE_CONTROL, Settings
from .adopt import etag_of, stored_as_mastodon_would
from .inventory import Skipped, SourceFile, walk
from .journal import PENDING, Journal, journal_path
from .objects import (
    ObjectSpec,
    multipart_threshold,
    part_size,
    spec_for,
    storage_class,
)
from .putter import PutError, Putter
from .reading import Body, LocalReader, Reader, SourceError


@dataclass
class Progress:
    total_files: int = 0
    total_bytes: int = 0
    files: int = 0          # looked at so far (copied + skipped + failed)
    bytes: int = 0
    copied: int = 0
    copied_bytes: int = 0
    skipped: int = 0
    failed: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def line(self, already: str = "skipped") -> str:
        """What was copied, skipped (ALREADY names them) and failed, at what rate, and the ETA."""
        fps, mbps, eta = self.rates()
        return (f"copied {self.copied}, {already} {self.skipped}, failed {self.failed}; {fps:.0f} files/s, "
                f"{mbps:.1f} MB/s" + (f", ETA {eta:.0f}s" if eta is not None else ""))

    def rates(self) -> tuple[float, float, float | None]:
        """files/s and MB/s of what was copied, and the ETA in seconds (when totals are known)."""
        s = max(self.seconds, 1e-6)
        fps, mbps = self.copied / s, self.copied_bytes / s / 1e6
        eta = None
        if self.total_bytes and self.bytes:
            eta = s * (self.total_bytes - self.bytes) / self.bytes
        return fps, mbps, eta


@dataclass
class CopyResult:
    files: int = 0
    bytes: int = 0
    copied: int = 0
    skipped: int = 0
    adopted: int = 0         # of the skipped: in the bucket already, exactly, but in no journal here
    private: int = 0
    exposed: int = 0
    failed: list[dict] = field(default_factory=list)
    not_copied: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    cancelled: bool = False
    aborted: str = ""        # why the copy stopped early: every upload failed the same way
    dry_run: bool = False
    journal: str = ""
    sample_public: list[tuple[SourceFile, ObjectSpec]] = field(default_factory=list)
    sample_private: list[tuple[SourceFile, ObjectSpec]] = field(default_factory=list)
    all_files: list[tuple[SourceFile, ObjectSpec]] | None = None

    def to_json(self) -> dict:
        return {"files": self.files, "bytes": self.bytes, "copied": self.copied, "skipped": self.skipped,
                "adopted": self.adopted, "private": self.private, "exposed": self.exposed, "failed": self.failed,
                "not_copied": self.not_copied, "seconds": round(self.seconds, 3), "cancelled": self.cancelled,
                "aborted": self.aborted,
                "dry_run": self.dry_run}


def key_ranges(settings: Settings, splits: list[str] | None) -> list[tuple[str | None, str | None]]:
    """(after, until] key ranges that cover every key under S3_KEY_PREFIX, cut at SPLITS (every
    thousandth key of the walk, from the inventory): a page or two each, listed concurrently."""
    cuts = [settings.key(rel) for rel in splits or []]
    return list(zip([None, *cuts], [*cuts, None], strict=False))


def listing(lister: Putter, settings: Settings, splits: list[str] | None = None, threads: int = 8,
            prefixes: list[str] | None = None) -> Iterator[tuple[str, int, str]]:
    """(key, size, etag) of every object under S3_KEY_PREFIX, in key order. The key ranges cut at
    SPLITS are listed concurrently, a few pages ahead each. With PREFIXES (a shard's units, in key
    order, none under another: shards.listing_prefixes), only the objects under them."""
    base = f"{settings.key_prefix}/" if settings.key_prefix else ""
    if prefixes is not None:
        ranges = [(base + p, None, None) for p in prefixes]
    else:
        ranges = [(base, after, until) for after, until in key_ranges(settings, splits)]
    queues = [queue.Queue(maxsize=4) for _ in ranges]
    todo: queue.Queue = queue.Queue()
    for i in range(len(ranges)):
        todo.put(i)

    def list_range(i: int) -> None:
        prefix, after, until = ranges[i]
        token = None
        while True:
            if token and token.startswith("after:"):
                after, token = token[6:], None
            items, token = lister.list_page(prefix, after, token)
            if until is not None and items and items[-1][0] > until:
                queues[i].put([x for x in items if x[0] <= until])
                return
            queues[i].put(items)
            if token is None or not items:
                return

    def worker() -> None:
        # Ranges are taken in key order (a FIFO), and one is done only once the consumer has read all
        # but its last pages: the earliest range the consumer waits for always has a worker.
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            try:
                list_range(i)
            except Exception as e:  # noqa: BLE001 - the consumer raises it
                queues[i].put(e)
            queues[i].put(None)

    for _ in range(min(threads, len(ranges))):
        threading.Thread(target=worker, daemon=True, name="mastowizard-listing").start()
    for q in queues:
        while True:
            item = q.get()
            if item is None:
                break
            if isinstance(item, Exception):
                raise TargetError(f"bucket {settings.bucket}", f"cannot be listed: {item}",
                                  "check the bucket name and endpoint; the writer key needs s3:ListBucket on "
                                  "the bucket") from None
            yield from item


def merged(files: Iterator[SourceFile], remote: Iterator[tuple[str, int, str]], settings: Settings
           ) -> Iterator[tuple[SourceFile, ObjectSpec, tuple[str, int, str] | None]]:
    """Each file with its object spec and its listing entry (None when the key is not listed): one
    pass over two key-ordered streams."""
    current = next(remote, None)
    for f in files:
        spec = spec_for(f.rel, f.mode, settings)
        while current is not None and current[0] < spec.key:
            current = next(remote, None)
        yield f, spec, current if current is not None and current[0] == spec.key else None


class Reservoir:
    """A uniform random sample of up to SIZE of the items offered, however many: bounded memory."""

    def __init__(self, size: int, rng: random.Random):
        self.size, self.rng, self.items, self.seen = size, rng, [], 0

    def offer(self, item) -> None:
        self.seen += 1
        if len(self.items) < self.size:
            self.items.append(item)
        else:
            j = self.rng.randrange(self.seen)
            if j < self.size:
                self.items[j] = item


def copy_tree(settings: Settings, credential: Credential, source: str, *, http: HttpOptions | None = None,
              jobs: int = 32, dry_run: bool = False, keep_all: bool = False, sample: int = 20,
              on_progress: Callable[[Progress], None] | None = None, cancel: threading.Event | None = None,
              totals: tuple[int, int] | None = None, splits: list[str] | None = None,
              files: Iterator[SourceFile] | None = None, reader: Reader | None = None,
              copy_source: Callable[[SourceFile], tuple[str, str] | None] | None = None,
              shard=None, prefixes: list[str] | None = None) -> CopyResult:
    """Copy SOURCE (public/system) into the bucket. KEEP_ALL keeps every (file, object) for a full
    verification (memory grows with the tree); otherwise a sample is kept. FILES (an inventory's
    replay) saves walking the tree again; it must be in key order, as walk() yields. READER gives the
    bytes (default: this machine's disk; remote.TarReader for the Mastodon host over SSH).
    COPY_SOURCE(file) names the (bucket, key) on the same endpoint the server copies a file from
    (CopyObject, headers replaced), or None to upload its bytes. SHARD (shards.Shard): FILES are that
    shard's, journaled apart from the other shards (several may run on one host), and the bucket is
    listed only under PREFIXES (its units)."""
    jobs = max(1, min(jobs, 256))
    reader = reader or LocalReader()
    putter = Putter(settings, credential, http)
    boto: list = []          # a boto3 client, made only when a file needs a multipart upload

    def client():
        from ..s3.client import make_client
        if not boto:
            boto.append(make_client(settings, credential, timeout=60.0, http=http))
        return boto[0]
    journal = Journal(journal_path(settings, shard), key_prefix=settings.key_prefix)
    threshold = multipart_threshold(settings)
    rng = random.Random(0)
    pub, priv = Reservoir(sample, rng), Reservoir(max(sample // 2, 5), rng)
    result = CopyResult(dry_run=dry_run, journal=str(journal.path), all_files=[] if keep_all else None)
    progress = Progress(*(totals or (0, 0)))
    skipped = Skipped()
    cancel = cancel or threading.Event()
    last_report = 0.0
    in_flight: dict[Future, tuple[SourceFile, ObjectSpec]] = {}

    def report(force: bool = False) -> None:
        nonlocal last_report
        if on_progress and (force or time.monotonic() - last_report > 0.25):
            last_report = time.monotonic()
            on_progress(progress)

    base_headers = {"Cache-Control": CACHE_CONTROL}
    if storage_class(settings):
        base_headers["x-amz-storage-class"] = storage_class(settings)

    def upload(f: SourceFile, spec: ObjectSpec, listed_etag: str | None) -> tuple[str, int, bool]:
        """Stores one file and journals it in this worker as soon as the server's answer arrives (not
        when the main thread settles it later): a kill in between would upload it twice. LISTED_ETAG:
        the bucket already holds an object of this size that no journal here recorded; it is kept
        (and journaled) when it is exactly this file as Mastodon stores it (adopt.py). The third
        value says it was kept."""
        source = copy_source(f) if copy_source is not None else None
        if source is not None:      # another bucket on this endpoint: the server copies, no byte comes here
            headers = {**base_headers, "Content-Type": spec.content_type}
            if spec.acl:
                headers["x-amz-acl"] = spec.acl
            etag = putter.copy_object(spec.key, *source, headers)
            journal.record(spec.key, f.size, f.mtime_ns, etag, spec.signature(settings))
            return etag, f.size, False
        body = reader.body(f, large=f.size > threshold)
        if listed_etag is not None and etag_of(body, threshold) == listed_etag \
                and stored_as_mastodon_would(putter, spec, settings):
            body.close()
            journal.record(spec.key, f.size, f.mtime_ns, listed_etag, spec.signature(settings))
            return listed_etag, 0, True
        try:
            if body.file is not None:
                etag, sent = _multipart(client(), settings, body, spec, threshold, journal)
            else:
                headers = {**base_headers, "Content-Type": spec.content_type}
                if spec.acl:
                    headers["x-amz-acl"] = spec.acl
                etag, sent = putter.put(spec.key, body.data, headers), len(body.data)
        finally:
            body.close()
        if sent == f.size:   # a file that changed while it was read is uploaded again next run
            journal.record(spec.key, f.size, f.mtime_ns, etag, spec.signature(settings))
        return etag, sent, False

    def settle(done) -> None:
        for fut in done:
            f, spec = in_flight.pop(fut)
            try:
                _, sent, kept = fut.result()
            except Exception as e:  # noqa: BLE001 - one failed file is named, the copy goes on
                progress.failed += 1
                from ..s3.client import explain
                if isinstance(e, (PutError, SourceError)):
                    text = str(e)
                else:
                    err = explain(e)
                    text = f"{err.code}: {err.message}"
                result.failed.append({"key": spec.key, "error": text})
                # The first uploads (nearly) all failed alike: the bucket or the key is wrong for
                # every file, so stop instead of failing each of them.
                probe = max(8, min(2 * jobs, 32))
                early = progress.copied + progress.failed <= probe
                if not result.aborted and len(result.failed) >= 0.9 * probe and early:
                    codes = [x["error"].split(" ")[0] for x in result.failed]
                    common = max(set(codes), key=codes.count)
                    if codes.count(common) >= 0.9 * probe:
                        result.aborted = next(x["error"] for x in result.failed if x["error"].startswith(common))
                        cancel.set()
                continue
            if kept:
                progress.skipped += 1
                result.adopted += 1
                continue
            progress.copied += 1
            progress.copied_bytes += sent
        report()

    if not dry_run:
        _abort_left_over(journal, client, settings)
    pairs = merged(files if files is not None else walk(source, skipped, shard),
                   listing(putter, settings, splits, prefixes=prefixes), settings)
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="mastowizard-copy")
    try:
        for f, spec, listed in pairs:
            if cancel.is_set():
                result.cancelled = not result.aborted
                break
            result.files += 1
            result.bytes += f.size
            result.private += spec.private
            result.exposed += spec.exposed
            (priv if spec.private else pub).offer((f, spec))
            if result.all_files is not None:
                result.all_files.append((f, spec))
            progress.files += 1
            progress.bytes += f.size
            if listed is not None and _complete(journal.get(spec.key), listed, f, spec, settings):
                progress.skipped += 1
                report()
                continue
            # there with this size but not journaled as this file here: kept if it is exactly it
            listed_etag = listed[2] if listed is not None and listed[1] == f.size and listed[2] else None
            if dry_run:
                progress.copied += 1
                progress.copied_bytes += f.size
                report()
                continue
            reader.request(f)
            in_flight[pool.submit(upload, f, spec, listed_etag)] = (f, spec)
            if len(in_flight) >= 2 * jobs:
                done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
                settle(done)
        reader.finish()
        while in_flight:
            done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            settle(done)
    except BaseException:
        cancel.set()
        reader.finish()
        for fut in in_flight:
            fut.cancel()
        settle([fut for fut in list(in_flight) if fut.done() and not fut.cancelled()])
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        journal.close()
        report(force=True)
    result.copied, result.skipped = progress.copied, progress.skipped
    result.not_copied = dict(skipped.counts)
    result.seconds = progress.seconds
    result.sample_public, result.sample_private = pub.items, priv.items
    return result


def _complete(row, listed: tuple[str, int, str], f: SourceFile, spec: ObjectSpec, settings: Settings) -> bool:
    """The object is there as this file, with these headers: the journal says so and the listing agrees."""
    if row is None:
        return False
    size, mtime_ns, etag, signature = row
    return (size == f.size and mtime_ns == f.mtime_ns and signature == spec.signature(settings)
            and listed[1] == f.size and listed[2] == etag)


CLOCK_SKEW = 300.0     # seconds between this machine's clock and the server's that an intent allows


def _abort_left_over(journal: Journal, client, settings: Settings) -> None:
    """Multipart uploads an earlier run started and never finished (killed): abort them, so the
    bucket does not keep (and bill) their parts. Only uploads this tool started, from its journal:
    the instance's own uploads in progress are never touched. An upload whose id never reached the
    journal (killed while it was created) is found by its exact key, started after the intent."""
    open_rows = journal.open_uploads()
    known = {upload_id for _, upload_id, _ in open_rows}
    for key, upload_id, started in open_rows:
        if upload_id.startswith(PENDING):
            if _abort_unrecorded(client(), settings, key, started, known):
                journal.upload_closed(upload_id)
            continue
        try:
            client().abort_multipart_upload(Bucket=settings.bucket, Key=key, UploadId=upload_id)
        except Exception as e:  # noqa: BLE001 - already gone (NoSuchUpload) is what we want
            if "NoSuchUpload" not in str(e) and "404" not in str(e):
                continue
        journal.upload_closed(upload_id)


def _abort_unrecorded(s3, settings: Settings, key: str, started: float, known: set[str]) -> bool:
    """Abort the uploads of exactly KEY initiated since STARTED (less the clock skew allowed) that the
    journal does not know: the ones a killed run created. True when the listing could be read."""
    try:
        pages = s3.get_paginator("list_multipart_uploads").paginate(Bucket=settings.bucket, Prefix=key)
        ours = [u["UploadId"] for page in pages for u in page.get("Uploads", [])
                if u["Key"] == key and u["UploadId"] not in known
                and u["Initiated"].timestamp() >= started - CLOCK_SKEW]
    except Exception:  # noqa: BLE001 - the next run tries again
        return False
    for upload_id in ours:
        try:
            s3.abort_multipart_upload(Bucket=settings.bucket, Key=key, UploadId=upload_id)
        except Exception:  # noqa: BLE001 - gone already, or the next run tries again
            pass
    return True


def _multipart(client, settings: Settings, body: Body, spec: ObjectSpec, threshold: int,
               journal: Journal) -> tuple[str, int]:
    """A multipart upload read from BODY's file, part by part (each with its Content-MD5); the object
    appears only on completion. Its id is in the journal until it is completed or aborted."""
    step = part_size(body.size, threshold)
    extra = {"ContentType": spec.content_type, "CacheControl": CACHE_CONTROL}
    if spec.acl:
        extra["ACL"] = spec.acl
    if storage_class(settings):
        extra["StorageClass"] = storage_class(settings)
    intent = journal.upload_intent(spec.key)
    upload_id = client.create_multipart_upload(Bucket=settings.bucket, Key=spec.key, **extra)["UploadId"]
    journal.upload_opened(spec.key, upload_id, intent)
    parts, sent = [], 0
    try:
        while True:
            chunk = body.file.read(step)
            if not chunk and parts:
                break
            md5 = base64.b64encode(hashlib.md5(chunk).digest()).decode()
            r = client.upload_part(Bucket=settings.bucket, Key=spec.key, UploadId=upload_id,
                                   PartNumber=len(parts) + 1, Body=chunk, ContentMD5=md5)
            parts.append({"PartNumber": len(parts) + 1, "ETag": r["ETag"]})
            sent += len(chunk)
            if len(chunk) < step:
                break
        client.complete_multipart_upload(Bucket=settings.bucket, Key=spec.key, UploadId=upload_id,
                                         MultipartUpload={"Parts": parts})
    except BaseException:
        try:
            client.abort_multipart_upload(Bucket=settings.bucket, Key=spec.key, UploadId=upload_id)
            journal.upload_closed(upload_id)
        except Exception:  # noqa: BLE001 - the next run aborts it from the journal
            pass
        raise
    journal.upload_closed(upload_id)
    if spec.acl:   # some servers drop the ACL given with a multipart upload: set it again
        client.put_object_acl(Bucket=settings.bucket, Key=spec.key, ACL=spec.acl)
    head = client.head_object(Bucket=settings.bucket, Key=spec.key)
    return head["ETag"].strip('"'), sent if sent == head["ContentLength"] else -1
