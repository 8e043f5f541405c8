"""This machine as a `Host` (host/interface.py): its files, and its commands streamed line by line."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import posixpath
import secrets
import selectors
import shutil
import subprocess
import time
from collections import deque
from collections.abc import Callable

from ..errors import TargetError
from .interface import CommandResult, FileStat


def temp_name(path: str) -> str:
    """The temporary file an atomic write of PATH uses: hidden, beside it, recognisable as ours."""
    directory = posixpath.dirname(path) or "."
    return posixpath.join(directory, f".{posixpath.basename(path)}.mastowizard-{secrets.token_hex(4)}.tmp")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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

    def login_uid(self) -> int:
        """Who runs this (over SSH, the login, as opposed to the sudo user files are read as)."""
        return os.geteuid()

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

    def is_dir(self, path: str) -> bool:
        return os.path.isdir(path)

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
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise explain_os_error(e, path, doing) from None

    def close(self) -> None:
        """Nothing to close here."""

    # -- commands ------------------------------------------------------------------------------
    def run(self, argv: list[str], *, root: bool = False, timeout: float = 120.0,
            on_line: Callable[[str], None] | None = None) -> CommandResult:
        """Run ARGV here; root=True goes through sudo unless we already are root (sudo asks on the terminal)."""
        if root and os.geteuid() != 0:
            argv = ["sudo", "--", *argv]
        if not shutil.which(argv[0]):
            raise TargetError(argv[0], "is not installed on this machine", "run on the Mastodon host, or use --ssh")
        try:
            p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        except OSError as e:
            raise TargetError(argv[0], f"cannot run: {e.strerror}", "check the command") from None
        sel = selectors.DefaultSelector()
        sel.register(p.stdout, selectors.EVENT_READ, "out")
        sel.register(p.stderr, selectors.EVENT_READ, "err")
        out, err_tail, seen = bytearray(), deque(maxlen=50), 0
        bufs = {"out": b"", "err": b""}
        deadline = time.monotonic() + timeout
        open_streams = 2
        while open_streams:
            if time.monotonic() > deadline:
                p.kill()
                p.wait()
                raise TargetError(argv[0], f"did not finish in {timeout:.0f}s and was stopped", "check the host")
            for key, _ in sel.select(0.2):
                data = os.read(key.fileobj.fileno(), 65536)
                if not data:
                    sel.unregister(key.fileobj)
                    open_streams -= 1
                    data, final = b"", True
                else:
                    final = False
                if key.data == "out" and len(out) < (64 << 20):
                    out += data
                buf = bufs[key.data] + data
                *lines, rest = buf.split(b"\n")
                if final and rest:
                    lines, rest = lines + [rest], b""
                bufs[key.data] = rest
                for raw in lines:
                    seen += 1
                    line = raw.decode("utf-8", "replace").rstrip("\r")
                    if key.data == "err":
                        err_tail.append(line)
                    if on_line:
                        on_line(line)
        return CommandResult(p.wait(), bytes(out), list(err_tail), seen)
