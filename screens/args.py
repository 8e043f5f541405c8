"""The wizard's own arguments, shared by `mastowizard [wizard]` and `mastowizard web`: where the
instance is and how to reach it, over the saved profile. None takes a secret (the sudo password,
keys and the token are typed into the wizard, memory only)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from mastowizard.options import WIZARD, add

if TYPE_CHECKING:        # the launcher reads FLAGS before the wizard starts: nothing heavy at import
    from mastowizard.session import Answers

FLAGS = {o.flag for o in WIZARD.options}     # a command line starting with one opens the wizard


def add_wizard_options(p: argparse.ArgumentParser) -> None:
    add(p, WIZARD)


def wizard_parser() -> argparse.ArgumentParser:
    from mastowizard.argv import Parser as _Parser
    p = _Parser(prog="mastowizard wizard", description="The terminal wizard (also `mastowizard` alone).")
    add_wizard_options(p)
    return p


def apply(answers: Answers, args: argparse.Namespace) -> Answers:
    """The flags given, over ANSWERS (the profile); --ssh also makes the target SSH."""
    for o in WIZARD.options:
        value = getattr(args, o.dest, None)
        if value is not None and o.flag != "--resolve":
            setattr(answers, o.dest, value)
    if getattr(args, "ssh", None):
        answers.target = "ssh"
    if getattr(args, "resolve", None):
        answers.resolve = list(args.resolve)
    return answers


def to_argv(args: argparse.Namespace) -> list[str]:
    """The wizard flags given, back as arguments (for the wizard processes `mastowizard web` starts)."""
    argv: list[str] = []
    for o in WIZARD.options:
        value = getattr(args, o.dest, None)
        if value is not None and o.flag != "--resolve":
            argv += [o.flag, value]
    for r in getattr(args, "resolve", None) or []:
        argv += ["--resolve", r]
    return argv
