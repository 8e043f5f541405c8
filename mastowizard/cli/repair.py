"""The media already in the bucket: `repair-permissions`."""

from __future__ import annotations

import argparse
import json
import sys
import time

from ..errors import InputError
from ..options import ENV_FILE, HTTP, JSON, REMOTE, YES, Option, add
from .inputs import env_path, env_values, host_of, http_options, writer_credential
from .prompts import confirm, private_media_chooser
from .status import ExitStatus


def add_parsers(sub) -> None:
    add(sub.add_parser("repair-permissions", help="set every object's ACL in the instance's bucket (and with "
                       "--headers its Content-Type and Cache-Control) to what Mastodon would have written"),
        ENV_FILE, JSON,
        Option("--headers", "also fix Content-Type, Cache-Control and stray metadata (each such object is copied "
               "onto itself)", kwargs={"action": "store_true"}),
        Option("--dry-run", "survey the bucket and say what would change; change nothing",
               kwargs={"action": "store_true"}),
        Option("--private-media", "private media attachments: keep them private (suspended accounts' media) or make "
               "them public (a copy tool made everything private); asked when the bucket is suspect",
               kwargs={"choices": ("keep", "public")}),
        Option("--jobs", "concurrent requests (default 32)", "N", {"type": int, "default": 32}),
        YES.but(help="change without asking (the survey is printed first)"), *HTTP, REMOTE)


def _progress(stream):
    """The survey's and the changes' progress on STREAM: a line rewritten in place on a terminal, else
    a line every 5 s."""
    tty, last = stream.isatty(), [0.0]

    def show(p) -> None:
        seconds = time.monotonic() - p.started
        text = (f"{'surveyed' if p.phase == 'survey' else 'changed'} {p.done}"
                + (f"/{p.total}" if p.phase == "repair" else "") + f" object(s), {p.failed} failed, {seconds:.0f}s")
        if tty:
            stream.write("\r\033[K" + text + ("\n" if p.finished else ""))
            stream.flush()
        elif seconds - last[0] >= 5 or p.finished:
            last[0] = seconds
            stream.write(text + "\n")
            stream.flush()
    return show


def cmd_repair_permissions(args: argparse.Namespace) -> int:
    from ..migrate.privacy import suspect_line
    from ..migrate.repair import repair
    from ..migrate.repair_lines import outcome_lines, plan_lines
    from ..settings import from_env
    if args.jobs < 1 or args.jobs > 256:
        raise InputError("--jobs", f"{args.jobs} is out of range", "use 1 to 256")
    host = host_of(args) if args.ssh else None
    try:
        path = env_path(args, host)
        reading = from_env(env_values(host, path))
    finally:
        if host is not None:
            host.close()
    if not reading.enabled:
        raise InputError("--env-file", f"{path} has no object storage (S3_ENABLED is not true)",
                         "repair-permissions works on the bucket the env file names")
    settings = reading.settings
    writer = writer_credential(settings)

    def show_plan(plan) -> None:
        if not args.json:
            print("\n".join(plan_lines(plan, settings, args.headers)))

    def ask(question: str) -> None:
        confirm(question, args.yes, ("no terminal to ask before changing the bucket",
                                     "look at the survey (or run with --dry-run), then add --yes"))
    decide = private_media_chooser(args, lambda plan: suspect_line(plan.tally), "nothing was changed")
    result = repair(settings, writer, http_options(args), headers=args.headers, dry_run=args.dry_run,
                    private_media=args.private_media, jobs=args.jobs, decide=decide, confirm=ask,
                    on_plan=show_plan, on_progress=_progress(sys.stderr))
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
        return ExitStatus.of(result.ok)
    for line in outcome_lines(result):
        print(line)
    return ExitStatus.of(result.ok)


COMMANDS = {"repair-permissions": cmd_repair_permissions}
