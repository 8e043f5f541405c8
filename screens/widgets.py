"""Small widgets every step shares: the step indicator and a labelled field (the checklist table is
in checktable.py, loaded by the steps that show one)."""

from __future__ import annotations

from rich.text import Text
from textual.containers import Horizontal, ScrollableContainer
from textual.widget import Widget
from textual.widgets import Input, Label, RadioButton, Static

from . import steps

MARKS = {"pass": ("✔ pass", "green"), "warn": ("! warn", "yellow"), "fail": ("✘ fail", "red"),
         "skip": ("– skip", "dim"), "run": ("… running", "cyan")}


def labelled(label: str, *widgets: Widget, hint: str = ""):
    """An input with its visible label on its left (a placeholder vanishes once a field is filled),
    and a one-line hint under it where a value is easy to get wrong. More widgets (a button) may
    follow the input on its row."""
    yield Horizontal(Label(label, classes="field-label"), *widgets, classes="field")
    if hint:
        yield Static(hint, classes="hint")


class Choice(RadioButton):
    """A radio option whose mark says chosen or not without colour: ● for the chosen one, ○ for the
    others (Textual draws both as ● and tells them apart by colour only)."""

    @property
    def _button(self):
        self.BUTTON_INNER = "●" if self.value else "○"
        return super()._button


class SecretInput(Input):
    """A password field that holds what the session holds: prefilled (shown as dots) with the secret
    already held, so clearing the field forgets it and typing replaces it. Its state line says which
    (held, typed, empty), never the value."""

    def __init__(self, held, placeholder: str, id: str, source: str = ""):
        super().__init__(held.reveal() if held is not None else "", placeholder=placeholder, password=True, id=id)
        self.original, self.source = self.value, source

    def secret(self):
        """The secret as the field shows it now: None when cleared."""
        from mastowizard.secrets import Secret
        return Secret(self.value) if self.value else None

    def state(self) -> str:
        if not self.value:
            return "empty: none held (never saved)"
        if self.value == self.original:
            return f"set{f' ({self.source})' if self.source else ''}; clear to forget"
        return "typed (hidden); never saved"

    def on_mount(self) -> None:
        self.show_state()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.show_state()

    def show_state(self) -> None:
        for state in self.screen.query(f"#{self.id}-state"):
            state.update(self.state())


def secret_field(label: str, field: SecretInput, *widgets: Widget):
    """A secret field with its label, and its state line under it in place of a hint."""
    yield Horizontal(Label(label, classes="field-label"), field, *widgets, classes="field")
    yield Static(field.state(), id=f"{field.id}-state", classes="hint")


class LongText(ScrollableContainer):
    """Text whose lines are kept whole (a URL, an nginx block): it scrolls sideways instead of
    wrapping, so nothing is cut or broken in two; a copy button beside it copies it exactly."""

    DEFAULT_CSS = """
    LongText { height: auto; max-height: 24; overflow-x: auto; overflow-y: auto; }
    LongText > Static { width: auto; }
    """

    def __init__(self, id: str):
        super().__init__(id=id, classes="hidden")         # nothing to show, nothing to focus
        self.text = ""

    def compose(self):
        yield Static("")

    def show(self, renderable, text: str) -> None:
        """Show RENDERABLE (styled, unwrapped); TEXT is what copy and save take, exactly."""
        self.text = text
        self.query_one(Static).update(renderable)
        self.remove_class("hidden")


class StepIndicator(Static):
    """Every step by its number and title (from the step table), the current one highlighted and
    the ones behind it marked."""

    DEFAULT_CSS = """
    StepIndicator { height: 1; padding: 0 1; background: $boost; }
    """

    current = ""
    off_path: frozenset[str] = frozenset()

    def show(self, current: str, off_path: frozenset[str] = frozenset()) -> None:
        """Highlight CURRENT; the steps in OFF_PATH (not on the operator's path) are struck through."""
        self.current, self.off_path = current, off_path
        self.render_steps()

    def on_resize(self) -> None:
        self.render_steps()

    def render_steps(self) -> None:
        """Every step by name when they fit; else the others by number only (80 columns)."""
        full = sum(len(f"✓{s.number} {s.title}") for s in steps.STEPS) + 3 * (len(steps.STEPS) - 1)
        wide = self.size.width >= full or self.size.width == 0
        text = Text()
        at = next((i for i, s in enumerate(steps.STEPS) if s.id == self.current), -1)
        for i, step in enumerate(steps.STEPS):
            if i > 0:
                text.append(" › ", style="dim")
            here = step.id == self.current
            done = "✓" if i < at and step.id not in self.off_path else ""   # behind: marked, not only coloured
            n = step.number
            text.append(f"{done}{n} {step.title}" if wide or here else f"{done}{n}",
                        style="bold reverse" if here else "dim strike" if step.id in self.off_path else "")
        self.update(text)
