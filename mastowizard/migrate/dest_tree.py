"""The media tree a copy back to disk writes into (public/system, or PAPERCLIP_ROOT_PATH), on this
machine or on the Mastodon host over SSH: what is in it, streamed in the bucket's key order with
each file's size, mode and owner; the temporary files a killed copy left; and a shell on the host
that runs as the user who writes (the --sudo-user, else the login)."""

from __future__ import annotations

import os
import re
import shlex
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import TargetError
from .inventory import Skipped, walk

# host.local.temp_name's pattern: `.NAME.mastowizard-XXXXXXXX.tmp`, hidden, beside the real name
TEMP = re.compile(r"^\..+\.mastowizard-[0-9a-f]{8}\.tmp$")
TEMP_GLOB = ".*.mastowizard-????????.tmp"


def is_temp(rel: str) -> bool:
    return bool(TEMP.match(rel.rsplit("/", 1)[-1]))


@dataclass(frozen=True)
class DiskFile:
    rel: str
    size: int
    mode: int          # permission bits only
    uid: int
    gid: int


def local_files(dest: str, with_owner: bool = False) -> Iterator[DiskFile]:
    """The regular files under DEST on this machine in key order (none when DEST does not exist)."""
    if not os.path.isdir(dest):
        return
    for f in walk(dest, Skipped()):
        uid = gid = -1
        if with_owner:
            try:
                st = os.lstat(f.path)
            except OSError:
                continue
            uid, gid = st.st_uid, st.st_gid
        yield DiskFile(f.rel, f.size, f.mode & 0o7777, uid, gid)


def remote_files(host, dest: str) -> Iterator[DiskFile]:
    """The regular files under DEST on HOST in key order, read as the writing user with one
    `find | sort` (as remote.remote_walk: a tab sorts below every character of a key)."""
    q = shlex.quote(dest)
    chan = host.start(f"[ -d {q} ] || exit 0; cd -- {q} || exit 3; LC_ALL=C find . -mindepth 1 -type f "
                      "-printf '%P\\t%s\\t%m\\t%U\\t%G\\0' | LC_ALL=C sort -z")
    buf = b""
    try:
        while True:
            data = _recv(chan, host)
            if not data:
                break
            *records, buf = (buf + data).split(b"\0")
            for raw in records:
                try:
                    rel, size, mode, uid, gid = raw.decode("utf-8").rsplit("\t", 4)
                except (UnicodeDecodeError, ValueError):
                    continue
                yield DiskFile(rel, int(size), int(mode, 8), int(uid), int(gid))
        # find says 1 for an unreadable folder: the files there count as missing
        if chan.recv_exit_status() not in (0, 1):
            raise TargetError(host.describe(), f"{dest} could not be listed", "check it exists and --sudo-user")
    finally:
        chan.close()


def _recv(chan, host) -> bytes:
    try:
        return chan.recv(1 << 20)
    except Exception as e:  # noqa: BLE001 - a timeout or a broken connection: one line
        raise TargetError(host.describe(), f"the connection broke while listing the media ({e})", "run again") from None


@dataclass
class ShellResult:
    status: int
    stdout: bytes
    stderr: str


def sh(host, script: str, stdin: bytes = b"", timeout: float = 600.0) -> ShellResult:
    """SCRIPT run with sh on HOST (an SshHost) as the writing user, STDIN fed and closed; the output
    read whole (for short answers: ids, checksums, counts)."""
    chan = host.start(script)
    chan.settimeout(timeout)
    err: list[bytes] = []

    def drain() -> None:
        try:
            while block := chan.recv_stderr(65536):
                err.append(block)
        except Exception:  # noqa: BLE001 - the channel is gone: nothing more to read
            pass
    t = threading.Thread(target=drain, daemon=True)
    t.start()
    out = bytearray()
    try:
        if stdin:
            chan.sendall(stdin)
        chan.shutdown_write()
        while block := _recv(chan, host):
            out += block
        status = chan.recv_exit_status()
    finally:
        t.join(10)
        chan.close()
    return ShellResult(status, bytes(out), b"".join(err).decode("utf-8", "replace").strip())
