"""The media already stored: `migrate` (from disk or from the old bucket) and `media-host` (the proxy in
front of the bucket, or of two during a move)."""

from __future__ import annotations

import argparse
import sys

from ..errors import InputError
from ..options import ENV_FILE, HTTP, JSON, REMOTE, SETTINGS, YES, Option, add
from .inputs import env_path, env_values, flags_given, host_of, http_options, load_settings, writer_credential
from .prompts import confirm, private_media_chooser


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
        Option("--source-env", "copy from the bucket this env file names (e.g. the backup `apply` made), with its "
               "key, into the env file's bucket; without it, an env file that already uses S3 plus a new --bucket "
               "(--provider, --endpoint, ...) copies from its bucket into the new one", "FILE"),
        Option("--private-media", "bucket to bucket, and --to-disk: private media attachments stay private (keep: "
               "suspended accounts' media; 0600 on disk) or become public (a copy tool made everything private); "
               "asked when the old bucket is mostly private", kwargs={"choices": ("keep", "public")}),
        Option("--mastodon-env", "a variable of Mastodon's env file that decides what each object gets, on top of "
               "the settings flags: S3_PERMISSION (e.g. private), S3_STORAGE_CLASS, S3_MULTIPART_THRESHOLD ...; "
               "--plan-shards passes the env file's on to every shard this way (none is secret)", "NAME=VALUE",
               {"action": "append"}),
        Option("--shard", "copy only shard K of N (from 1): the tree split along Mastodon's id partitions, the same "
               "on every host, so N machines (GNU parallel, a Kubernetes Indexed Job, systemd units) share the copy "
               "without writing an object twice; each shard has its own journal", "K/N"),
        Option("--max-rate", "requests per second this copy keeps to, spaced evenly; a SlowDown from the server "
               "slows it further. With --plan-shards: the whole fleet's, shared by the --at-once shards that run "
               "together (default: the provider's published limit where the catalog has one)", "R",
               {"type": float}),
        Option("--plan-shards", "write the plan of a copy split in N shards into --out DIR: shards.txt, parallel.sh "
               "(GNU parallel over SSH), job.yaml (a Kubernetes Indexed Job), mastowizard-migrate@.service (systemd); "
               "nothing is copied", "N", {"type": int}),
        Option("--out", "with --plan-shards: the plan's directory", "DIR"),
        Option("--status", "with --out DIR: every shard of that plan, done, running, failed, partly copied or not "
               "started, with the files and bytes left (one walk of the media, one listing of the bucket) and an "
               "estimate; exit 0 once nothing is left", kwargs={"action": "store_true"}),
        Option("--at-once", "with --plan-shards and --status: how many shards run at the same time (the Job's "
               "parallelism, the HOSTFILE's slots), for the rate each gets and the estimate (default: the number of "
               "shards, at most 8)", "N", {"type": int}),
        Option("--s5cmd", "with --plan-shards: also write DIR/s5cmd/K.txt, one `s5cmd run` command file per shard "
               "(a cp line a file, with the headers, ACL and storage class Mastodon would have stored it with)",
               kwargs={"action": "store_true"}),
        Option("--to-disk", "the other way: copy the env file's bucket back into public/system (or "
               "PAPERCLIP_ROOT_PATH), here or on the --ssh host, as Mastodon keeps media on disk; the bucket is not "
               "changed", kwargs={"action": "store_true"}),
        REMOTE)
    add(sub.add_parser("media-host", help="print the nginx server block of the media host (S3_ALIAS_HOST) in front "
                       "of the bucket; with --fallback, for a move between buckets: the new bucket first, the old "
                       "one second"),
        ENV_FILE, SETTINGS,
        Option("--fallback", "the old bucket (the env file's, or --source-env's) answers what the new one does not "
               "hold yet", kwargs={"action": "store_true"}),
        Option("--source-env", "with --fallback: the env file that names the old bucket (e.g. the backup `apply` "
               "made)", "FILE"),
        REMOTE)


def cmd_media_host(args: argparse.Namespace) -> int:
    from ..checklist.snippets import nginx_media_host, nginx_media_host_fallback, resolver_of
    from ..host.local import LocalHost
    host = host_of(args) if args.ssh else None
    try:
        path = env_path(args, host)
        values = env_values(host, path) if (args.env_file or not flags_given(args)) else {}
        resolver = resolver_of(host or LocalHost())
        old = _source_bucket(args, host, values) if args.fallback else None
    finally:
        if host is not None:
            host.close()
    if args.source_env and not args.fallback:
        raise InputError("--source-env", "only works with --fallback", "add --fallback, or leave --source-env out")
    if args.fallback and old is None:
        raise InputError("--fallback", "needs the old bucket and the new one",
                         "give the new bucket's flags (--bucket, --provider, ...: the env file names the old one), "
                         "or --source-env OLD_ENV_FILE")
    settings, _, _ = load_settings(args, values=values if values else None)
    print(nginx_media_host_fallback(settings, old, resolver) if old is not None
          else nginx_media_host(settings, resolver), end="")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from ..migrate.run import migrate
    from .migrate_report import end_progress, progress_printer, show_inventory, show_outcome
    if args.jobs < 1 or args.jobs > 256:
        raise InputError("--jobs", f"{args.jobs} is out of range", "use 1 to 256")
    if args.plan_shards is not None:
        from .fleet import cmd_plan_shards
        return cmd_plan_shards(args)
    if args.status:
        from .fleet_status import cmd_fleet_status
        return cmd_fleet_status(args)
    if args.s5cmd:
        raise InputError("--s5cmd", "only works with --plan-shards", "add --plan-shards N --out DIR; N may be 1")
    shard = None
    if args.shard:
        from ..migrate.shards import parse
        shard = parse(args.shard)
        for flag in ("to_disk", "source_env"):
            if getattr(args, flag, None):
                raise InputError("--shard", f"does not go with --{flag.replace('_', '-')}",
                                 "shards split the media on disk for its first copy into a bucket")
    if args.to_disk:
        from .to_disk import cmd_to_disk
        return cmd_to_disk(args)
    if args.transfer and not args.ssh:
        raise InputError("--transfer", "only works with --ssh", "the files are read from this disk without it")
    host = host_of(args) if args.ssh else None
    path = env_path(args, host)
    values = env_values(host, path) if (args.env_file or not flags_given(args)) else {}
    source = _source_bucket(args, host, values)
    if source is not None:
        if host is not None:
            host.close()
        if shard is not None:
            raise InputError("--shard", "does not go with a move between buckets",
                             "shards split the media on disk for its first copy into a bucket")
        return _between_buckets(args, source, values)
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
                          on_progress=progress_printer(sys.stderr), host=host, transfer=args.transfer or "tar",
                          shard=shard)
        end_progress(outcome, sys.stderr)
        return show_outcome(outcome, args.json)
    finally:
        if host is not None:
            host.close()


def _source_bucket(args: argparse.Namespace, host, values: dict[str, str]):
    """The old bucket's settings (with its key) when this is a move between buckets, else None:
    --source-env's bucket, or the env file's own when it already uses S3 and the flags name another."""
    from ..migrate.bucket_gap import place
    from ..settings import from_env
    if args.source_env:
        reading = from_env(env_values(host, args.source_env))
        if not reading.enabled:
            raise InputError("--source-env", f"{args.source_env} has no object storage (S3_ENABLED is not true)",
                             "give the env file that names the old bucket (the backup `apply` made)")
        return reading.settings
    if not values or not flags_given(args):
        return None
    reading = from_env(values)
    if not reading.enabled:
        return None
    target, _, _ = load_settings(args, values=values)
    return reading.settings if place(target) != place(reading.settings) else None


def _between_buckets(args: argparse.Namespace, source, values: dict[str, str]) -> int:
    import dataclasses

    from ..migrate.from_bucket import migrate_between, suspect_question
    from .migrate_report import end_progress, progress_printer, show_inventory, show_outcome
    if args.source:
        raise InputError("--source", "is a directory on disk; this copy reads the old bucket",
                         "leave --source out to copy between buckets")
    target, notes, _ = load_settings(args, values=values)
    if not args.source_env:     # the new place: the flags over the env file, with the new key (never the old one's)
        target = dataclasses.replace(target, access_key_id=None, secret_access_key=None)
    source_key = writer_credential(source)
    target_key = writer_credential(target)

    def inventory_taken(inv, how: str) -> None:
        if not args.json:
            show_inventory(inv, how, target, notes)

    decide = private_media_chooser(args, suspect_question, "nothing was copied")

    def ask_first(question: str) -> None:
        confirm(question, args.yes, ("no terminal to ask before copying",
                                     "look at the inventory (or run with --dry-run), then add --yes"))
    outcome = migrate_between(source, source_key, target, target_key, http=http_options(args), jobs=args.jobs,
                              dry_run=args.dry_run, verify=args.verify, private_media=args.private_media,
                              decide=decide, confirm=ask_first, on_inventory=inventory_taken,
                              on_progress=progress_printer(sys.stderr))
    end_progress(outcome, sys.stderr)
    return show_outcome(outcome, args.json)


COMMANDS = {"migrate": cmd_migrate, "media-host": cmd_media_host}
