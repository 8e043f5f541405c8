"""The live checklist: `check`, `doctor`, and `token` for the test upload's access token."""

from __future__ import annotations

import argparse
import json
import os
import sys

from ..env.plan import EnvFile
from ..errors import InputError
from ..options import ENV_FILE, HTTP, INSTANCE, JSON, REMOTE, Option, add
from ..results import report
from ..secrets import ScrubbedStream, Secret
from .inputs import env_path, host_of, http_options
from .output import print_checks
from .prompts import ask
from .status import ExitStatus

POLL_TIMEOUT = Option("--poll-timeout", "how long to wait for media processing (default 60)", "SECONDS",
                      {"type": float, "default": 60.0})
CHECK = (ENV_FILE, INSTANCE, POLL_TIMEOUT, JSON, *HTTP, REMOTE)


def add_parsers(sub) -> None:
    add(sub.add_parser("check", help="the live checklist: upload a test image through the API and follow it to the "
                       "bucket and the media host; with --to-disk, after the way back to disk"), *CHECK,
        Option("--to-disk", "after `migrate --to-disk`: the env file keeps media on disk, every object of the bucket "
               "(the env file's, or its newest backup's) is on disk with its size, and a sample is served with its "
               "exact bytes at INSTANCE/system/ and by the old media host; no token is needed",
               kwargs={"action": "store_true"}))
    add(sub.add_parser("doctor", help="the checklist plus the logs of web and sidekiq, then the diagnosis"), *CHECK)
    add(sub.add_parser("token", help="get a user token with write:media for `check` (the OAuth flow: you authorize "
                       "in your browser and paste the code); prints only the token on stdout"),
        INSTANCE.but(required=True),
        JSON.but(help="print {\"access_token\": ..., \"scope\": ...} instead"),
        Option("--no-browser", "only print the URL, do not open a browser", kwargs={"action": "store_true"}), *HTTP)


def _run_check(args: argparse.Namespace):
    from ..checklist.for_instance import checklist_for
    from ..checklist.runner import run_checks
    http = http_options(args)          # a bad --resolve or --ca-bundle is refused before any login or prompt
    host = host_of(args)
    path = env_path(args, host)
    env = EnvFile.read(host, path)     # and an unreadable env file before the token is asked
    token_text = os.environ.get("MASTODON_ACCESS_TOKEN") or (ask("Access token (write:media, not saved): ", True)
                                                            if args.instance else None)
    ctx = checklist_for(host, path, args.instance, Secret(token_text) if token_text else None, http, env=env,
                        environ=os.environ, poll_timeout=args.poll_timeout)
    return run_checks(ctx), host, path


def cmd_check(args: argparse.Namespace) -> int:
    if args.to_disk:
        from ..checklist.on_disk import disk_checks
        http = http_options(args)
        host = host_of(args)
        checks = disk_checks(host, env_path(args, host), args.instance, http)
        return print_checks(checks, args.json, [])
    checks, _, _ = _run_check(args)
    return print_checks(checks, args.json, [])


def cmd_doctor(args: argparse.Namespace) -> int:
    from ..checklist.diagnose import diagnose
    checks, host, path = _run_check(args)
    found = diagnose(host, path, checks)
    if args.json:
        doc = report(checks)
        doc["diagnosis"] = [f.to_json() for f in found.findings]
        if found.notes:
            doc["notes"] = found.notes
        print(json.dumps(doc, indent=2, default=str))
        return ExitStatus.of(doc["ok"] and not found.from_logs)
    code = print_checks(checks, False, found.notes)
    print()
    if not found.findings:
        print("diagnosis: nothing wrong found")
        return code
    print("diagnosis:")
    for f in found.findings:
        print(f"- {f.title} ({f.where})")
        print(f"  cause: {f.cause}")
        print(f"  fix: {f.fix}")
        if f.sample:
            print(f"  e.g.: {f.sample}")
        if f.doc:
            print(f"  see: {f.doc}")
    return ExitStatus.CHECK_FAILED


def cmd_token(args: argparse.Namespace) -> int:
    from ..instance import oauth
    http = http_options(args)
    auth = oauth.start(args.instance, http)
    print(f"1. Open this URL, logged in as the account the test upload may use, and press Authorize "
          f"(scope write:media only{', PKCE' if auth.pkce else ''}):\n\n   {auth.url}\n", file=sys.stderr)
    if not args.no_browser and oauth.open_in_browser(auth.url):
        print("   (opened in your browser)", file=sys.stderr)
    print("2. Paste the code the instance shows: ", end="", file=sys.stderr, flush=True)
    code = sys.stdin.readline()
    if not code:
        raise InputError("authorization code", "nothing was pasted (stdin closed)",
                         "run it in a terminal and paste the code")
    token = oauth.finish(auth, code, http)
    print(f"got a token with scope {token.scope!r}; it is not saved anywhere: keep it in a variable, "
          "e.g. MASTODON_ACCESS_TOKEN=$(mastowizard token ...)", file=sys.stderr)
    # stdout carries the token and nothing else (the CLI's stdout masks secrets: write past it)
    real = sys.stdout._inner if isinstance(sys.stdout, ScrubbedStream) else sys.stdout
    if args.json:
        real.write(json.dumps({"access_token": token.access_token.reveal(), "scope": token.scope}) + "\n")
    else:
        real.write(token.access_token.reveal() + "\n")
    real.flush()
    return ExitStatus.OK


COMMANDS = {"check": cmd_check, "doctor": cmd_doctor, "token": cmd_token}
