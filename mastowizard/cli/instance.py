"""The instance's services: `restart` and `prune-cache`."""

from __future__ import annotations

import argparse
import json
import posixpath
import sys

from ..env.plan import EnvFile
from ..errors import InputError, TargetError
from ..migrate.prune import DEFAULT_DAYS as PRUNE_DAYS
from ..options import ACCEPT_MISSING, ENV_FILE, HTTP, INSTALL_KIND, INSTANCE, JSON, REMOTE, YES, Option, add
from .inputs import env_path, host_of, http_options
from .output import print_checks
from .prompts import confirm, guard_switch
from .status import ExitStatus


def add_parsers(sub) -> None:
    add(sub.add_parser("restart", help="restart web, sidekiq and streaming and wait until healthy"),
        ENV_FILE, INSTALL_KIND, INSTANCE.but(help="the instance's URL, to wait for /health"),
        Option("--timeout", "for the restart (default 300)", "SECONDS", {"type": float, "default": 300.0}),
        ACCEPT_MISSING, JSON, *HTTP, REMOTE)
    add(sub.add_parser("prune-cache", help="before a migration: shrink the remote media cache with Mastodon's "
                       "`tootctl media remove --days N` (asks first)"),
        ENV_FILE, Option("--days", f"remove cached remote media older than this (default {PRUNE_DAYS}, as tootctl)",
                         kwargs={"default": str(PRUNE_DAYS)}),
        INSTALL_KIND, YES.but(help="run it without asking"), JSON, REMOTE)
    add(sub.add_parser("count-orphans", help="after a switch between buckets: count the files no record points at "
                       "with Mastodon's `tootctl media remove-orphans --dry-run` (read-only)"),
        ENV_FILE, INSTALL_KIND, JSON, REMOTE)


def cmd_restart(args: argparse.Namespace) -> int:
    if not 0 < args.timeout <= 86400:
        raise InputError("--timeout", f"{args.timeout:g} is not a number of seconds from 1 to 86400", "give e.g. 300")
    from ..host.restart import detect, restart
    from ..migrate.gap import gap_before_restart

    http = http_options(args)
    host = host_of(args)
    path = env_path(args, host)
    install = detect(host, path, "systemd" if args.systemd else None, args.compose)
    stream = None if args.json else (lambda line: print(f"  | {line}", flush=True))
    if not args.json:
        print(f"{install.describe()} on {host.describe()}")
    guard_switch(gap_before_restart(host, path, http), args, "restart")
    report = restart(host, install, args.instance, http, on_line=stream, timeout=args.timeout)
    extra = {"install": {"kind": install.kind, "services": install.services, "compose_file": install.compose_file}}
    code = print_checks(report.checks, args.json, install.notes, extra)
    if not args.json:
        for c in report.checks:
            for line in c.evidence.get("log", []):
                print(f"      {c.id.split('.', 1)[-1]} | {line}")
    return code


def cmd_prune_cache(args: argparse.Namespace) -> int:
    from ..host.disk import disk_usage
    from ..host.restart import detect
    from ..migrate.inventory import human_bytes, source_dir
    from ..migrate.prune import check_days, prune_command, run_prune
    days = check_days(args.days)
    host = host_of(args)
    try:
        path = env_path(args, host)
        install = detect(host, path, "systemd" if args.systemd else None, args.compose)
        try:                           # only for the size shown: tootctl reads the env file itself
            values = EnvFile.read(host, path).doc.values()
        except TargetError:            # an admin login without --sudo-user: Mastodon's default place
            values = {}
        size = disk_usage(host, posixpath.join(source_dir(path, values), "cache"))   # PAPERCLIP_ROOT_PATH honoured
        cmd = prune_command(host, install, path, days)
        if not args.json:
            print(f"cache/ (other servers' media) on {host.describe()}: "
                  f"{human_bytes(size) if size is not None else 'size unknown'}")
            print(f"runs: {cmd.describe()}")
            print(f"it deletes cached copies of remote media older than {days} days; Mastodon fetches them "
                  "again when someone views them (avatars and headers are kept)")
        confirm(f"Run tootctl media remove --days {days} on {host.describe()}?", args.yes,
                ("no terminal to ask before running tootctl", "add --yes to run it"))
        ok, tail = run_prune(host, cmd, on_line=None if args.json else (lambda line: print(f"  | {line}")))
        if args.json:
            print(json.dumps({"ok": ok, "command": cmd.describe(), "cache_bytes_before": size, "output": tail}))
        elif not ok:
            print("tootctl failed: " + " / ".join(tail[-3:]), file=sys.stderr)
        return ExitStatus.of(ok)
    finally:
        host.close()


def cmd_count_orphans(args: argparse.Namespace) -> int:
    from ..host.restart import detect
    from ..migrate.prune import orphans_command, run_prune
    host = host_of(args)
    try:
        path = env_path(args, host)
        install = detect(host, path, "systemd" if args.systemd else None, args.compose)
        cmd = orphans_command(host, install, path)
        if not args.json:
            print(f"runs on {host.describe()}: {cmd.describe()}")
            print("read-only (--dry-run): it lists the bucket and counts the files no record points at; on a "
                  "large bucket it takes a while")
        ok, tail = run_prune(host, cmd, on_line=None if args.json else (lambda line: print(f"  | {line}")))
        if args.json:
            print(json.dumps({"ok": ok, "command": cmd.describe(), "output": tail}))
        elif not ok:
            print("tootctl failed: " + " / ".join(tail[-3:]), file=sys.stderr)
        elif not args.json:
            print("to remove them: the same command without --dry-run, on the host")
        return ExitStatus.of(ok)
    finally:
        host.close()


COMMANDS = {"restart": cmd_restart, "prune-cache": cmd_prune_cache, "count-orphans": cmd_count_orphans}
