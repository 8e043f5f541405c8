"""Step 5: the media already on disk: its inventory and what stays private, then the copy into the
bucket with progress (cancellable, resumable) and its verification. Rerun after the restart for the
final delta."""

from __future__ import annotations

import threading

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Button, Label, ProgressBar, Static

from .base import StepScreen


class CopyMediaScreen(StepScreen):
    STEP = "copymedia"
    MAIN = "#copy"

    def body(self) -> ComposeResult:
        yield Label("Copy the media already on disk", classes="title")
        yield Static("Every existing attachment, avatar, emoji and preview card must be in the bucket before "
                     "Mastodon switches: it builds media URLs from the settings on every request.")
        yield Static("reading the media on disk ...", id="inventory")
        yield Button("Copy media", id="copy", variant="primary")
        yield Button("Cancel the copy", id="cancel", classes="hidden")
        yield ProgressBar(id="progress", show_eta=True, classes="hidden")
        yield Static("", id="copied")

    def on_mount(self) -> None:
        super().on_mount()
        self.cancel = threading.Event()
        if self.settings_ok():
            self.call_engine(self.session.media_inventory, self.show_inventory)

    def show_inventory(self, result) -> None:
        inv, lines = result
        self.query_one("#inventory", Static).update(Text("\n".join(lines)))
        self.query_one("#progress", ProgressBar).update(total=max(inv.files, 1), progress=0)
        if inv.files == 0:
            self.say("nothing on disk to copy: go on to Review", "ok")
        else:
            self.say(f"{inv.files} files on disk: ctrl+r copies them (a rerun copies only what is new)")

    @on(Button.Pressed, "#copy")
    def copy_pressed(self) -> None:
        if not self.settings_ok():
            return
        self.cancel.clear()
        self.query_one("#cancel").remove_class("hidden")
        self.query_one("#progress").remove_class("hidden")
        self.say("copying ...")
        bar = self.query_one("#progress", ProgressBar)

        def progress(p) -> None:
            fps, mbps, eta = p.rates()
            text = (f"copied {p.copied}, already there {p.skipped}, failed {p.failed}; "
                    f"{fps:.0f} files/s, {mbps:.1f} MB/s" + (f", ETA {eta:.0f}s" if eta is not None else ""))
            self.app.call_from_thread(bar.update, progress=p.files)
            self.app.call_from_thread(self.say, text)
        self.call_engine(lambda: self.session.copy_media(on_progress=progress, cancel=self.cancel), self.done)

    @on(Button.Pressed, "#cancel")
    def cancel_pressed(self) -> None:
        self.cancel.set()
        self.say("stopping after the uploads in flight ...")

    def done(self, result) -> None:
        copy, v = result
        self.query_one("#cancel").add_class("hidden")
        lines = [f"copied {copy.copied}, already in the bucket {copy.skipped}, failed {len(copy.failed)} "
                 f"({copy.seconds:.1f}s)"]
        lines += [f"✘ {f['key']}: {f['error']}" for f in copy.failed[:5]]
        if copy.aborted:
            lines.append(f"stopped: every upload failed with {copy.aborted}")
        if v is not None:
            lines.append(f"verified: {v.listed} objects listed with their size, {v.public_checked} fetched "
                         f"anonymously through the media host, {v.private_checked} private ones refused")
            lines += [f"✘ {b['url']}: {b['error']}" for b in (v.public_failed + v.private_exposed)[:5]]
            lines += [f"✘ missing: {k}" for k in v.missing[:5]]
        self.query_one("#copied", Static).update(Text("\n".join(lines)))
        if copy.cancelled:
            self.say("cancelled: ctrl+r resumes where it stopped", "error")
        elif copy.failed or copy.aborted or (v is not None and not v.ok):
            self.say("the copy is not complete: see below", "error")
        else:
            self.say("every file is in the bucket and verified", "ok")

    def collect(self) -> bool:
        return True
