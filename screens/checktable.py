"""The checklist table the probe, setup, restart, verify and troubleshoot screens share (status,
title, detail), and CheckList: the table with the selected check's panel under it (its fix first,
what was seen, the doc, the evidence), and enter for all of it in a window that fits 80x24."""

from __future__ import annotations

import json

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from .widgets import MARKS


class CheckTable(DataTable):
    """Checks as rows: status, title, detail. Selecting a row shows its evidence and fix."""

    DEFAULT_CSS = """
    CheckTable { height: auto; max-height: 22; min-height: 4; }
    """

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.add_columns("status", "check", "detail")

    def set_checks(self, checks) -> None:
        self.clear()
        for c in checks:
            label, style = MARKS.get(c.status, (c.status, ""))
            self.add_row(Text(label, style=style), c.title, c.detail[:120], key=c.id)

    def mark(self, check) -> None:
        label, style = MARKS.get(check.status, (check.status, ""))
        row = (Text(label, style=style), check.title, check.detail[:120])
        if check.id in self.rows:
            for col, value in zip(self.columns, row, strict=True):
                self.update_cell(check.id, col, value)
        else:
            self.add_row(*row, key=check.id)


def check_text(c) -> Text:
    """A check's whole story: status, the fix first, what was seen, the doc to read and the evidence."""
    text = Text.assemble((c.title, "bold"), f" ({c.status})")
    if c.fix:
        text.append("\nfix: ", style="bold").append(c.fix)
    text.append(f"\n{c.detail}")
    if c.evidence.get("doc"):
        text.append(f"\nsee: {c.evidence['doc']}")
    evidence = {k: v for k, v in c.evidence.items() if k != "doc"}
    if evidence:
        text.append("\nevidence:", style="bold")
        for key, value in evidence.items():
            shown = value if isinstance(value, str) else json.dumps(value, default=str)
            text.append(f"\n• {key}: ", style="bold").append(shown)
    return text


class CheckList(Vertical):
    """A CheckTable and, once it has rows, the selected check's panel under it: at 80 columns the
    detail column is cut, the panel never is. Enter opens all of it."""

    DEFAULT_CSS = """
    CheckList { height: auto; }
    CheckList > CheckTable { max-height: 40vh; }     /* the panel under it stays on an 80x24 screen */
    CheckList > .check-panel { height: 7; border: round $primary; padding: 0 1; }
    """

    def __init__(self, id: str):
        super().__init__(id=id)
        self.checks: dict = {}

    def compose(self) -> ComposeResult:
        yield CheckTable()
        with VerticalScroll(classes="check-panel hidden"):
            yield Static("", classes="check-panel-text")

    @property
    def table(self) -> CheckTable:
        return self.query_one(CheckTable)

    def set_checks(self, checks) -> None:
        self.checks = {c.id: c for c in checks}
        self.table.set_checks(checks)
        self.query_one(".check-panel").set_class(not checks, "hidden")
        bad = next((i for i, c in enumerate(checks) if c.status in ("fail", "warn")), 0)
        if checks:                        # the first failure, where the eye should go
            self.table.move_cursor(row=bad)
            self._show(checks[bad].id)

    def _show(self, cid) -> None:
        c = self.checks.get(cid)
        if c is not None:
            self.query_one(".check-panel-text", Static).update(check_text(c))

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show(event.row_key.value if event.row_key else None)

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        c = self.checks.get(event.row_key.value if event.row_key else None)
        if c is not None:
            from .detail import CheckDetailScreen
            self.app.push_screen(CheckDetailScreen(c.title, check_text(c)))
