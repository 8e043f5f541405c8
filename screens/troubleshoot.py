"""Troubleshoot: reachable from every step (ctrl+t). Runs the checks and reads the service logs,
explains cause and fix, and offers rollback (restore the backup) and restart."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Label, RichLog, Static

from mastowizard.secrets import scrub

from .base import wizard_words
from .checktable import CheckList
from .confirm import ConfirmScreen


class TroubleshootScreen(Screen):
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

    @property
    def session(self):
        return self.app.session

    def say(self, text: str, kind: str = "info") -> None:
        status = self.query_one("#status", Static)
        status.set_classes(kind)
        status.update(Text(scrub(text, self.session.secrets())))

    def action_close(self) -> None:
        self.app.pop_screen()

    def action_diagnose(self) -> None:
        self.query_one("#diagnose", Button).press()

    @on(Button.Pressed, "#diagnose")
    def diagnose_pressed(self) -> None:
        self.say("diagnosing ...")
        self.diagnose()

    @work(thread=True, exclusive=True)
    def diagnose(self) -> None:
        try:
            if self.session.host is None:
                self.session.connect()
            checks, diagnosis = self.session.doctor()
        except Exception as e:  # noqa: BLE001
            self.app.call_from_thread(self.say, wizard_words(e), "error")
            return
        self.app.call_from_thread(self.show, checks, diagnosis)

    def show(self, checks, diagnosis) -> None:
        self.query_one("#checks", CheckList).set_checks(checks)
        """DIAGNOSIS (checklist.diagnose.Diagnosis): each finding with where it was seen, cause and fix."""
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
        self.confirm("Roll back the env file?", self.session_rollback_lines, "Yes, roll back", self.rollback)

    def session_rollback_lines(self) -> list[str]:
        if self.session.host is None:
            self.session.connect()
        return self.session.describe_rollback()

    @work(thread=True, exclusive=True)
    def confirm(self, title: str, describe, yes: str, then) -> None:
        """Say exactly what will happen (read in this worker), then run THEN only on `y`."""
        try:
            described = describe()
        except Exception as e:  # noqa: BLE001
            self.app.call_from_thread(self.say, wizard_words(e), "error")
            return
        lines, gap = described if isinstance(described, tuple) else (described, None)
        risky = gap is not None and not gap.safe
        screen = ConfirmScreen(title, lines, yes, typed=gap.token if risky else None)
        self.app.call_from_thread(self.app.push_screen, screen,
                                  lambda ok: then() if ok is True else self.say("nothing was done"))

    @work(thread=True, exclusive=True)
    def rollback(self) -> None:
        try:
            restored = self.session.rollback()
        except Exception as e:  # noqa: BLE001
            self.app.call_from_thread(self.say, wizard_words(e), "error")
            return
        self.app.call_from_thread(self.say, f"restored from {restored}; restart Mastodon now", "ok")

    @on(Button.Pressed, "#restart")
    def restart_pressed(self) -> None:
        self.confirm("Restart Mastodon?", self.session_restart_lines, "Yes, restart", self.restart)

    def session_restart_lines(self):
        if self.session.host is None:
            self.session.connect()
        return self.session.describe_restart()

    @work(thread=True, exclusive=True)
    def restart(self) -> None:
        log = self.query_one("#log", RichLog)
        try:
            report = self.session.restart(on_line=lambda line: self.app.call_from_thread(log.write, line))
        except Exception as e:  # noqa: BLE001
            self.app.call_from_thread(self.say, wizard_words(e), "error")
            return
        self.app.call_from_thread(self.say, "Mastodon is back and healthy" if report.ok else
                                  "a service did not come back", "ok" if report.ok else "error")
