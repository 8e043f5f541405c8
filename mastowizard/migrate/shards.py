"""Shards: the media tree split for a fleet of machines, as a pure function of each path, so every
host computes the same shards without a plan file, and no two shards ever write the same object.

Mastodon stores each record's files under an id partition (`media_attachments/files/109/345/678/
901/234/567/original/x.jpg`: the id in groups of three digits). A shard's unit is the path up to the
second group (`media_attachments/files/109/345`), after any leading 000 groups (old sequential ids):
with snowflake ids that is a few hours of uploads, so an instance of years has thousands of units
per folder and the hash spreads them evenly; every style of one record is in one unit. A path with
no id partition belongs to its top folder's unit.
Shard K of N (1 <= K <= N) holds the units whose hash is K-1 modulo N."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from ..errors import InputError

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
MAX_SHARDS = 100_000


@dataclass(frozen=True)
class Shard:
    k: int       # 1-based
    n: int

    def __str__(self) -> str:
        return f"{self.k}/{self.n}"

    @property
    def slug(self) -> str:
        """For file names: 3-of-16."""
        return f"{self.k}-of-{self.n}"

    def holds(self, rel: str) -> bool:
        """Whether the file at REL (relative to public/system, or a key less S3_KEY_PREFIX) is this shard's."""
        return shard_number(unit_of(rel), self.n) == self.k

    def prunes(self, rel_dir: str) -> bool:
        """Whether the directory REL_DIR is a whole unit of another shard: nothing under it is this
        shard's, so the walk need not enter it."""
        unit = dir_unit(rel_dir)
        return unit is not None and shard_number(unit, self.n) != self.k


def parse(text: str, field: str = "--shard") -> Shard:
    """K/N as --shard takes it: 1 <= K <= N."""
    m = _SHARD.match(text or "")
    if not m:
        raise InputError(field, f"{text!r} is not K/N", "give e.g. 3/16: shard 3 of 16 (from 1)")
    k, n = int(m.group(1)), int(m.group(2))
    if not 1 <= n <= MAX_SHARDS:
        raise InputError(field, f"{n} shards is out of range", f"use 1 to {MAX_SHARDS}")
    if not 1 <= k <= n:
        raise InputError(field, f"shard {k} of {n} does not exist", f"K counts from 1 to {n}")
    return Shard(k, n)


def _unit_end(parts: list[str]) -> int | None:
    """How many of the directory names PARTS make a unit: up to the second id-partition group (three
    digits) after any leading 000 groups (old sequential ids: 000/000/001/234 holds a thousand
    records, as 109/345 holds a few hours of snowflake ids); None when there is no id partition."""
    at = next((i for i, p in enumerate(parts) if len(p) == 3 and p.isdigit()), None)
    if at is None:
        return None
    while at < len(parts) and parts[at] == "000":
        at += 1
    return at + 2


def unit_of(rel: str) -> str:
    """The unit of the file at REL: its path up to the second id-partition group, or its top folder."""
    dirs = rel.split("/")[:-1]
    end = _unit_end(dirs)
    if end is None:
        return dirs[0] if dirs else ""
    return "/".join(dirs[:min(end, len(dirs))])


def dir_unit(rel_dir: str) -> str | None:
    """REL_DIR when it is a whole unit (every file under it has it as unit), else None."""
    parts = rel_dir.strip("/").split("/")
    return "/".join(parts) if _unit_end(parts) == len(parts) else None


def shard_number(unit: str, n: int) -> int:
    """The shard (1..N) a unit belongs to: the same on every host and every Python."""
    return 1 + int.from_bytes(hashlib.blake2b(unit.encode("utf-8"), digest_size=8).digest(), "big") % n


def listing_prefixes(units) -> list[str]:
    """The units as listing prefixes, in key order, none under another (a file right under an id
    partition's first group has that group as its unit, which holds whole units too): each object
    is listed once, and the listings joined stay in key order."""
    out: list[str] = []
    for unit in sorted(u + "/" for u in units if u):
        if not (out and unit.startswith(out[-1])):
            out.append(unit)
    if "" in units:           # files at the top of public/system: not Mastodon's, but listed all the same
        return [""]
    return out


PAGE = 1000      # keys in one listing page


def list_apart(prefixes: int, files: int, n: int) -> bool:
    """Whether listing a shard's PREFIXES one by one asks fewer pages than one flat listing of the
    bucket (about FILES x N keys when the shard holds FILES of N shards' files). Many shards of a huge
    tree list apart (16 shards of 10 million files: ~600 units against 10,000 pages); one or two
    shards of a small tree, whose units are hundreds of one-page listings, list flat."""
    return prefixes + files / PAGE < files * n / PAGE
