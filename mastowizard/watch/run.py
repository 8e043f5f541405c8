"""The watch's two operations: save a baseline after a run with nothing failed, and compare a new
run with it (changes stamped with when they were first seen, the state kept, the metrics written)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..checklist.context import Context
from ..results import Check, report
from . import baseline as baseline_file
from . import metrics, seen
from .compare import Change, compare
from .files import Files
from .observe import transient
from .snapshot import Snapshot, take


@dataclass
class Saved:
    checks: list[Check]
    snapshot: Snapshot
    saved: bool
    why_not: str = ""
    previous: str | None = None         # where the baseline it replaced was kept


def save_baseline(ctx: Context, values: Mapping[str, str], path: str, *, read_only: bool = False,
                  files: Files | None = None) -> Saved:
    """Run the checklist and observe the setup; save it to PATH only when no check failed (a broken
    setup is no baseline: the watch would call its repair a change)."""
    checks, snap = take(ctx, values, read_only)
    failed = [c for c in checks if c.status == "fail"]
    if failed:
        return Saved(checks, snap, False, f"{len(failed)} check(s) failed ({', '.join(c.id for c in failed[:4])}): "
                                          "fix them first, a baseline records a working setup")
    unread = transient(snap.bucket)
    if unread:
        return Saved(checks, snap, False, "the bucket's " + ", ".join(f"{k} ({v})" for k, v in unread.items())
                     + " could not be read this time: run --save again when the provider answers")
    previous = baseline_file.keep_previous(path, files)
    baseline_file.save(path, snap, files)
    return Saved(checks, snap, True, previous=previous)


@dataclass
class Watched:
    checks: list[Check]
    changes: list[Change]
    snapshot: Snapshot
    baseline: Snapshot
    ok: bool
    seconds: float
    last_success: float | None
    at: float                           # when this run's changes were judged (a change first seen now has it)

    @property
    def mattering(self) -> list[Change]:
        return [c for c in self.changes if c.matters]

    def to_json(self) -> dict[str, Any]:
        doc = report(self.checks)
        doc.update(ok=self.ok, changes=[c.to_dict() for c in self.changes],
                   matters=[c.line() for c in self.mattering], baseline_saved_at=self.baseline.taken_at,
                   last_success=self.last_success, seconds=round(self.seconds, 3),
                   certificate=self.snapshot.certificate.to_dict() if self.snapshot.certificate else None)
        return doc


def watch(ctx: Context, values: Mapping[str, str], base: Snapshot, *, state_path: str, metrics_path: str | None,
          read_only: bool = False, cert_days: float = 14, files: Files | None = None) -> Watched:
    """Compare a new run with BASE: what changed and since when (kept in STATE_PATH), and the metrics
    (written to METRICS_PATH when given). ok: no check failed and nothing that matters changed."""
    started = time.monotonic()
    if not ctx.old_urls and base.old_urls:
        # where the watch cannot see the media on disk (a systemd credential or a container holds the
        # env file, away from public/system), the old URLs that answered at the baseline must still answer
        ctx.old_urls = list(base.old_urls)
    checks, snap = take(ctx, values, read_only)
    at = time.time()
    changes = compare(base, snap, checks, cert_days=cert_days, at=at)
    prior = seen.load(state_path, files)
    kept = _unread_after_a_change(changes, prior)
    ok = not any(c.matters for c in changes) and not any(c.status == "fail" for c in checks)
    domain = values.get("LOCAL_DOMAIN") or (ctx.settings.bucket if ctx.settings else "")
    state = seen.update(prior, changes, at, ok, domain, keep=kept)
    seen.save(state_path, state, files)
    took = time.monotonic() - started
    if metrics_path:
        s = ctx.settings
        reading = metrics.Reading(
            checks, changes, snap, base, ok, time.time(), took, state.last_success, bucket=s.bucket if s else "",
            media_host=(s.alias_host or "") if s else "", mode=s.permission if s else "", domain=domain)
        metrics.write(metrics_path, metrics.render(reading), files)
    return Watched(checks, changes, snap, base, ok, took, state.last_success, at)


def _unread_after_a_change(changes: list[Change], prior: seen.Seen) -> list[str]:
    """A setting not read this run (UNREAD) that differed from the baseline in an earlier run still
    counts as changed: one timeout must not clear an alert, nor forget when the change was first seen.
    The first-seen keys kept for those items."""
    kept = []
    for c in changes:
        if c.label != "UNREAD":
            continue
        before = [k for k in prior.first_seen if k.startswith(f"{c.item}:") and k != c.key]
        if before:
            c.matters = True
            c.text += "; it differed from the baseline before, so it still counts as changed"
            kept += before
    return kept


def failed_run(metrics_path: str, state_path: str, kind: str, files: Files | None = None) -> None:
    """A run that could not compare (bad input, an internal error): the metrics say so (ok 0, the
    error's kind) instead of keeping the last good run's, which node_exporter would go on serving."""
    at = time.time()
    state = seen.load(state_path, files)
    metrics.write(metrics_path, metrics.render_failure(kind, at, state.last_success, state.domain), files)
