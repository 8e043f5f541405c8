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
    from ..host.local import LocalHost
    from ..migrate.media_nginx import media_host_nginx
    from ..migrate.privacy import suspect_line
    from ..migrate.to_disk import to_disk
    from ..migrate.to_disk_lines import result_lines, survey_lines
    from ..migrate.to_disk_survey import source_bucket
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
        # after `apply --to-disk`: the bucket its backup names, for what Mastodon stored there before the restart
        old, settings = source_bucket(host or LocalHost(), path, values)    # refused before any key is asked
        key = writer_credential(settings)

        def surveyed(found, owner, how) -> None:
            if not args.json:
                print("\n".join(survey_lines(found, owner, args.dry_run, warn_suspect=args.dry_run)))

        def ask(question: str) -> None:
            confirm(question, args.yes, ("no terminal to ask before writing",
                                         "look at what is to be copied (or run with --dry-run), then add --yes"))
        decide = private_media_chooser(args, lambda tally: suspect_line(tally, f"bucket {settings.bucket}"),
                                       "nothing was written")
        result = to_disk(path, values, key, host=host, jobs=args.jobs, dry_run=args.dry_run,
                         http=http_options(args), confirm=ask, on_survey=surveyed,
                         private_media=args.private_media, decide=decide, s3_values=old,
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
    print("\n".join(result_lines(result)))
    if nginx:
        print("\nnext: `mastowizard plan --to-disk`, then `mastowizard apply --to-disk` (S3_ENABLED=false), restart "
              "Mastodon; the bucket is left as it is. For the old media URLs, this nginx server block:\n")
        print(nginx, end="")
    return ExitStatus.of(result.ok)
