"""The `mastowizard` command: with no command (or `wizard`) the terminal wizard, else the headless CLI."""

from __future__ import annotations

import sys

from .args import FLAGS as WIZARD_FLAGS


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["demo"]:
        return demo(args[1:])
    if args[:1] == ["web"]:
        from .web import main as web_main
        return web_main(args[1:])
    if args[:1] == ["wizard"] or (args and args[0].split("=")[0] in WIZARD_FLAGS) or \
            (not args and sys.stdin.isatty() and sys.stdout.isatty()):
        return wizard(args[1:] if args[:1] == ["wizard"] else args)
    from mastowizard.cli import main as cli_main
    return cli_main(args or ["--help"])


def wizard(args: list[str]) -> int:
    """The terminal wizard, its answers prefilled from the profile and the flags given."""
    from mastowizard.errors import MastowizardError
    from mastowizard.session import Session, load_answers

    from .args import apply, wizard_parser
    try:
        parsed = wizard_parser().parse_args(args)
    except MastowizardError as e:
        print(f"mastowizard: {e}", file=sys.stderr)
        return 2
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        print("mastowizard: the wizard needs a terminal (stdin and stdout are not one): run it in a terminal, "
              "use `mastowizard web` for a browser, or the commands in `mastowizard --help` in a script",
              file=sys.stderr)
        return 2
    from .app import WizardApp
    WizardApp(Session(apply(load_answers(), parsed))).run()
    return 0


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
