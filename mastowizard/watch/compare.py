"""A new snapshot against the baseline: one Change per item that differs, per check whose verdict
moved, and for a media host certificate near its end. A change that matters makes the watch fail."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..checklist.upload_chain import UPLOAD_CHECKS
from ..results import Check
from .describe import NAMES, describe
from .observe import ATTEMPTS
from .snapshot import Snapshot

# Every item a drift is measured for (a metric label each), and whether a difference matters: a
# rotated writer key or a new certificate authority is news, the rest can break or expose media.
DRIFT_ITEMS = {"settings": True, "writer_key": False, "policy": True, "cors": True, "ownership": True,
               "public_access_block": True, "lifecycle": True, "versioning": True, "certificate_issuer": False}
RANK = {"pass": 0, "warn": 1, "skip": 2, "fail": 3}
# What a read-only run cannot judge: the upload's checks, and the media host's CORS answer to a browser
# (the bucket's CORS rules are still checked: gone rules fail `cors` in either mode)
READ_ONLY_SKIPS = (*UPLOAD_CHECKS, "cors")


@dataclass
class Change:
    item: str              # a DRIFT_ITEMS key, "check:ID", or "certificate"
    label: str             # CHANGED, FAIL, WARN, NOT-VERIFIED, BETTER, EXPIRES, EXPIRED
    text: str
    matters: bool
    key: str               # the item and what it became: the same change keeps its first-seen time
    first_seen: float | None = None

    def line(self) -> str:
        since = f" (first seen {when(self.first_seen)})" if self.first_seen else ""
        return f"{self.label} {self.item}: {self.text}{since}"

    def to_dict(self) -> dict[str, Any]:
        return {"item": self.item, "label": self.label, "text": self.text, "matters": self.matters,
                "first_seen": self.first_seen, "line": self.line()}


def when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _key(item: str, value: Any) -> str:
    return f"{item}:{hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:12]}"


def drift_values(s: Snapshot) -> dict[str, Any]:
    """The value of each DRIFT_ITEMS item in S (bucket items only where they were observed)."""
    values: dict[str, Any] = {"settings": s.settings, "writer_key": s.writer_key}
    values.update(s.bucket)
    if s.certificate:
        values["certificate_issuer"] = issuer_name(s.certificate.issuer)
    return values


def issuer_name(dn: str) -> str:
    """Who issues the certificate: the issuer's organization where it has one (Let's Encrypt signs
    with R10 or R11 at random, the same authority), else its whole name."""
    for part in dn.split(","):
        key, _, value = part.partition("=")
        if key.strip() == "O" and value.strip():
            return value.strip()
    return dn


def compare(base: Snapshot, now: Snapshot, checks: list[Check], *, cert_days: float, at: float) -> list[Change]:
    changes: list[Change] = []
    was, is_ = drift_values(base), drift_values(now)
    for item, matters in DRIFT_ITEMS.items():
        if item not in was or item not in is_ or was[item] == is_[item]:
            continue
        if isinstance(is_[item], dict) and "error" in is_[item]:     # not read this time: compared next run
            changes.append(Change(item, "UNREAD", f"{NAMES[item]} could not be read this run "
                                  f"({is_[item]['error']}, {ATTEMPTS} tries): compared again next run", False,
                                  _key(item, is_[item])))
            continue
        changes.append(Change(item, "CHANGED", f"{NAMES[item]} {describe(item, was[item], is_[item])}", matters,
                              _key(item, is_[item])))
    changes += _checks(base, now, checks)
    changes += _certificate(base, now, cert_days, at)
    return changes


def _checks(base: Snapshot, now: Snapshot, checks: list[Check]) -> list[Change]:
    out = []
    for c in checks:
        before = base.verdicts.get(c.id)
        if (now.read_only or base.read_only) and c.id in READ_ONLY_SKIPS and c.status != "fail":
            continue          # a read-only run (now or at the baseline) makes no test upload
        where = f"check:{c.id}"
        text = f"{c.title}: {c.detail}" + (f" (was {before})" if before and before != c.status else "")
        if c.status == "fail":
            out.append(Change(where, "FAIL", text + (f"; fix: {c.fix}" if c.fix else ""), True,
                              _key(where, "fail")))
        elif before is None or before == c.status:
            continue
        elif c.status == "skip":
            out.append(Change(where, "NOT-VERIFIED", text, True, _key(where, "skip")))
        elif RANK[c.status] > RANK[before]:
            out.append(Change(where, "WARN", text + (f"; fix: {c.fix}" if c.fix else ""), False, _key(where, "warn")))
        else:
            out.append(Change(where, "BETTER", f"{c.title}: now {c.status} (was {before})", False,
                              _key(where, c.status)))
    return out


def _certificate(base: Snapshot, now: Snapshot, cert_days: float, at: float) -> list[Change]:
    cert = now.certificate
    if cert is None:
        if base.certificate and now.certificate_error:
            return [Change("certificate", "CHANGED", now.certificate_error, True, _key("certificate", "none"))]
        return []
    days = cert.days_left(at)
    if days < 0:
        return [Change("certificate", "EXPIRED", f"{cert.host}'s certificate expired on {cert.expires} "
                       f"({cert.issuer}): browsers refuse every media file", True, _key("certificate", cert.sha256))]
    if days < cert_days:
        return [Change("certificate", "EXPIRES", f"{cert.host}'s certificate expires in {days:.1f} days, on "
                       f"{cert.expires} ({cert.issuer}): renew it (certbot renew, or the CDN's panel)", True,
                       _key("certificate", cert.sha256))]
    return []
