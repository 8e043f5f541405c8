"""The baseline file: a snapshot of a working setup, saved with the env file's care (a temporary
file beside it, fsync, rename; mode 0600) and read back with one clear line when it cannot be."""

from __future__ import annotations

import json

from ..errors import InputError
from .files import Files
from .snapshot import Snapshot

FIELD = "--baseline"


def save(path: str, snapshot: Snapshot, files: Files | None = None) -> None:
    """SNAPSHOT to PATH, 0600, where FILES keeps them (this machine by default)."""
    data = json.dumps(snapshot.to_dict(), indent=2, sort_keys=True).encode() + b"\n"
    (files or Files.here()).write(path, data, 0o600, FIELD)


def keep_previous(path: str, files: Files | None = None) -> str | None:
    """An existing baseline at PATH copied to PATH.previous (0600, atomic) before it is replaced."""
    files = files or Files.here()
    data = files.read(path, FIELD)
    if data is None:
        return None
    files.write(path + ".previous", data, 0o600, FIELD)
    return path + ".previous"


def load(path: str, files: Files | None = None) -> Snapshot:
    files = files or Files.here()
    data = files.read(path, FIELD)
    if data is None:
        raise InputError(FIELD, f"{path}{files.where()} does not exist",
                         "save one first: mastowizard watch --env-file ENV --baseline FILE --save")
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict) or doc.get("format") != 1:
            raise ValueError("not a mastowizard baseline (format 1)")
        return Snapshot.from_dict(doc)
    except (ValueError, KeyError, TypeError) as e:
        raise InputError(FIELD, f"{path} is not a baseline this version reads ({e})",
                         "save it again: mastowizard watch ... --save") from None
