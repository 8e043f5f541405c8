"""One wizard process as `mastowizard web` starts it for a browser (textual-serve's WebDriver).

Its stdout is the terminal stream to the page: nothing else may write there. So the stream is
moved to a descriptor of its own for Textual's driver, and descriptor 1 (print, and every child
process a step starts) goes to stderr, which the server keeps."""

from __future__ import annotations

import os
import sys


def _keep_stdout_for_textual() -> None:
    stream = os.dup(1)
    os.dup2(2, 1)
    sys.__stdout__ = os.fdopen(stream, "w", buffering=1)
    sys.stdout = sys.stderr


def main(argv: list[str] | None = None) -> int:
    _keep_stdout_for_textual()
    args = list(sys.argv[1:] if argv is None else argv)
    demo = "--demo" in args
    if demo:
        args.remove("--demo")
    from mastowizard.errors import MastowizardError

    from .app import WizardApp
    from .args import apply, wizard_parser
    try:
        parsed = wizard_parser().parse_args(args)
        if demo:
            from mastowizard_lab import demo as lab_demo
            session, save = lab_demo.prepare(say=lambda *_: None), False
        else:
            from mastowizard.session import Session, load_answers
            session, save = Session(apply(load_answers(), parsed)), True
    except MastowizardError as e:
        print(f"mastowizard: {e}", file=sys.stderr)
        return 2
    WizardApp(session, save_profile=save).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
