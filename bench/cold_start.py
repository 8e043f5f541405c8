"""Benchmark: cold start to the first screen of the wizard, against a minimal Textual app, in one run.

    python3 bench/cold_start.py [--runs 10]

Each run is a new Python process that starts the app headless and exits as soon as the first screen
is mounted; wall time and peak RSS per process (os.wait4) are reported.
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    once(MINIMAL), once(WIZARD)   # warm the file cache
    results = {}
    for label, code in (("minimal Textual app", MINIMAL), ("mastowizard wizard, first screen", WIZARD)):
        samples = [once(code) for _ in range(args.runs)]
        results[label] = samples
    print(f"cold start to the first screen, {args.runs} runs each (headless)")
    print(f"{'app':36} {'median s':>9} {'min s':>7} {'max s':>7} {'peak RSS MiB':>13}")
    for label, samples in results.items():
        times = [t for t, _ in samples]
        print(f"{label:36} {statistics.median(times):9.3f} {min(times):7.3f} {max(times):7.3f} "
              f"{max(r for _, r in samples) / 1024:13.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
