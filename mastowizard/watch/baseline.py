"""The baseline file: a snapshot of a working setup, saved with the env file's care (a temporary
file beside it, fsync, rename; mode 0600) and read back with one clear line when it cannot be."""

from __future__ import annotations

import json
import os
import posixpath

from ..errors import InputError
from ..host.interface import Host
from ..host.local import LocalHost
from .snapshot import Snapshot

FIELD = "--baseline"


def save(path: str, snapshot: Snapshot, host: Host | None = None, owner: tuple[int, int] | None = None) -> None:
    """SNAPSHOT to PATH, 0600: on this machine, or on HOST (the instance's, where its timer runs) owned by
    OWNER (uid, gid: the env file's owner, who runs the watch there)."""
    data = json.dumps(snapshot.to_dict(), indent=2, sort_keys=True).encode() + b"\n"
    if host is None:
        write_private(path, data)
    else:
        uid, gid = owner or (host.user()[0], host.stat(posixpath.dirname(path)).gid)
        host.write_atomic(path, data, 0o600, uid, gid)


def keep_previous(path: str) -> str | None:
    """An existing baseline at PATH copied to PATH.previous (0600, atomic) before it is replaced."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise InputError(FIELD, f"{path} cannot be read: {e.strerror}", "check the path and its permissions") from None
    write_private(path + ".previous", data)
    return path + ".previous"


def write_private(path: str, data: bytes, mode: int = 0o600, field: str = FIELD) -> None:
    """PATH replaced atomically by DATA, owned by whoever runs this, with MODE (FIELD names it in an error)."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise InputError(field, f"{directory} is not a directory", "create it, or give a path in one that exists")
    LocalHost().write_atomic(path, data, mode, os.geteuid(), os.getegid())


def load(path: str) -> Snapshot:
    try:
        with open(path, "rb") as f:
            doc = json.loads(f.read())
        if not isinstance(doc, dict) or doc.get("format") != 1:
            raise ValueError("not a mastowizard baseline (format 1)")
        return Snapshot.from_dict(doc)
    except FileNotFoundError:
        raise InputError(FIELD, f"{path} does not exist",
                         "save one first: mastowizard watch --env-file ENV --baseline FILE --save") from None
    except OSError as e:
        raise InputError(FIELD, f"{path} cannot be read: {e.strerror}", "check the path and its permissions") from None
    except (ValueError, KeyError, TypeError) as e:
        raise InputError(FIELD, f"{path} is not a baseline this version reads ({e})",
                         "save it again: mastowizard watch ... --save") from None
