"""What `mastowizard migrate` says: the inventory and how the files are read, before the question; the
progress on stderr; then the result (one line per failure), or one JSON document with --json. The
engine's MigrateOutcome decides whether the copy is complete; this only renders it."""

from __future__ import annotations

import json
from collections.abc import Callable

from ..migrate.copy import Progress
from ..migrate.inventory import Inventory, human_bytes
from ..migrate.run import MigrateOutcome, inventory_lines
from ..settings import Settings
from .status import ExitStatus


def show_inventory(inv: Inventory, how: str, settings: Settings, notes: list[str]) -> None:
    """The settings' notes, what is on disk (inventory_lines) and how its files are read, on stdout."""
    for n in notes:
        print(f"note: {n}")
    print("\n".join(inventory_lines(inv, settings)))
    print(f"files: {how}")


def progress_printer(stream) -> Callable[[Progress], None]:
    """The copy's progress on STREAM: one line rewritten in place on a terminal, else a line every 5s
    and one at the end."""
    tty = stream.isatty()
    last = [0.0]

    def show(p: Progress) -> None:
        text = f"{p.files}/{p.total_files} files, {human_bytes(p.bytes)}/{human_bytes(p.total_bytes)}; " + p.line()
        if tty:
            stream.write("\r\033[K" + text)
            stream.flush()
        elif p.seconds - last[0] >= 5 or p.files == p.total_files:
            last[0] = p.seconds
            stream.write(text + "\n")
            stream.flush()
    return show


def end_progress(outcome: MigrateOutcome, stream) -> None:
    """On a terminal, end the progress line the copy rewrote (there is none when nothing was copied)."""
    if not outcome.nothing_to_copy and stream.isatty():
        stream.write("\n")


def show_outcome(outcome: MigrateOutcome, as_json: bool) -> ExitStatus:
    """The result on stdout; OK when the copy is complete."""
    if as_json:
        print(json.dumps(outcome.to_json(), indent=2))
        return ExitStatus.of(outcome.complete)
    if outcome.nothing_to_copy:
        print("nothing to copy")
        return ExitStatus.OK
    inv, result, v = outcome.inventory, outcome.copy, outcome.verification
    verb = "would copy" if result.dry_run else "copied"
    print(f"{verb} {result.copied} file(s), skipped {result.skipped} already in the bucket, "
          f"{len(result.failed)} failed, in {result.seconds:.1f}s")
    if result.adopted:
        print(f"  {result.adopted} of the skipped were in no journal here (another host's run, or a lost journal): "
              "checked as Mastodon stores them (bytes, headers, ACL) and kept, not written again")
    if result.aborted:
        print(f"stopped: every upload failed with {result.aborted}")
        if "AccessControlListNotSupported" in result.aborted:
            print("fix: the bucket has ACLs disabled: use --permission policy (S3_PERMISSION empty), or let "
                  "`mastowizard setup-bucket` enable ACLs")
    for f in result.failed[:20]:
        print(f"FAIL  {f['key']}: {f['error']}")
    if len(result.failed) > 20:
        print(f"      ... and {len(result.failed) - 20} more (--json lists them all)")
    if v is not None:
        print(f"verified: {v.listed} of {inv.files} objects listed with their size"
              + (f"; {v.public_checked} fetched anonymously through the media host" if v.public_checked else "")
              + (f"; {v.private_checked} private ones refused" if v.private_checked else ""))
        for key in v.missing[:10]:
            print(f"FAIL  missing from the bucket: {key}")
        for key in v.wrong_size[:10]:
            print(f"FAIL  wrong size in the bucket: {key}")
        for bad in v.public_failed[:10]:
            print(f"FAIL  {bad['url']}: {bad['error']}")
        for bad in v.private_exposed[:10]:
            print(f"FAIL  private file readable: {bad['url']}")
    if outcome.complete and not result.dry_run and outcome.next_steps:
        print("\n".join(outcome.next_steps))
    elif outcome.complete and not result.dry_run:
        print("every file is in the bucket as Mastodon would have stored it; rerun after the switch to copy "
              "what was uploaded meanwhile (only new files are copied)")
        print(f"the local files stay where they are; once `mastowizard check` is green after the switch: "
              f"mv {inv.source} {inv.source}.moved (keep it a while), and later remove that")
    return ExitStatus.of(outcome.complete)
