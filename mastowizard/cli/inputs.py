"""The command line's input as the engine's values: settings from flags and the env file, the keys
from the environment (or asked), the host (this machine or --ssh) and the env file's path."""

from __future__ import annotations

import argparse
import os
from typing import Any

from ..env.file import default_env_file
from ..env.plan import EnvFile
from ..errors import InputError
from ..host.interface import Host
from ..net import HttpOptions
from ..options import SETTINGS_DESTS
from ..s3.credential import Credential
from ..secrets import Secret
from ..settings import Settings, from_env
from .prompts import CliPrompter, ask


def http_options(args: argparse.Namespace) -> HttpOptions:
    import dataclasses
    http = HttpOptions.build(args.resolve, args.ca_bundle)
    rate = getattr(args, "max_rate", None)
    if rate is None:
        return http
    if not 0 < rate <= 1_000_000:
        raise InputError("--max-rate", f"{rate:g} requests/s is out of range", "give a number above 0, e.g. 400")
    return dataclasses.replace(http, max_rate=rate)


def flags_given(args: argparse.Namespace) -> bool:
    return any(getattr(args, f, None) for f in SETTINGS_DESTS)


def load_settings(args: argparse.Namespace, values: dict[str, str] | None = None
                  ) -> tuple[Settings, list[str], dict[str, str]]:
    """Settings from flags, from the env file, or the env file overridden by flags."""
    notes: list[str] = []
    env: dict[str, str] = {}
    if args.env_file or not flags_given(args):
        path = args.env_file or default_env_file()
        env = values if values is not None else env_values(None, path)
        reading = from_env(env)
        notes += reading.notes
        if not reading.enabled:
            if not flags_given(args):
                raise InputError("--env-file", f"{path} has no object storage (S3_ENABLED is not true): "
                                 "media is on local disk", "give settings flags (--bucket, --provider, ...) "
                                 "to test a new bucket")
        else:
            base = reading.settings
            if not flags_given(args):
                return _with_mastodon_env(args, base), notes, env
            return _with_mastodon_env(args, _from_flags(args, base)), notes, env
    return _with_mastodon_env(args, _from_flags(args, None)), notes, env


def _with_mastodon_env(args: argparse.Namespace, settings: Settings) -> Settings:
    """SETTINGS with the --mastodon-env NAME=VALUE pairs `migrate` was given (what a shard's command
    line carries from the planner's env file): S3_PERMISSION and the variables that shape objects."""
    import dataclasses

    from ..settings import EXTRA_VARIABLES
    pairs = getattr(args, "mastodon_env", None) or []
    if not pairs:
        return settings
    extra, acl = dict(settings.extra_env), settings.acl_override
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or (name not in EXTRA_VARIABLES and name != "S3_PERMISSION"):
            raise InputError("--mastodon-env", f"{pair!r} is not one of the S3 variables it takes",
                             "give NAME=VALUE with NAME one of S3_PERMISSION, " + ", ".join(sorted(EXTRA_VARIABLES)))
        if name == "S3_PERMISSION":
            acl = value if value not in ("public-read", "") else None
            if value in ("public-read", "") and (value == "") != (settings.permission == "policy"):
                raise InputError("--mastodon-env", f"S3_PERMISSION={value!r} contradicts --permission "
                                 f"{settings.permission}", "leave one of them out")
        else:
            extra[name] = value
    return dataclasses.replace(settings, extra_env=extra, acl_override=acl)

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


def env_values(host: Host | None, path: str) -> dict[str, str]:
    """The env file's values, as Mastodon reads them (this machine's file when HOST is None)."""
    from ..host.local import LocalHost
    return EnvFile.read(host or LocalHost(), path).doc.values()


def public_settings(s: Settings) -> dict[str, Any]:
    return {"provider": s.provider, "bucket": s.bucket, "region": s.region, "endpoint": s.endpoint,
            "addressing": s.addressing, "permission": s.permission, "alias_host": s.alias_host,
            "protocol": s.protocol, "key_prefix": s.key_prefix}


def writer_credential(settings: Settings) -> Credential:
    key_id = settings.access_key_id or os.environ.get("AWS_ACCESS_KEY_ID") or ask("Writer access key id: ", False)
    secret = settings.secret_access_key or (
        Secret(os.environ["AWS_SECRET_ACCESS_KEY"]) if os.environ.get("AWS_SECRET_ACCESS_KEY") else None)
    if secret is None:
        typed = ask("Writer secret access key: ", True)
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
    from ..s3 import profiles
    return profiles.load(name.strip())


def admin_credential(required: bool) -> Credential | None:
    key_id = os.environ.get("MASTOWIZARD_ADMIN_ACCESS_KEY_ID")
    secret = os.environ.get("MASTOWIZARD_ADMIN_SECRET_ACCESS_KEY")
    if not (key_id and secret) and required:
        key_id = key_id or ask("Admin access key id (not saved): ", False)
        secret = secret or ask("Admin secret access key (not saved): ", True)
    if key_id and secret:
        return Credential(key_id.strip(), Secret(secret))
    if required:
        raise InputError("MASTOWIZARD_ADMIN_ACCESS_KEY_ID", "an admin credential is needed to change the bucket",
                         "give --admin-profile NAME (an AWS profile), or export MASTOWIZARD_ADMIN_ACCESS_KEY_ID and "
                         "MASTOWIZARD_ADMIN_SECRET_ACCESS_KEY")
    return None


def host_of(args: argparse.Namespace) -> Host:
    """This machine, or the --ssh target (connected, host key checked)."""
    from ..host.connect import open_host

    def env_secret(name: str) -> Secret | None:
        return Secret(os.environ[name]) if os.environ.get(name) else None
    return open_host(getattr(args, "ssh", None) or None, ssh_config=getattr(args, "ssh_config", None),
                     known_hosts=getattr(args, "known_hosts", None),
                     accept_host_key=getattr(args, "accept_host_key", None), identity=getattr(args, "identity", None),
                     sudo_user=getattr(args, "sudo_user", None), sudo_password=env_secret("MASTOWIZARD_SUDO_PASSWORD"),
                     ask_sudo_password=True, ssh_password=env_secret("MASTOWIZARD_SSH_PASSWORD"),
                     key_passphrase=env_secret("MASTOWIZARD_SSH_KEY_PASSPHRASE"), prompt=CliPrompter())


def host_path(args: argparse.Namespace, host: Host, flag: str, value: str | None, fix: str | None = None
              ) -> str | None:
    """VALUE as an absolute path on HOST (a relative one is taken from here only on this machine), refused
    when missing there with FIX (not looked for when FIX is None)."""
    import posixpath
    if value is None:
        return None
    if not value.startswith("/"):
        if getattr(args, "ssh", None):
            raise InputError(flag, f"{value!r} is a relative path", f"give its absolute path on {host.describe()}")
        value = os.path.abspath(value)
    value = posixpath.normpath(value)
    if fix is not None and not host.exists(value):
        raise InputError(flag, f"{value} does not exist on {host.describe()}", fix or "check the path")
    return value


def env_path(args: argparse.Namespace, host: Host | None = None) -> str:
    """--env-file, or the default, or where the mastodon-web unit says the live directory is."""
    if args.env_file or host is None:
        return args.env_file or default_env_file()
    from ..host.restart import locate_env_file
    return locate_env_file(host, default_env_file())
