"""The command line's front door: build the parser from each family's commands, check the flags,
dispatch, and turn any error into one line and an exit status."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .. import __version__
from ..argv import Parser
from ..errors import InputError, MastowizardError
from ..secrets import ScrubbedStream, scrub
from . import bucket, checklist, envfile, instance, media, repair, watch
from .status import ExitStatus, error_line

FAMILIES = (bucket, envfile, instance, checklist, media, repair, watch)
SECRET_VARIABLES = ("AWS_SECRET_ACCESS_KEY", "MASTOWIZARD_ADMIN_SECRET_ACCESS_KEY", "MASTODON_ACCESS_TOKEN",
                    "MASTOWIZARD_SUDO_PASSWORD", "MASTOWIZARD_SSH_PASSWORD")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="mastowizard",
                    description="Move a Mastodon instance's media to S3 object storage, and prove it works.",
                    epilog="The wizard: `mastowizard` alone in a terminal (or `mastowizard wizard --ssh HOST ...`, see "
                           "`mastowizard wizard --help`); `mastowizard web` serves it to a browser (see "
                           "`mastowizard web --help`); `mastowizard demo` opens it against the embedded demo lab.")
    parser.add_argument("--version", action="version", version=f"mastowizard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for family in FAMILIES:
        family.add_parsers(sub)
    return parser


def precheck(args: argparse.Namespace) -> None:
    """Every value given as a flag is checked before anything is read, connected or written (a bad
    --bucket is refused before the SSH login, not after): URLs parsed once, names checked."""
    from .. import validate
    if getattr(args, "instance", None) is not None:
        args.instance = validate.instance_url(args.instance, "--instance")
    checks = {"bucket": validate.bucket_name, "endpoint": validate.endpoint_url, "region": validate.region,
              "key_prefix": lambda v: validate.key_prefix(v, "key-prefix"),
              "alias_host": lambda v: validate.host_name(v, "alias-host")}
    for dest, check in checks.items():
        value = getattr(args, dest, None)
        if value is not None:
            check(value)


def main(argv: Sequence[str] | None = None) -> int:
    """Everything the CLI prints passes through scrub(): no secret value this process holds and
    no URL's userinfo reaches the terminal, a pipe or a JSON document, whichever code printed it."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = ScrubbedStream(out), ScrubbedStream(err)
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = out, err


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    secrets = [os.environ.get(k) for k in SECRET_VARIABLES]
    commands = {name: fn for family in FAMILIES for name, fn in family.COMMANDS.items()}
    try:
        args = parser.parse_args(argv)
        precheck(args)
        if args.command is None:
            parser.print_help()
            return ExitStatus.OK
        if args.command not in commands:
            raise InputError("command", f"unknown command {args.command!r}", "see `mastowizard --help`")
        return commands[args.command](args)
    except MastowizardError as e:
        print(error_line(scrub(str(e), secrets)), file=sys.stderr)
        return ExitStatus.BAD_INPUT
    except KeyboardInterrupt:
        print(error_line("interrupted; nothing was changed"), file=sys.stderr)
        return ExitStatus.INTERRUPTED
    except Exception as e:  # one line, never a traceback (MASTOWIZARD_DEBUG=1 shows it)
        if os.environ.get("MASTOWIZARD_DEBUG"):
            raise
        print(error_line(f"internal error: {type(e).__name__}: {scrub(str(e), secrets)} "
                         "(rerun with MASTOWIZARD_DEBUG=1 and report it)"), file=sys.stderr)
        return ExitStatus.INTERNAL_ERROR
