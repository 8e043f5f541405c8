"""`mastowizard repair-permissions`: set every object's ACL (and, with HEADERS, its Content-Type and
Cache-Control) to what Mastodon would have written, in place.

First a survey, read-only: the bucket listed flat, each object asked anonymously (as anyone on the
internet asks the provider) whether it can be read, and with HEADERS its headers read with the
writer key. What must change follows from privacy.py: backups/ and imports/ are never made public;
a private attachment stays private unless the operator says otherwise; a bucket mostly private (a
copy tool's default ACL) is named as suspect and waits for that choice. Then, once confirmed, each
change (PUT ?acl, or a copy onto itself with the headers replaced, only if the object is still the
one surveyed), and each change is checked anonymously again. An object that vanished meanwhile is
counted, never a failure; a rerun surveys afresh and changes only what is still wrong."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..errors import InputError
from ..net import HttpOptions
from ..s3.credential import Credential
from ..settings import CACHE_CONTROL, Settings
from .bounded import bounded_map
from .copy import listing
from .objects import UNKNOWN_TYPE, content_type, storage_class
from .privacy import KEEP, PUBLIC, Tally, kind_of, should_be_private
from .putter import PutError, Putter
from .repair_state import SurveyRows

WRONG_TYPES = ("", "binary/octet-stream", "application/octet-stream")
GONE = ("NoSuchKey", "HTTP404")
EXAMPLES = 5


def _family(ctype: str) -> str:
    """image, or audio/video as one (a .ogg or .webm may be either, as Mastodon's processing found it)."""
    top = ctype.split("/")[0]
    return "av" if top in ("audio", "video") else top


def header_fix(rel: str, head: dict[str, str], settings: Settings) -> dict | None:
    """What is wrong with the object's headers, and the Content-Type to give it (its own when it is
    of the right kind: Mastodon's is the processed file's, e.g. video/ogg or audio/ogg for .ogg)."""
    want = content_type(rel)
    have = head.get("content-type", "").split(";")[0].strip().lower()
    problems = []
    ctype = have
    if want != UNKNOWN_TYPE and (have in WRONG_TYPES or _family(have) != _family(want)):
        problems.append(f"Content-Type {have or '(none)'}, not {want}")
        ctype = want
    if head.get("cache-control", "") != CACHE_CONTROL:
        problems.append(f"Cache-Control {head.get('cache-control') or '(none)'}")
    meta = sorted(k for k in head if k.startswith("x-amz-meta-"))
    if meta:
        problems.append("metadata Mastodon never writes (" + ", ".join(meta) + ")")
    sc = storage_class(settings)
    if sc and head.get("x-amz-storage-class", "STANDARD") != sc:
        problems.append(f"storage class {head.get('x-amz-storage-class', 'STANDARD')}, not {sc}")
    return {"problems": problems, "content_type": ctype or UNKNOWN_TYPE} if problems else None


@dataclass
class RepairProgress:
    phase: str                 # "survey" or "repair"
    done: int = 0
    total: int = 0             # objects listed (survey), or changes planned (repair)
    failed: int = 0
    finished: bool = False     # the phase's last report
    started: float = field(default_factory=time.monotonic)


@dataclass
class Plan:
    """What the survey found and what would change."""

    listed: int = 0
    tally: Tally = field(default_factory=Tally)
    not_mastodon: int = 0                  # objects outside the folders Mastodon writes: left alone
    vanished: int = 0                      # listed, gone before they were asked
    unreadable: list[dict] = field(default_factory=list)     # could not be surveyed
    to_public: int = 0
    to_private: int = 0
    keep_private: int = 0                  # private attachments left private
    headers: int = 0
    headers_only: int = 0                  # header fixes on objects whose ACL is right
    exposed_by_policy: int = 0             # private by Mastodon's rules, readable through the bucket policy
    examples: dict[str, list[str]] = field(default_factory=dict)

    def example(self, what: str, key: str) -> None:
        ex = self.examples.setdefault(what, [])
        if len(ex) < EXAMPLES:
            ex.append(key)

    @property
    def changes(self) -> int:
        return self.to_public + self.to_private + self.headers_only

    def to_json(self) -> dict:
        return {"listed": self.listed, "seen": self.tally.seen, "readable": self.tally.readable,
                "suspect": self.tally.suspect, "not_mastodon": self.not_mastodon, "vanished": self.vanished,
                "unreadable": self.unreadable[:50], "to_public": self.to_public, "to_private": self.to_private,
                "keep_private": self.keep_private, "headers": self.headers,
                "exposed_by_policy": self.exposed_by_policy, "examples": self.examples}


@dataclass
class RepairResult:
    plan: Plan
    dry_run: bool = False
    private_media: str | None = None
    decision_needed: bool = False          # suspect bucket, private attachments, no choice given
    made_public: int = 0
    made_private: int = 0
    headers_fixed: int = 0
    vanished: int = 0
    replaced_meanwhile: int = 0            # Mastodon wrote a new object under the key: not touched
    failed: list[dict] = field(default_factory=list)
    still_exposed: list[dict] = field(default_factory=list)      # set private, still readable
    still_unreadable: list[dict] = field(default_factory=list)   # set public, still refused
    seconds: float = 0.0
    cancelled: bool = False
    aborted: str = ""                      # why the changes stopped early: the first ones all failed alike

    @property
    def ok(self) -> bool:
        """The survey read every object, and (unless a dry run) every change was made and holds, and
        nothing Mastodon keeps private is readable through the bucket policy."""
        if self.plan.unreadable or self.cancelled or self.aborted:
            return False
        return self.dry_run or not (self.decision_needed or self.failed or self.still_exposed
                                    or self.still_unreadable or self.plan.exposed_by_policy)

    def to_json(self) -> dict:
        return {"ok": self.ok, "dry_run": self.dry_run, "private_media": self.private_media,
                "decision_needed": self.decision_needed, "plan": self.plan.to_json(),
                "made_public": self.made_public, "made_private": self.made_private,
                "headers_fixed": self.headers_fixed, "vanished": self.vanished,
                "replaced_meanwhile": self.replaced_meanwhile, "failed": self.failed[:50],
                "failed_count": len(self.failed), "still_exposed": self.still_exposed[:50],
                "still_unreadable": self.still_unreadable[:50], "seconds": round(self.seconds, 3),
                "cancelled": self.cancelled, "aborted": self.aborted}


def survey(settings: Settings, writer: Credential, http: HttpOptions | None, rows: SurveyRows, *, headers: bool,
           jobs: int = 32, cancel: threading.Event | None = None,
           on_progress: Callable[[RepairProgress], None] | None = None) -> Plan:
    """List the bucket and ask each object Mastodon writes whether anyone can read it (and, with
    HEADERS, its headers); every object's row goes to ROWS, and the Plan tallies them (count()
    then says what would change)."""
    putter = Putter(settings, writer, http, timeout=30.0)
    plan = Plan()
    progress = RepairProgress("survey")
    prefix = f"{settings.key_prefix}/" if settings.key_prefix else ""

    def objects() -> Iterator[tuple[str, str, str]]:
        for key, _size, etag in listing(putter, settings):
            plan.listed += 1
            rel = key[len(prefix):]
            if kind_of(rel) == "other":
                plan.not_mastodon += 1
                continue
            yield key, rel, etag

    def ask(item: tuple[str, str, str]):
        key, rel, _ = item
        public = putter.anyone_reads(key)
        head = putter.head(key) if headers and public is not None else None
        return public, head

    for (key, rel, etag), answer, error in bounded_map(ask, objects(), jobs, cancel, "mastowizard-survey"):
        progress.done += 1
        if error is not None:
            if isinstance(error, PutError) and error.code in GONE:
                plan.vanished += 1
            else:
                plan.unreadable.append({"key": key, "error": str(error)})
                progress.failed += 1
            continue
        public, head = answer
        if public is None or (headers and head is None):
            plan.vanished += 1
            continue
        kind = kind_of(rel)
        plan.tally.add(kind, public)
        fix = header_fix(rel, head, settings) if head is not None else None
        rows.add(key, rel, etag, kind, public, json.dumps(fix) if fix else "")
        if on_progress and progress.done % 200 == 0:
            progress.total = plan.listed
            on_progress(progress)
    progress.total, progress.finished = plan.listed, True
    if on_progress:
        on_progress(progress)
    return plan


def _decide(kind: str, public: bool, fix: str, settings: Settings, private_media: str | None
            ) -> tuple[str | None, dict | None, bool]:
    """(the ACL to set or None, the header fix or None, whether it must be private)."""
    private = should_be_private(kind, public, private_media)
    acl = None
    if settings.acl and private is not None and private == public:
        acl = "private" if private else settings.acl
    return acl, (json.loads(fix) if fix else None), bool(private)


def count(plan: Plan, rows: SurveyRows, settings: Settings, private_media: str) -> None:
    """What would change, with PRIVATE_MEDIA's choice for private attachments, into PLAN."""
    plan.to_public = plan.to_private = plan.keep_private = plan.headers = plan.headers_only = 0
    plan.exposed_by_policy = 0
    plan.examples = {}
    for key, _rel, _etag, kind, public, fix in rows.rows():
        acl, hfix, private = _decide(kind, public, fix, settings, private_media)
        if acl == "private":
            plan.to_private += 1
            plan.example("to_private", key)
        elif acl is not None:
            plan.to_public += 1
            plan.example("to_public", key)
        elif private and public:
            plan.exposed_by_policy += 1          # policy mode: no ACL to set
            plan.example("exposed_by_policy", key)
        elif private and kind == "attachment":
            plan.keep_private += 1
            plan.example("keep_private", key)
        if hfix:
            plan.headers += 1
            plan.example("headers", key)
            if acl is None:
                plan.headers_only += 1


def repair(settings: Settings, writer: Credential, http: HttpOptions | None, *, headers: bool = False,
           dry_run: bool = False, private_media: str | None = None, jobs: int = 32,
           decide: Callable[[Plan], str] | None = None, confirm: Callable[[str], None] | None = None,
           on_plan: Callable[[Plan], None] | None = None,
           on_progress: Callable[[RepairProgress], None] | None = None,
           cancel: threading.Event | None = None) -> RepairResult:
    """Survey the bucket, then (unless DRY_RUN) set what is wrong once CONFIRM(question) returns (it
    raises to refuse). In a suspect bucket with private attachments and no PRIVATE_MEDIA choice,
    DECIDE(plan) is asked for it (keep or public; it raises to refuse); without DECIDE nothing
    changes and the result says a decision is needed. Prints nothing."""
    if private_media not in (None, KEEP, PUBLIC):
        raise InputError("--private-media", f"{private_media!r} is not a choice", "use keep or public")
    started = time.monotonic()
    jobs = max(1, min(jobs, 256))
    rows = SurveyRows()
    try:
        plan = survey(settings, writer, http, rows, headers=headers, jobs=jobs, cancel=cancel,
                      on_progress=on_progress)
        result = RepairResult(plan, dry_run=dry_run, private_media=private_media)
        ambiguous = plan.tally.suspect and plan.tally.private("attachment") and settings.acl
        if ambiguous and private_media is None and decide is not None and not dry_run \
                and not (cancel and cancel.is_set()):
            count(plan, rows, settings, KEEP)
            private_media = result.private_media = decide(plan)
        count(plan, rows, settings, private_media or KEEP)
        if on_plan is not None:
            on_plan(plan)
        if cancel is not None and cancel.is_set():
            result.cancelled = True
        elif ambiguous and private_media is None:
            result.decision_needed = True
        elif not dry_run and plan.changes:
            if confirm is not None:
                confirm(question(plan, settings, private_media or KEEP))
            _apply(settings, writer, http, rows, result, private_media or KEEP, jobs, cancel, on_progress)
        result.seconds = time.monotonic() - started
        return result
    finally:
        rows.close()


def question(plan: Plan, settings: Settings, private_media: str) -> str:
    """What the repair will do and what it risks, as the operator is asked before it starts."""
    parts = []
    if plan.to_public:
        parts.append(f"make {plan.to_public} object(s) readable by anyone with the URL (ACL {settings.acl})")
    if plan.to_private:
        parts.append(f"make {plan.to_private} object(s) private")
    if plan.headers:
        parts.append(f"rewrite the headers of {plan.headers} object(s) (a copy onto itself)")
    keep = (f"; {plan.keep_private} private media attachment(s) stay private" if plan.keep_private
            and private_media == KEEP else "")
    public = ("; private media attachments become public, suspended accounts' media included"
              if private_media == PUBLIC and plan.tally.private("attachment") else "")
    return (f"In bucket {settings.bucket}: " + ", ".join(parts) + keep + public
            + "; backups/ and imports/ are never made public. Go ahead?")


EARLY = 8          # the first changes all failed alike: the key or the bucket refuses every one


def _why(code: str, error: str, headers: bool) -> str:
    if code == "AccessDenied":
        needs = "s3:PutObject and s3:GetObject (a copy onto itself)" if headers else "s3:PutObjectAcl"
        return (f"{error}: every change was refused, so the repair stopped; the writer key needs {needs} "
                "on the bucket's objects (or the provider refuses object ACLs: then use policy mode)")
    return f"{error}: every change failed alike, so the repair stopped"


def _apply(settings: Settings, writer: Credential, http: HttpOptions | None, rows: SurveyRows,
           result: RepairResult, private_media: str, jobs: int, cancel: threading.Event | None,
           on_progress: Callable[[RepairProgress], None] | None) -> None:
    putter = Putter(settings, writer, http, timeout=30.0)
    progress = RepairProgress("repair", total=result.plan.changes)
    sc = storage_class(settings)

    def changes() -> Iterator[tuple[str, str, str | None, dict | None, bool]]:
        for key, _rel, etag, kind, public, fix in rows.rows():
            acl, hfix, private = _decide(kind, public, fix, settings, private_media)
            if acl is not None or hfix is not None:
                yield key, etag, acl, hfix, private

    def change(item) -> str:
        key, etag, acl, hfix, private = item
        if hfix is not None:
            h = {"Content-Type": hfix["content_type"], "Cache-Control": CACHE_CONTROL}
            want = acl or (("private" if private else settings.acl) if settings.acl else None)
            if want:
                h["x-amz-acl"] = want
            if sc:
                h["x-amz-storage-class"] = sc
            putter.copy_onto_itself(key, etag, h)
        else:
            putter.put_acl(key, acl)
        if not settings.acl:
            return "set"
        readable = putter.anyone_reads(key)
        want_private = acl == "private" or (acl is None and private)
        if readable and want_private:
            return "exposed"
        if readable is False and not want_private:
            return "unreadable"
        return "set"

    stop = threading.Event()
    codes: list[str] = []
    for (key, _etag, acl, hfix, _private), outcome, error in bounded_map(change, changes(), jobs, stop,
                                                                         "mastowizard-repair"):
        progress.done += 1
        if cancel is not None and cancel.is_set():
            stop.set()
        if error is not None:
            code = error.code if isinstance(error, PutError) else type(error).__name__
            if code in GONE:
                result.vanished += 1
            elif code == "PreconditionFailed" or getattr(error, "status", None) == 412:
                result.replaced_meanwhile += 1
            else:
                result.failed.append({"key": key, "error": str(error)})
                progress.failed += 1
                codes.append(code)
                if not result.aborted and len(codes) == progress.done >= EARLY and len(set(codes)) == 1:
                    result.aborted = _why(code, str(error), hfix is not None)
                    stop.set()
        elif outcome == "exposed":
            result.still_exposed.append({"key": key, "error": "set private, still readable by anyone: a bucket "
                                         "policy grants it (or the provider ignores object ACLs)"})
        elif outcome == "unreadable":
            result.still_unreadable.append({"key": key, "error": f"set {acl or settings.acl}, still refused to "
                                            "anyone: the provider ignores object ACLs (use policy mode), or Block "
                                            "Public Access is on"})
        else:
            if acl == "private":
                result.made_private += 1
            elif acl is not None:
                result.made_public += 1
            if hfix is not None:
                result.headers_fixed += 1
        if on_progress and progress.done % 200 == 0:
            on_progress(progress)
    progress.finished = True
    if on_progress:
        on_progress(progress)
    if cancel is not None and cancel.is_set():
        result.cancelled = True
