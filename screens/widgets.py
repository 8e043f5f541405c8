"""Small widgets every step shares: the step indicator and a labelled field (the checklist table is
in checktable.py, loaded by the steps that show one)."""

from __future__ import annotations

from rich.text import Text
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Label, Static

STEPS = [("target", "Target"), ("provider", "Provider"), ("permission", "Permission"), ("mediahost", "Media host"),
         ("copymedia", "Copy media"), ("review", "Review"),
         ("restart", "Restart"), ("verify", "Verify"), ("summary", "Summary")]
MARKS = {"pass": ("✔ pass", "green"), "warn": ("! warn", "yellow"), "fail": ("✘ fail", "red"),
         "skip": ("– skip", "dim"), "run": ("… running", "cyan")}


def labelled(label: str, *widgets: Widget, hint: str = ""):
    """An input with its visible label on its left (a placeholder vanishes once a field is filled),
    and a one-line hint under it where a value is easy to get wrong. More widgets (a button) may
    follow the input on its row."""
    yield Horizontal(Label(label, classes="field-label"), *widgets, classes="field")
    if hint:
        yield Static(hint, classes="hint")


class StepIndicator(Static):
    """1 Target › 2 Provider › ... with the current step highlighted."""

    DEFAULT_CSS = """
    StepIndicator { height: 1; padding: 0 1; background: $boost; }
    """

    current = ""

    def show(self, current: str) -> None:
        self.current = current
        self.render_steps()

    def on_resize(self) -> None:
        self.render_steps()

    def render_steps(self) -> None:
        """Every step by name when they fit; else the others by number only (80 columns)."""
        full = sum(len(f"{i} {t}") for i, (_, t) in enumerate(STEPS, 1)) + 3 * (len(STEPS) - 1)
        wide = self.size.width >= full or self.size.width == 0
        text = Text()
        for i, (sid, title) in enumerate(STEPS, 1):
            if i > 1:
                text.append(" › ", style="dim")
            here = sid == self.current
            text.append(f"{i} {title}" if wide or here else str(i), style="bold reverse" if here else "")
        self.update(text)
