"""A check's whole detail, fix and evidence in a panel over the checklist that fits 80x24; it
scrolls for long evidence, and Escape (or Close) goes back to the table."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class CheckDetailScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q", "close", "Close")]
    DEFAULT_CSS = """
    CheckDetailScreen { align: center middle; }
    CheckDetailScreen > Vertical { width: 96%; max-width: 110; height: 90%; border: thick $primary;
                                   background: $surface; padding: 1 1 0 1; }
    CheckDetailScreen VerticalScroll { height: 1fr; }
    CheckDetailScreen Button { margin: 1 0 0 0; }
    """

    def __init__(self, title: str, text: Text):
        super().__init__()
        self.title_text, self.text = title, text

    def compose(self) -> ComposeResult:
        with Vertical():
            with VerticalScroll(id="all"):
                yield Static(self.text, id="all-text")
            yield Button("Close (Esc)", id="close")

    def on_mount(self) -> None:
        self.query_one("#all", VerticalScroll).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
