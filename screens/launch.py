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
        return demo()
    from mastowizard.cli import main as cli_main
    return cli_main(args or ["--help"])


def demo() -> int:
    """Start the embedded demo lab and the wizard against it."""
    print("mastowizard demo: starting the lab (Ceph RGW, nginx, sshd with a Mastodon instance) ...", flush=True)
    try:
        from mastowizard_lab.demo import prepare
        session = prepare()
    except Exception as e:  # noqa: BLE001 - one line, not a traceback
        print(f"mastowizard demo: the lab did not start: {e}", file=sys.stderr)
        return 2
    from .app import WizardApp
    WizardApp(session, save_profile=False).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
