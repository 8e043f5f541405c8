"""The media tree on disk: where it is, and what is in it, streamed in the bucket's key order.

The walk holds one directory's names at a time, never the whole tree. Entries are sorted as S3
sorts keys (UTF-8 bytes, a directory as its name plus "/"), so the walk and a flat bucket listing
can be merged in one pass."""

from __future__ import annotations

import contextlib
import os
import posixpath
import stat
import struct
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from ..errors import InputError
from .objects import PRIVATE_FOLDERS, UNKNOWN_TYPE, content_type, private_on_disk


@dataclass(frozen=True)
class SourceFile:
    rel: str            # path relative to the source, "/"-separated: the key without S3_KEY_PREFIX
    path: str           # absolute path on disk
    size: int
    mtime_ns: int
    mode: int


def source_dir(env_file: str, values: Mapping[str, str] | None = None) -> str:
    """public/system beside the env file, or PAPERCLIP_ROOT_PATH as Mastodon reads it
    (`:rails_root` is the instance directory)."""
    live = posixpath.dirname(posixpath.abspath(env_file))
    root = (values or {}).get("PAPERCLIP_ROOT_PATH")
    if root:
        return posixpath.normpath(root.replace(":rails_root", live))
    return posixpath.join(live, "public", "system")


def _sort_key(entry: os.DirEntry) -> bytes:
    name = os.fsencode(entry.name)
    try:
        is_dir = entry.is_dir(follow_symlinks=False)
    except OSError:
        is_dir = False
    return name + b"/" if is_dir else name


@dataclass
class Skipped:
    """What the walk could not copy, and why (a count per reason, a few examples)."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, reason: str, rel: str) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1
        ex = self.examples.setdefault(reason, [])
        if len(ex) < 3:
            ex.append(rel)


def walk(source: str, skipped: Skipped | None = None, shard=None) -> Iterator[SourceFile]:
    """Every regular file under SOURCE in key order (with SHARD, a shards.Shard: only its files, and
    its walk never enters another shard's units). Symlinks, special files and names that are not
    UTF-8 are not keys Mastodon wrote: they are counted in SKIPPED, not copied."""
    if not os.path.isdir(source):     # at the call, not at the first next(): nothing starts on a bad source
        raise InputError("--source", f"{source} is not a directory", "give the instance's public/system with --source")
    return _walk(source, skipped if skipped is not None else Skipped(), shard)


def _walk(source: str, skipped: Skipped, shard=None) -> Iterator[SourceFile]:

    def entries(directory: str, prefix: str):
        try:
            with os.scandir(directory) as it:
                return iter(sorted(it, key=_sort_key))
        except OSError as e:
            skipped.add(f"unreadable directory ({e.strerror})", prefix or ".")
            return iter(())

    # Depth first with a stack of directory iterators, not nested generators: a Mastodon tree is
    # seven directories deep per file. Directories are known from readdir's d_type (no stat); only
    # files are stat'ed.
    stack = [(entries(source, ""), "")]
    while stack:
        entry = next(stack[-1][0], None)
        if entry is None:
            stack.pop()
            continue
        rel = stack[-1][1] + entry.name
        try:
            rel.encode("utf-8")
        except UnicodeEncodeError:
            skipped.add("name is not UTF-8", os.fsdecode(os.fsencode(rel)).encode("utf-8", "replace").decode())
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                if shard is None or not shard.prunes(rel):
                    stack.append((entries(entry.path, rel + "/"), rel + "/"))
                continue
            st = entry.stat(follow_symlinks=False)
        except OSError:
            skipped.add("vanished during the walk", rel)
            continue
        if stat.S_ISREG(st.st_mode):
            if shard is None or shard.holds(rel):
                yield SourceFile(rel, entry.path, st.st_size, st.st_mtime_ns, st.st_mode)
        else:
            skipped.add("symlink" if stat.S_ISLNK(st.st_mode) else "not a regular file", rel)


@dataclass
class Folder:
    files: int = 0
    bytes: int = 0
    private: int = 0


@dataclass
class Inventory:
    """Per top-level folder (accounts, media_attachments, cache, backups, ...): files, bytes, and how
    many must stay private; plus what the walk skipped and files of a type the table does not know."""

    source: str
    folders: dict[str, Folder] = field(default_factory=dict)
    skipped: Skipped = field(default_factory=Skipped)
    unknown_types: int = 0
    splits: list[str] = field(default_factory=list)     # every SPLIT_EVERY-th path: where listings are cut
    spool: int | None = None     # the walk, in an unnamed file (its descriptor): the copy need not walk again
    shard: object = None         # shards.Shard: the inventory holds only that shard's files
    units: list[str] | None = None   # a shard's units (shards.listing_prefixes): the listing is only of them;
                                     # None: the whole bucket is listed (shards.list_apart)

    def replay(self) -> Iterator[SourceFile]:
        """The files as the inventory's walk found them, read back from the spool (bounded memory).
        The spool has no name on disk (unlinked once made): a killed run leaves nothing behind."""
        if self.spool is None:
            yield from walk(self.source, shard=self.shard)
            return
        head = struct.Struct("<Iqqi")
        fd, offset, buf = self.spool, 0, b""
        while True:
            chunk = os.pread(fd, 1 << 20, offset)
            offset += len(chunk)
            buf += chunk
            pos = 0
            while len(buf) - pos >= head.size:
                n, size, mtime_ns, mode = head.unpack_from(buf, pos)
                if len(buf) - pos - head.size < n:
                    break
                rel = buf[pos + head.size:pos + head.size + n].decode("utf-8")
                pos += head.size + n
                yield SourceFile(rel, os.path.join(self.source, rel), size, mtime_ns, mode)
            buf = buf[pos:]
            if not chunk:
                return

    def close(self) -> None:
        if self.spool is not None:
            with contextlib.suppress(OSError):
                os.close(self.spool)
            self.spool = None

    @property
    def files(self) -> int:
        return sum(f.files for f in self.folders.values())

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.folders.values())

    @property
    def private(self) -> int:
        return sum(f.private for f in self.folders.values())

    def to_json(self) -> dict:
        return {"source": self.source, "files": self.files, "bytes": self.bytes, "private": self.private,
                "folders": {k: vars(v) for k, v in self.folders.items()},
                "skipped": self.skipped.counts, "unknown_types": self.unknown_types}


SPLIT_EVERY = 1000      # one listing page


def take_inventory(source: str, spool: bool = False,
                   walker: Callable[[Skipped], Iterator[SourceFile]] | None = None, shard=None) -> Inventory:
    """Count the tree; with SPOOL, also keep the walk in a temporary file for Inventory.replay().
    WALKER(skipped) walks a tree that is not on this machine (remote.remote_walk), in walk()'s order.
    SHARD (shards.Shard): only its files, and the units they are in (what the listing lists)."""
    inv = Inventory(source, shard=shard)
    files = walker(inv.skipped) if walker is not None else walk(source, inv.skipped, shard)
    units: set[str] = set()
    if shard is not None:
        files = _shards_files(files, shard, units, checked=walker is None)
    out = None
    if spool:
        fd, name = tempfile.mkstemp(prefix="mastowizard-walk-")
        os.unlink(name)
        inv.spool = os.dup(fd)
        out = os.fdopen(fd, "wb", buffering=1 << 20)
    head = struct.Struct("<Iqqi")
    try:
        for n, f in enumerate(files, 1):
            if out is not None:
                rel = f.rel.encode("utf-8")
                out.write(head.pack(len(rel), f.size, f.mtime_ns, f.mode) + rel)
            if n % SPLIT_EVERY == 0:
                inv.splits.append(f.rel)
            top = f.rel.split("/", 1)[0] if "/" in f.rel else "(top level)"
            folder = inv.folders.setdefault(top, Folder())
            folder.files += 1
            folder.bytes += f.size
            folder.private += top in PRIVATE_FOLDERS or private_on_disk(f.mode)
            inv.unknown_types += content_type(f.rel) == UNKNOWN_TYPE
    except BaseException:
        inv.close()
        raise
    finally:
        if out is not None:
            out.close()
    if shard is not None:
        from .shards import list_apart, listing_prefixes
        prefixes = listing_prefixes(units)
        inv.units = prefixes if list_apart(len(prefixes), inv.files, shard.n) else None
    return inv


def _shards_files(files: Iterator[SourceFile], shard, units: set[str], checked: bool) -> Iterator[SourceFile]:
    """SHARD's files among FILES (all of them when the walk CHECKED already, as the local walk does),
    each one's unit added to UNITS: one unit_of and at most one hash per file."""
    from .shards import shard_number, unit_of
    for f in files:
        unit = unit_of(f.rel)
        if checked or shard_number(unit, shard.n) == shard.k:
            units.add(unit)
            yield f


def files(n: int) -> str:
    """'1 file', '303 files'."""
    return f"{n} file" if n == 1 else f"{n} files"


def human_bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"
