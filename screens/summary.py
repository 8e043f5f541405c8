"""The last step: what this run changed (the env file and its backup, the bucket, the media copied),
how to roll back, and the checklist's result; saved as a Markdown report on request."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Button, Label, Static

from mastowizard import summary
from mastowizard.results import verdict

from .base import StepScreen


class SummaryScreen(StepScreen):
    STEP = "summary"
    MAIN = "#save-report"

    def body(self) -> ComposeResult:
        yield Label("What this run did", classes="title")
        yield Static("", id="summary")
        yield Button("Save as a Markdown report (secrets masked)", id="save-report")

    def on_mount(self) -> None:
        super().on_mount()
        text = Text()
        for s in summary.sections(self.session):
            text.append(f"{s.title}\n", style="bold")
            for line in s.lines:
                text.append(f"  • {line}\n")
        self.query_one("#summary", Static).update(text)
        v = verdict(self.session.checks)
        if not self.session.checks:
            self.say("the checklist was not run: Back to Verify runs it")
        elif v.failed:
            self.say(f"{v.line()}: Back to Verify, or ctrl+t to troubleshoot", "error")
        elif not v.all_passed:
            self.say(f"{v.line()}: see The checklist above", "info")
        else:
            where = "back on local disk" if self.session.back_to_disk else "on object storage"
            self.say(f"{v.line()}: media is {where}", "ok")

    @on(Button.Pressed, "#save-report")
    def save_pressed(self) -> None:
        self.call_engine(lambda: summary.save_markdown(self.session), lambda path: self.say(f"saved {path}", "ok"))
