"""How a copy back to disk puts each object's bytes under its real name, atomically: a killed run
never leaves a truncated file there, only a hidden temporary one (`.NAME.mastowizard-XXXXXXXX.tmp`)
that the next run removes.

- LocalWriter (this machine): each file written under a temporary name in its own directory, its
  owner and mode set, then renamed over the real name. Directories made 0755, as Paperclip does.
- TarWriter (the Mastodon host over SSH): one `tar -x` on the host for the whole copy, run as the
  instance's user (--sudo-user) and fed one tar stream over one SSH channel. Each file goes as two
  members: its bytes under the temporary name (with its mode and owner), then a hard link of the
  real name to it, which appears complete in one link(2). The temporary names are removed at the
  end (one `find -delete`). No round trip per file: bench/to_disk_ssh.py measures it against one
  SFTP write and rename per file.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import secrets
import shlex
import tarfile
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import BinaryIO

import paramiko

from ..errors import TargetError

DIR_MODE = 0o755
Fill = Callable[[BinaryIO], None]


class WriteError(Exception):
    """One file could not be written: the message says why (shown as the file's failure)."""


def temp_rel(rel: str, token: str) -> str:
    head, name = posixpath.split(rel)
    return posixpath.join(head, f".{name}.mastowizard-{token}.tmp")


class LocalWriter:
    how = "written on this machine's disk: each file under a temporary name beside it, then renamed"

    def __init__(self, dest: str, uid: int, gid: int):
        self.dest, self.uid, self.gid = dest, uid, gid
        self.chown = (uid, gid) != (os.geteuid(), os.getegid())
        self._dirs: set[str] = set()

    def _makedirs(self, directory: str) -> None:
        if directory in self._dirs or os.path.isdir(directory):
            return
        parent = os.path.dirname(directory)
        if parent != directory:
            self._makedirs(parent)
        try:
            os.mkdir(directory, DIR_MODE)
        except FileExistsError:      # made meanwhile by another worker
            pass
        else:
            os.chmod(directory, DIR_MODE)          # whatever this process's umask
            if self.chown:
                os.chown(directory, self.uid, self.gid)
        self._dirs.add(directory)

    def put(self, rel: str, mode: int, data: bytes | None = None, fill: Fill | None = None) -> None:
        """DATA (or what FILL writes into the file) under REL with MODE and the instance's owner."""
        path = os.path.join(self.dest, rel)
        tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.mastowizard-{secrets.token_hex(4)}.tmp")
        try:
            self._makedirs(os.path.dirname(path))
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        except OSError as e:
            raise WriteError(f"cannot be written: {e.strerror}") from None
        try:
            with os.fdopen(fd, "wb") as fh:
                if fill is not None:
                    fill(fh)
                else:
                    fh.write(data or b"")
                if self.chown:
                    os.fchown(fh.fileno(), self.uid, self.gid)
                os.fchmod(fh.fileno(), mode)
            os.rename(tmp, path)
        except BaseException as e:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if isinstance(e, OSError):
                raise WriteError(f"cannot be written: {e.strerror or e}") from None
            raise

    def finish(self) -> None:
        os.sync()       # the renames and the bytes on disk before the copy says it is done

    def abort(self) -> None:
        pass


class TarWriter:
    def __init__(self, host, dest: str, uid: int, gid: int, large_dir: str | None = None):
        self.host, self.dest, self.uid, self.gid = host, dest, uid, gid
        self.how = (f"written on {host.describe()} by one tar -x fed one tar stream over one SSH channel: "
                    "each file under a temporary name, then hard-linked to its real name")
        self.token = secrets.token_hex(4)
        self.large_dir = large_dir
        self._lock = threading.Lock()
        self._dirs: OrderedDict[str, None] = OrderedDict()      # recently sent directories (bounded)
        self.broken: str | None = None
        q = shlex.quote(dest)
        # umask 022: what tar makes on its own is 0755, as Paperclip's directories
        # then the bytes on disk before the copy says it is done (syncfs of that file system)
        self.chan = host.start(f"umask 022; cd -- {q} || exit 3; tar --extract --file=- --same-permissions --touch "
                               "--no-overwrite-dir --numeric-owner --blocking-factor=1; st=$?; "
                               "sync -f . 2>/dev/null || sync; exit $st")
        self._err: list[bytes] = []
        self._drain = threading.Thread(target=self._read_stderr, daemon=True, name="mastowizard-tar-x")
        self._drain.start()

    def _read_stderr(self) -> None:
        try:
            while block := self.chan.recv_stderr(65536):
                self._err.append(block)
        except Exception:  # noqa: BLE001 - the channel is gone
            pass

    def _header(self, name: str, kind: bytes, mode: int, size: int = 0, link: str = "") -> bytes:
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.size, ti.linkname = kind, mode, size, link
        ti.uid, ti.gid, ti.uname, ti.gname = self.uid, self.gid, "", ""
        return ti.tobuf(format=tarfile.PAX_FORMAT)

    def _send(self, data: bytes) -> None:
        try:
            self.chan.sendall(data)
        except (OSError, paramiko.SSHException, EOFError) as e:
            self.broken = self.broken or f"the tar stream to the host broke ({e}){self._tail()}"
            raise WriteError(self.broken) from None

    def _tail(self) -> str:
        text = b"".join(self._err).decode("utf-8", "replace").strip().splitlines()
        return f": {text[-1]}" if text else ""

    def _dirs_for(self, rel: str) -> bytes:
        out, parts = b"", rel.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d in self._dirs:
                self._dirs.move_to_end(d)
                continue
            out += self._header(d, tarfile.DIRTYPE, DIR_MODE)      # an existing one is left as it is
            self._dirs[d] = None
            if len(self._dirs) > 4096:
                self._dirs.popitem(last=False)
        return out

    def put(self, rel: str, mode: int, data: bytes | None = None, fill: Fill | None = None) -> None:
        spool = None
        if fill is not None:      # a large object: spooled here first, the stream is one file at a time
            spool = tempfile.TemporaryFile(prefix="mastowizard-large-", dir=self.large_dir)  # noqa: SIM115 - closed below
            fill(spool)
            size = spool.tell()
            spool.seek(0)
        else:
            size = len(data or b"")
        tmp = temp_rel(rel, self.token)
        try:
            with self._lock:
                if self.broken:
                    raise WriteError(self.broken)
                self._send(self._dirs_for(rel) + self._header(tmp, tarfile.REGTYPE, mode, size))
                if spool is not None:
                    while block := spool.read(1 << 20):
                        self._send(block)
                else:
                    self._send(data or b"")
                self._send(b"\0" * (-size % 512) + self._header(rel, tarfile.LNKTYPE, mode, link=tmp))
        finally:
            if spool is not None:
                spool.close()

    def finish(self) -> None:
        """The end of the archive: tar extracts what it holds and exits; then the temporary names go."""
        if self.broken is None:
            self._send(b"\0" * 1024)
        try:
            self.chan.shutdown_write()
            status = self.chan.recv_exit_status()
        finally:
            self._drain.join(10)
            self.chan.close()
        if status != 0:
            raise TargetError(self.host.describe(), f"tar on the host failed (exit {status}){self._tail()}",
                              "check the space and permissions under " + self.dest)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.chan.close()
