"""Step 7: the live checklist. Each row turns from running to pass, warn or fail; selecting one shows
its evidence and fix. The access token is entered here and never stored."""

from __future__ import annotations

import json

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Button, DataTable, Input, Label, Static

from mastowizard.results import Check
from mastowizard.secrets import Secret

from .base import StepScreen
from .widgets import CheckTable


class VerifyScreen(StepScreen):
    STEP = "verify"
    MAIN = "#run"

    def body(self) -> ComposeResult:
        yield Label("Verify from the outside", classes="title")
        yield Input(self.app.session.answers.instance, placeholder="instance URL", id="instance")
        yield Input(placeholder="access token with write:media (not stored)", password=True, id="token")
        yield Button("Run the checklist", id="run", variant="primary")
        yield Button("Retry the selected check", id="retry")
        yield CheckTable(id="checks")
        yield Static("", id="detail")

    @on(Button.Pressed, "#run")
    def run_pressed(self) -> None:
        self.session.answers.instance = self.query_one("#instance", Input).value.strip()
        token = self.query_one("#token", Input).value.strip()
        if token:
            self.session.token = Secret(token)
        from mastowizard.checklist.checks import TITLES
        table = self.query_one("#checks", CheckTable)
        table.set_checks([Check(cid, title, "run") for cid, title in TITLES.items()])
        self.say("checking ...")
        self.run_checks()

    selected = ""

    @on(Button.Pressed, "#retry")
    def retry_pressed(self) -> None:
        if not self.selected:
            self.say("select a check first", "error")
            return
        self.say(f"retrying {self.selected} (and what it depends on) ...")
        self.run_checks({self.selected})

    def run_checks(self, only: set[str] | None = None) -> None:
        table = self.query_one("#checks", CheckTable)
        self.call_engine(lambda: self.session.verify(
            on_check=lambda c: self.app.call_from_thread(table.mark, c), only=only), self.done)

    def done(self, checks) -> None:
        self.query_one("#checks", CheckTable).set_checks(checks)
        bad = [c for c in checks if c.status == "fail"]
        self.say(f"{len(bad)} check(s) failed: select one for its fix" if bad else "every check passed",
                 "error" if bad else "ok")

    @on(DataTable.RowHighlighted, "#checks")
    def show(self, event: DataTable.RowHighlighted) -> None:
        cid = event.row_key.value if event.row_key else None
        self.selected = cid or ""
        c = next((c for c in self.session.checks if c.id == cid), None)
        if c is None:
            return
        text = Text.assemble((c.title, "bold"), f" ({c.status})\n{c.detail}")
        if c.fix:
            text.append("\nfix: ", style="bold").append(c.fix)
        if c.evidence.get("doc"):
            text.append(f"\nsee: {c.evidence['doc']}")
        evidence = {k: v for k, v in c.evidence.items() if k != "doc"}
        if evidence:
            text.append("\n" + json.dumps(evidence, indent=1, default=str)[:1500])
        self.query_one("#detail", Static).update(text)

    def collect(self) -> bool:
        return True
