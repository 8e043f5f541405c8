"""A snapshot of a working setup: the checks' verdicts, the storage settings, the bucket's settings
and the media host's certificate, taken together. A baseline is a snapshot saved (baseline.py);
each watch takes a new one and compares (compare.py). It holds no secret."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import __version__
from ..checklist.context import Context
from ..checklist.runner import run_checks
from ..results import Check
from ..s3.probe_run import concurrently
from ..timing import timed
from . import observe
from .certificate import Certificate

READ_ONLY = "read-only watch: no test upload through the API"


@dataclass
class Snapshot:
    taken_at: float
    settings: dict[str, str]                     # the env file's storage variables (observe.storage_settings)
    writer_key: str | None                       # a fingerprint of the key ID, never the key
    bucket: dict[str, Any]                       # observe.BUCKET_ITEMS: value, None (not set) or {"unreadable": code}
    certificate: Certificate | None = None
    certificate_error: str | None = None
    verdicts: dict[str, str] = field(default_factory=dict)     # check id -> pass, warn, fail, skip
    instance: str | None = None
    read_only: bool = False
    old_urls: list[str] = field(default_factory=list)          # the /system/ paths the old_urls check asked for
    version: str = __version__

    def to_dict(self) -> dict[str, Any]:
        return {"format": 1, "taken_at": self.taken_at, "version": self.version, "instance": self.instance,
                "read_only": self.read_only, "settings": self.settings, "writer_key": self.writer_key,
                "bucket": self.bucket, "certificate": self.certificate.to_dict() if self.certificate else None,
                "certificate_error": self.certificate_error, "verdicts": self.verdicts,
                "old_urls": self.old_urls}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Snapshot:
        cert = d.get("certificate")
        return cls(taken_at=float(d["taken_at"]), settings=dict(d["settings"]), writer_key=d.get("writer_key"),
                   bucket=dict(d["bucket"]), certificate=Certificate.from_dict(cert) if cert else None,
                   certificate_error=d.get("certificate_error"), verdicts=dict(d["verdicts"]),
                   instance=d.get("instance"), read_only=bool(d.get("read_only")),
                   old_urls=[str(p) for p in d.get("old_urls", [])], version=d.get("version", "?"))


def take(ctx: Context, values: Mapping[str, str], read_only: bool) -> tuple[list[Check], Snapshot]:
    """Run the checklist (without the test upload when READ_ONLY) and observe the setup beside it."""
    if read_only:
        ctx.no_upload = READ_ONLY
    started = time.time()
    checks, observed = concurrently(timed(lambda: run_checks(ctx)), lambda: _observe(ctx))
    return checks, _snapshot(ctx, values, checks, observed, started, read_only)


def of_checks(ctx: Context, values: Mapping[str, str], checks: list[Check], read_only: bool = False) -> Snapshot:
    """The snapshot of a checklist run already made (the wizard's Verify): the setup observed now."""
    started = time.time()
    return _snapshot(ctx, values, checks, _observe(ctx), started, read_only)


def _observe(ctx: Context) -> tuple[dict[str, Any], Certificate | str | None]:
    s = ctx.settings
    if s is None:
        return {}, None
    bucket, cert = concurrently(
        lambda: observe.bucket_items(s, ctx.writer, ctx.http) if ctx.writer is not None else {},
        lambda: observe.certificate(s, ctx.http))
    return bucket, cert


def _snapshot(ctx, values, checks, observed, started, read_only) -> Snapshot:
    items, got = observed
    return Snapshot(
        taken_at=started, settings=observe.storage_settings(values), writer_key=observe.writer_key(values),
        bucket=items, certificate=got if isinstance(got, Certificate) else None,
        certificate_error=got if isinstance(got, str) else None,
        verdicts={c.id: c.status for c in checks}, instance=ctx.instance, read_only=read_only,
        old_urls=list(ctx.old_urls))


def describe(snap: Snapshot) -> list[str]:
    """What a snapshot records, a line each (said when a baseline is saved)."""
    lines = [f"recorded: {len(snap.settings)} storage settings of the env file"
             + (", the writer key's fingerprint" if snap.writer_key else "")]
    unreadable = {k: v.get("unreadable") or v["error"] for k, v in snap.bucket.items()
                  if isinstance(v, dict) and ("unreadable" in v or "error" in v)}
    seen = [k for k in snap.bucket if k not in unreadable]
    if seen:
        lines.append(f"recorded: the bucket's {', '.join(seen)}")
    if unreadable:
        lines.append("not readable with the writer key, so not watched: "
                     + ", ".join(f"{k} ({code})" for k, code in unreadable.items()))
    skipped = [cid for cid, status in snap.verdicts.items() if status == "skip"]
    if skipped:
        lines.append(f"not verified now, so not watched until they are: {', '.join(skipped)} (see the checks above)")
    if snap.certificate:
        c = snap.certificate
        lines.append(f"recorded: {c.host}'s certificate from {c.issuer}, expires {c.expires}")
    elif snap.certificate_error:
        lines.append(f"no certificate recorded: {snap.certificate_error}")
    counts = {s: sum(v == s for v in snap.verdicts.values()) for s in ("pass", "warn", "skip")}
    lines.append(f"recorded: {len(snap.verdicts)} verdicts ({counts['pass']} passed, {counts['warn']} warned, "
                 f"{counts['skip']} not verified)" + ("; read-only: no test upload" if snap.read_only else ""))
    return lines
