"""The checklist table the probe, setup, restart and verify steps share: status, title, detail."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

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
            for col, value in zip(self.columns, row):
                self.update_cell(check.id, col, value)
        else:
            self.add_row(*row, key=check.id)
