"""The wizard's own arguments, shared by `mastowizard [wizard]` and `mastowizard web`: where the
instance is and how to reach it, over the saved profile. None takes a secret (the sudo password,
keys and the token are typed into the wizard, memory only)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:        # the launcher reads FLAGS before the wizard starts: nothing heavy at import
    from mastowizard.session import Answers

# (flag, Answers field, metavar, help); every one is a value, none a secret
OPTIONS = [
    ("--ssh", "ssh", "[USER@]HOST[:PORT]", "the Mastodon host over SSH (a Host from ~/.ssh/config works)"),
    ("--sudo-user", "sudo_user", "USER", "read and write the instance's files as USER through sudo"),
    ("--env-file", "env_file", "PATH", "the instance's .env.production"),
    ("--known-hosts", "known_hosts", "FILE", "known_hosts file (default ~/.ssh/known_hosts)"),
    ("--identity", "identity", "FILE", "private key file (default: from ~/.ssh/config, the agent)"),
    ("--accept-host-key", "accept_host_key", "SHA256:...",
     "trust this host key fingerprint if the host is not in known_hosts yet"),
    ("--instance", "instance", "URL", "the instance's URL, e.g. https://mastodon.example"),
    ("--ca-bundle", "ca_bundle", "FILE", "trust these CA certificates for HTTPS"),
]
FLAGS = {flag for flag, *_ in OPTIONS} | {"--resolve"}


def add_wizard_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("the instance (prefilled in the wizard, over the saved profile)")
    for flag, dest, metavar, text in OPTIONS:
        g.add_argument(flag, dest=dest, metavar=metavar, help=text)
    g.add_argument("--resolve", metavar="HOST:PORT:ADDR", action="append", default=[],
                   help="reach HOST:PORT at ADDR (as curl --resolve); repeatable")


def wizard_parser() -> argparse.ArgumentParser:
    from mastowizard.argv import Parser as _Parser
    p = _Parser(prog="mastowizard wizard", description="The terminal wizard (also `mastowizard` alone).")
    add_wizard_options(p)
    return p


def apply(answers: Answers, args: argparse.Namespace) -> Answers:
    """The flags given, over ANSWERS (the profile); --ssh also makes the target SSH."""
    for _flag, dest, *_ in OPTIONS:
        value = getattr(args, dest, None)
        if value is not None:
            setattr(answers, dest, value)
    if getattr(args, "ssh", None):
        answers.target = "ssh"
    if getattr(args, "resolve", None):
        answers.resolve = list(args.resolve)
    return answers


def to_argv(args: argparse.Namespace) -> list[str]:
    """The wizard flags given, back as arguments (for the wizard processes `mastowizard web` starts)."""
    argv: list[str] = []
    for flag, dest, *_ in OPTIONS:
        value = getattr(args, dest, None)
        if value is not None:
            argv += [flag, value]
    for r in getattr(args, "resolve", None) or []:
        argv += ["--resolve", r]
    return argv
