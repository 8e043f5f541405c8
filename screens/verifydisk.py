"""The Verify step on the way back to disk: the env file keeps media on disk, every object of the
bucket is on disk with its size, and a sample is served with its exact bytes by the instance at
/system/ and by the bucket's old media host. No token is needed: nothing is uploaded."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from .checktable import CheckTable
from .verify import VerifyScreen
from .widgets import labelled


class VerifyDiskScreen(VerifyScreen):
    def body(self) -> ComposeResult:
        yield Label("Verify the media on disk, from the outside", classes="title")
        yield from labelled("Instance URL", Input(self.app.session.answers.instance,
                                                  placeholder="https://mastodon.example", id="instance"),
                            hint="media is fetched anonymously at INSTANCE/system/... and through the old media host")
        with Horizontal(classes="buttons"):
            yield Button("Run the checklist", id="run", variant="primary")
            yield Button("Retry the selected check", id="retry")
        yield CheckTable(id="checks")
        with VerticalScroll(id="detail"):
            yield Static("select a check for its evidence and fix (enter: all of it)", id="detail-text")

    def read_form(self) -> None:
        self.session.answers.instance = self.query_one("#instance", Input).value.strip()

    def titles(self) -> dict[str, str]:
        from mastowizard.checklist.on_disk import TITLES
        return TITLES
