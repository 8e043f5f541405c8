"""The Restart step: restart web, sidekiq and streaming with the output streamed live, then the health wait."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import Button, Input, Label, RichLog

from .base import StepScreen
from .checktable import CheckList
from .confirm import ALTERNATIVE
from .widgets import labelled


class RestartScreen(StepScreen):
    STEP = "restart"
    MAIN = "#restart"

    def body(self) -> ComposeResult:
        yield Label("Restart Mastodon so it reads the new env file", classes="title")
        yield from labelled("Instance URL", Input(self.app.session.answers.instance,
                                                  placeholder="https://mastodon.example", id="instance"),
                            hint="for the health wait after the restart")
        yield Button("Restart now", id="restart", variant="warning")
        yield RichLog(id="log", max_lines=2000, wrap=True)
        yield CheckList(id="health")
        yield Button("Final delta: copy what was uploaded during the switch", id="delta", classes="hidden")

    @on(Button.Pressed, "#restart")
    def restart_pressed(self) -> None:
        self.session.answers.instance = self.query_one("#instance", Input).value.strip()
        self.say("reading how Mastodon runs, comparing the media on disk with the bucket ...")
        self.call_engine(self.session.describe_restart, self.confirm_restart)

    def confirm_restart(self, described) -> None:
        self.confirm_switch(described, ("Restart Mastodon?", "Yes, restart"),
                            ("Restart before the media is copied?", "Restart", "Copy them first"),
                            self.restart_confirmed)

    def restart_confirmed(self, yes: bool | str | None) -> None:
        if yes == ALTERNATIVE:
            self.say("copying what is not in the bucket yet ...")
            self.call_engine(self.session.copy_media, self.delta_done)
            return
        if not yes:
            self.say("not restarted")
            return
        self.say("restarting ...")
        log = self.query_one("#log", RichLog)
        self.call_engine(lambda: self.session.restart(on_line=lambda line: self.app.call_from_thread(log.write, line)),
                         self.done)

    def collect(self) -> bool:
        self.session.answers.instance = self.query_one("#instance", Input).value.strip()
        return True

    def done(self, report) -> None:
        self.query_one("#health", CheckList).set_checks(report.checks)
        self.bring_into_view("#health")
        self.say("Mastodon is back and healthy" if report.ok else "a service did not come back: see below",
                 "ok" if report.ok else "error")
        if report.ok and self.session.copied is not None:
            # media uploaded to disk between the copy and the restart is not in the bucket yet
            self.query_one("#delta").remove_class("hidden")
            self.say("Mastodon is back and healthy; now the final delta (the button below) copies what was "
                     "uploaded to disk during the switch", "ok")

    @on(Button.Pressed, "#delta")
    def delta_pressed(self) -> None:
        self.say("copying what arrived during the switch ...")
        self.call_engine(self.session.copy_media, self.delta_done)

    def delta_done(self, report) -> None:
        copy = report.copy
        log = self.query_one("#log", RichLog)
        log.write(f"final delta: copied {copy.copied}, already in the bucket {copy.skipped}, failed {len(copy.failed)}")
        ok = report.complete
        self.say("final delta done: every file from before the switch is in the bucket" if ok
                 else "the final delta is not complete: see Copy media", "ok" if ok else "error")
