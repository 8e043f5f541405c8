"""The `mastowizard` command: with no command (or `wizard`) the terminal wizard, else the headless CLI."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args in ([], ["wizard"]) and sys.stdin.isatty() and sys.stdout.isatty():
        from mastowizard.session import Session, load_answers

        from .app import WizardApp
        WizardApp(Session(load_answers())).run()
        return 0
    from mastowizard.cli import main as cli_main
    return cli_main(args or ["--help"])


if __name__ == "__main__":
    sys.exit(main())
