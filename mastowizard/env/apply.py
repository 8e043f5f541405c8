"""Apply a plan to the env file, and roll back: backup first, atomic writes, nothing lost."""

from __future__ import annotations

import posixpath
import time
from dataclasses import dataclass

from ..errors import TargetError
from ..host.interface import Host
from ..host.local import digest
from .doc import EnvDocument
from .plan import EnvFile, Plan

BACKUP_SUFFIX = ".before-s3"
ROLLBACK_SUFFIX = ".before-rollback"


def _stamp(now: float | None = None) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now if now is not None else time.time()))


def _free_name(host: Host, base: str, now: float | None = None) -> str:
    """BASE if free, else BASE.TIMESTAMP (and -2, -3 ... should that be taken too)."""
    if not host.exists(base):
        return base
    stamped = f"{base}.{_stamp(now)}"
    candidate, n = stamped, 1
    while host.exists(candidate):
        n += 1
        candidate = f"{stamped}-{n}"
    return candidate


def _remove_stale_temps(host: Host, path: str) -> None:
    """Temp files of a write that was killed midway (they hold the env file's secrets)."""
    directory, name = posixpath.split(path)
    remove = getattr(host, "remove", None)
    if remove is None:
        return
    for entry in host.list_dir(directory or "."):
        if entry.startswith(f".{name}.") and entry.endswith(".tmp") and ".mastowizard-" in entry:
            remove(posixpath.join(directory, entry))


def _unchanged_since_read(host: Host, env: EnvFile, doing: str) -> None:
    if digest(host.read_bytes(env.path)) != env.digest:
        raise TargetError(env.path, f"changed since it was read; {doing} stopped and nothing was written",
                          "run the command again to plan against the file as it is now")


def _check_owner(host: Host, env: EnvFile) -> None:
    """Only the file's owner or root can write a replacement that keeps the owner."""
    uid, me = host.user()
    if uid not in (0, env.stat.uid):
        owner = host.user_name(env.stat.uid)
        raise TargetError(env.path, f"belongs to {owner}, and {me} cannot replace it keeping that owner; "
                          "nothing was written", f"run as {owner} or root (e.g. sudo -u {owner} mastowizard ...)")


@dataclass
class ApplyResult:
    path: str
    backup: str | None
    changed: bool


def next_backup(host: Host, path: str) -> str:
    """Where apply_plan would back PATH up now (shown before the operator confirms)."""
    return _free_name(host, path + BACKUP_SUFFIX)


def apply_plan(plan: Plan, now: float | None = None) -> ApplyResult:
    """Back up the file beside it (never over an existing backup), then write the new text
    atomically with the same mode and owner. Refuses if the file changed since it was read."""
    env, host = plan.env, plan.env.host
    if plan.empty:
        return ApplyResult(env.path, None, False)
    _check_owner(host, env)
    _remove_stale_temps(host, env.path)
    _unchanged_since_read(host, env, "apply")
    backup = _free_name(host, env.path + BACKUP_SUFFIX, now)
    host.write_atomic(backup, env.data, env.stat.mode, env.stat.uid, env.stat.gid, exclusive=True)
    if host.read_bytes(backup) != env.data:
        raise TargetError(backup, "the backup does not read back as written; the env file was not changed",
                          "check the disk, then run again")
    _unchanged_since_read(host, env, "apply")
    host.write_atomic(env.path, plan.new_bytes, env.stat.mode, env.stat.uid, env.stat.gid)
    if host.read_bytes(env.path) != plan.new_bytes:
        raise TargetError(env.path, f"does not read back as written; restore it from {backup}",
                          f"mastowizard rollback --backup {backup}")
    return ApplyResult(env.path, backup, True)


def list_backups(host: Host, path: str) -> list[str]:
    """Backups made by apply, newest first."""
    directory, name = posixpath.split(path)
    prefix = name + BACKUP_SUFFIX
    found = [posixpath.join(directory, e) for e in host.list_dir(directory or ".")
             if e == prefix or e.startswith(prefix + ".")]
    return sorted(found, key=lambda p: (host.stat(p).mtime_ns, p), reverse=True)


def newest_backup(host: Host, path: str) -> str | None:
    """The backup a rollback restores when none is named: the newest apply made, or None."""
    return next(iter(list_backups(host, path)), None)


@dataclass
class RollbackResult:
    path: str
    restored_from: str
    saved_current: str | None


def rollback(host: Host, path: str, backup: str | None = None, now: float | None = None) -> RollbackResult:
    """Restore BACKUP (default: the newest) byte for byte with its mode and owner, keeping a copy
    of the file it replaces."""
    if backup is None:
        backups = list_backups(host, path)
        if not backups:
            raise TargetError(path, "has no backup to restore", f"backups are named {posixpath.basename(path)}"
                              f"{BACKUP_SUFFIX}*; give one with --backup PATH")
        backup = backups[0]
    data = host.read_bytes(backup)
    EnvDocument.from_bytes(data, source=backup)       # an env file, or refused naming the backup: nothing written
    st = host.stat(backup)
    uid, me = host.user()
    if uid not in (0, st.uid):
        owner = host.user_name(st.uid)
        raise TargetError(path, f"its backup belongs to {owner}, and {me} cannot restore it with that owner",
                          f"run as {owner} or root (e.g. sudo -u {owner} mastowizard rollback ...)")
    saved = None
    if host.exists(path):
        current = host.read_bytes(path)
        if current == data:
            return RollbackResult(path, backup, None)
        cur_st = host.stat(path)
        saved = _free_name(host, path + ROLLBACK_SUFFIX + "." + _stamp(now), now)
        host.write_atomic(saved, current, cur_st.mode, cur_st.uid, cur_st.gid, exclusive=True)
    host.write_atomic(path, data, st.mode, st.uid, st.gid)
    if host.read_bytes(path) != data:
        raise TargetError(path, "does not read back as the backup", f"copy {backup} over it by hand")
    return RollbackResult(path, backup, saved)
