"""Troubleshoot: reachable from every step (ctrl+t). Runs the checks and reads the service logs,
explains cause and fix, and offers rollback (restore the backup) and restart. Every engine call runs
in the shared worker (WizardScreen.call_engine), never on the UI thread."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Header, Label, RichLog, Static

from .base import WizardScreen
from .checktable import CheckList
from .confirm import ALTERNATIVE


class TroubleshootScreen(WizardScreen):
    BINDINGS = [Binding("escape", "close", "Back to the wizard"), Binding("ctrl+r", "diagnose", "Diagnose")]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="body"):
            yield Label("Troubleshoot", classes="title")
            yield Static("Runs the checklist and reads web's and sidekiq's logs, then says what is wrong.")
            with Horizontal(id="actions"):
                yield Button("Diagnose", id="diagnose", variant="primary")
                yield Button("Roll back the env file", id="rollback", variant="warning")
                yield Button("Restart Mastodon", id="restart")
            yield CheckList(id="checks")
            yield Static("", id="diagnosis")
            yield RichLog(id="log", max_lines=500, wrap=True)
        yield Static("", id="status")
        yield Footer()

    def action_close(self) -> None:
        self.app.pop_screen()

    def action_diagnose(self) -> None:
        self.query_one("#diagnose", Button).press()

    def connected(self) -> None:
        """Connect to the instance if no step has yet (Troubleshoot is open from the first step on).
        In the worker, as the engine calls after it."""
        if self.session.host is None:
            self.session.connect()

    @on(Button.Pressed, "#diagnose")
    def diagnose_pressed(self) -> None:
        self.say("diagnosing ...")
        self.call_engine(self.diagnose, lambda result: self.show(*result))

    def diagnose(self):
        self.connected()
        return self.session.doctor()

    def show(self, checks, diagnosis) -> None:
        """CHECKS in the list; DIAGNOSIS (checklist.diagnose.Diagnosis): each finding with where it was
        seen, cause and fix, then what could not be read."""
        self.query_one("#checks", CheckList).set_checks(checks)
        text = Text()
        for f in diagnosis.findings:
            where = f.where + (f", e.g. {f.sample[:120]}" if f.sample else "")
            text.append(f.title, style="bold").append(f"  ({where})\ncause: {f.cause}\nfix: {f.fix}")
            text.append((f"\nsee: {f.doc}" if f.doc else "") + "\n\n")
        for note in diagnosis.notes:
            text.append(f"note: {note}\n")
        if not diagnosis.findings:
            text = Text("Nothing wrong found.\n").append(text)
        self.query_one("#diagnosis", Static).update(text)
        if diagnosis.findings:
            self.say(f"{len(diagnosis.findings)} finding(s)", "error")
        else:
            self.say("nothing wrong found", "ok")

    @on(Button.Pressed, "#rollback")
    def rollback_pressed(self) -> None:
        self.call_engine(self.rollback_lines, lambda lines: self.confirm_switch(
            (lines, None), ("Roll back the env file?", "Yes, roll back"), ("", "", ""),
            lambda ok: self.rollback() if ok is True else self.say("nothing was done")))

    def rollback_lines(self) -> list[str]:
        self.connected()
        return self.session.describe_rollback()

    def rollback(self) -> None:
        self.call_engine(self.session.rollback,
                         lambda restored: self.say(f"restored from {restored}; restart Mastodon now", "ok"))

    @on(Button.Pressed, "#restart")
    def restart_pressed(self) -> None:
        self.call_engine(self.restart_lines, lambda described: self.confirm_switch(
            described, ("Restart Mastodon?", "Yes, restart"),
            ("Restart before the media is copied?", "Restart", "Copy them first"), self.restart_confirmed))

    def restart_confirmed(self, yes: bool | str | None) -> None:
        """The safe way first: the media not in the bucket yet is copied (the Restart step's delta)."""
        if yes == ALTERNATIVE:
            self.say("copying what is not in the bucket yet ...")
            self.call_engine(self.session.copy_media, self.copied)
        elif yes is True:
            self.restart()
        else:
            self.say("nothing was done")

    def copied(self, report) -> None:
        self.say("every file on disk is in the bucket now: restart when ready" if report.complete
                 else "the copy is not complete: see the Copy media step", "ok" if report.complete else "error")

    def restart_lines(self):
        self.connected()
        return self.session.describe_restart()

    def restart(self) -> None:
        log = self.query_one("#log", RichLog)
        self.call_engine(lambda: self.session.restart(on_line=lambda line: self.app.call_from_thread(log.write, line)),
                         self.restarted)

    def restarted(self, report) -> None:
        self.say("Mastodon is back and healthy" if report.ok else "a service did not come back",
                 "ok" if report.ok else "error")
