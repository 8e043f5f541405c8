"""The Copy media step: the media already on disk: its inventory and what stays private, the offer to
shrink the remote media cache first (tootctl media remove, run only on a second press), then the copy
into the bucket with progress (cancellable, resumable) and its verification. Rerun after the restart for
the final delta."""

from __future__ import annotations

import threading

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, RadioSet, Static

from mastowizard.migrate.inventory import files, human_bytes
from mastowizard.migrate.prune import DEFAULT_DAYS

from .base import StepScreen
from .copying import begin_copy, private_media_box

PRUNE_LABEL = "Remove old cached media"
SURVEY_LABEL = "Survey the bucket's permissions"


class CopyMediaScreen(StepScreen):
    STEP = "copymedia"
    MAIN = "#copy"

    def body(self) -> ComposeResult:
        old = self.session.old_bucket() if self.settings_quietly() else None
        where = f"from bucket {old.bucket} (the env file's)" if old is not None else "already on disk"
        yield Label(f"Copy the media {where}", classes="title")
        yield Static("Every existing attachment, avatar, emoji and preview card must be in the bucket before "
                     "Mastodon switches: it builds media URLs from the settings on every request."
                     + (f" Nothing in bucket {old.bucket} is changed or deleted." if old is not None else ""))
        yield Static(f"reading bucket {old.bucket} ..." if old is not None else "reading the media on disk ...",
                     id="inventory")
        yield from private_media_box()
        with Vertical(id="prune-box", classes="hidden"):
            yield Label("Remote media cache (optional, before the copy)", classes="title")
            yield Static("", id="prune-about")
            with Horizontal(id="prune-row"):
                yield Label("Delete cached copies older than (days):")
                yield Input(str(DEFAULT_DAYS), id="days", type="integer")
                yield Button(PRUNE_LABEL, id="prune")
            yield Static("", id="pruned")
        yield Button("Copy media", id="copy", variant="primary")
        yield Button("Cancel the copy", id="cancel", classes="hidden")
        yield ProgressBar(id="progress", show_eta=True, classes="hidden")
        yield Static("", id="copied")
        with Vertical(id="repair-box", classes="hidden"):
            yield Label("Repair the bucket's permissions (optional)", classes="title")
            yield Static("Sets every object's ACL to what Mastodon would have written: backups/ and imports/ never "
                         "public, suspended accounts' media kept private. A survey first; nothing changes until the "
                         "second press.")
            yield Checkbox("Also fix Content-Type and Cache-Control (each such object copied onto itself)",
                           id="repair-headers")
            yield Button(SURVEY_LABEL, id="repair")
            yield Static("", id="repaired")

    def settings_quietly(self) -> bool:
        try:
            self.session.settings()
        except Exception:  # noqa: BLE001 - on_mount says what is wrong
            return False
        return True

    def on_mount(self) -> None:
        super().on_mount()
        self.cancel = threading.Event()
        self.pending = None          # (days, the tootctl command) shown, waiting for the second press
        self.repair_ready = None     # (headers) of the survey shown, waiting for the second press
        if self.settings_ok():
            in_place = self.session.env_bucket() is not None and self.session.old_bucket() is None
            self.query_one("#repair-box").set_class(not in_place, "hidden")
            self.call_engine(self.session.media_inventory, self.show_inventory)

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        if event.radio_set.id == "private-media":
            self.session.private_media = event.pressed.id
            self.repair_ready = None
            self.query_one("#repair", Button).label = SURVEY_LABEL

    def show_inventory(self, result) -> None:
        inv, lines = result
        self.query_one("#inventory", Static).update(Text("\n".join(lines)))
        self.query_one("#progress", ProgressBar).update(total=max(inv.files, 1), progress=0)
        cache = inv.folders.get("cache")
        box = self.query_one("#prune-box")
        box.set_class(not (cache and cache.files), "hidden")
        if cache and cache.files:
            self.query_one("#prune-about", Static).update(Text(
                f"cache/ holds {cache.files} copies of other servers' media ({human_bytes(cache.bytes)}). "
                "Mastodon's `tootctl media remove` deletes those older than N days before the copy; Mastodon "
                "fetches them again when someone views them. Avatars and headers are kept."))
        self.query_one("#private-box").set_class(not self.session.suspect, "hidden")
        where = "in the old bucket" if self.session.old_bucket() is not None else "on disk"
        if inv.files == 0:
            self.say(f"nothing {where} to copy: go on to Review", "ok")
        elif self.session.suspect and self.session.private_media is None:
            self.say(f"{files(inv.files)} {where}: choose what becomes of the private media attachments, then "
                     "ctrl+r copies them", "error")
        else:
            self.say(f"{files(inv.files)} {where}: ctrl+r copies them (a rerun copies only what is new)")

    def days(self) -> str:
        return self.query_one("#days", Input).value.strip()

    @on(Input.Changed, "#days")
    def days_changed(self) -> None:
        if self.pending is not None:            # a confirmation holds for the days it showed
            self.pending = None
            self.query_one("#prune", Button).label = PRUNE_LABEL

    @on(Button.Pressed, "#prune")
    def prune_pressed(self) -> None:
        """First press: show the exact command and where it runs. Second press: run it."""
        days = self.days()
        if self.pending is None or self.pending[0] != days:
            self.call_engine(lambda: self.session.prune_plan(days), lambda r: self.prune_planned(days, r))
            return
        cmd = self.pending[1]
        self.pending = None
        self.query_one("#prune", Button).label = PRUNE_LABEL
        self.query_one("#prune", Button).disabled = True
        shown: list[str] = []

        def line(text: str) -> None:
            shown.append(text)
            self.app.call_from_thread(self.query_one("#pruned", Static).update, Text("\n".join(shown[-6:])))
        self.say(f"running {cmd.describe()} ...")
        def prune_then_read():           # one worker: a second exclusive one would cancel this one
            ok, tail = self.session.prune_cache(cmd, on_line=line)
            return ok, tail, (self.session.media_inventory() if ok else None)
        self.call_engine(prune_then_read, self.pruned)

    def prune_planned(self, days: str, result) -> None:
        cmd, size = result
        self.pending = (days, cmd)
        self.query_one("#prune", Button).label = f"Run tootctl (--days {days})"
        where = self.session.host.describe() if self.session.host is not None else "the host"
        self.query_one("#pruned", Static).update(Text(f"runs on {where}: {cmd.describe()}"))
        self.say("press the button again to run tootctl (it deletes files on the host)")

    def pruned(self, result) -> None:
        ok, tail, inventory = result
        self.query_one("#prune", Button).disabled = False
        self.query_one("#pruned", Static).update(Text("\n".join(tail[-6:])))
        if ok:
            self.show_inventory(inventory)
            self.say(f"tootctl media remove finished; {files(inventory[0].files)} on disk now: ctrl+r copies them",
                     "ok")
        else:
            self.say("tootctl media remove failed: its last lines are above", "error")

    def fail(self, exc: BaseException) -> None:
        self.query_one("#prune", Button).disabled = False
        super().fail(exc)

    @on(Button.Pressed, "#repair")
    def repair_pressed(self) -> None:
        """First press: the survey (what would change). Second press, for the same choices: the repair."""
        headers = self.query_one("#repair-headers", Checkbox).value
        button = self.query_one("#repair", Button)
        apply = self.repair_ready == headers
        self.repair_ready = None
        button.label = SURVEY_LABEL
        button.disabled = True
        self.say("repairing the bucket's permissions ..." if apply else "surveying the bucket ...")
        self.call_engine(lambda: self.session.repair_permissions(dry_run=not apply, headers=headers),
                         lambda r: self.repaired(r, headers))

    def repaired(self, outcome, headers: bool) -> None:
        result, lines = outcome
        button = self.query_one("#repair", Button)
        button.disabled = False
        self.query_one("#private-box").set_class(not self.session.suspect, "hidden")
        self.query_one("#repaired", Static).update(Text("\n".join(lines)))
        self.call_after_refresh(self.query_one("#repaired").scroll_visible, animate=False)
        if result.dry_run:
            if self.session.suspect and self.session.private_media is None:
                self.say("the bucket is suspect: choose what becomes of its private media attachments above, then "
                         "survey again", "error")
            elif result.plan.changes:
                self.repair_ready = headers
                button.label = f"Repair {result.plan.changes} object(s)"
                self.say(f"press again to change {result.plan.changes} object(s) as shown (nothing is deleted)")
            else:
                self.say("every object is as Mastodon would have stored it", "ok")
        elif result.ok:
            self.say("the bucket is repaired and every change checked anonymously", "ok")
        else:
            self.say("the repair is not complete: see below", "error")

    @on(Button.Pressed, "#copy")
    def copy_pressed(self) -> None:
        if not self.settings_ok():
            return
        if self.session.suspect and self.session.private_media is None:
            self.say("choose what becomes of the private media attachments first (above)", "error")
            return
        progress = begin_copy(self, "copying ...", "already there")
        self.call_engine(lambda: self.session.copy_media(on_progress=progress, cancel=self.cancel), self.done)

    @on(Button.Pressed, "#cancel")
    def cancel_pressed(self) -> None:
        self.cancel.set()
        self.say("stopping after the uploads in flight ...")

    def done(self, report) -> None:
        copy, v = report
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
        self.call_after_refresh(self.query_one("#copied").scroll_visible, animate=False)
        if copy.cancelled:
            self.say("cancelled: ctrl+r resumes where it stopped", "error")
        elif report.complete:
            self.say("every file is in the bucket and verified", "ok")
        else:
            self.say("the copy is not complete: see below", "error")

    def collect(self) -> bool:
        return True
