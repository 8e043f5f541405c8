"""What the watch remembers between runs (the state file): when each change was first seen, and
the last run with nothing wrong. Kept 0600, replaced atomically; an unreadable one starts afresh."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .baseline import write_private
from .compare import Change


@dataclass
class Seen:
    first_seen: dict[str, float] = field(default_factory=dict)
    last_success: float | None = None


def load(path: str) -> Seen:
    try:
        with open(path, "rb") as f:
            doc = json.loads(f.read())
        return Seen({str(k): float(v) for k, v in doc.get("first_seen", {}).items()},
                    float(doc["last_success"]) if doc.get("last_success") else None)
    except (OSError, ValueError, TypeError, AttributeError):
        return Seen()


def update(seen: Seen, changes: list[Change], at: float, ok: bool) -> Seen:
    """Stamp CHANGES with when each was first seen (now, for a new one); forget what is gone."""
    first = {}
    for c in changes:
        c.first_seen = first[c.key] = seen.first_seen.get(c.key, at)
    return Seen(first, at if ok else seen.last_success)


def save(path: str, seen: Seen) -> None:
    write_private(path, json.dumps({"first_seen": seen.first_seen, "last_success": seen.last_success},
                                   indent=2, sort_keys=True).encode() + b"\n", field="--state")
