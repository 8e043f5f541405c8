"""The headless command line: the same engine the wizard uses, for scripts, monitoring and CI.

Exit status: 0 all good, 1 a check failed, 2 bad input or an unusable target.
"""

from __future__ import annotations

import argparse
import difflib
import getpass
import json
import os
import posixpath
import sys
from typing import Any, Sequence

from . import __version__
from .argv import Parser as _Parser
from .env.apply import apply_plan, list_backups, rollback
from .env.doc import EnvDocument
from .env.file import DEFAULT_ENV_FILE, default_env_file, read_values
from .env.plan import EnvFile, describe, make_announce_plan, make_plan, masked_lines
from .errors import InputError, MastowizardError, TargetError
from .host.local import LocalHost
from .migrate.prune import DEFAULT_DAYS as PRUNE_DAYS
from .net import HttpOptions
from .providers import all_providers
from .results import Check, report
from .s3 import policies
from .s3.credential import Credential
from .secrets import ScrubbedStream, Secret, scrub
from .settings import Settings, from_env

SETTINGS_FLAGS = ("provider", "bucket", "region", "endpoint", "addressing", "permission", "alias_host",
                  "protocol", "key_prefix")


MEASURE = ("first measure what Mastodon's jobs need from the provider (the jobs checks, with the writer key and "
           "probe objects of their own) and write it: S3_FORCE_SINGLE_REQUEST, timeouts, S3_BATCH_DELETE_LIMIT")


def _common(p: argparse.ArgumentParser, settings: bool = True, http: bool = True) -> None:
    p.add_argument("--env-file", metavar="PATH",
                   help=f"the instance's env file (default $MASTOWIZARD_ENV_FILE or {DEFAULT_ENV_FILE}); S3 settings are read from it "
                        "exactly as Mastodon reads them")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    if settings:
        g = p.add_argument_group("settings (instead of, or on top of, the env file)")
        g.add_argument("--provider", metavar="NAME", help="provider id from `mastowizard providers` (default aws)")
        g.add_argument("--bucket", metavar="NAME")
        g.add_argument("--region", metavar="NAME")
        g.add_argument("--endpoint", metavar="URL", help="S3 API endpoint (not for AWS)")
        g.add_argument("--addressing", metavar="path|virtual")
        g.add_argument("--permission", metavar="acl|policy",
                       help="acl: S3_PERMISSION=public-read; policy: no ACL, a bucket policy grants public read")
        g.add_argument("--alias-host", metavar="HOST", help="public media host (S3_ALIAS_HOST)")
        g.add_argument("--protocol", metavar="https|http")
        g.add_argument("--key-prefix", metavar="PREFIX", help="S3_KEY_PREFIX")
    if http:
        p.add_argument("--resolve", metavar="HOST:PORT:ADDR", action="append", default=[],
                       help="pin a host name to an address for every HTTP request, as curl does (repeatable)")
        p.add_argument("--ca-bundle", metavar="FILE", help="trust these CA certificates for HTTPS")


def _ssh_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("remote host (instead of this machine)")
    g.add_argument("--ssh", metavar="[USER@]HOST[:PORT]", help="work on the Mastodon host over SSH "
                   "(~/.ssh/config, the agent and key files are honoured)")
    g.add_argument("--accept-host-key", metavar="SHA256:...", help="trust this host key fingerprint if the "
                   "host is not in known_hosts yet")
    g.add_argument("--known-hosts", metavar="FILE", help="known_hosts file (default ~/.ssh/known_hosts)")
    g.add_argument("--identity", metavar="FILE", help="private key file (default: from ~/.ssh/config, the agent)")
    g.add_argument("--ssh-config", metavar="FILE", help="ssh config file (default ~/.ssh/config)")
    g.add_argument("--sudo-user", metavar="USER", help="read and write the env file as USER through sudo "
                   "(e.g. mastodon); the sudo password comes from MASTOWIZARD_SUDO_PASSWORD or a prompt")


ACCEPT_MISSING = ("when files on disk are not in the bucket yet (they would answer 404 after the switch), go ahead "
                  "only with this exact count (or `unchecked` where it could not be measured); without it a "
                  "terminal asks you to type the count, and --yes alone is not enough")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mastowizard",
                     description="Move a Mastodon instance's media to S3 object storage, and prove it works.",
                     epilog="The wizard: `mastowizard` alone in a terminal (or `mastowizard wizard --ssh HOST ...`, see "
                            "`mastowizard wizard --help`); `mastowizard web` serves it to a browser (see "
                            "`mastowizard web --help`); `mastowizard demo` opens it against the embedded demo lab.")
    parser.add_argument("--version", action="version", version=f"mastowizard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("policy", help="print the bucket policy, CORS configuration and writer policy")
    _common(p, http=False)

    admin_profile = ("the admin credential from this AWS profile (~/.aws/credentials, ~/.aws/config; its region "
                     "and endpoint_url fill what the settings leave empty); default $MASTOWIZARD_ADMIN_PROFILE")
    p = sub.add_parser("probe", help="probe the bucket with the writer credential and anonymously")
    _common(p)
    p.add_argument("--admin-profile", metavar="NAME", help=admin_profile)

    p = sub.add_parser("setup-bucket",
                       help="with an admin credential, make the bucket fit the permission mode, then probe it")
    _common(p)
    p.add_argument("--admin-profile", metavar="NAME", help=admin_profile)
    p.add_argument("--yes", action="store_true", help="change the bucket without asking (what changes is "
                   "printed first)")

    p = sub.add_parser("show", help="what the instance's env file uses now (local disk or S3), secrets masked")
    p.add_argument("--env-file", metavar="PATH", help=f"default $MASTOWIZARD_ENV_FILE or {DEFAULT_ENV_FILE}")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    _ssh_options(p)

    announce = ("only add the new media host to EXTRA_MEDIA_HOSTS (Mastodon 4.4+), a week before the switch: "
                "browsers keep the web app's old Content-Security-Policy that long")
    p = sub.add_parser("plan", help="show the change to the env file as a diff, secrets masked")
    _common(p)
    _ssh_options(p)
    p.add_argument("--announce-media-host", action="store_true", help=announce)
    p.add_argument("--measure", action="store_true", help=MEASURE)

    p = sub.add_parser("apply", help="back up the env file, then write the planned change atomically")
    _common(p)
    _ssh_options(p)
    p.add_argument("--announce-media-host", action="store_true", help=announce)
    p.add_argument("--measure", action="store_true", help=MEASURE)
    p.add_argument("--yes", action="store_true", help="write without asking")
    p.add_argument("--accept-missing-media", metavar="COUNT", help=ACCEPT_MISSING)

    p = sub.add_parser("rollback", help="restore the env file from a backup, byte for byte")
    p.add_argument("--env-file", metavar="PATH", help=f"default $MASTOWIZARD_ENV_FILE or {DEFAULT_ENV_FILE}")
    p.add_argument("--backup", metavar="PATH", help="the backup to restore (default: the newest)")
    p.add_argument("--yes", action="store_true", help="restore without asking")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    _ssh_options(p)

    p = sub.add_parser("restart", help="restart web, sidekiq and streaming and wait until healthy")
    p.add_argument("--env-file", metavar="PATH", help=f"default $MASTOWIZARD_ENV_FILE or {DEFAULT_ENV_FILE}")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--systemd", action="store_true", help="a source install under systemd")
    kind.add_argument("--compose", metavar="DIR", help="a Docker Compose install in DIR")
    p.add_argument("--instance", metavar="URL", help="the instance's URL, to wait for /health")
    p.add_argument("--timeout", metavar="SECONDS", type=float, default=300.0, help="for the restart (default 300)")
    p.add_argument("--accept-missing-media", metavar="COUNT", help=ACCEPT_MISSING)
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.add_argument("--resolve", metavar="HOST:PORT:ADDR", action="append", default=[])
    p.add_argument("--ca-bundle", metavar="FILE")
    _ssh_options(p)

    p = sub.add_parser("token", help="get a user token with write:media for `check` (the OAuth flow: you "
                       "authorize in your browser and paste the code); prints only the token on stdout")
    p.add_argument("--instance", metavar="URL", required=True, help="the instance, e.g. https://mastodon.example")
    p.add_argument("--json", action="store_true", help="print {\"access_token\": ..., \"scope\": ...} instead")
    p.add_argument("--no-browser", action="store_true", help="only print the URL, do not open a browser")
    p.add_argument("--resolve", metavar="HOST:PORT:ADDR", action="append", default=[],
                   help="pin a host name to an address for every HTTP request, as curl does (repeatable)")
    p.add_argument("--ca-bundle", metavar="FILE", help="trust these CA certificates for HTTPS")

    p = sub.add_parser("prune-cache", help="before a migration: shrink the remote media cache with Mastodon's "
                       "`tootctl media remove --days N` (asks first)")
    p.add_argument("--env-file", metavar="PATH", help=f"default $MASTOWIZARD_ENV_FILE or {DEFAULT_ENV_FILE}")
    p.add_argument("--days", default=str(PRUNE_DAYS),
                   help=f"remove cached remote media older than this (default {PRUNE_DAYS}, as tootctl)")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--systemd", action="store_true", help="a source install under systemd")
    kind.add_argument("--compose", metavar="DIR", help="a Docker Compose install in DIR")
    p.add_argument("--yes", action="store_true", help="run it without asking")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    _ssh_options(p)

    p = sub.add_parser("check", help="the live checklist: upload a test image through the API and "
                       "follow it to the bucket and the media host")
    p.add_argument("--env-file", metavar="PATH", help=f"default $MASTOWIZARD_ENV_FILE or {DEFAULT_ENV_FILE}")
    p.add_argument("--instance", metavar="URL", help="the instance's URL (https://mastodon.example)")
    p.add_argument("--poll-timeout", metavar="SECONDS", type=float, default=60.0,
                   help="how long to wait for media processing (default 60)")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.add_argument("--resolve", metavar="HOST:PORT:ADDR", action="append", default=[])
    p.add_argument("--ca-bundle", metavar="FILE")
    _ssh_options(p)

    p = sub.add_parser("doctor", help="the checklist plus the logs of web and sidekiq, then the diagnosis")
    for a in list(sub.choices["check"]._actions)[1:]:
        p._add_action(a)

    p = sub.add_parser("migrate", help="copy the media already on disk into the bucket, exactly as Mastodon "
                       "would have stored it, then verify it")
    _common(p)
    p.add_argument("--source", metavar="DIR", help="the media tree (default: public/system beside the env file, "
                   "or PAPERCLIP_ROOT_PATH)")
    p.add_argument("--jobs", metavar="N", type=int, default=32, help="concurrent uploads (default 32)")
    p.add_argument("--dry-run", action="store_true", help="show what would be copied, copy nothing")
    p.add_argument("--verify", choices=("sample", "all", "none"), default="sample",
                   help="after the copy, fetch a sample (or all) anonymously through the media host (default sample)")
    p.add_argument("--yes", action="store_true", help="copy without asking")
    p.add_argument("--transfer", choices=("tar", "sftp"), help="with --ssh, how the files come from the host: one "
                   "tar stream (default; about 3.8x SFTP's speed in bench/migrate_ssh.py; reads through --sudo-user) or "
                   "SFTP sessions")
    _ssh_options(p)

    p = sub.add_parser("providers", help="list the provider catalog")
    p.add_argument("--json", action="store_true")
    return parser


# -- settings and secrets ---------------------------------------------------------------------
def _flags_given(args: argparse.Namespace) -> bool:
    return any(getattr(args, f, None) for f in SETTINGS_FLAGS)


def load_settings(args: argparse.Namespace, values: dict[str, str] | None = None
                  ) -> tuple[Settings, list[str], dict[str, str]]:
    """Settings from flags, from the env file, or the env file overridden by flags."""
    notes: list[str] = []
    env: dict[str, str] = {}
    if args.env_file or not _flags_given(args):
        path = args.env_file or default_env_file()
        env = values if values is not None else read_values(path)
        reading = from_env(env)
        notes += reading.notes
        if not reading.enabled:
            if not _flags_given(args):
                raise InputError("--env-file", f"{path} has no object storage (S3_ENABLED is not true): "
                                 "media is on local disk", "give settings flags (--bucket, --provider, ...) "
                                 "to test a new bucket")
        else:
            base = reading.settings
            if not _flags_given(args):
                return base, notes, env
            return _from_flags(args, base), notes, env
    return _from_flags(args, None), notes, env


def _from_flags(args: argparse.Namespace, base: Settings | None) -> Settings:
    # A new provider or endpoint means a new place: its region and addressing come from the
    # flags or the catalog, not from the old settings.
    new_place = bool(args.provider or args.endpoint)

    def pick(name: str):
        value = getattr(args, name, None)
        if value is not None or base is None:
            return value
        if new_place and name in ("endpoint", "addressing", "region"):
            return None
        return getattr(base, name)
    return Settings.build(
        bucket=pick("bucket"), provider=args.provider or (base.provider if base else None),
        region=pick("region"), endpoint=pick("endpoint"), addressing=pick("addressing"),
        permission=pick("permission"), alias_host=pick("alias_host"), protocol=pick("protocol"),
        key_prefix=pick("key_prefix"),
        access_key_id=base.access_key_id if base else None,
        secret_access_key=base.secret_access_key if base else None,
    )


def _ask(prompt: str, secret: bool) -> str | None:
    if not sys.stdin.isatty():
        return None
    return getpass.getpass(prompt) if secret else input(prompt)


def writer_credential(settings: Settings) -> Credential:
    key_id = settings.access_key_id or os.environ.get("AWS_ACCESS_KEY_ID") or _ask("Writer access key id: ", False)
    secret = settings.secret_access_key or (
        Secret(os.environ["AWS_SECRET_ACCESS_KEY"]) if os.environ.get("AWS_SECRET_ACCESS_KEY") else None)
    if secret is None:
        typed = _ask("Writer secret access key: ", True)
        secret = Secret(typed) if typed else None
    if not key_id:
        raise InputError("AWS_ACCESS_KEY_ID", "the writer credential is missing",
                         "put it in the env file or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    if not secret:
        raise InputError("AWS_SECRET_ACCESS_KEY", "the writer secret is missing",
                         "put it in the env file or export AWS_SECRET_ACCESS_KEY (never on the command line)")
    return Credential(key_id.strip(), secret)


def admin_profile(args: argparse.Namespace):
    """--admin-profile, or MASTOWIZARD_ADMIN_PROFILE: the AWS profile to take the admin key from."""
    name = getattr(args, "admin_profile", None) or os.environ.get("MASTOWIZARD_ADMIN_PROFILE")
    if name is None:
        return None
    if not name.strip():
        raise InputError("MASTOWIZARD_ADMIN_PROFILE", "is empty", "give a profile name, or unset it")
    from .s3 import profiles
    return profiles.load(name.strip())


def admin_credential(required: bool) -> Credential | None:
    key_id = os.environ.get("MASTOWIZARD_ADMIN_ACCESS_KEY_ID")
    secret = os.environ.get("MASTOWIZARD_ADMIN_SECRET_ACCESS_KEY")
    if not (key_id and secret) and required:
        key_id = key_id or _ask("Admin access key id (not saved): ", False)
        secret = secret or _ask("Admin secret access key (not saved): ", True)
    if key_id and secret:
        return Credential(key_id.strip(), Secret(secret))
    if required:
        raise InputError("MASTOWIZARD_ADMIN_ACCESS_KEY_ID", "an admin credential is needed to change the bucket",
                         "give --admin-profile NAME (an AWS profile), or export MASTOWIZARD_ADMIN_ACCESS_KEY_ID and "
                         "MASTOWIZARD_ADMIN_SECRET_ACCESS_KEY")
    return None


# -- output -----------------------------------------------------------------------------------
MARK = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "skip": "skip"}


def print_checks(checks: list[Check], as_json: bool, notes: list[str], extra: dict[str, Any] | None = None) -> int:
    doc = report(checks)
    if as_json:
        if notes:
            doc["notes"] = notes
        doc.update(extra or {})
        print(json.dumps(doc, indent=2, default=str))
    else:
        for n in notes:
            print(f"note: {n}")
        for c in checks:
            print(f"{MARK[c.status]:4}  {c.title} [{c.id}]")
            if c.detail:
                print(f"      {c.detail}")
            if c.fix and c.status in ("fail", "warn"):
                print(f"      fix: {c.fix}")
            if c.evidence.get("doc") and c.status in ("fail", "warn"):
                print(f"      see: {c.evidence['doc']}")
        counts = {s: sum(c.status == s for c in checks) for s in MARK}
        print(f"{counts['pass']} passed, {counts['fail']} failed, {counts['warn']} warnings, {counts['skip']} skipped")
    return 0 if doc["ok"] else 1


# -- commands ---------------------------------------------------------------------------------
def cmd_policy(args: argparse.Namespace) -> int:
    settings, notes, _ = load_settings(args)
    docs = policies.documents(settings)
    if args.json:
        print(json.dumps(docs, indent=2))
        return 0
    titles = {
        "bucket_policy": "Bucket policy (policy mode: public read of Mastodon's media, never backups/)"
                         + (" -- not needed in ACL mode" if settings.permission == "acl" else ""),
        "cors": "CORS configuration (GET and HEAD from any origin)",
        "writer_policy": "Writer policy (attach to the credential in AWS_ACCESS_KEY_ID)",
    }
    for n in notes:
        print(f"note: {n}")
    for name, doc in docs.items():
        print(f"# {titles[name]}")
        print(policies.to_json(doc))
        print()
    return 0


def cmd_probe(args: argparse.Namespace, setup: bool = False) -> int:
    from .s3.bucket_setup import setup_bucket
    from .s3.probes import run_probes

    settings, notes, _ = load_settings(args)
    http = HttpOptions.build(args.resolve, args.ca_bundle)
    profile = admin_profile(args)
    writer = writer_credential(settings)
    admin = profile.credential if profile else admin_credential(required=setup)
    admin_settings = profile.fill(settings) if profile else settings
    if profile:
        notes.append(f"admin credential: AWS profile {profile.name!r}")
    checks: list[Check] = []
    if setup:
        from .s3.bucket_setup import describe_setup
        assert admin is not None
        lines = describe_setup(admin_settings, admin, f"AWS profile {profile.name}" if profile else
                               "MASTOWIZARD_ADMIN_ACCESS_KEY_ID", http, writer.access_key_id)
        for line in lines:
            print(f"change: {line}", file=sys.stderr if args.json else sys.stdout)
        _confirm(f"Change the settings of bucket {settings.bucket}?", args.yes,
                 ("no terminal to ask before changing the bucket", "read what it changes above, then add --yes"))
        checks += setup_bucket(admin_settings, admin, http)
    checks += run_probes(settings, writer, http, admin)
    return print_checks(checks, args.json, notes, {"settings": _public_settings(settings)})


def _public_settings(s: Settings) -> dict[str, Any]:
    return {"provider": s.provider, "bucket": s.bucket, "region": s.region, "endpoint": s.endpoint,
            "addressing": s.addressing, "permission": s.permission, "alias_host": s.alias_host,
            "protocol": s.protocol, "key_prefix": s.key_prefix}


def _env_path(args: argparse.Namespace, host=None) -> str:
    """--env-file, or the default, or where the mastodon-web unit says the live directory is."""
    if args.env_file or host is None:
        return args.env_file or default_env_file()
    from .host.commands import LocalRunner
    from .host.restart import locate_env_file
    runner = host if hasattr(host, "run") else LocalRunner()
    return locate_env_file(host, runner, default_env_file())


class _CliPrompter:
    """Asks on the terminal; with no terminal, nobody is asked (the caller says what to set)."""

    def secret(self, prompt: str) -> str | None:
        return _ask(prompt, True)

    def confirm_host_key(self, host: str, key_type: str, fingerprint: str) -> bool:
        if not sys.stdin.isatty():
            return False
        print(f"The host key of {host} is not known yet: {key_type} {fingerprint}", file=sys.stderr)
        return input("Is this the server's fingerprint? Trust it [y/N] ").strip().lower() in ("y", "yes")


def _host(args: argparse.Namespace):
    """This machine, or the --ssh target (connected, host key checked)."""
    if not getattr(args, "ssh", None):
        if getattr(args, "sudo_user", None):
            raise InputError("--sudo-user", "only works with --ssh", "run the command as that user locally")
        return LocalHost()
    from .host.ssh import SshOptions, connect, parse_target
    from .host.sshhost import SshHost
    target = parse_target(args.ssh, args.ssh_config)
    env_secret = lambda name: Secret(os.environ[name]) if os.environ.get(name) else None  # noqa: E731
    prompter = _CliPrompter()
    options = SshOptions(known_hosts=os.path.expanduser(args.known_hosts or "~/.ssh/known_hosts"),
                         accept_host_key=args.accept_host_key, password=env_secret("MASTOWIZARD_SSH_PASSWORD"),
                         key_passphrase=env_secret("MASTOWIZARD_SSH_KEY_PASSPHRASE"),
                         identity_file=os.path.expanduser(args.identity) if args.identity else None,
                         ssh_config=args.ssh_config, prompt=prompter)
    client = connect(target, options)
    sudo_password = env_secret("MASTOWIZARD_SUDO_PASSWORD")
    if args.sudo_user:
        if sudo_password is None:
            typed = _ask(f"sudo password for {target.user} on {target.hostname}: ", True)
            sudo_password = Secret(typed) if typed else None
    return SshHost(client, target, sudo_user=args.sudo_user, sudo_password=sudo_password)


def cmd_show(args: argparse.Namespace) -> int:
    host = _host(args)
    env = EnvFile.read(host, _env_path(args, host))
    info = describe(env)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"{info['path']} on {info['host']} (mode {info['mode']}, owner {info['owner']})")
    print(f"instance: {info['local_domain'] or '(LOCAL_DOMAIN not set)'}"
          + (f", web domain {info['web_domain']}" if info["web_domain"] != info["local_domain"] else ""))
    print("media storage: " + ("S3 object storage" if info["storage"] == "s3" else "local disk (public/system)"))
    for key, value in info["s3"].items():
        print(f"  {key}={value}")
    for n in info["notes"]:
        print(f"note: {n}")
    return 0


def _plan(args: argparse.Namespace):
    host = _host(args)
    path = _env_path(args, host)
    env = EnvFile.read(host, path)
    args.env_file = path
    settings, notes, values = load_settings(args, values=env.doc.values())
    if getattr(args, "announce_media_host", False):
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
    if getattr(args, "measure", False):
        from .s3 import jobs
        from .s3.credential import Credential
        checks, measured = jobs.measure(settings, Credential(settings.access_key_id, settings.secret_access_key),
                                        HttpOptions.build(args.resolve, args.ca_bundle))
        notes += [f"measured: {c.id} {c.status}: {c.detail}" for c in checks]
    return make_plan(env, settings, measured), notes


def cmd_plan(args: argparse.Namespace) -> int:
    plan, notes = _plan(args)
    if args.json:
        doc = plan.to_json()
        doc["notes"] = notes + doc["notes"]
        print(json.dumps(doc, indent=2))
        return 0
    for n in notes + plan.notes:
        print(f"note: {n}")
    if plan.empty:
        print(f"{plan.env.path}: nothing to change")
        return 0
    print(plan.diff(), end="")
    return 0


def _confirm(question: str, yes: bool, no_terminal: tuple[str, str] = (
        "no terminal to ask for confirmation", "review the diff with `plan`, then add --yes")) -> None:
    """Ask QUESTION on the terminal unless YES; without a terminal, refuse with NO_TERMINAL (problem, fix)."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise InputError("--yes", *no_terminal)
    if input(f"{question} [y/N] ").strip().lower() not in ("y", "yes"):
        raise InputError("confirmation", "not confirmed; nothing was written", "run again and answer y")


def _guard_switch(gap, args: argparse.Namespace, what: str) -> bool:
    """When switching would leave files on disk out of the bucket, say so and go ahead only on the
    typed count (--accept-missing-media, or typed at the terminal): never on --yes alone. True when
    the operator typed it (the usual y/N is then not asked again)."""
    from .migrate.gap import require_typed
    if gap is None:
        return False
    if not args.json:
        for line in gap.lines():
            print(("warning: " if not gap.safe else "media: ") + line)
    if gap.safe:
        return False
    if args.accept_missing_media is not None:
        require_typed(gap, args.accept_missing_media, what, "--accept-missing-media")
        return True
    if args.json or not sys.stdin.isatty():
        require_typed(gap, None, what, "--accept-missing-media")
    typed = input(f"Type {gap.token} to {what} anyway (anything else cancels): ")
    require_typed(gap, typed, what, "the typed count")
    return True


def cmd_apply(args: argparse.Namespace) -> int:
    from .migrate.gap import gap_before_write
    plan, notes = _plan(args)
    if plan.empty:
        msg = {"path": plan.env.path, "changed": False, "backup": None}
        print(json.dumps(msg) if args.json else f"{plan.env.path}: nothing to change")
        return 0
    if not args.json:
        for n in notes + plan.notes:
            print(f"note: {n}")
        print(plan.diff(), end="")
    gap = gap_before_write(plan)
    if not _guard_switch(gap, args, "switch"):
        _confirm(f"Write these changes to {plan.env.path}?", args.yes)
    result = apply_plan(plan)
    if args.json:
        print(json.dumps({"path": result.path, "changed": True, "backup": result.backup,
                          "changes": [c.masked() for c in plan.changes],
                          "media_gap": gap.to_json() if gap else None}, indent=2))
    else:
        print(f"backup: {result.backup}")
        print(f"wrote {result.path} ({len(plan.changes)} change{'s' if len(plan.changes) != 1 else ''}); "
              "restart Mastodon (web, sidekiq, streaming) for it to take effect")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    host = _host(args)
    path = _env_path(args, host)
    backup = args.backup or next(iter(list_backups(host, path)), None)
    if backup is None:
        raise TargetError(path, "has no backup to restore", "give one with --backup PATH")
    if not args.json:
        restored = EnvDocument.from_bytes(host.read_bytes(backup), source=backup)
        current = EnvDocument.from_bytes(host.read_bytes(path), source=path) if host.exists(path) else EnvDocument("")
        print(f"restore {backup} over {path}")
        print("".join(difflib.unified_diff(masked_lines(current), masked_lines(restored),
                                           fromfile=f"{path} (now)", tofile=f"{backup}")), end="")
    _confirm(f"Restore {backup} over {path}?", args.yes)
    result = rollback(host, path, backup)
    if args.json:
        print(json.dumps({"path": result.path, "restored_from": result.restored_from,
                          "saved_current": result.saved_current}, indent=2))
    else:
        if result.saved_current:
            print(f"saved the replaced file as {result.saved_current}")
        print(f"restored {result.path} from {result.restored_from}; restart Mastodon for it to take effect")
    return 0


def cmd_restart(args: argparse.Namespace) -> int:
    if not 0 < args.timeout <= 86400:
        raise InputError("--timeout", f"{args.timeout:g} is not a number of seconds from 1 to 86400", "give e.g. 300")
    from .host.commands import LocalRunner
    from .host.restart import detect, restart

    http = HttpOptions.build(args.resolve, args.ca_bundle)
    host = _host(args)
    runner = host if hasattr(host, "run") else LocalRunner()
    from .migrate.gap import gap_before_restart
    path = _env_path(args, host)
    install = detect(host, runner, path, "systemd" if args.systemd else None, args.compose)
    stream = None if args.json else (lambda line: print(f"  | {line}", flush=True))
    if not args.json:
        print(f"{install.describe()} on {runner.describe()}")
    _guard_switch(gap_before_restart(host, path, http), args, "restart")
    report = restart(runner, install, args.instance, http, on_line=stream, timeout=args.timeout)
    extra = {"install": {"kind": install.kind, "services": install.services, "compose_file": install.compose_file}}
    code = print_checks(report.checks, args.json, install.notes, extra)
    if not args.json:
        for c in report.checks:
            for line in c.evidence.get("log", []):
                print(f"      {c.id.split('.', 1)[-1]} | {line}")
    return code


def cmd_prune_cache(args: argparse.Namespace) -> int:
    from .host.commands import LocalRunner
    from .host.restart import detect
    from .migrate.inventory import human_bytes, source_dir
    from .migrate.prune import check_days, prune_command, run_prune
    days = check_days(args.days)
    host = _host(args)
    try:
        runner = host if hasattr(host, "run") else LocalRunner()
        path = _env_path(args, host)
        install = detect(host, runner, path, "systemd" if args.systemd else None, args.compose)
        try:                           # only for the size shown: tootctl reads the env file itself
            values = EnvFile.read(host, path).doc.values()
        except TargetError:            # an admin login without --sudo-user: Mastodon's default place
            values = {}
        cache = posixpath.join(source_dir(path, values), "cache")      # PAPERCLIP_ROOT_PATH honoured
        r = runner.run(["du", "-sb", cache], timeout=600)
        size = int(r.stdout.split()[0]) if r.ok and r.stdout.strip() else None
        cmd = prune_command(runner, install, path, days)
        if not args.json:
            print(f"cache/ (other servers' media) on {runner.describe()}: "
                  f"{human_bytes(size) if size is not None else 'size unknown'}")
            print(f"runs: {cmd.describe()}")
            print(f"it deletes cached copies of remote media older than {days} days; Mastodon fetches them "
                  "again when someone views them (avatars and headers are kept)")
        _confirm(f"Run tootctl media remove --days {days} on {runner.describe()}?", args.yes,
                 ("no terminal to ask before running tootctl", "add --yes to run it"))
        ok, tail = run_prune(runner, cmd, on_line=None if args.json else (lambda line: print(f"  | {line}")))
        if args.json:
            print(json.dumps({"ok": ok, "command": cmd.describe(), "cache_bytes_before": size, "output": tail}))
        elif not ok:
            print("tootctl failed: " + " / ".join(tail[-3:]), file=sys.stderr)
        return 0 if ok else 1
    finally:
        if hasattr(host, "close"):
            host.close()


def cmd_token(args: argparse.Namespace) -> int:
    from .instance import oauth
    from .net import HttpOptions
    http = HttpOptions.build(args.resolve, args.ca_bundle)
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
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from .checklist.knowledge import for_check, match_logs
    from .host.commands import LocalRunner
    from .host.restart import detect, logs

    checks, host, path = _run_check(args)
    runner = host if hasattr(host, "run") else LocalRunner()
    findings, log_note = [], None
    try:
        install = detect(host, runner, path)
        for service in install.services:
            if "streaming" in service:
                continue
            findings += match_logs(logs(runner, install, service, lines=500), service)
    except Exception as e:  # noqa: BLE001 - logs are a bonus: say why they are missing
        log_note = f"logs not read: {e}"
    diagnosis = []
    for c in checks:
        if c.status == "fail":
            e = for_check(c)
            diagnosis.append({"check": c.id, "entry": e.id if e else None, "title": e.title if e else c.title,
                              "cause": e.cause if e else c.detail, "fix": e.fix if e else c.fix,
                              "doc": e.link if e else None})
    for f in findings:
        diagnosis.append({"log": f.source, "entry": f.entry.id, "title": f.entry.title, "count": f.count,
                          "sample": f.sample, "cause": f.entry.cause, "fix": f.entry.fix, "doc": f.entry.link})
    if args.json:
        doc = report(checks)
        doc["diagnosis"] = diagnosis
        if log_note:
            doc["notes"] = [log_note]
        print(json.dumps(doc, indent=2, default=str))
        return 0 if doc["ok"] and not findings else 1
    code = print_checks(checks, False, [log_note] if log_note else [])
    print()
    if not diagnosis:
        print("diagnosis: nothing wrong found")
        return code
    print("diagnosis:")
    for d in diagnosis:
        where = f"{d['log']} log, {d['count']} line(s)" if "log" in d else f"check {d['check']}"
        print(f"- {d['title']} ({where})")
        print(f"  cause: {d['cause']}")
        print(f"  fix: {d['fix']}")
        if d.get("sample"):
            print(f"  e.g.: {d['sample']}")
        if d.get("doc"):
            print(f"  see: {d['doc']}")
    return 1


def cmd_check(args: argparse.Namespace) -> int:
    checks, _, _ = _run_check(args)
    return print_checks(checks, args.json, [])


def _run_check(args: argparse.Namespace):
    import posixpath

    from .checklist.checks import NOT_ENABLED, NOT_ENABLED_FIX, Context, run_checks, sample_local_media

    http = HttpOptions.build(args.resolve, args.ca_bundle)
    host = _host(args)
    path = _env_path(args, host)
    env = EnvFile.read(host, path)
    values = env.doc.values()
    settings, error, fix, notes = None, None, "", []
    try:
        reading = from_env(values)
        notes = list(reading.notes)
        settings = reading.settings
        if not reading.enabled:
            error, fix = NOT_ENABLED, NOT_ENABLED_FIX
    except InputError as e:
        error, fix = f"{e.field}: {e.message}", e.fix
    writer = None
    if settings is not None:
        key_id = settings.access_key_id or os.environ.get("AWS_ACCESS_KEY_ID")
        secret = settings.secret_access_key or (Secret(os.environ["AWS_SECRET_ACCESS_KEY"])
                                                if os.environ.get("AWS_SECRET_ACCESS_KEY") else None)
        writer = Credential(key_id, secret) if key_id and secret else None
    token_text = os.environ.get("MASTODON_ACCESS_TOKEN") or (_ask("Access token (write:media, not saved): ", True)
                                                            if args.instance else None)
    ctx = Context(settings, writer, args.instance, Secret(token_text) if token_text else None, http,
                  settings_error=error, settings_fix=fix, notes=notes,
                  old_urls=sample_local_media(host, posixpath.dirname(path)), poll_timeout=args.poll_timeout)
    return run_checks(ctx), host, path


def cmd_migrate(args: argparse.Namespace) -> int:
    from .migrate.run import migrate
    if args.jobs < 1 or args.jobs > 256:
        raise InputError("--jobs", f"{args.jobs} is out of range", "use 1 to 256")
    if args.transfer and not args.ssh:
        raise InputError("--transfer", "only works with --ssh", "the files are read from this disk without it")
    host = _host(args) if args.ssh else None
    path = _env_path(args, host)
    values = read_values(path, host) if (args.env_file or not _flags_given(args)) else {}
    settings, notes, _ = load_settings(args, values=values if values else None)
    writer = writer_credential(settings)
    http = HttpOptions.build(args.resolve, args.ca_bundle)

    def confirm(question: str) -> None:
        _confirm(question, args.yes, ("no terminal to ask before copying",
                                      "look at the inventory (or run with --dry-run), then add --yes"))
    try:
        return migrate(settings, writer, path, values, source=args.source, jobs=args.jobs, dry_run=args.dry_run,
                       verify=args.verify, http=http, as_json=args.json, confirm=confirm, notes=notes,
                       host=host, transfer=args.transfer or "tar")
    finally:
        if host is not None:
            host.close()


def cmd_providers(args: argparse.Namespace) -> int:
    provs = all_providers()
    if args.json:
        print(json.dumps([{"id": p.id, "name": p.name, "endpoint_pattern": p.endpoint_pattern,
                           "default_region": p.default_region, "object_acls": p.object_acls,
                           "default_permission": p.default_permission} for p in provs], indent=2))
        return 0
    for p in provs:
        print(f"{p.id:14} {p.name:32} acl: {p.object_acls:20} recommended: {p.default_permission}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Everything the CLI prints passes through scrub_known(): no secret value this process holds and
    no URL's userinfo reaches the terminal, a pipe or a JSON document, whichever code printed it."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = ScrubbedStream(out), ScrubbedStream(err)
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = out, err


def precheck(args: argparse.Namespace) -> None:
    """Every value given as a flag is checked before anything is read, connected or written (a bad
    --bucket is refused before the SSH login, not after): URLs parsed once, names checked."""
    from . import validate
    if getattr(args, "instance", None) is not None:
        args.instance = validate.instance_url(args.instance, "--instance")
    checks = {"bucket": validate.bucket_name, "endpoint": validate.endpoint_url, "region": validate.region,
              "key_prefix": lambda v: validate.key_prefix(v, "key-prefix"),
              "alias_host": lambda v: validate.host_name(v, "alias-host")}
    for dest, check in checks.items():
        value = getattr(args, dest, None)
        if value is not None:
            check(value)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    secrets = [os.environ.get(k) for k in ("AWS_SECRET_ACCESS_KEY", "MASTOWIZARD_ADMIN_SECRET_ACCESS_KEY",
                                           "MASTODON_ACCESS_TOKEN", "MASTOWIZARD_SUDO_PASSWORD",
                                           "MASTOWIZARD_SSH_PASSWORD")]
    try:
        args = parser.parse_args(argv)
        precheck(args)
        if args.command is None:
            parser.print_help()
            return 0
        if args.command == "policy":
            return cmd_policy(args)
        if args.command == "probe":
            return cmd_probe(args)
        if args.command == "setup-bucket":
            return cmd_probe(args, setup=True)
        commands = {"show": cmd_show, "plan": cmd_plan, "apply": cmd_apply, "rollback": cmd_rollback,
                    "restart": cmd_restart, "check": cmd_check, "doctor": cmd_doctor, "providers": cmd_providers,
                    "migrate": cmd_migrate, "prune-cache": cmd_prune_cache,
                    "token": cmd_token}
        if args.command in commands:
            return commands[args.command](args)
        raise InputError("command", f"unknown command {args.command!r}", "see `mastowizard --help`")
    except MastowizardError as e:
        print(f"mastowizard: {scrub(str(e), secrets)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mastowizard: interrupted; nothing was changed", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - one line, never a traceback (MASTOWIZARD_DEBUG=1 shows it)
        if os.environ.get("MASTOWIZARD_DEBUG"):
            raise
        print(f"mastowizard: internal error: {type(e).__name__}: {scrub(str(e), secrets)} "
              "(rerun with MASTOWIZARD_DEBUG=1 and report it)", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
