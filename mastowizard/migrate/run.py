"""`mastowizard migrate`: the inventory, the question, the copy with its progress, and the
verification, returned as a MigrateOutcome for the front door to render; and the inventory's lines."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..host.local import LocalHost
from ..net import HttpOptions
from ..s3.credential import Credential
from ..s3.policies import PUBLIC_PREFIXES
from ..settings import Settings
from .copy import CopyResult, Progress
from .inventory import Inventory, files, human_bytes, source_dir, take_inventory
from .job import CopyReport, copy_and_verify
from .objects import multipart_threshold
from .reading import LocalReader
from .verify import Verification


def inventory_lines(inv: Inventory, settings: Settings) -> list[str]:
    where = "media in the old bucket" if inv.source.startswith("s3://") else "media on disk"
    lines = [f"{where}: {inv.source}: {files(inv.files)}, {human_bytes(inv.bytes)}"]
    if inv.shard is not None:
        listed = (f"{len(inv.units)} listing prefix(es)" if inv.units is not None
                  else "the bucket listed whole: fewer pages than its prefixes one by one")
        lines.append(f"  shard {inv.shard}: these files only ({listed}); the other shards' files are left to "
                     "their runs")
    for name, f in sorted(inv.folders.items(), key=lambda kv: -kv[1].bytes):
        extra = f", {f.private} private" if f.private else ""
        lines.append(f"  {name + '/':24} {f.files:>9} {'file ' if f.files == 1 else 'files'} "
                     f"{human_bytes(f.bytes):>10}{extra}")
    for reason, n in inv.skipped.counts.items():
        lines.append(f"  not copied: {n} ({reason}), e.g. {', '.join(inv.skipped.examples[reason])}")
    if inv.unknown_types:
        lines.append(f"  {inv.unknown_types} file(s) of a type Mastodon does not write: stored as "
                     "application/octet-stream")
    cache = inv.folders.get("cache")
    if cache and cache.bytes > inv.bytes / 3:
        lines.append(f"note: cache/ (remote servers' media) is {human_bytes(cache.bytes)} of it: "
                     "`mastowizard prune-cache --days 7` (tootctl media remove) before the copy shrinks it, and "
                     "Mastodon fetches it again on demand")
    where = f"bucket {settings.bucket}" + (f" under {settings.key_prefix}/" if settings.key_prefix else "")
    if settings.acl:
        lines.append(f"permissions: {where}: public files with ACL {settings.acl}; {inv.private} private file(s) "
                     "(backups/, imports/, media of suspended accounts) with ACL private")
    else:
        exposed = sum(f.private for name, f in inv.folders.items() if f"{name}/" in PUBLIC_PREFIXES)
        lines.append(f"permissions: {where}: no ACLs (policy mode); backups/ and imports/ stay private "
                     "(the bucket policy does not cover them)")
        if exposed:
            private = "private in the old bucket" if inv.source.startswith("s3://") else "private on disk (0600"
            private += ": media of suspended accounts" + ("" if inv.source.startswith("s3://") else ")")
            lines.append(f"warning: {exposed} file(s) are {private} but the "
                         "bucket policy makes everything under media_attachments/ public: they will be readable "
                         "by URL. Only ACL mode keeps them private.")
    return lines


def over_ssh(host) -> bool:
    """HOST is another machine (an SshHost), not this one (None or a LocalHost)."""
    return host is not None and not isinstance(host, LocalHost)


def describe_reading(host, transfer: str = "tar") -> str:
    """How the files' bytes reach this machine from HOST, and what it costs."""
    if not over_ssh(host):
        return LocalReader.how
    from .remote import describe_transfer
    return describe_transfer(host, transfer)


def inventory_of(source: str, host=None, spool: bool = True, shard=None) -> Inventory:
    """The inventory of SOURCE (only SHARD's files, a shards.Shard): on this disk, or on HOST (an
    SshHost) with one find on the host."""
    if not over_ssh(host):
        return take_inventory(source, spool=spool, shard=shard)
    from .remote import remote_walk
    return take_inventory(source, spool=spool, walker=lambda skipped: remote_walk(host, source, skipped),
                          shard=shard)


def reader_for(source: str, host=None, transfer: str = "tar", large_over: int = 15 * 1024 * 1024):
    """What reads the files' bytes: this disk, or HOST over SSH (one tar stream, or SFTP)."""
    if not over_ssh(host):
        return LocalReader()
    from .remote import open_reader
    return open_reader(host, source, transfer, large_over)


def open_tree(source: str, host=None, transfer: str = "tar", spool: bool = True,
              large_over: int = 15 * 1024 * 1024, shard=None):
    """The inventory of SOURCE (of SHARD's files only) and the reader of its bytes."""
    inv = inventory_of(source, host, spool, shard)
    try:
        return inv, reader_for(source, host, transfer, large_over)
    except BaseException:
        inv.close()
        raise


@dataclass
class MigrateOutcome:
    """What `migrate` did: the inventory it took, then the copy and its verification (a CopyReport,
    which decides whether it is complete). The front door renders it."""

    inventory: Inventory
    report: CopyReport
    how: str = ""          # how the files were read (this disk, the host over SSH, the old bucket)
    next_steps: list[str] | None = None     # what to do after a complete copy, when not the disk's usual

    @property
    def copy(self) -> CopyResult:
        return self.report.copy

    @property
    def verification(self) -> Verification | None:
        return self.report.verification

    @property
    def complete(self) -> bool:
        return self.report.complete

    @property
    def nothing_to_copy(self) -> bool:
        """No file on disk (or in the old bucket): nothing was asked, copied or verified, and nothing failed."""
        return self.inventory.files == 0 and not self.copy.failed

    def to_json(self) -> dict:
        v = self.verification
        shard = self.inventory.shard
        return {"ok": self.complete, **self.copy.to_json(), "inventory": self.inventory.to_json(), "reading": self.how,
                "shard": str(shard) if shard is not None else None,
                "next_steps": self.next_steps or [],
                "verified": v.to_json() if v is not None else None}


def migrate(settings: Settings, writer: Credential, env_file: str, values: Mapping[str, str], *,
            source: str | None, jobs: int, dry_run: bool, verify: str, http: HttpOptions,
            confirm: Callable[[str], None], on_inventory: Callable[[Inventory, str], None] | None = None,
            on_progress: Callable[[Progress], None] | None = None, host=None,
            transfer: str = "tar", shard=None) -> MigrateOutcome:
    """Take the inventory of the media on disk (or on HOST over SSH), copy it and verify it.
    ON_INVENTORY(inventory, how the files are read) is told what is on disk before CONFIRM(question)
    is asked (no question on a dry run, nor when there is nothing to copy); ON_PROGRESS(progress)
    follows the copy. SHARD (shards.Shard): only its files. Prints nothing."""
    inv, reader = open_tree(source or source_dir(env_file, values), host, transfer,   # refuses a missing --source
                            large_over=multipart_threshold(settings), shard=shard)
    try:
        if on_inventory is not None:
            on_inventory(inv, reader.how)
        if inv.files == 0:
            return MigrateOutcome(inv, CopyReport(CopyResult()), reader.how)
        if not dry_run:
            confirm(f"Copy {files(inv.files)} ({human_bytes(inv.bytes)}) into bucket {settings.bucket}"
                    + (f" (shard {shard})" if shard is not None else "") + "?")
        return MigrateOutcome(inv, copy_and_verify(settings, writer, inv.source, http=http, jobs=jobs,
                                                   dry_run=dry_run, verify=verify, on_progress=on_progress,
                                                   inventory=inv, reader=reader), reader.how)
    finally:
        reader.close()
        inv.close()
