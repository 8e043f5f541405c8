"""The host interface: every file operation on the instance's machine goes through it.

`LocalHost` is this machine. An SSH host implements the same methods over SFTP, and everything
built on them (the env file plan, apply, rollback) works unchanged.
"""

from __future__ import annotations

import errno
import hashlib
import os
import posixpath
import secrets
from dataclasses import dataclass
from typing import Protocol

from ..errors import TargetError


@dataclass(frozen=True)
class FileStat:
    mode: int          # permission bits only (e.g. 0o600)
    uid: int
    gid: int
    size: int
    mtime_ns: int


def temp_name(path: str) -> str:
    """The temporary file an atomic write of PATH uses: hidden, beside it, recognisable as ours."""
    directory = posixpath.dirname(path) or "."
    return posixpath.join(directory, f".{posixpath.basename(path)}.mastowizard-{secrets.token_hex(4)}.tmp")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Host(Protocol):
    """What the env-file code needs from a machine. Paths are POSIX paths on that machine."""

    def describe(self) -> str: ...
    def read_bytes(self, path: str) -> bytes: ...
    def stat(self, path: str) -> FileStat: ...
    def exists(self, path: str) -> bool: ...
    def list_dir(self, path: str) -> list[str]: ...
    def write_atomic(self, path: str, data: bytes, mode: int, uid: int, gid: int, *,
                     exclusive: bool = False) -> None: ...
    def remove(self, path: str) -> None: ...
    def user(self) -> tuple[int, str]: ...
    def user_name(self, uid: int) -> str: ...


def not_a_file(path: str, mode: int) -> TargetError | None:
    """A path that is not a regular file (or a symlink to one) is refused at once: reading a FIFO
    or a device would block or never end."""
    import stat
    if stat.S_ISREG(mode):
        return None
    kind = ("a directory" if stat.S_ISDIR(mode) else "a named pipe (FIFO)" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "not a regular file")
    return TargetError(path, f"is {kind}, not a file", "give the path of the .env.production file (--env-file) or "
                       "of its backup (--backup)")


def explain_os_error(exc: OSError, path: str, doing: str) -> TargetError:
    """One line for an OS error, naming the path and the fix."""
    code = exc.errno
    if code == errno.ENOENT:
        return TargetError(path, f"does not exist ({doing})", "check the path (--env-file)")
    if code in (errno.EACCES, errno.EPERM):
        return TargetError(path, f"permission denied while {doing}",
                           "run as the file's owner (usually mastodon) or root, e.g. with sudo")
    if code == errno.EROFS:
        return TargetError(path, f"the file system is read-only ({doing})", "remount it read-write")
    if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return TargetError(path, f"no space left on the device while {doing}; nothing was changed",
                           "free some disk space and run again")
    if code == errno.EISDIR:
        return TargetError(path, "is a directory", "give the path of the .env.production file with --env-file")
    if code == errno.EEXIST:
        return TargetError(path, f"already exists ({doing})", "choose another name")
    return TargetError(path, f"{exc.strerror or exc} while {doing}", "check the file and its directory")


class LocalHost:
    """This machine."""

    def describe(self) -> str:
        return "this machine"

    def user(self) -> tuple[int, str]:
        uid = os.geteuid()
        return uid, self.user_name(uid)

    def user_name(self, uid: int) -> str:
        import pwd
        try:
            return pwd.getpwuid(uid).pw_name
        except KeyError:
            return str(uid)

    def read_bytes(self, path: str) -> bytes:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError as e:
            raise explain_os_error(e, path, "reading") from None
        try:
            refused = not_a_file(path, os.fstat(fd).st_mode)
            if refused:
                raise refused
            with os.fdopen(fd, "rb", closefd=False) as f:
                return f.read()
        except OSError as e:
            raise explain_os_error(e, path, "reading") from None
        finally:
            os.close(fd)

    def stat(self, path: str) -> FileStat:
        try:
            st = os.stat(path)
        except OSError as e:
            raise explain_os_error(e, path, "reading its mode and owner") from None
        return FileStat(st.st_mode & 0o7777, st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns)

    def exists(self, path: str) -> bool:
        return os.path.lexists(path)

    def list_dir(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(path))
        except OSError as e:
            raise explain_os_error(e, path, "listing the directory") from None

    def remove(self, path: str) -> None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise explain_os_error(e, path, "removing it") from None

    def write_atomic(self, path: str, data: bytes, mode: int, uid: int, gid: int, *,
                     exclusive: bool = False) -> None:
        """Temp file in the same directory, fsync, then rename over PATH (or, with exclusive,
        link it to PATH so an existing file is never replaced), then fsync the directory.
        On any failure the temp file is removed and PATH is as it was."""
        directory = posixpath.dirname(path) or "."
        tmp = temp_name(path)
        doing = "writing a temporary file beside it"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as e:
            raise explain_os_error(e, path, doing) from None
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                doing = "setting its mode and owner"
                if (uid, gid) != (os.geteuid(), os.getegid()):
                    os.fchown(fd, uid, gid)
                os.fchmod(fd, mode)
                doing = "flushing it to disk"
                os.fsync(fd)
            finally:
                os.close(fd)
            doing = "putting it in place"
            if exclusive:
                os.link(tmp, path)
                os.unlink(tmp)
            else:
                os.rename(tmp, path)
            dfd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError as e:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise explain_os_error(e, path, doing) from None
