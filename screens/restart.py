"""Step 6: restart web, sidekiq and streaming with the output streamed live, then the health wait."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import Button, Input, Label, RichLog

from .base import StepScreen
from .widgets import CheckTable


class RestartScreen(StepScreen):
    STEP = "restart"
    MAIN = "#restart"

    def body(self) -> ComposeResult:
        yield Label("Restart Mastodon so it reads the new env file", classes="title")
        yield Input(self.app.session.answers.instance, placeholder="instance URL (https://...)", id="instance")
        yield Button("Restart now", id="restart", variant="warning")
        yield RichLog(id="log", max_lines=2000, wrap=True)
        yield CheckTable(id="health")

    @on(Button.Pressed, "#restart")
    def restart_pressed(self) -> None:
        self.session.answers.instance = self.query_one("#instance", Input).value.strip()
        self.say("restarting ...")
        log = self.query_one("#log", RichLog)
        self.call_engine(lambda: self.session.restart(on_line=lambda line: self.app.call_from_thread(log.write, line)),
                         self.done)

    def collect(self) -> bool:
        self.session.answers.instance = self.query_one("#instance", Input).value.strip()
        return True

    def done(self, report) -> None:
        self.query_one("#health", CheckTable).set_checks(report.checks)
        self.say("Mastodon is back and healthy" if report.ok else "a service did not come back: see below",
                 "ok" if report.ok else "error")
