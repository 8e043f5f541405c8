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
    if args[:1] == ["demo"]:
        return demo(args[1:])
    from mastowizard.cli import main as cli_main
    return cli_main(args or ["--help"])


def demo(args: list[str]) -> int:
    """The embedded demo lab and the wizard against it; --smoke walks it without a terminal, --down
    stops the lab and removes what it left on the machine."""
    from mastowizard_lab import demo as lab_demo
    if args not in ([], ["--smoke"], ["--down"]):
        print("mastowizard demo: takes --smoke (walk it headless) or --down (stop and remove the lab)",
              file=sys.stderr)
        return 2
    try:
        if args == ["--down"]:
            lab_demo.down()
            return 0
        if args == ["--smoke"]:
            ok = lab_demo.smoke()
            print("mastowizard demo: " + ("every step passed" if ok else "a step failed (above)"))
            return 0 if ok else 1
        session = lab_demo.prepare()
    except Exception as e:  # noqa: BLE001 - one line, not a traceback
        print(f"mastowizard demo: the lab did not start: {e}", file=sys.stderr)
        return 2
    print("mastowizard demo: opening the wizard (ctrl+q quits; `mastowizard demo --down` removes the lab)",
          flush=True)
    from .app import WizardApp
    WizardApp(session, save_profile=False).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
