"""The media tree on the Mastodon host, read over SSH: one `find | sort` for the walk, and the bytes
either as one tar stream over one exec channel (the default: no round trip per file, and it reads
through sudo as the instance's user) or through several SFTP sessions (one round trip per file).
bench/migrate_ssh.py measures both; the numbers are in bench/README.md."""

from __future__ import annotations

import io
import posixpath
import queue
import shlex
import tarfile
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator

import paramiko

from ..errors import InputError, TargetError
from .inventory import Skipped, SourceFile
from .reading import Body, SourceError

REASON_WAIT = 10.0     # seconds to await tar's line about a name it skipped (it comes once stderr is read)

TRANSFERS = ("tar", "sftp")
SFTP_SESSIONS = 4
_KINDS = {"l": "symlink", "p": "not a regular file", "s": "not a regular file", "c": "not a regular file",
          "b": "not a regular file", "D": "not a regular file"}


def _mtime_ns(text: str) -> int:
    sec, _, frac = text.partition(".")
    return int(sec) * 1_000_000_000 + int((frac + "000000000")[:9])


def remote_walk(host, source: str, skipped: Skipped | None = None) -> Iterator[SourceFile]:
    """Every regular file under SOURCE on HOST, in key order (`LC_ALL=C sort` of the relative paths
    is S3's order; a tab sorts below every character a Mastodon key has). Streamed, never held."""
    skipped = skipped if skipped is not None else Skipped()
    q = shlex.quote(source)
    script = (f"if [ ! -d {q} ]; then echo 'mastowizard: not a directory' >&2; exit 3; fi; cd -- {q} || exit 3; "
              "LC_ALL=C find . -mindepth 1 ! -type d -printf '%P\\t%y\\t%s\\t%T@\\t%m\\0' | LC_ALL=C sort -z")
    chan = host.start(script)
    errors = Stderr(200)
    drain = threading.Thread(target=_drain_stderr, args=(chan, errors), daemon=True)
    drain.start()
    first = _recv(chan, host)
    if not first:
        drain.join(5)
        status = chan.recv_exit_status()
        if status == 3:
            chan.close()
            raise InputError("--source", f"{source} is not a directory on {host.describe()}",
                             "give the instance's public/system with --source")
    return _records(chan, host, source, first, errors, drain, skipped)


def _records(chan, host, source: str, first: bytes, errors, drain, skipped: Skipped) -> Iterator[SourceFile]:
    buf = first
    try:
        while True:
            *records, buf = buf.split(b"\0")
            for raw in records:
                f = _parse(raw, source, skipped)
                if f is not None:
                    yield f
            data = _recv(chan, host)
            if not data:
                break
            buf += data
    finally:
        chan.close()
    drain.join(5)
    for line in errors:
        if "Permission denied" in line:
            skipped.add("unreadable directory (permission denied)", line.split("'")[1] if "'" in line else line)


def _parse(raw: bytes, source: str, skipped: Skipped) -> SourceFile | None:
    try:
        rel_b, kind, size, mtime, mode = raw.rsplit(b"\t", 4)
    except ValueError:
        return None
    try:
        rel = rel_b.decode("utf-8")
    except UnicodeDecodeError:
        skipped.add("name is not UTF-8", rel_b.decode("utf-8", "replace"))
        return None
    k = kind.decode()
    if k != "f":
        skipped.add(_KINDS.get(k, "not a regular file"), rel)
        return None
    return SourceFile(rel, posixpath.join(source, rel), int(size), _mtime_ns(mtime.decode()), 0o100000 | int(mode, 8))


def _recv(chan, host) -> bytes:
    try:
        return chan.recv(1 << 20)
    except TimeoutError:
        raise TargetError(host.describe(), "the host stopped answering while listing the media",
                          "check the connection and run again") from None
    except (paramiko.SSHException, OSError, EOFError) as e:
        raise TargetError(host.describe(), f"the connection broke while listing the media ({e})",
                          "run again") from None


class Stderr:
    """A channel's stderr, line by line as it arrives (the last 500 kept), and a way to wait for one:
    tar writes why it skipped a name there, and that line can come after the next file's bytes."""

    def __init__(self, maxlen: int = 500):
        self.lines: deque[str] = deque(maxlen=maxlen)
        self.ended = False
        self.cond = threading.Condition()

    def add(self, lines: list[str], ended: bool = False) -> None:
        with self.cond:
            self.lines.extend(lines)
            self.ended = self.ended or ended
            self.cond.notify_all()

    def wait_for(self, prefix: str, timeout: float) -> str | None:
        """The last line starting with PREFIX, awaited until it arrives, stderr ends, or TIMEOUT."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = next((ln for ln in reversed(self.lines) if ln.startswith(prefix)), None)
                left = deadline - time.monotonic()
                if found is not None or self.ended or left <= 0:
                    return found
                self.cond.wait(left)

    def __iter__(self):
        with self.cond:
            return iter(list(self.lines))


def _drain_stderr(chan, errors: Stderr) -> None:
    buf = b""
    while True:
        try:
            data = chan.recv_stderr(65536)
        except Exception:  # noqa: BLE001 - the channel is gone: nothing more to read
            errors.add([], ended=True)
            return
        if not data:
            errors.add([buf.decode("utf-8", "replace")] if buf else [], ended=True)
            return
        buf += data
        *lines, buf = buf.split(b"\n")
        errors.add([x.decode("utf-8", "replace") for x in lines])


class _ChanRaw(io.RawIOBase):
    def __init__(self, chan):
        self.chan = chan

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self.chan.recv(len(b))
        b[:len(data)] = data
        return len(data)


class _Slot:
    __slots__ = ("event", "body", "error")

    def __init__(self):
        self.event, self.body, self.error = threading.Event(), None, None


class TarReader:
    """One `tar --create` on the host for the whole copy: the names of the files to upload go to its
    stdin as the copy decides, their bytes come back in that order on stdout. A thread reads the
    stream and hands each file to the worker waiting for it; only files in flight are held."""

    def __init__(self, host, source: str, large_over: int):
        self.host, self.source, self.large_over = host, source, large_over
        self.how = describe_transfer(host, "tar")
        q = shlex.quote(source)
        self.chan = host.start(f"cd -- {q} && exec tar --create --file=- --null --no-recursion --hard-dereference "
                               "--blocking-factor=1 --files-from=-")
        self.errors = Stderr()
        self.slots: dict[str, _Slot] = {}
        self.order: deque[str] = deque()
        self.lock = threading.Lock()
        self.broken: str | None = None
        self._drain = threading.Thread(target=_drain_stderr, args=(self.chan, self.errors), daemon=True)
        self._drain.start()
        self._thread = threading.Thread(target=self._read, daemon=True, name="mastowizard-tar")
        self._thread.start()

    def request(self, f: SourceFile) -> None:
        slot = _Slot()
        with self.lock:
            if self.broken:
                slot.error = self.broken
                slot.event.set()
                self.slots[f.rel] = slot
                return
            self.slots[f.rel] = slot
            self.order.append(f.rel)
        try:
            self.chan.sendall(f.rel.encode("utf-8") + b"\0")
        except (OSError, paramiko.SSHException, EOFError) as e:
            self._fail_all(f"the SSH connection broke ({e})")

    def body(self, f: SourceFile, large: bool) -> Body:
        slot = self.slots[f.rel]
        slot.event.wait()
        with self.lock:
            self.slots.pop(f.rel, None)
        if slot.error:
            raise SourceError(slot.error)
        return slot.body

    def read_all(self, f: SourceFile) -> bytes:
        return self.host.read_bytes(posixpath.join(self.source, f.rel))

    def _reason(self, rel: str, wait: float = REASON_WAIT) -> str:
        """Why tar did not send REL: its own line on stderr, awaited (it may come after the next
        file's bytes), never guessed from how fast it comes."""
        prefix = f"tar: {rel}: "
        line = self.errors.wait_for(prefix, wait)
        if line is not None:
            text = line[len(prefix):]
            if "No such file" in text:
                return "vanished from the host's disk since the inventory"
            if "Permission denied" in text:
                return (f"cannot be read by {self.host.describe()} (permission denied): use --sudo-user "
                        "with the instance's user")
            return f"tar could not read it: {text}"
        return "not sent by tar (vanished or unreadable on the host)"

    def _deliver(self, rel: str, body: Body | None, error: str | None = None) -> None:
        with self.lock:
            slot = self.slots.get(rel)
        if slot is None:
            if body is not None:
                body.close()
            return
        slot.body, slot.error = body, error
        slot.event.set()

    def _read(self) -> None:
        try:
            # Unbuffered: a read returns what has arrived, so the parser never waits for bytes beyond
            # the files asked for (a buffered read of 64 KiB would wait for files not yet requested)
            with tarfile.open(fileobj=_ChanRaw(self.chan), mode="r|", bufsize=1 << 20) as tf:
                for member in tf:
                    gaps = []
                    with self.lock:
                        while self.order and self.order[0] != member.name:
                            gaps.append(self.order.popleft())
                        if self.order:
                            self.order.popleft()
                    if gaps:
                        for rel in gaps:
                            self._deliver(rel, None, self._reason(rel))
                    if not member.isfile():
                        continue
                    fh = tf.extractfile(member)
                    if member.size > self.large_over:
                        spool = tempfile.TemporaryFile(prefix="mastowizard-large-")  # noqa: SIM115 - the Body owns it; unlinked
                        while chunk := fh.read(1 << 20):
                            spool.write(chunk)
                        spool.seek(0)
                        self._deliver(member.name, Body(file=spool, size=member.size))
                    else:
                        data = fh.read()
                        self._deliver(member.name, Body(data=data, size=len(data)))
        except (tarfile.TarError, OSError, EOFError, paramiko.SSHException) as e:
            self._fail_all(f"the tar stream from the host broke ({e})")
            return
        with self.lock:
            rest = list(self.order)
            self.order.clear()
        for rel in rest:
            self._deliver(rel, None, self._reason(rel))
        self._fail_all(" ".join(list(self.errors)[-1:]) or "tar ended early")

    def _fail_all(self, why: str) -> None:
        with self.lock:
            self.broken = self.broken or why
            pending = [r for r, s in self.slots.items() if not s.event.is_set()]
            self.order.clear()
        for rel in pending:
            self._deliver(rel, None, self.broken)

    def finish(self) -> None:
        """No more requests: tar ends, and sends what it still holds (it writes one record late)."""
        try:
            self.chan.shutdown_write()
        except Exception:  # noqa: BLE001 - already gone
            pass

    def close(self) -> None:
        self.finish()
        self._thread.join(30)
        self.chan.close()


class SftpReader:
    """Files read through SFTP: a few sessions (channels) on the one connection, one file per request,
    prefetched. Reads as the login user: files only the instance's user may read need --transfer tar."""

    def __init__(self, host, source: str, channels: int = SFTP_SESSIONS):
        self.host, self.source = host, source
        self.how = describe_transfer(host, "sftp")
        self.pool: queue.Queue = queue.Queue()
        for _ in range(channels):
            self.pool.put(host.open_sftp())
        self.channels = channels

    def request(self, f: SourceFile) -> None:
        pass

    def body(self, f: SourceFile, large: bool) -> Body:
        sftp = self.pool.get()
        path = posixpath.join(self.source, f.rel)
        try:
            with sftp.open(path, "rb") as fh:
                fh.prefetch(f.size)
                if large:
                    spool = tempfile.TemporaryFile(prefix="mastowizard-large-")  # noqa: SIM115 - the Body owns it
                    while chunk := fh.read(1 << 20):
                        spool.write(chunk)
                    size = spool.tell()
                    spool.seek(0)
                    return Body(file=spool, size=size)
                data = fh.read()
                return Body(data=data, size=len(data))
        except FileNotFoundError:
            raise SourceError("vanished from the host's disk since the inventory") from None
        except PermissionError:
            raise SourceError(f"cannot be read by {self.host.describe()} (permission denied): use --sudo-user "
                              "with the instance's user (and --transfer tar)") from None
        except (OSError, paramiko.SSHException, EOFError) as e:
            raise SourceError(f"cannot be read over SFTP: {e}") from None
        finally:
            self.pool.put(sftp)

    def read_all(self, f: SourceFile) -> bytes:
        return self.body(f, False).data

    def finish(self) -> None:
        pass

    def close(self) -> None:
        for _ in range(self.channels):
            try:
                self.pool.get_nowait().close()
            except Exception:  # noqa: BLE001
                pass


def describe_transfer(host, transfer: str) -> str:
    """The way the files come from HOST and its cost, as bench/migrate_ssh.py measured it."""
    if transfer == "sftp":
        return (f"read from {host.describe()} over {SFTP_SESSIONS} SFTP sessions on one SSH connection: a round "
                "trip per file, about a quarter of the tar stream's speed, as the login user only")
    return (f"streamed from {host.describe()} as one tar stream over one SSH channel: no round trip per file, "
            "about two thirds of the speed of a copy on the host itself; it costs the host one tar process and "
            "sshd's encryption (about one CPU core while it runs) and no disk space")


def open_reader(host, source: str, transfer: str, large_over: int):
    if transfer not in TRANSFERS:
        raise InputError("--transfer", f"{transfer!r} is not a way to read the host", "use tar or sftp")
    if transfer == "sftp":
        return SftpReader(host, source)
    return TarReader(host, source, large_over)
