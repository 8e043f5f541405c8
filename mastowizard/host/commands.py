"""Running commands on the Mastodon host, here or over SSH, with output streamed line by line."""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import time
from collections import deque
from typing import Callable, Protocol

from ..errors import TargetError
from .ssh import CommandResult


class Runner(Protocol):
    def describe(self) -> str: ...
    def run(self, argv: list[str], *, root: bool = False, timeout: float = 120.0,
            on_line: Callable[[str], None] | None = None) -> CommandResult: ...


class LocalRunner:
    """This machine. root=True goes through sudo unless we already are root (sudo asks on the terminal)."""

    def describe(self) -> str:
        return "this machine"

    def run(self, argv: list[str], *, root: bool = False, timeout: float = 120.0,
            on_line: Callable[[str], None] | None = None) -> CommandResult:
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
