"""How the copy reads a file's bytes: from this machine's disk, or from the Mastodon host over SSH
(see remote.py). A reader is told, in key order, which files will be uploaded (request), then hands
each worker its file's bytes, or for a large file a file object to upload in parts (body)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Protocol

from .inventory import SourceFile


class SourceError(Exception):
    """A file could not be read: the message names why (it is shown as the file's failure)."""


@dataclass
class Body:
    data: bytes | None = None          # the whole file (small files)
    file: BinaryIO | None = None       # large files: read in parts, then closed
    size: int = 0

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


class Reader(Protocol):
    how: str                            # one line for the operator: where the bytes come from

    def request(self, f: SourceFile) -> None: ...
    def body(self, f: SourceFile, large: bool) -> Body: ...
    def read_all(self, f: SourceFile) -> bytes: ...
    def finish(self) -> None: ...           # no more requests in this copy
    def close(self) -> None: ...


class LocalReader:
    how = "read from this machine's disk"

    def request(self, f: SourceFile) -> None:
        pass

    def body(self, f: SourceFile, large: bool) -> Body:
        try:
            if large:
                fh = open(f.path, "rb")     # noqa: SIM115 - the Body owns it: the upload streams and closes it
                return Body(file=fh, size=f.size)
            with open(f.path, "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            raise SourceError("vanished from the disk since the inventory") from None
        except OSError as e:
            raise SourceError(f"cannot be read: {e.strerror}") from None
        return Body(data=data, size=len(data))

    def read_all(self, f: SourceFile) -> bytes:
        with open(f.path, "rb") as fh:
            return fh.read()

    def finish(self) -> None:
        pass

    def close(self) -> None:
        pass
