"""The copy as `s5cmd run` command files, for admins who run s5cmd: one `cp` line a file, each with the
Content-Type, Cache-Control, ACL and storage class objects.spec_for gives it (the rule `migrate` stores
by), the key Mastodon would have used, and the files the walk copies (inventory.walk: symlinks,
special files and names that are not UTF-8 are left out, as `migrate` leaves them). Prints nothing.

How `s5cmd run` reads a file (command/run.go, v2.3.0): line by line (a newline always ends a line),
each trimmed, `#` lines skipped, then split as /bin/sh splits words (go-shellquote: single quotes
taken literally, no expansion). So every path and value is quoted as a shell needs it (shlex.quote:
single quotes around anything not plain), and a name with a newline cannot be written at all: such
a file is left out and named, never mis-targeted. `--raw` makes `*` and `?` in a name plain
characters (s5cmd reads them as wildcards otherwise); `--no-follow-symlinks` skips a file that has
become a symlink since the export, as the walk skips it. Above the multipart threshold `--part-size`
is `migrate`'s part size, so s5cmd cuts the same parts and the object gets the same ETag (where that
size is a whole number of MiB). The endpoint and the key are not in the file: `s5cmd --endpoint-url
URL run FILE`, with the key in the environment."""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..settings import CACHE_CONTROL, Settings
from .inventory import Skipped, walk
from .objects import multipart_threshold, part_size, spec_for, storage_class

MIB = 1024 * 1024
NEWLINE = "a newline in the name: s5cmd run reads one command a line"
SCHEME = "'://' in the path: s5cmd would read it as a URL"


@dataclass
class Export:
    """What a command file holds: its files and bytes, and what is not in it (the walk's skips, and
    the files s5cmd cannot name)."""

    files: int = 0
    bytes: int = 0
    skipped: Skipped = field(default_factory=Skipped)     # as migrate: not copied by either
    left_out: Skipped = field(default_factory=Skipped)    # migrate copies them; s5cmd cannot

    def add(self, other: Export) -> None:
        self.files += other.files
        self.bytes += other.bytes
        for mine, theirs in ((self.skipped, other.skipped), (self.left_out, other.left_out)):
            for reason, n in theirs.counts.items():
                mine.counts[reason] = mine.counts.get(reason, 0) + n
                ex = mine.examples.setdefault(reason, [])
                ex.extend(theirs.examples[reason][:3 - len(ex)])


def run_command(settings: Settings, path: str, ca_bundle: str | None = None) -> str:
    """The command an admin runs for the file at PATH (a shell line; the writer key comes from
    AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, never from here). AWS_REGION is
    the region requests are signed for. Without --endpoint-url s5cmd talks to AWS itself."""
    env = [f"AWS_REGION={shlex.quote(settings.region)}"]
    if ca_bundle:
        env.append(f"AWS_CA_BUNDLE={shlex.quote(ca_bundle)}")
    argv = ["s5cmd"]
    if settings.endpoint and settings.provider != "aws":
        argv += ["--endpoint-url", settings.endpoint]
    return " ".join([*env, shlex.join([*argv, "run", path])])


def header(settings: Settings, source: str, shard=None, run: str | None = None) -> list[str]:
    """The file's first lines: comments, which `s5cmd run` skips."""
    what = f"shard {shard} of the copy" if shard is not None else "the copy"
    lines = [f"# mastowizard: {what} of {source} into s3://{settings.bucket}, one s5cmd cp a file,",
             "# each object as Mastodon would have stored it (key, Content-Type, Cache-Control, ACL, storage class).",
             "# The writer key comes from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment."]
    if run:
        lines.append(f"#   {run}")
    return [line.replace("\r", "\\r").replace("\n", "\\n") for line in lines]     # each stays one comment line


def cp_line(path: str, rel: str, mode: int, size: int, settings: Settings) -> str:
    """The `cp` line that stores the file at PATH (REL under public/system, MODE, SIZE) as `migrate` does."""
    spec = spec_for(rel, mode, settings)
    args = ["cp", "--raw", "--no-follow-symlinks", "--content-type", spec.content_type,
            "--cache-control", CACHE_CONTROL]
    if spec.acl:
        args += ["--acl", spec.acl]
    if storage_class(settings):
        args += ["--storage-class", storage_class(settings)]
    threshold = multipart_threshold(settings)
    if size > threshold:
        part = part_size(size, threshold)
        if part % MIB == 0:     # s5cmd takes whole MiB: otherwise its own parts (the same bytes, another ETag)
            args += ["--part-size", str(part // MIB)]
    return shlex.join([*args, path, f"s3://{settings.bucket}/{spec.key}"])


def unsayable(path: str) -> str | None:
    """Why s5cmd cannot be told about the file at PATH, or None."""
    if "\n" in path:
        return NEWLINE
    if "://" in path:
        return SCHEME
    return None


def command_lines(source: str, settings: Settings, shard=None, export: Export | None = None,
                  run: str | None = None) -> Iterator[str]:
    """The lines of the command file (each without its newline) for the files under SOURCE (an absolute
    public/system), or SHARD's (shards.Shard) only, in key order; EXPORT counts them and what is left out.
    RUN: the command that runs the file, for its header."""
    export = export if export is not None else Export()
    source = os.path.abspath(source)      # never a relative path s5cmd could read as a flag
    yield from header(settings, source, shard, run)
    for f in walk(source, _Held(export.skipped, shard), shard):
        why = unsayable(f.path)
        if why:
            export.left_out.add(why, f.rel)
            continue
        export.files += 1
        export.bytes += f.size
        yield cp_line(f.path, f.rel, f.mode, f.size, settings)


class _Held:
    """What the walk skips, counted only where SHARD holds it: a symlink above the shards' units is
    seen by every shard's walk, and is one file left out, not N."""

    def __init__(self, into: Skipped, shard):
        self.into, self.shard = into, shard

    def add(self, reason: str, rel: str) -> None:
        if self.shard is None or self.shard.holds(rel):
            self.into.add(reason, rel)


def command_file(source: str, settings: Settings, shard=None, run: str | None = None) -> tuple[str, Export]:
    """The whole command file's text, and what it holds (for a tree that fits in memory; the CLI streams)."""
    export = Export()
    text = "".join(line + "\n" for line in command_lines(source, settings, shard, export, run))
    return text, export
