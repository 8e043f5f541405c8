"""Benchmark: cold start to the first screen of the wizard, against a minimal Textual app, in one run.

    python3 bench/cold_start.py [--runs 10]

Each run is a new Python process, measured two ways: headless, exiting as soon as the first screen
is mounted; and in a pseudo-terminal at 100x32, from exec until the first screen's text is painted
(the `mastowizard` command as a user starts it). Wall time and peak RSS per process (os.wait4).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MINIMAL = """
from textual.app import App
from textual.widgets import Static
class Minimal(App):
    def compose(self):
        yield Static("hello")
    def on_mount(self):
        self.call_after_refresh(self.exit)
Minimal().run(headless=True)
"""

WIZARD = """
from mastowizard.session import Answers, Session
from screens.app import WizardApp
class FirstScreen(WizardApp):
    def start(self, step="target"):
        super().start(step)
        self.call_after_refresh(self.exit)
FirstScreen(Session(Answers()), save_profile=False).run(headless=True)
"""


def once(code: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    took = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(p.stderr.read().decode())
    return took, usage.ru_maxrss


def once_in_pty(argv: list[str], painted: bytes, cols: int = 100, rows: int = 32) -> tuple[float, int]:
    """exec in a pseudo-terminal of COLS x ROWS until PAINTED is on screen (the first screen drawn),
    then stop it; the time from exec, and the peak RSS."""
    import fcntl
    import pty
    import select
    import signal
    import struct
    import termios
    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        os.chdir(ROOT)
        os.environ.update(TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows),
                          XDG_CONFIG_HOME="/tmp/mastowizard-bench-config")
        os.execv(argv[0], argv)
    seen = b""
    took = None
    while took is None:
        ready, _, _ = select.select([fd], [], [], 20)
        if not ready:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        seen = (seen + chunk)[-200_000:]
        if painted in seen:
            took = time.perf_counter() - t0
    os.kill(pid, signal.SIGKILL)
    _, _, usage = os.wait4(pid, 0)
    os.close(fd)
    if took is None:
        raise SystemExit(f"{argv}: {painted!r} never painted")
    return took, usage.ru_maxrss


MINIMAL_PTY = MINIMAL.replace("        self.call_after_refresh(self.exit)\n", "        pass\n").replace(
    "Minimal().run(headless=True)", "Minimal().run()")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    once(MINIMAL), once(WIZARD)   # warm the file cache
    results = {}
    for label, code in (("minimal Textual app", MINIMAL), ("mastowizard wizard, first screen", WIZARD)):
        results[label] = [once(code) for _ in range(args.runs)]
    pty_cases = (("minimal Textual app", [sys.executable, "-c", MINIMAL_PTY], b"hello"),
                 ("mastowizard (the command), first screen", [sys.executable, "-m", "screens.launch"],
                  b"Where does Mastodon run?"))
    pty_results = {label: [once_in_pty(argv, painted) for _ in range(args.runs)] for label, argv, painted in pty_cases}
    for title, res in ((f"headless, {args.runs} runs each: exec to the first screen mounted", results),
                       (f"in a pty at 100x32, {args.runs} runs each: exec to the first screen painted", pty_results)):
        print(title)
        print(f"{'app':42} {'median s':>9} {'min s':>7} {'max s':>7} {'peak RSS MiB':>13}")
        medians = []
        for label, samples in res.items():
            times = [t for t, _ in samples]
            medians.append(statistics.median(times))
            print(f"{label:42} {medians[-1]:9.3f} {min(times):7.3f} {max(times):7.3f} "
                  f"{max(r for _, r in samples) / 1024:13.1f}")
        print(f"{'ratio (wizard / minimal)':42} {medians[1] / medians[0]:9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
