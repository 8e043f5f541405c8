"""A confirmation before an action on production (writing the env file, restarting Mastodon): it says
exactly what will happen, and only `y` (or the button) goes on; `n` or Escape cancels."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [Binding("y", "confirm", "Yes, do it"), Binding("n,escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical { width: 90%; max-width: 100; height: auto; border: thick $warning;
                               background: $surface; padding: 1 2; }
    ConfirmScreen #what { margin: 1 0; }
    ConfirmScreen Horizontal { height: auto; }
    ConfirmScreen Button { margin: 0 1 0 0; }
    """

    def __init__(self, title: str, lines: list[str], yes: str):
        super().__init__()
        self.title_text, self.lines, self.yes = title, lines, yes

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title")
            yield Static(Text("\n".join(f"• {line}" for line in self.lines)), id="what")
            with Horizontal():
                yield Button(f"{self.yes} (y)", id="yes", variant="warning")
                yield Button("Cancel (n, Esc)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
