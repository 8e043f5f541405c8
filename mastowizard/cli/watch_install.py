"""`watch --install`, `--uninstall`, `--cron-line`, `--compose-service`: the front door of
watch/install.py. The flags become a WatchJob (absolute paths on the host, each checked there); the
install prints what it writes and asks first; cron and Compose only print."""

from __future__ import annotations

import argparse
import json
import os
import posixpath
import sys

from ..errors import InputError, TargetError
from ..host.interface import Host
from ..net import HttpOptions
from ..secrets import Secret
from ..watch import install as engine
from ..watch import units
from .inputs import env_path, host_of, host_path, http_options
from .prompts import ask, confirm
from .status import ExitStatus
from .watch_run import refuse_shared_token

NO_TERMINAL = ("no terminal to ask before writing", "review what it writes above, then add --yes")


def run(args: argparse.Namespace) -> int:
    _precheck(args)
    host = host_of(args)
    try:
        if args.uninstall:
            return _uninstall(args, host)
        job = job_of(args, host)
        if args.cron_line:
            return _cron(args, host, job)
        if args.compose_service:
            return _compose(args, job)
        return _install(args, host, job)
    finally:
        host.close()


def _precheck(args: argparse.Namespace) -> None:
    """What can be refused before connecting or asking anything."""
    HttpOptions.build(args.resolve, None)
    if args.cron_line or args.compose_service:
        units.interval_minutes(args.every)
    if (args.install or args.uninstall) and args.json and not args.yes:
        raise InputError("--yes", "--json does not ask before writing", "review the plain output first, then add --yes")
    if args.cron_line and not args.read_only and args.instance and not args.token_file:
        raise InputError("--token-file", "cron runs the watch as the instance's user, who reads the token from a file",
                         "write it to a 0600 file that user owns and give --token-file FILE, or add --read-only")


def job_of(args: argparse.Namespace, host: Host) -> units.WatchJob:
    if not args.baseline:
        raise InputError("--baseline", "no baseline file given", "save one first: mastowizard watch --env-file ENV "
                         "--baseline FILE --save, then give --baseline FILE")
    env = host_path(args, host, "--env-file", env_path(args, host), "give the instance's env file, e.g. "
                "--env-file /home/mastodon/live/.env.production")
    where = (f"on {host.describe()}: run `mastowizard watch --env-file {env} --baseline FILE --save` there, or "
             "save it from the wizard's Summary (it puts it beside the env file)") if getattr(args, "ssh", None) else \
        f"mastowizard watch --env-file {env} --baseline FILE --save"
    baseline = host_path(args, host, "--baseline", args.baseline, f"save one first: {where}")
    token_file = host_path(args, host, "--token-file", args.token_file, "give the token file's path (one line, 0600)")
    if token_file:
        _private(host, token_file)
    elif args.install:
        token_dir = host_path(args, host, "--credential-dir", args.credential_dir or units.DEFAULT_TOKEN_DIR, None)
        token_file = posixpath.join(token_dir, units.TOKEN_NAME)
    elif args.compose_service:
        token_file = posixpath.join(units.DEFAULT_TOKEN_DIR, units.TOKEN_NAME)
    program = None if args.compose_service else _program(args, host)
    job = units.WatchJob(
        program=program or "/usr/local/bin/mastowizard", env_file=env, baseline=baseline, instance=args.instance,
        token_file=token_file, read_only=args.read_only, metrics=host_path(args, host, "--metrics", args.metrics, None),
        resolve=tuple(args.resolve), ca_bundle=host_path(args, host, "--ca-bundle", args.ca_bundle,
                                                     "give a PEM file of CA certificates on the host"),
        run_as=args.run_as, every=args.every, cert_days=args.cert_days if args.cert_days != 14 else None,
        poll_timeout=args.poll_timeout if args.poll_timeout != 60.0 else None,
        needs_home=bool(program) and _under_home(host, program))
    units.check(job)
    if args.install and job.run_as and host.run(["getent", "passwd", job.run_as], timeout=30).status == 2:
        raise InputError("--run-as", f"{job.run_as} is no user on {host.describe()}",
                         "give the instance's user (e.g. mastodon), or leave --run-as out for a DynamicUser")
    return job


def _private(host: Host, path: str) -> None:
    try:
        mode = host.stat(path).mode
    except TargetError:
        return                                   # not readable by us: root reads it for the service
    refuse_shared_token(path, mode)


def _program(args: argparse.Namespace, host: Host) -> str:
    if args.program:
        return host_path(args, host, "--program", args.program, "give mastowizard's path on the host")
    r = host.run(["sh", "-c", "command -v mastowizard"], timeout=30)
    found = r.stdout.decode().strip()
    if not r.ok or not found.startswith("/"):
        raise InputError("--program", f"mastowizard is not on the PATH on {host.describe()}",
                         "install it there (`pip install .` from its source) or give --program PATH")
    return found


def _under_home(host: Host, program: str) -> bool:
    """Whether the program, what it links to, or its script's Python lives under a home directory."""
    r = host.run(["sh", "-c", 'p=$(readlink -f -- "$1") && echo "$p" && head -n 1 -- "$p" | cut -c1-200 && '
                  'i=$(head -n 1 -- "$p" | sed -n "s/^#! *\\([^ ]*\\).*/\\1/p") && [ -n "$i" ] && '
                  'readlink -f -- "$i"', "sh", program], timeout=30)
    paths = [program, *(x.removeprefix("#!").strip() for x in r.stdout.decode("utf-8", "replace").splitlines())]
    return any(p.startswith(units.HOMES) for p in paths)


# -- the three forms -------------------------------------------------------------------------------
def _cron(args: argparse.Namespace, host: Host, job: units.WatchJob) -> int:
    line = units.cron_line(job)
    notes = ["add it with `crontab -e` as the instance's user (e.g. sudo crontab -u mastodon -e): it reads the "
             "env file and the token file, and keeps its state beside the baseline"]
    if not args.instance and not args.read_only:
        notes.append("no --instance: the watch makes no test upload (give --instance URL and --token-file FILE)")
    if args.json:
        print(json.dumps({"cron_line": line, "notes": notes}, indent=2))
    else:
        print(line)
        for n in notes:
            print(f"note: {n}", file=sys.stderr)
    return ExitStatus.OK


def _compose(args: argparse.Namespace, job: units.WatchJob) -> int:
    text = units.compose_service(job)
    print(json.dumps({"compose": text}, indent=2) if args.json else text, end="\n" if args.json else "")
    return ExitStatus.OK


def _token(args: argparse.Namespace, host: Host, job: units.WatchJob) -> Secret | None:
    """The token install writes: from $MASTODON_ACCESS_TOKEN or asked; none when the admin gave
    --token-file, when the watch uploads nothing, or when an earlier install's token file is there."""
    if not job.uses_token or args.token_file:
        return None
    text = (os.environ.get("MASTODON_ACCESS_TOKEN") or "").strip()
    if not text and host.exists(job.token_file):
        return None
    text = text or (ask(f"Access token (write:media) for the watch, saved 0600 in {job.token_file}: ", True) or "")
    if not text.strip():
        raise InputError("MASTODON_ACCESS_TOKEN", "the watch's test upload needs an access token (write:media)",
                         "export MASTODON_ACCESS_TOKEN (`mastowizard token` gets one), give --token-file FILE, "
                         "or add --read-only")
    return Secret(text.strip())


def _install(args: argparse.Namespace, host: Host, job: units.WatchJob) -> int:
    unit_dir = host_path(args, host, "--unit-dir", args.unit_dir or units.SYSTEM_UNIT_DIR, "create it or give another")
    _check_calendar(host, job.every)
    token = _token(args, host, job)
    checked = _check_scope(args, job, token)
    if not args.json:
        files = engine.plan(host, job, unit_dir, token is not None)
        if checked:
            print(checked)
        print(f"On {host.describe()}, --install writes:")
        for path, mode, _text in files:
            print(f"  {path} (mode {mode:04o})" + (", the access token" if mode == 0o600 else ""))
        for path, _mode, text in files:
            if text is not None:
                print(f"--- {path}\n{text.rstrip()}")
        if job.uses_token and token is None and not args.token_file:
            print(f"(the access token already in {job.token_file} is kept)")
        if not job.instance and not job.read_only:
            print("note: no --instance: the watch makes no test upload (give --instance URL for it)")
    confirm("Write them, and enable the timer where systemd runs?", args.yes, NO_TERMINAL)
    result = engine.install(host, job, unit_dir, token)
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
        return ExitStatus.of(result.ok)
    for path, mode in result.written:
        print(f"wrote {path} (mode {mode:04o})")
    _report(result.run, result.to_run, result.notes, result.failed)
    return ExitStatus.of(result.ok)


def _check_scope(args: argparse.Namespace, job: units.WatchJob, token: Secret | None) -> str:
    """A token kept on disk for an hourly timer must upload media and do nothing else: one that is
    refused, may not upload, or may also read the account is refused before anything is written.
    Said when the instance could not be asked from here."""
    from ..instance.token_scope import token_reach
    if token is None and args.token_file and job.uses_token and not getattr(args, "ssh", None):
        from ..errors import MastowizardError
        from .watch_run import read_token_file
        try:
            token = read_token_file(args.token_file)  # the admin's own file, on this machine: checked alike
        except MastowizardError:
            return "note: the token's scope was not checked: --token-file cannot be read here (root reads it for " \
                   "the service)"
    if token is None or not job.instance:
        return ""
    reach = token_reach(job.instance, token, http_options(args))
    field = "MASTODON_ACCESS_TOKEN"
    fix = f"get one with write:media only: mastowizard token --instance {job.instance}"
    if not reach.answered and reach.valid is False and "not plain" not in reach.detail:
        return f"note: the token's scope was not checked: {reach.detail}"
    if not reach.valid:
        raise InputError(field, reach.detail, fix)
    if not reach.uploads:
        raise InputError(field, f"this token may not upload media ({reach.detail})", fix)
    if reach.more:
        raise InputError(field, f"this token may also {' and '.join(reach.more)}: a token kept on disk for a timer "
                         "should upload media and do nothing else", fix)
    if not reach.answered:
        return f"note: the token's scope was not fully checked: {reach.detail}"
    return "the token may upload media, and may not read the account, post or follow: as the timer needs"


def _check_calendar(host: Host, every: str) -> None:
    """--every as systemd on the host reads it, where systemd-analyze is there to ask."""
    try:
        r = host.run(["systemd-analyze", "calendar", "--", every], timeout=30)
    except TargetError:
        return                                       # not installed here: systemd is not either
    if r.status != 127 and not r.ok:
        raise InputError("--every", f"{every!r} is not a systemd calendar value ({' '.join(r.stderr_tail[-1:])})",
                         "give e.g. hourly, daily, *:0/15 or Mon..Fri 06:00")


def _uninstall(args: argparse.Namespace, host: Host) -> int:
    unit_dir = host_path(args, host, "--unit-dir", args.unit_dir or units.SYSTEM_UNIT_DIR, "give the --unit-dir "
                     "--install wrote to")
    present = engine.installed(host, unit_dir)
    if not present:
        if args.json:
            print(json.dumps(engine.UninstallResult().to_json(), indent=2))
        else:
            print(f"nothing to remove: no mastowizard watch units in {unit_dir} on {host.describe()}")
        return ExitStatus.OK
    if not args.json:
        print(f"On {host.describe()}, --uninstall stops the timer where systemd runs and removes:")
        for path in present:
            print(f"  {path}")
    confirm("Stop and remove them?", args.yes, NO_TERMINAL)
    result = engine.uninstall(host, unit_dir)
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
        return ExitStatus.of(result.ok)
    for path in result.removed:
        print(f"removed {path}")
    _report(result.run, result.to_run, [f"kept {k}" for k in result.kept], result.failed)
    return ExitStatus.of(result.ok)


def _report(ran: list[str], to_run: list[str], notes: list[str], failed: str | None) -> None:
    for command in ran:
        print(f"ran: {command}")
    if failed:
        print(f"mastowizard: failed: {failed}", file=sys.stderr)
    if to_run:
        print("left to run, as root:")
        for command in to_run:
            print(f"  {command}")
    for n in notes:
        print(f"note: {n}" if not n.startswith("kept ") else n)
