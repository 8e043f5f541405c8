"""`mastowizard migrate`: the inventory, the question, the copy with progress on stderr, the
verification, and one line per failure (or one JSON document at the end with --json)."""

from __future__ import annotations

import json
import sys
from typing import Callable, Mapping

from ..net import HttpOptions
from ..s3.credential import Credential
from ..s3.policies import PUBLIC_PREFIXES
from ..settings import Settings
from .copy import CopyResult, Progress
from .inventory import Inventory, files, human_bytes, source_dir, take_inventory
from .job import copy_and_verify
from .objects import multipart_threshold
from .reading import LocalReader
from .verify import Verification


def inventory_lines(inv: Inventory, settings: Settings) -> list[str]:
    lines = [f"media on disk: {inv.source}: {files(inv.files)}, {human_bytes(inv.bytes)}"]
    for name, f in sorted(inv.folders.items(), key=lambda kv: -kv[1].bytes):
        extra = f", {f.private} private" if f.private else ""
        lines.append(f"  {name + '/':24} {f.files:>9} {'file ' if f.files == 1 else 'files'} "
                     f"{human_bytes(f.bytes):>10}{extra}")
    for reason, n in inv.skipped.counts.items():
        lines.append(f"  not copied: {n} ({reason}), e.g. {', '.join(inv.skipped.examples[reason])}")
    if inv.unknown_types:
        lines.append(f"  {inv.unknown_types} file(s) of a type Mastodon does not write: stored as application/octet-stream")
    cache = inv.folders.get("cache")
    if cache and cache.bytes > inv.bytes / 3:
        lines.append(f"note: cache/ (remote servers' media) is {human_bytes(cache.bytes)} of it: "
                     "`mastowizard prune-cache --days 7` (tootctl media remove) before the copy shrinks it, and "
                     "Mastodon fetches it again on demand")
    where = f"bucket {settings.bucket}" + (f" under {settings.key_prefix}/" if settings.key_prefix else "")
    if settings.acl:
        lines.append(f"permissions: {where}: public files with ACL {settings.acl}; {inv.private} private file(s) "
                     "(backups/, imports/, 0600 media of suspended accounts) with ACL private")
    else:
        exposed = sum(f.private for name, f in inv.folders.items() if f"{name}/" in PUBLIC_PREFIXES)
        lines.append(f"permissions: {where}: no ACLs (policy mode); backups/ and imports/ stay private "
                     "(the bucket policy does not cover them)")
        if exposed:
            lines.append(f"warning: {exposed} file(s) are private on disk (0600: media of suspended accounts) but the "
                         "bucket policy makes everything under media_attachments/ public: they will be readable "
                         "by URL. Only ACL mode keeps them private.")
    return lines


def _progress_printer(stream) -> Callable[[Progress], None]:
    tty = stream.isatty()
    last = [0.0]

    def show(p: Progress) -> None:
        fps, mbps, eta = p.rates()
        text = (f"{p.files}/{p.total_files} files, {human_bytes(p.bytes)}/{human_bytes(p.total_bytes)}; "
                f"copied {p.copied}, skipped {p.skipped}, failed {p.failed}; {fps:.0f} files/s, {mbps:.1f} MB/s"
                + (f", ETA {eta:.0f}s" if eta is not None else ""))
        if tty:
            stream.write("\r\033[K" + text)
            stream.flush()
        elif p.seconds - last[0] >= 5 or p.files == p.total_files:
            last[0] = p.seconds
            stream.write(text + "\n")
            stream.flush()
    return show


def _over_ssh(host) -> bool:
    return host is not None and hasattr(host, "start")      # an SshHost; LocalHost streams nothing


def inventory_of(source: str, host=None, spool: bool = True) -> Inventory:
    """The inventory of SOURCE: on this disk, or on HOST (an SshHost) with one find on the host."""
    if not _over_ssh(host):
        return take_inventory(source, spool=spool)
    from .remote import remote_walk
    return take_inventory(source, spool=spool, walker=lambda skipped: remote_walk(host, source, skipped))


def reader_for(source: str, host=None, transfer: str = "tar", large_over: int = 15 * 1024 * 1024):
    """What reads the files' bytes: this disk, or HOST over SSH (one tar stream, or SFTP)."""
    if not _over_ssh(host):
        return LocalReader()
    from .remote import open_reader
    return open_reader(host, source, transfer, large_over)


def open_tree(source: str, host=None, transfer: str = "tar", spool: bool = True,
              large_over: int = 15 * 1024 * 1024):
    """The inventory of SOURCE and the reader of its bytes."""
    inv = inventory_of(source, host, spool)
    try:
        return inv, reader_for(source, host, transfer, large_over)
    except BaseException:
        inv.close()
        raise


def migrate(settings: Settings, writer: Credential, env_file: str, values: Mapping[str, str], *,
            source: str | None, jobs: int, dry_run: bool, verify: str, http: HttpOptions, as_json: bool,
            confirm: Callable[[str], None], on_inventory: Callable[[Inventory, str], None] | None = None,
            out=None, err=None, host=None, transfer: str = "tar") -> int:
    """ON_INVENTORY(inventory, how the files are read) is told what is on disk before CONFIRM(question)
    is asked (no question on a dry run)."""
    out, err = out or sys.stdout, err or sys.stderr
    inv, reader = open_tree(source or source_dir(env_file, values), host, transfer,   # refuses a missing --source
                            large_over=multipart_threshold(settings))
    try:
        return _migrate(settings, writer, inv, reader, jobs=jobs, dry_run=dry_run, verify=verify, http=http,
                        as_json=as_json, confirm=confirm, on_inventory=on_inventory, out=out, err=err)
    finally:
        reader.close()
        inv.close()


def _migrate(settings, writer, inv, reader, *, jobs, dry_run, verify, http, as_json, confirm, on_inventory, out,
             err) -> int:
    src = inv.source
    if on_inventory is not None:
        on_inventory(inv, reader.how)
    if inv.files == 0:
        return _finish(out, as_json, inv, CopyResult(), None, ok=True, message="nothing to copy")
    if not dry_run:
        confirm(f"Copy {files(inv.files)} ({human_bytes(inv.bytes)}) into bucket {settings.bucket}?")
    printer = _progress_printer(err)
    report = copy_and_verify(settings, writer, src, http=http, jobs=jobs, dry_run=dry_run, verify=verify,
                             on_progress=printer, inventory=inv, reader=reader)
    if err.isatty():
        err.write("\n")
    return _finish(out, as_json, inv, *report, ok=report.complete)


def _finish(out, as_json: bool, inv: Inventory, result: CopyResult, v: Verification | None, ok: bool,
            message: str = "") -> int:
    if as_json:
        doc = {"ok": ok, **result.to_json(), "inventory": inv.to_json(),
               "verified": v.to_json() if v is not None else None}
        print(json.dumps(doc, indent=2), file=out)
        return 0 if ok else 1
    if message:
        print(message, file=out)
        return 0
    verb = "would copy" if result.dry_run else "copied"
    print(f"{verb} {result.copied} file(s), skipped {result.skipped} already in the bucket, "
          f"{len(result.failed)} failed, in {result.seconds:.1f}s", file=out)
    if result.aborted:
        print(f"stopped: every upload failed with {result.aborted}", file=out)
        if "AccessControlListNotSupported" in result.aborted:
            print("fix: the bucket has ACLs disabled: use --permission policy (S3_PERMISSION empty), or let "
                  "`mastowizard setup-bucket` enable ACLs", file=out)
    for f in result.failed[:20]:
        print(f"FAIL  {f['key']}: {f['error']}", file=out)
    if len(result.failed) > 20:
        print(f"      ... and {len(result.failed) - 20} more (--json lists them all)", file=out)
    if v is not None:
        print(f"verified: {v.listed} of {inv.files} objects listed with their size"
              + (f"; {v.public_checked} fetched anonymously through the media host" if v.public_checked else "")
              + (f"; {v.private_checked} private ones refused" if v.private_checked else ""), file=out)
        for key in v.missing[:10]:
            print(f"FAIL  missing from the bucket: {key}", file=out)
        for key in v.wrong_size[:10]:
            print(f"FAIL  wrong size in the bucket: {key}", file=out)
        for bad in v.public_failed[:10]:
            print(f"FAIL  {bad['url']}: {bad['error']}", file=out)
        for bad in v.private_exposed[:10]:
            print(f"FAIL  private file readable: {bad['url']}", file=out)
    if ok and not result.dry_run:
        print("every file is in the bucket as Mastodon would have stored it; rerun after the switch to copy "
              "what was uploaded meanwhile (only new files are copied)", file=out)
        print(f"the local files stay where they are; once `mastowizard check` is green after the switch: "
              f"mv {inv.source} {inv.source}.moved (keep it a while), and later remove that", file=out)
    return 0 if ok else 1
