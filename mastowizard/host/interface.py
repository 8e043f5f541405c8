"""The host interface: every file operation and command on the instance's machine goes through it.

`LocalHost` (host/local.py) is this machine; `SshHost` (host/sshhost.py) is one over SSH. Both
implement `Host` whole, so no caller asks which kind it holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class FileStat:
    mode: int          # permission bits only (e.g. 0o600)
    uid: int
    gid: int
    size: int
    mtime_ns: int


@dataclass
class CommandResult:
    status: int
    stdout: bytes
    stderr_tail: list[str]
    lines_seen: int

    @property
    def ok(self) -> bool:
        return self.status == 0


class Host(Protocol):
    """A machine: its files (POSIX paths on it) and its commands."""

    def describe(self) -> str: ...
    def read_bytes(self, path: str) -> bytes: ...
    def stat(self, path: str) -> FileStat: ...
    def exists(self, path: str) -> bool: ...
    def is_dir(self, path: str) -> bool: ...
    def list_dir(self, path: str) -> list[str]: ...
    def write_atomic(self, path: str, data: bytes, mode: int, uid: int, gid: int, *,
                     exclusive: bool = False) -> None: ...
    def remove(self, path: str) -> None: ...
    def user(self) -> tuple[int, str]: ...
    def login_uid(self) -> int: ...
    def user_name(self, uid: int) -> str: ...
    def run(self, argv: list[str], *, root: bool = False, timeout: float = 120.0,
            on_line: Callable[[str], None] | None = None) -> CommandResult: ...
    def close(self) -> None: ...
