"""The env file's commands: `show`, `plan`, `apply` and `rollback`."""

from __future__ import annotations

import argparse
import difflib
import json
import os

from ..env.apply import apply_plan, newest_backup, rollback
from ..env.doc import EnvDocument
from ..env.plan import EnvFile, describe, make_announce_plan, make_plan, make_to_disk_plan, masked_lines
from ..errors import InputError, TargetError
from ..options import ACCEPT_MISSING, ENV_FILE, HTTP, JSON, REMOTE, SETTINGS, SETTINGS_DESTS, YES, Option, add
from .inputs import env_path, host_of, http_options, load_settings, writer_credential
from .prompts import confirm, guard_switch
from .status import ExitStatus

ANNOUNCE = Option("--announce-media-host", "only add the new media host to EXTRA_MEDIA_HOSTS (Mastodon 4.4+), a "
                  "week before the switch: browsers keep the web app's old Content-Security-Policy that long",
                  kwargs={"action": "store_true"})
MEASURE = Option("--measure", "first measure what Mastodon's jobs need from the provider (the jobs checks, with the "
                 "writer key and probe objects of their own) and write it: S3_FORCE_SINGLE_REQUEST, timeouts, "
                 "S3_BATCH_DELETE_LIMIT", kwargs={"action": "store_true"})

TO_DISK = Option("--to-disk", "switch media back from S3 to local disk: S3_ENABLED=false, the other S3_* lines kept "
                 "(after `mastowizard migrate --to-disk` copied the bucket into public/system)",
                 kwargs={"action": "store_true"})


def add_parsers(sub) -> None:
    add(sub.add_parser("show", help="what the instance's env file uses now (local disk or S3), secrets masked"),
        ENV_FILE, JSON, REMOTE)
    add(sub.add_parser("plan", help="show the change to the env file as a diff, secrets masked"),
        ENV_FILE, JSON, SETTINGS, *HTTP, REMOTE, ANNOUNCE, MEASURE, TO_DISK)
    add(sub.add_parser("apply", help="back up the env file, then write the planned change atomically"),
        ENV_FILE, JSON, SETTINGS, *HTTP, REMOTE, ANNOUNCE, MEASURE, TO_DISK, YES.but(help="write without asking"),
        ACCEPT_MISSING)
    add(sub.add_parser("rollback", help="restore the env file from a backup, byte for byte"),
        ENV_FILE, Option("--backup", "the backup to restore (default: the newest)", "PATH"),
        YES.but(help="restore without asking"), JSON, REMOTE)


def cmd_show(args: argparse.Namespace) -> int:
    host = host_of(args)
    env = EnvFile.read(host, env_path(args, host))
    info = describe(env)
    if args.json:
        print(json.dumps(info, indent=2))
        return ExitStatus.OK
    print(f"{info['path']} on {info['host']} (mode {info['mode']}, owner {info['owner']})")
    print(f"instance: {info['local_domain'] or '(LOCAL_DOMAIN not set)'}"
          + (f", web domain {info['web_domain']}" if info["web_domain"] != info["local_domain"] else ""))
    print("media storage: " + ("S3 object storage" if info["storage"] == "s3" else "local disk (public/system)"))
    for key, value in info["s3"].items():
        print(f"  {key}={value}")
    for n in info["notes"]:
        print(f"note: {n}")
    return ExitStatus.OK


def _plan(args: argparse.Namespace):
    host = host_of(args)
    path = env_path(args, host)
    env = EnvFile.read(host, path)
    args.env_file = path
    if args.to_disk:
        given = [f"--{d.replace('_', '-')}" for d in SETTINGS_DESTS if getattr(args, d, None)]
        given += [f for f, on in (("--announce-media-host", args.announce_media_host), ("--measure", args.measure))
                  if on]
        if given:
            raise InputError(given[0], "does not go with --to-disk", "--to-disk only sets S3_ENABLED=false")
        return make_to_disk_plan(env), []
    settings, notes, _values = load_settings(args, values=env.doc.values())
    if args.announce_media_host:
        if not settings.alias_host:
            raise InputError("--alias-host", "is needed to announce a media host",
                             "give the new media host, e.g. --alias-host files.example.com")
        return make_announce_plan(env, settings), notes
    key_id = os.environ.get("AWS_ACCESS_KEY_ID")
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY")
    if key_id or secret:
        if not (key_id and secret):
            raise InputError("AWS_ACCESS_KEY_ID" if not key_id else "AWS_SECRET_ACCESS_KEY", "is not set",
                             "export both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither")
        settings = settings.with_credentials(key_id, secret)
    elif not settings.access_key_id or not settings.secret_access_key:
        cred = writer_credential(settings)
        settings = settings.with_credentials(cred.access_key_id, cred.secret_access_key)
    measured = None
    if args.measure:
        from ..s3 import jobs
        from ..s3.credential import Credential
        checks, measured = jobs.measure(settings, Credential(settings.access_key_id, settings.secret_access_key),
                                        http_options(args))
        notes += [f"measured: {c.id} {c.status}: {c.detail}" for c in checks]
    return make_plan(env, settings, measured), notes


def cmd_plan(args: argparse.Namespace) -> int:
    plan, notes = _plan(args)
    if args.json:
        doc = plan.to_json()
        doc["notes"] = notes + doc["notes"]
        print(json.dumps(doc, indent=2))
        return ExitStatus.OK
    for n in notes + plan.notes:
        print(f"note: {n}")
    if plan.empty:
        print(f"{plan.env.path}: nothing to change")
        return ExitStatus.OK
    print(plan.diff(), end="")
    return ExitStatus.OK


def cmd_apply(args: argparse.Namespace) -> int:
    from ..migrate.gap import gap_before_write
    plan, notes = _plan(args)
    if plan.empty:
        msg = {"path": plan.env.path, "changed": False, "backup": None}
        print(json.dumps(msg) if args.json else f"{plan.env.path}: nothing to change")
        return ExitStatus.OK
    if not args.json:
        for n in notes + plan.notes:
            print(f"note: {n}")
        print(plan.diff(), end="")
    if args.to_disk:
        from ..migrate.to_disk_gap import gap_before_to_disk
        gap = gap_before_to_disk(plan, http_options(args))
    else:
        gap = gap_before_write(plan)
    if not guard_switch(gap, args, "switch"):
        confirm(f"Write these changes to {plan.env.path}?", args.yes)
    result = apply_plan(plan)
    if args.json:
        print(json.dumps({"path": result.path, "changed": True, "backup": result.backup,
                          "changes": [c.masked() for c in plan.changes],
                          "media_gap": gap.to_json() if gap else None}, indent=2))
    else:
        print(f"backup: {result.backup}")
        print(f"wrote {result.path} ({len(plan.changes)} change{'s' if len(plan.changes) != 1 else ''}); "
              "restart Mastodon (web, sidekiq, streaming) for it to take effect")
        if args.to_disk:
            print("media is read from and written to public/system after the restart; the bucket is left as it is "
                  "(`mastowizard migrate --to-disk` prints the nginx lines that keep its old URLs answering)")
    return ExitStatus.OK


def cmd_rollback(args: argparse.Namespace) -> int:
    host = host_of(args)
    path = env_path(args, host)
    backup = args.backup or newest_backup(host, path)
    if backup is None:
        raise TargetError(path, "has no backup to restore", "give one with --backup PATH")
    if not args.json:
        restored = EnvDocument.from_bytes(host.read_bytes(backup), source=backup)
        current = EnvDocument.from_bytes(host.read_bytes(path), source=path) if host.exists(path) else EnvDocument("")
        print(f"restore {backup} over {path}")
        print("".join(difflib.unified_diff(masked_lines(current), masked_lines(restored),
                                           fromfile=f"{path} (now)", tofile=f"{backup}")), end="")
    confirm(f"Restore {backup} over {path}?", args.yes)
    result = rollback(host, path, backup)
    if args.json:
        print(json.dumps({"path": result.path, "restored_from": result.restored_from,
                          "saved_current": result.saved_current}, indent=2))
    else:
        if result.saved_current:
            print(f"saved the replaced file as {result.saved_current}")
        print(f"restored {result.path} from {result.restored_from}; restart Mastodon for it to take effect")
    return ExitStatus.OK


COMMANDS = {"show": cmd_show, "plan": cmd_plan, "apply": cmd_apply, "rollback": cmd_rollback}
