"""The media already on disk: `migrate`."""

from __future__ import annotations

import argparse
import sys

from ..errors import InputError
from ..options import ENV_FILE, HTTP, JSON, REMOTE, SETTINGS, YES, Option, add
from .inputs import env_path, env_values, flags_given, host_of, http_options, load_settings, writer_credential
from .prompts import confirm


def add_parsers(sub) -> None:
    add(sub.add_parser("migrate", help="copy the media already on disk into the bucket, exactly as Mastodon would "
                       "have stored it, then verify it"),
        ENV_FILE, JSON, SETTINGS, *HTTP,
        Option("--source", "the media tree (default: public/system beside the env file, or PAPERCLIP_ROOT_PATH)",
               "DIR"),
        Option("--jobs", "concurrent uploads (downloads with --to-disk) (default 32)", "N",
               {"type": int, "default": 32}),
        Option("--dry-run", "show what would be copied, copy nothing", kwargs={"action": "store_true"}),
        Option("--verify", "after the copy, fetch a sample (or all) anonymously through the media host (default "
               "sample)", kwargs={"choices": ("sample", "all", "none"), "default": "sample"}),
        YES.but(help="copy without asking"),
        Option("--transfer", "with --ssh, how the files come from the host: one tar stream (default; about 3.8x "
               "SFTP's speed in bench/migrate_ssh.py; reads through --sudo-user) or SFTP sessions",
               kwargs={"choices": ("tar", "sftp")}),
        Option("--to-disk", "the other way: copy the env file's bucket back into public/system (or "
               "PAPERCLIP_ROOT_PATH), here or on the --ssh host, as Mastodon keeps media on disk; the bucket is not "
               "changed", kwargs={"action": "store_true"}),
        REMOTE)


def cmd_migrate(args: argparse.Namespace) -> int:
    from ..migrate.run import migrate
    from .migrate_report import end_progress, progress_printer, show_inventory, show_outcome
    if args.jobs < 1 or args.jobs > 256:
        raise InputError("--jobs", f"{args.jobs} is out of range", "use 1 to 256")
    if args.to_disk:
        from .to_disk import cmd_to_disk
        return cmd_to_disk(args)
    if args.transfer and not args.ssh:
        raise InputError("--transfer", "only works with --ssh", "the files are read from this disk without it")
    host = host_of(args) if args.ssh else None
    path = env_path(args, host)
    values = env_values(host, path) if (args.env_file or not flags_given(args)) else {}
    settings, notes, _ = load_settings(args, values=values if values else None)
    writer = writer_credential(settings)

    def inventory_taken(inv, how: str) -> None:
        if not args.json:
            show_inventory(inv, how, settings, notes)

    def ask_first(question: str) -> None:
        confirm(question, args.yes, ("no terminal to ask before copying",
                                     "look at the inventory (or run with --dry-run), then add --yes"))
    try:
        outcome = migrate(settings, writer, path, values, source=args.source, jobs=args.jobs, dry_run=args.dry_run,
                          verify=args.verify, http=http_options(args), confirm=ask_first, on_inventory=inventory_taken,
                          on_progress=progress_printer(sys.stderr), host=host, transfer=args.transfer or "tar")
        end_progress(outcome, sys.stderr)
        return show_outcome(outcome, args.json)
    finally:
        if host is not None:
            host.close()


COMMANDS = {"migrate": cmd_migrate}
