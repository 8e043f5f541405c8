"""A confirmation before an action on production (writing the env file, restarting Mastodon, changing
the bucket): it says exactly what will happen, and only `y` (or the button) goes on; `n` or Escape
cancels. Where the action risks losing something (files on disk not in the bucket yet), one key is
not enough: the operator types the count shown, or takes the safe way offered beside it."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

ALTERNATIVE = "alternative"       # what dismiss() gives when the safe way beside the action was chosen


class ConfirmScreen(ModalScreen[bool | str]):
    BINDINGS = [Binding("y", "confirm", "Yes, do it"), Binding("n,escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical { width: 90%; max-width: 100; height: auto; max-height: 100%; border: thick $warning;
                               background: $surface; padding: 0 1; }
    ConfirmScreen.risky > Vertical { border: thick $error; }
    ConfirmScreen #what-box { height: auto; max-height: 50vh; }
    ConfirmScreen #what { margin: 1 0; }
    ConfirmScreen #typed-row { height: auto; }
    ConfirmScreen #typed-row Label { padding: 0 1 0 0; margin: 1 0 0 0; }
    ConfirmScreen #typed-row Input { margin: 1 1 0 0; }
    ConfirmScreen #typed { width: 16; border: none; height: 1; }
    ConfirmScreen Horizontal { height: auto; }
    ConfirmScreen Button { margin: 1 1 0 0; }
    """

    def __init__(self, title: str, lines: list[str], yes: str, typed: str | None = None,
                 alternative: str | None = None):
        """TYPED: what must be typed before the action goes ahead (None: `y` is enough). ALTERNATIVE:
        the label of a safer way, dismissed with ALTERNATIVE."""
        super().__init__(classes="risky" if typed else "")
        self.title_text, self.lines, self.yes = title, lines, yes
        self.typed, self.alternative = typed, alternative

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title")
            with VerticalScroll(id="what-box"):
                yield Static(Text("\n".join(f"• {line}" for line in self.lines)), id="what")
            if self.typed is None:
                with Horizontal():
                    yield Button(f"{self.yes} (y)", id="yes", variant="warning")
                    yield Button("Cancel (n, Esc)", id="no")
            else:          # the safe way first (focused), then the deliberate one: type the count
                with Horizontal():
                    if self.alternative:
                        yield Button(self.alternative, id="alternative", variant="primary")
                    yield Button("Cancel (Esc)", id="no")
                with Horizontal(id="typed-row"):
                    yield Label(f"To go ahead anyway, type {self.typed}:")
                    yield Input(id="typed", placeholder="the count")
                    yield Button(f"{self.yes} anyway", id="yes", variant="error")
            yield Static("", id="refused")

    def on_mount(self) -> None:
        if self.alternative:
            self.query_one("#alternative", Button).focus()
        elif self.typed is not None:
            self.query_one("#typed", Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "yes":
            self.action_confirm()
        elif event.button.id == "alternative":
            self.dismiss(ALTERNATIVE)
        else:
            self.dismiss(False)

    @on(Input.Submitted, "#typed")
    def typed_submitted(self) -> None:
        self.action_confirm()

    def action_confirm(self) -> None:
        if self.typed is not None and self.query_one("#typed", Input).value.strip() != self.typed:
            self.query_one("#refused", Static).update(Text(f"type {self.typed} exactly to go ahead, or choose "
                                                           "another button", style="bold"))
            return
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
