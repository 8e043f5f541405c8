"""The media already in the bucket: `repair-permissions`."""

from __future__ import annotations

import argparse
import json
import sys
import time

from ..errors import InputError
from ..options import ENV_FILE, HTTP, JSON, REMOTE, YES, Option, add
from .inputs import env_path, env_values, host_of, http_options, writer_credential
from .prompts import confirm
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


def _decide(args: argparse.Namespace):
    def decide(plan) -> str:
        if not args.json:
            print("warning: this bucket is suspect: " + plan.tally.describe() + ". Mastodon never makes avatars "
                  "private, and a suspension makes only a few attachments private: a copy tool (rclone's default "
                  "ACL is private) probably did this, and its private attachments cannot be told from suspended "
                  "accounts' media.")
        if args.yes or args.json or not sys.stdin.isatty():
            raise InputError("--private-media", "this bucket is mostly private, and its private media attachments "
                             "may be suspended accounts' media", "run with --dry-run to see which, then give "
                             "--private-media keep or --private-media public")
        answer = input("Private media attachments: keep them private, or make them public? [keep/public] ")
        if answer.strip().lower() not in ("keep", "public"):
            raise InputError("--private-media", "not chosen; nothing was changed", "answer keep or public")
        return answer.strip().lower()
    return decide


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


def plan_lines(plan, settings, headers: bool) -> list[str]:
    where = f"bucket {settings.bucket}" + (f" under {settings.key_prefix}/" if settings.key_prefix else "")
    lines = [f"surveyed {where}: {plan.listed} object(s); {plan.tally.describe()}"]
    if plan.not_mastodon:
        lines.append(f"  {plan.not_mastodon} object(s) outside the folders Mastodon writes: left as they are")
    if not settings.acl:
        lines.append("  no ACLs (policy mode): the bucket policy decides who reads; no object ACL is set")
    for what, n, text in (("to_public", plan.to_public, f"to make readable by anyone (ACL {settings.acl})"),
                          ("to_private", plan.to_private, "to make private"),
                          ("keep_private", plan.keep_private, "private media attachment(s) kept private"),
                          ("headers", plan.headers, "with headers Mastodon would not have written"),
                          ("exposed_by_policy", plan.exposed_by_policy,
                           "private by Mastodon's rules but readable through the bucket policy")):
        if n:
            lines.append(f"  {n} {text}, e.g. {', '.join(plan.examples.get(what, [])[:2])}")
    if not headers and not plan.changes:
        lines.append("  every object's ACL is as Mastodon would have set it")
    for bad in plan.unreadable[:10]:
        lines.append(f"  could not be surveyed: {bad['key']}: {bad['error']}")
    return lines


def cmd_repair_permissions(args: argparse.Namespace) -> int:
    from ..migrate.repair import repair
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
    result = repair(settings, writer, http_options(args), headers=args.headers, dry_run=args.dry_run,
                    private_media=args.private_media, jobs=args.jobs, decide=_decide(args), confirm=ask,
                    on_plan=show_plan, on_progress=_progress(sys.stderr))
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
        return ExitStatus.of(result.ok)
    for line in outcome_lines(result):
        print(line)
    return ExitStatus.of(result.ok)


def outcome_lines(result) -> list[str]:
    plan = result.plan
    if result.dry_run:
        lines = [f"dry run: nothing was changed; {plan.changes} change(s) would be made"]
        if result.decision_needed or (plan.tally.suspect and plan.tally.private("attachment")
                                      and not result.private_media):
            lines.append("note: this bucket is suspect (mostly private): the repair will ask whether its private "
                         "media attachments stay private (--private-media keep) or become public (--private-media "
                         "public)")
        return lines
    if result.cancelled:
        return ["cancelled: a rerun surveys afresh and changes only what is still wrong"]
    if result.aborted:
        return [f"problem: {result.aborted}", f"repair stopped after {result.made_public + result.made_private} "
                f"change(s) and {len(result.failed)} refusal(s): fix the key or the bucket, then run it again"]
    if not plan.changes:
        return ["nothing to change"] + (["problem: " + _policy_line(plan)] if plan.exposed_by_policy else [])
    lines = [f"made {result.made_public} public, {result.made_private} private; fixed the headers of "
             f"{result.headers_fixed} object(s) in {result.seconds:.1f}s"]
    if result.vanished:
        lines.append(f"  {result.vanished} object(s) vanished during the repair (deleted by Mastodon): skipped")
    if result.replaced_meanwhile:
        lines.append(f"  {result.replaced_meanwhile} object(s) were replaced meanwhile: left as Mastodon wrote them")
    for what, items in (("failed", result.failed), ("still readable by anyone", result.still_exposed),
                        ("still refused to anyone", result.still_unreadable)):
        for bad in items[:20]:
            lines.append(f"problem: {what}: {bad['key']}: {bad['error']}")
        if len(items) > 20:
            lines.append(f"problem: ... and {len(items) - 20} more {what}")
    if plan.exposed_by_policy:
        lines.append("problem: " + _policy_line(plan))
    lines.append("repair complete: a rerun finds nothing to change" if result.ok else
                 "repair incomplete: fix the problems above, then run it again (it changes only what is still wrong)")
    return lines


def _policy_line(plan) -> str:
    return (f"{plan.exposed_by_policy} object(s) Mastodon keeps private are readable through the bucket policy "
            f"(e.g. {', '.join(plan.examples.get('exposed_by_policy', [])[:3])}): `mastowizard policy` "
            "prints one that covers only Mastodon's public folders, and `setup-bucket` applies it")


COMMANDS = {"repair-permissions": cmd_repair_permissions}
