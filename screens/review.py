"""The Review step: the env file change as a masked diff, the backup path, and the write on
confirmation; or, a week ahead of the switch, only the new media host announced in EXTRA_MEDIA_HOSTS."""

from __future__ import annotations

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Button, Label, Static

from .base import StepScreen
from .confirm import ALTERNATIVE, ConfirmScreen

ANNOUNCE = "Plan only the announcement (EXTRA_MEDIA_HOSTS)"
SWITCH = "Plan the whole switch instead"


class ReviewScreen(StepScreen):
    STEP = "review"
    MAIN = "#write"

    def body(self) -> ComposeResult:
        yield Label("The change to the env file (secrets masked)", classes="title")
        yield Static("planning ...", id="diff")
        yield Button("Write it (a backup is made first)", id="write", variant="warning")
        yield Button("Roll back", id="rollback")
        yield Static("A week ahead of the switch: browsers keep the web app's old Content-Security-Policy that "
                     "long, so media from a new host can break until then. Mastodon 4.4+ can list the new host "
                     "early (EXTRA_MEDIA_HOSTS) while media stays where it is.", classes="hint announce")
        yield Button(ANNOUNCE, id="announce", classes="announce")

    def on_mount(self) -> None:
        super().on_mount()
        self.announce = False
        if self.session.back_to_disk:         # the way back announces no new media host
            for w in self.query(".announce"):
                w.display = False
        self.call_engine(self.session.make_plan, self.show)

    @on(Button.Pressed, "#announce")
    def announce_pressed(self) -> None:
        self.announce = not self.announce
        self.query_one("#announce", Button).label = SWITCH if self.announce else ANNOUNCE
        self.call_engine(lambda: self.session.make_plan(announce=self.announce), self.show)

    def show(self, plan) -> None:
        diff = self.query_one("#diff", Static)
        # Each reason in full under the diff (what the bucket test measured, a value Mastodon would misread)
        notes = Text("\n".join(f"• {n}" for n in plan.notes), style="italic") if plan.notes else Text("")
        if plan.empty:
            diff.update(Group(Text("Nothing to change: the env file already has these settings."), notes))
        else:
            diff.update(Group(Syntax(plan.diff(), "diff", word_wrap=True), notes))
        if plan.notes:
            self.say(f"{len(plan.notes)} note(s) under the diff say why each value is written")

    @on(Button.Pressed, "#write")
    def write_pressed(self) -> None:
        plan = self.session.plan
        if plan is None:
            self.say("still planning ...")
            return
        if plan.empty:
            self.say("nothing to change", "ok")
            return
        self.say("comparing the media on disk with the bucket ...")
        self.call_engine(self.session.describe_write, self.confirm_write)

    def confirm_write(self, described) -> None:
        self.confirm_switch(described, ("Write the env file?", "Yes, write it"),
                            ("Switch before the media is copied?", "Write it", "Copy media first"),
                            self.write_confirmed)

    def write_confirmed(self, yes: bool | str | None) -> None:
        if yes == ALTERNATIVE:
            self.app.goto("copymedia")
            return
        if not yes:
            self.say("not written")
            return
        self.say("writing ...")

        def write_then_plan():           # the written state shown at once: no second Write of the same change
            backup = self.session.apply()
            return backup, self.session.make_plan(announce=self.announce)
        self.call_engine(write_then_plan, self.written)

    def written(self, result) -> None:
        backup, plan = result
        self.show(plan)
        if plan.empty:
            self.query_one("#diff", Static).update(Text(
                f"Written: {plan.env.path} has these settings now.\nBackup of the file before: {backup}\n"
                "Restart Mastodon (next step) so it reads them; Roll back restores the backup.", style="bold"))
        self.say(f"written; backup: {backup}" if backup else "nothing to change", "ok")

    @on(Button.Pressed, "#rollback")
    def rollback_pressed(self) -> None:
        self.call_engine(self.session.describe_rollback, self.confirm_rollback)      # it may read the host

    def confirm_rollback(self, lines: list[str]) -> None:
        self.app.push_screen(ConfirmScreen("Roll back the env file?", lines, "Yes, roll back"),
                             lambda ok: self.call_engine(self.session.rollback, lambda restored: self.say(
                                 f"restored from {restored}", "ok")) if ok else self.say("not rolled back"))

    def collect(self) -> bool:
        if self.session.plan is not None and not self.session.plan.empty and self.session.backup is None:
            self.say("write the change first (or go back)", "error")
            return False
        return True
