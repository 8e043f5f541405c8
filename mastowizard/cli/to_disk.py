"""`mastowizard migrate --to-disk`: what the bucket holds and what is to be written where, the
question, the progress on stderr, then the result (one line per failure) and the nginx lines that
keep the old media URLs answering; or one JSON document with --json. The engine decides."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import InputError
from ..options import SETTINGS_DESTS
from .inputs import env_path, env_values, host_of, http_options, writer_credential
from .migrate_report import progress_printer
from .prompts import confirm, private_media_chooser
from .status import ExitStatus


def cmd_to_disk(args: argparse.Namespace) -> int:
    from ..migrate.inventory import human_bytes
    from ..migrate.media_nginx import media_host_nginx
    from ..migrate.privacy import suspect_line
    from ..migrate.to_disk import to_disk
    from ..migrate.to_disk_survey import s3_settings
    for flag in ("source", "transfer"):
        if getattr(args, flag, None):
            raise InputError(f"--{flag}", "does not go with --to-disk",
                             "the files go to public/system beside the env file (or PAPERCLIP_ROOT_PATH)")
    given = [d for d in SETTINGS_DESTS if getattr(args, d, None)]
    if given:
        raise InputError(f"--{given[0].replace('_', '-')}", "does not go with --to-disk",
                         "the bucket is the one the env file names (--env-file)")
    host = host_of(args) if args.ssh else None
    try:
        path = env_path(args, host)
        values = env_values(host, path)
        settings = s3_settings(path, values)            # refused before any key is asked
        key = writer_credential(settings)

        def surveyed(found, owner, how) -> None:
            if args.json:
                return
            print(f"bucket {found.bucket}: {found.objects} object(s), {human_bytes(found.bytes)}")
            print(f"on disk: {found.dest} on {found.where}: {found.objects - found.missing} already there, "
                  f"{found.missing} to copy ({human_bytes(found.missing_bytes)}), owned by {owner}")
            for reason, n in found.not_copied.items():
                print(f"  not copied: {n} ({reason})")
            if found.temps:
                print(f"  {len(found.temps)} temporary file(s) of an interrupted run will be removed")
            if found.privacy is not None and found.privacy.seen:
                print(f"who may read it (a sample of {sum(found.privacy.seen.values())} objects asked anonymously): "
                      + found.privacy.describe())
            if found.suspect and args.dry_run:
                print("warning: " + suspect_line(found.privacy, f"bucket {found.bucket}") + ". The copy asks "
                      "(or give --private-media keep or public)")

        def ask(question: str) -> None:
            confirm(question, args.yes, ("no terminal to ask before writing",
                                         "look at what is to be copied (or run with --dry-run), then add --yes"))
        decide = private_media_chooser(args, lambda tally: suspect_line(tally, f"bucket {settings.bucket}"),
                                       "nothing was written")
        result = to_disk(path, values, key, host=host, jobs=args.jobs, dry_run=args.dry_run,
                         http=http_options(args), confirm=ask, on_survey=surveyed,
                         private_media=args.private_media, decide=decide,
                         on_progress=progress_printer(sys.stderr))
    finally:
        if host is not None:
            host.close()
    if sys.stderr.isatty() and not result.dry_run:
        sys.stderr.write("\n")
    nginx = media_host_nginx(settings, result.dest) if result.ok and not result.dry_run else None
    if args.json:
        print(json.dumps({**result.to_json(), "nginx": nginx}, indent=2))
        return ExitStatus.of(result.ok)
    _show(result)
    if nginx:
        print("\nnext: `mastowizard plan --to-disk`, then `mastowizard apply --to-disk` (S3_ENABLED=false), restart "
              "Mastodon; the bucket is left as it is. For the old media URLs, this nginx server block:\n")
        print(nginx, end="")
    return ExitStatus.of(result.ok)


def _show(result) -> None:
    verb = "would copy" if result.dry_run else "copied"
    print(f"{verb} {result.copied} file(s), skipped {result.skipped} already on disk, {len(result.failed)} failed, "
          f"{result.vanished} deleted from the bucket meanwhile (not a failure), in {result.seconds:.1f}s"
          + (f"; {result.private} written 0600 (private)" if result.private else "")
          + (f"; {result.modes_fixed} mode(s) corrected" if result.modes_fixed else ""))
    if result.how:
        print(f"files: {result.how}")
    if result.aborted:
        print(f"stopped: every download failed with {result.aborted}")
    if result.error:
        print(f"FAIL  {result.error}")
    for f in result.failed[:20]:
        print(f"FAIL  {f['key']}: {f['error']}")
    if len(result.failed) > 20:
        print(f"      ... and {len(result.failed) - 20} more (--json lists them all)")
    v = result.verification
    if v is not None:
        print(f"verified: {v.on_disk} of {v.listed} objects on disk with their size, owner and mode; {v.sampled} "
              "compared byte for byte")
        if v.missing_count:
            print(f"FAIL  {v.missing_count} object(s) not on disk, e.g. {', '.join(v.missing[:3])} (new since the "
                  "copy began, or failed): run again, only they are copied")
        for key in v.wrong_size[:10]:
            print(f"FAIL  wrong size on disk: {key}")
        for bad in (v.wrong_mode + v.wrong_owner + v.sample_failed)[:10]:
            print(f"FAIL  {bad['key']}: {bad.get('error') or bad.get('mode') or bad.get('owner')}")
    if result.ok and not result.dry_run:
        print(f"every object is in {result.dest} as Mastodon would have it on disk")
