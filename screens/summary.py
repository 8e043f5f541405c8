"""The last step: what this run changed (the env file and its backup, the bucket, the media copied),
how to roll back, and the checklist's result; saved as a Markdown report on request. After a green
checklist it offers to keep watching: a baseline saved beside the env file, and the commands."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Button, Label, Static

from mastowizard import summary
from mastowizard.results import verdict

from .base import StepScreen
from .widgets import LongText


class SummaryScreen(StepScreen):
    STEP = "summary"
    MAIN = "#save-report"

    def body(self) -> ComposeResult:
        yield Label("What this run did", classes="title")
        yield Static("", id="summary")
        yield Button("Save as a Markdown report (secrets masked)", id="save-report")
        yield Button("Keep watching: save a baseline of this setup", id="keep-watching", classes="hidden")
        yield Static("", id="watch-saved", classes="hidden")
        yield LongText(id="watch-commands")
        yield Button("Copy the watch commands", id="copy-watch", classes="hidden")

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
        if self.session.checks and not v.failed and not self.session.back_to_disk:
            self.query_one("#keep-watching").remove_class("hidden")

    @on(Button.Pressed, "#save-report")
    def save_pressed(self) -> None:
        self.call_engine(lambda: summary.save_markdown(self.session), lambda path: self.say(f"saved {path}", "ok"))

    @on(Button.Pressed, "#keep-watching")
    def keep_watching_pressed(self) -> None:
        self.call_engine(self.session.existing_baseline, self._replace_or_save)

    def _replace_or_save(self, saved_at: str | None) -> None:
        if saved_at is None:
            self._save()
            return
        from .confirm import ConfirmScreen
        lines = [f"A baseline is already at {self.session.baseline_path()}, saved {saved_at}.",
                 "Replacing it makes this run's setup the one the watch compares with: changes since that "
                 "baseline will no longer be reported."]
        self.app.push_screen(ConfirmScreen("Replace the baseline?", lines, "Replace it"),
                             lambda yes: self._save() if yes else self.say("the baseline was kept as it was"))

    def _save(self) -> None:
        self.say("saving a baseline: reading the bucket's settings and the media host's certificate ...")
        self.call_engine(self.session.save_watch_baseline, self._saved)

    def _saved(self, offer) -> None:
        text = Text()
        text.append(f"Baseline saved on the instance's host: {offer.path} (0600, no secrets)\n", style="bold")
        for line in offer.recorded:
            text.append(f"  • {line}\n")
        text.append("On that host, compare with it now, then install the hourly timer. Each asks for the "
                    "write:media token (not saved; --install keeps it in a 0600 file for the timer), and --install "
                    "shows the units before writing them; add --read-only for no test upload:", style="bold")
        saved = self.query_one("#watch-saved", Static)
        saved.update(text)
        saved.remove_class("hidden")
        commands = Text("\n".join(offer.commands))
        self.query_one("#watch-commands", LongText).show(commands, "\n".join(offer.commands) + "\n")
        self.query_one("#copy-watch").remove_class("hidden")
        self.say(f"baseline saved: {offer.path}; the commands to keep watching are below (docs/monitoring.md)", "ok")
        self.bring_into_view("#copy-watch")

    @on(Button.Pressed, "#copy-watch")
    def copy_watch_pressed(self) -> None:
        self.app.copy_to_clipboard(self.query_one("#watch-commands", LongText).text)
        self.say("copied the watch commands", "ok")
