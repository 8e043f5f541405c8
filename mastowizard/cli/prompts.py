"""Asking the operator on the terminal, and refusing (with the flag to give) where there is none."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

from ..errors import InputError


def ask(prompt: str, secret: bool) -> str | None:
    """PROMPT answered on the terminal (hidden when SECRET); None without a terminal."""
    if not sys.stdin.isatty():
        return None
    return getpass.getpass(prompt) if secret else input(prompt)


def confirm(question: str, yes: bool, no_terminal: tuple[str, str] = (
        "no terminal to ask for confirmation", "review the diff with `plan`, then add --yes")) -> None:
    """Ask QUESTION on the terminal unless YES; without a terminal, refuse with NO_TERMINAL (problem, fix)."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise InputError("--yes", *no_terminal)
    if input(f"{question} [y/N] ").strip().lower() not in ("y", "yes"):
        raise InputError("confirmation", "not confirmed; nothing was written", "run again and answer y")


def guard_switch(gap, args: argparse.Namespace, what: str) -> bool:
    """When switching would leave files on disk out of the bucket, say so and go ahead only on the
    typed count (--accept-missing-media, or typed at the terminal): never on --yes alone. True when
    the operator typed it (the usual y/N is then not asked again)."""
    from ..migrate.gap import require_typed
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


class CliPrompter:
    """Asks on the terminal; with no terminal, nobody is asked (the caller says what to set)."""

    def secret(self, prompt: str) -> str | None:
        return ask(prompt, True)

    def confirm_host_key(self, host: str, key_type: str, fingerprint: str) -> bool:
        if not sys.stdin.isatty():
            return False
        print(f"The host key of {host} is not known yet: {key_type} {fingerprint}", file=sys.stderr)
        return input("Is this the server's fingerprint? Trust it [y/N] ").strip().lower() in ("y", "yes")


def private_media_chooser(args: argparse.Namespace, warning: Callable[[object], str], nothing_done: str):
    """The question a suspect bucket asks: keep its private media attachments private, or make them
    public. WARNING(survey) is printed first; without a terminal (or with --yes or --json) it refuses,
    naming --private-media."""
    def decide(survey) -> str:
        if not args.json:
            print("warning: " + warning(survey))
        if args.yes or args.json or not sys.stdin.isatty():
            raise InputError("--private-media", "the bucket is mostly private, and its private media attachments "
                             "may be suspended accounts' media", "run with --dry-run to see the counts, then give "
                             "--private-media keep or --private-media public")
        answer = input("Private media attachments: keep them private, or make them public? [keep/public] ")
        if answer.strip().lower() not in ("keep", "public"):
            raise InputError("--private-media", f"not chosen; {nothing_done}", "answer keep or public")
        return answer.strip().lower()
    return decide
