"""What the watch remembers between runs (the state file): when each change was first seen, and
the last run with nothing wrong. Kept 0600, replaced atomically; an unreadable one starts afresh."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..errors import InputError
from .compare import Change
from .files import Files


@dataclass
class Seen:
    first_seen: dict[str, float] = field(default_factory=dict)
    last_success: float | None = None
    domain: str = ""                  # the instance's, for a run that cannot read its env file


def load(path: str, files: Files | None = None) -> Seen:
    try:
        data = (files or Files.here()).read(path, "--state")
        if data is None:
            return Seen()
        doc = json.loads(data)
        return Seen({str(k): float(v) for k, v in doc.get("first_seen", {}).items()},
                    float(doc["last_success"]) if doc.get("last_success") else None, str(doc.get("domain") or ""))
    except (InputError, ValueError, TypeError, AttributeError):
        return Seen()


def update(seen: Seen, changes: list[Change], at: float, ok: bool, domain: str = "",
           keep: list[str] | None = None) -> Seen:
    """Stamp CHANGES with when each was first seen (now, for a new one); forget what is gone, but
    the KEEP keys (a change not observable this run)."""
    first = {k: seen.first_seen[k] for k in keep or [] if k in seen.first_seen}
    for c in changes:
        c.first_seen = first[c.key] = seen.first_seen.get(c.key, at)
    return Seen(first, at if ok else seen.last_success, domain or seen.domain)


def save(path: str, seen: Seen, files: Files | None = None) -> None:
    doc = {"first_seen": seen.first_seen, "last_success": seen.last_success, "domain": seen.domain}
    (files or Files.here()).write(path, json.dumps(doc, indent=2, sort_keys=True).encode() + b"\n", 0o600, "--state")
