"""Step 5: the env file change as a masked diff, the backup path, and the write on confirmation."""

from __future__ import annotations

from rich.syntax import Syntax
from textual import on
from textual.app import ComposeResult
from textual.widgets import Button, Label, Static

from .base import StepScreen


class ReviewScreen(StepScreen):
    STEP = "review"
    MAIN = "#write"

    def body(self) -> ComposeResult:
        yield Label("The change to the env file (secrets masked)", classes="title")
        yield Static("planning ...", id="diff")
        yield Button("Write it (a backup is made first)", id="write", variant="warning")
        yield Button("Roll back", id="rollback")

    def on_mount(self) -> None:
        self.call_engine(self.session.make_plan, self.show)

    def show(self, plan) -> None:
        diff = self.query_one("#diff", Static)
        if plan.empty:
            diff.update("Nothing to change: the env file already has these settings.")
        else:
            diff.update(Syntax(plan.diff(), "diff", word_wrap=True))
        if plan.notes:
            self.say("; ".join(plan.notes))

    @on(Button.Pressed, "#write")
    def write_pressed(self) -> None:
        self.say("writing ...")
        self.call_engine(self.session.apply,
                         lambda backup: self.say(f"written; backup: {backup}" if backup else "nothing to change", "ok"))

    @on(Button.Pressed, "#rollback")
    def rollback_pressed(self) -> None:
        self.call_engine(self.session.rollback, lambda restored: self.say(f"restored from {restored}", "ok"))

    def collect(self) -> bool:
        if self.session.plan is not None and not self.session.plan.empty and self.session.backup is None:
            self.say("write the change first (or go back)", "error")
            return False
        return True
