"""The Copy media step on the way back to disk: what the bucket holds and what is on disk already (a
survey that writes nothing), what becomes of private attachments when the bucket is suspect, then the
copy into public/system with progress (cancellable, resumable) and its verification, and the nginx
server block that keeps the media host's URLs answering from disk. Rerun after the restart for what
Mastodon stored in the bucket meanwhile."""

from __future__ import annotations

import threading

from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, ProgressBar, RadioSet, Static

from mastowizard.migrate.inventory import files

from .base import StepScreen
from .copying import begin_copy, private_media_box
from .widgets import LongText


class ToDiskScreen(StepScreen):
    STEP = "copymedia"
    MAIN = "#copy"

    def body(self) -> ComposeResult:
        yield Label("Copy the media back to disk", classes="title")
        yield Static("Every object of the bucket is written under public/system (or PAPERCLIP_ROOT_PATH) before "
                     "Mastodon switches back, owned by the instance's user: 0644, and 0600 for what is private "
                     "(backups/, imports/, suspended accounts' media). Nothing in the bucket is changed or deleted.")
        yield Static("reading the bucket and the disk ...", id="inventory")
        yield from private_media_box(on_disk=True)
        yield Button("Copy to disk", id="copy", variant="primary")
        yield Button("Cancel the copy", id="cancel", classes="hidden")
        yield ProgressBar(id="progress", show_eta=True, classes="hidden")
        yield Static("", id="copied")
        with Vertical(id="nginx-box", classes="hidden"):
            yield Label("Keep the media host's URLs answering from disk", classes="title")
            yield Static("Other servers stored media URLs on the bucket's media host. This nginx server block serves "
                         "them from public/system; install it after the restart (next steps).", classes="note")
            yield LongText(id="nginx")
            with Horizontal(classes="buttons"):
                yield Button("Copy the block", id="copy-nginx")
                yield Button("Save it as a file", id="save-nginx")

    def on_mount(self) -> None:
        super().on_mount()
        self.cancel = threading.Event()
        self.nginx = ""
        self.call_engine(self.session.disk_survey, self.show_survey)

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        if event.radio_set.id == "private-media":
            self.session.private_media = event.pressed.id

    def show_survey(self, result) -> None:
        dry, lines = result
        self.query_one("#inventory", Static).update(Text("\n".join(lines)))
        self.query_one("#progress", ProgressBar).update(total=max(dry.objects, 1), progress=0)
        self.query_one("#private-box").set_class(not self.session.suspect, "hidden")
        if dry.copied == 0:
            self.say(f"all {files(dry.objects)} of the bucket are on disk already: ctrl+r checks them again, or go "
                     "on to Review", "ok")
        elif self.session.suspect and self.session.private_media is None:
            self.say(f"{files(dry.copied)} to copy: choose what becomes of the private media attachments, then "
                     "ctrl+r copies them", "error")
        else:
            self.say(f"{files(dry.copied)} to copy to disk: ctrl+r copies them (a rerun copies only what is missing)")

    @on(Button.Pressed, "#copy")
    def copy_pressed(self) -> None:
        if self.session.suspect and self.session.private_media is None:
            self.say("choose what becomes of the private media attachments first (above)", "error")
            return
        self.query_one("#copy", Button).disabled = True
        progress = begin_copy(self, "copying to disk ...", "already on disk")
        self.call_engine(lambda: self.session.copy_to_disk(on_progress=progress, cancel=self.cancel), self.done)

    @on(Button.Pressed, "#cancel")
    def cancel_pressed(self) -> None:
        self.cancel.set()
        self.say("stopping after the downloads in flight ...")

    def fail(self, exc: BaseException) -> None:
        self.query_one("#copy", Button).disabled = False
        self.query_one("#cancel").add_class("hidden")
        super().fail(exc)

    def done(self, outcome) -> None:
        result, lines, nginx = outcome
        self.query_one("#copy", Button).disabled = False
        self.query_one("#cancel").add_class("hidden")
        self.query_one("#copied", Static).update(Text("\n".join(lines)))
        self.call_after_refresh(self.query_one("#copied").scroll_visible, animate=False)
        if nginx:
            self.nginx = nginx
            self.query_one("#nginx", LongText).show(Syntax(nginx, "nginx", word_wrap=False), nginx)
            self.query_one("#nginx-box").remove_class("hidden")
        if result.cancelled:
            self.say("cancelled: ctrl+r resumes where it stopped", "error")
        elif result.ok:
            self.say("every object is on disk and verified: Review switches S3_ENABLED off", "ok")
        else:
            self.say("the copy is not complete: see below", "error")

    @on(Button.Pressed, "#copy-nginx")
    def copy_nginx_pressed(self) -> None:
        self.app.copy_to_clipboard(self.nginx)
        self.say("copied the nginx block (where the terminal allows it: otherwise Save it as a file)", "ok")

    @on(Button.Pressed, "#save-nginx")
    def save_nginx_pressed(self) -> None:
        self.call_engine(lambda: self.session.save_text("nginx-media-host-from-disk.conf", self.nginx),
                         lambda path: self.say(f"saved {path}", "ok"))
