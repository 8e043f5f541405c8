"""argparse as every mastowizard command uses it (the CLI's, the wizard's, `web`'s): bad usage is one
line naming the flag and the fix (exit 2), and a flag given an empty value is refused. Light on
purpose: the wizard's launcher parses with it before its first screen."""

from __future__ import annotations

import argparse

from .errors import InputError


class Parser(argparse.ArgumentParser):
    """argparse that reports bad usage as one line with the fix, exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError("usage", message, f"see `{self.prog} --help`")

    def parse_args(self, args=None, namespace=None):  # type: ignore[override]
        parsed = super().parse_args(args, namespace)
        refuse_empty_values(parsed)
        return parsed


def refuse_empty_values(args: argparse.Namespace) -> None:
    """A flag given with an empty value is a mistake, never "not given": `--ssh ""` must not mean this
    machine, nor `--bucket ""` the env file's bucket."""
    for dest, value in sorted(vars(args).items()):
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, str) and not v.strip() for v in values):
            flag = "--" + dest.replace("_", "-")
            raise InputError(flag, "is empty", f"give a value, or leave {flag} out")
