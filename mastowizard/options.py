"""Every option the commands share, defined once as data: the CLI's commands and the wizard's launcher
add the same flags with the same help. Light on purpose: the launcher reads it before its first screen."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, replace
from typing import Any

from .env import DEFAULT_ENV_FILE


@dataclass(frozen=True)
class Option:
    flag: str
    help: str | None = None
    metavar: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)     # action, type, default, choices, required

    @property
    def dest(self) -> str:
        return self.kwargs.get("dest") or self.flag.lstrip("-").replace("-", "_")

    def but(self, **changes: Any) -> Option:
        """This option with another help or metavar, or more argparse keywords (required=True)."""
        own = {k: changes.pop(k) for k in ("help", "metavar") if k in changes}
        return replace(self, **own, kwargs={**self.kwargs, **changes})

    def add_to(self, p: Any) -> None:
        p.add_argument(self.flag, help=self.help, **({"metavar": self.metavar} if self.metavar else {}),
                       **self.kwargs)


@dataclass(frozen=True)
class Group:
    title: str | None
    options: tuple[Option, ...]
    exclusive: bool = False            # at most one of them

    def add_to(self, p: argparse.ArgumentParser) -> None:
        target = p.add_mutually_exclusive_group() if self.exclusive else p.add_argument_group(self.title)
        for o in self.options:
            o.add_to(target)


def add(p: argparse.ArgumentParser, *items: Option | Group) -> argparse.ArgumentParser:
    for item in items:
        item.add_to(p)
    return p


ENV_FILE = Option("--env-file", f"the instance's env file (default $MASTOWIZARD_ENV_FILE or {DEFAULT_ENV_FILE}); "
                  "S3 settings are read from it exactly as Mastodon reads them", "PATH")
JSON = Option("--json", "print one JSON document on stdout", kwargs={"action": "store_true"})
YES = Option("--yes", "go ahead without asking (what it does is printed first)", kwargs={"action": "store_true"})
INSTANCE = Option("--instance", "the instance's URL, e.g. https://mastodon.example", "URL")
RESOLVE = Option("--resolve", "pin a host name to an address for every HTTP request, as curl does (repeatable)",
                 "HOST:PORT:ADDR", {"action": "append", "default": []})
CA_BUNDLE = Option("--ca-bundle", "trust these CA certificates for HTTPS", "FILE")
HTTP = (RESOLVE, CA_BUNDLE)

SETTINGS = Group("settings (instead of, or on top of, the env file)", (
    Option("--provider", "provider id from `mastowizard providers` (default aws)", "NAME"),
    Option("--bucket", metavar="NAME"),
    Option("--region", metavar="NAME"),
    Option("--endpoint", "S3 API endpoint (not for AWS)", "URL"),
    Option("--addressing", metavar="path|virtual"),
    Option("--permission", "acl: S3_PERMISSION=public-read; policy: no ACL, a bucket policy grants public read",
           "acl|policy"),
    Option("--alias-host", "public media host (S3_ALIAS_HOST)", "HOST"),
    Option("--protocol", metavar="https|http"),
    Option("--key-prefix", "S3_KEY_PREFIX", "PREFIX"),
))
SETTINGS_DESTS = tuple(o.dest for o in SETTINGS.options)

SSH = Option("--ssh", "work on the Mastodon host over SSH (a Host from ~/.ssh/config works; the agent and key "
             "files are honoured)", "[USER@]HOST[:PORT]")
ACCEPT_HOST_KEY = Option("--accept-host-key", "trust this host key fingerprint if the host is not in known_hosts yet",
                         "SHA256:...")
KNOWN_HOSTS = Option("--known-hosts", "known_hosts file (default ~/.ssh/known_hosts)", "FILE")
IDENTITY = Option("--identity", "private key file (default: from ~/.ssh/config, the agent)", "FILE")
SSH_CONFIG = Option("--ssh-config", "ssh config file (default ~/.ssh/config)", "FILE")
SUDO_USER = Option("--sudo-user", "read and write the instance's files as USER through sudo (e.g. mastodon); the "
                   "sudo password comes from MASTOWIZARD_SUDO_PASSWORD or a prompt", "USER")
REMOTE = Group("remote host (instead of this machine)",
               (SSH, ACCEPT_HOST_KEY, KNOWN_HOSTS, IDENTITY, SSH_CONFIG, SUDO_USER))

INSTALL_KIND = Group(None, (Option("--systemd", "a source install under systemd", kwargs={"action": "store_true"}),
                            Option("--compose", "a Docker Compose install in DIR", "DIR")), exclusive=True)
ACCEPT_MISSING = Option("--accept-missing-media", "when files on disk are not in the bucket yet (they would answer "
                        "404 after the switch), go ahead only with this exact count (or `unchecked` where it could "
                        "not be measured); without it a terminal asks you to type the count, and --yes alone is not "
                        "enough", "COUNT")

# The wizard's launcher: where the instance is and how to reach it, each an Answers field of the same name
WIZARD = Group("the instance (prefilled in the wizard, over the saved profile)",
               (SSH, SUDO_USER, ENV_FILE, KNOWN_HOSTS, IDENTITY, ACCEPT_HOST_KEY, INSTANCE, CA_BUNDLE, RESOLVE))
