"""Where the watch keeps its files (the baseline, its state, the metrics): this machine, or with
--ssh the instance's host, where its env file is and where its timer runs. Read and written through
the host interface: atomically, with the mode asked, owned by one user; a failure is one line that
names the flag."""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass

from ..errors import InputError, MastowizardError
from ..host.interface import Host

# A file name for each flag that names one of the watch's files, said in a fix
EXAMPLE = {"--baseline": "mastowizard-baseline.json", "--state": "mastowizard-baseline.json.state",
           "--metrics": "mastowizard.prom"}


@dataclass
class Files:
    host: Host
    owner: tuple[int, int]          # uid, gid of what is written

    @classmethod
    def here(cls) -> Files:
        from ..host.local import LocalHost
        return cls(LocalHost(), (os.geteuid(), os.getegid()))

    def where(self) -> str:
        return "" if self.host.describe() == "this machine" else f" on {self.host.describe()}"

    def check(self, path: str, flag: str) -> None:
        """PATH can be written: not a directory, in a directory that exists."""
        if self.is_dir(path):
            raise InputError(flag, f"{path}{self.where()} is a directory",
                             f"give a file in it, e.g. {path.rstrip('/')}/{EXAMPLE[flag]}")
        parent = posixpath.dirname(path) or "."
        if not self.is_dir(parent):
            raise InputError(flag, f"{parent}{self.where()} is not a directory",
                             "create it, or give a path in one that exists")

    def is_dir(self, path: str) -> bool:
        """As the user the files are written as (over SSH, the sudo user); a path that user may not
        look into is one line naming it, not "not a directory"."""
        return self.host.is_dir(path)

    def read(self, path: str, flag: str) -> bytes | None:
        """PATH's bytes, or None where there is no such file."""
        if not self.host.exists(path):
            return None
        try:
            return self.host.read_bytes(path)
        except MastowizardError as e:
            raise InputError(flag, f"{path}{self.where()} cannot be read ({e})",
                             "check the path and its permissions") from None

    def write(self, path: str, data: bytes, mode: int, flag: str) -> None:
        try:
            self.host.write_atomic(path, data, mode, *self.owner)
        except MastowizardError as e:
            raise InputError(flag, f"{path}{self.where()} cannot be written ({e})",
                             "check the directory and its permissions") from None
