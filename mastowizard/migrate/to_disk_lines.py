"""The way back to disk in words, for the CLI and the wizard alike: what the bucket holds and what
is to be written where (before), and what was written and verified (after)."""

from __future__ import annotations

from .inventory import human_bytes
from .privacy import suspect_line


def survey_lines(found, owner, dry_run: bool = False, warn_suspect: bool = True) -> list[str]:
    """What the bucket holds, what is on disk already, who may read it, and (WARN_SUSPECT) whether it
    is suspect."""
    lines = [f"bucket {found.bucket}: {found.objects} object(s), {human_bytes(found.bytes)}",
             f"on disk: {found.dest} on {found.where}: {found.objects - found.missing} already there, "
             f"{found.missing} to copy ({human_bytes(found.missing_bytes)}), owned by {owner}"]
    lines += [f"  not copied: {n} ({reason})" for reason, n in found.not_copied.items()]
    if found.temps:
        lines.append(f"  {len(found.temps)} temporary file(s) of an interrupted run will be removed")
    if found.privacy is not None and found.privacy.seen:
        lines.append(f"who may read it (a sample of {sum(found.privacy.seen.values())} objects asked anonymously): "
                     + found.privacy.describe())
    if found.suspect and warn_suspect:
        lines.append("warning: " + suspect_line(found.privacy, f"bucket {found.bucket}")
                     + (". The copy asks (or give --private-media keep or public)" if dry_run else ""))
    return lines


def result_lines(result, limit: int = 20) -> list[str]:
    """What was copied, skipped, failed and verified; one line per failure up to LIMIT."""
    verb = "would copy" if result.dry_run else "copied"
    lines = [f"{verb} {result.copied} file(s), skipped {result.skipped} already on disk, {len(result.failed)} failed, "
             f"{result.vanished} deleted from the bucket meanwhile (not a failure), in {result.seconds:.1f}s"
             + (f"; {result.private} written 0600 (private)" if result.private else "")
             + (f"; {result.modes_fixed} mode(s) corrected" if result.modes_fixed else "")]
    if result.how:
        lines.append(f"files: {result.how}")
    if result.cancelled:
        lines.append("cancelled: a rerun copies only what is missing")
    if result.aborted:
        lines.append(f"stopped: every download failed with {result.aborted}")
    if result.error:
        lines.append(f"FAIL  {result.error}")
    lines += [f"FAIL  {f['key']}: {f['error']}" for f in result.failed[:limit]]
    if len(result.failed) > limit:
        lines.append(f"      ... and {len(result.failed) - limit} more (--json lists them all)")
    v = result.verification
    if v is not None:
        lines.append(f"verified: {v.on_disk} of {v.listed} objects on disk with their size, owner and mode; "
                     f"{v.sampled} compared byte for byte")
        if v.missing_count:
            lines.append(f"FAIL  {v.missing_count} object(s) not on disk, e.g. {', '.join(v.missing[:3])} (new since "
                         "the copy began, or failed): run again, only they are copied")
        lines += [f"FAIL  wrong size on disk: {key}" for key in v.wrong_size[:10]]
        lines += [f"FAIL  {bad['key']}: {bad.get('error') or bad.get('mode') or bad.get('owner')}"
                  for bad in (v.wrong_mode + v.wrong_owner + v.sample_failed)[:10]]
    if result.ok and not result.dry_run:
        lines.append(f"every object is in {result.dest} as Mastodon would have it on disk")
    return lines
