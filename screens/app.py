"""The mastowizard terminal wizard: one screen per step over one Session (the engine's state)."""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.binding import Binding

from mastowizard.session import Session, save_answers

from . import steps
from .commands import StepCommands


class WizardApp(App):
    TITLE = "mastowizard"
    SUB_TITLE = "Mastodon media to object storage"
    COMMANDS = App.COMMANDS | {StepCommands}
    CSS_PATH = Path(__file__).with_name("wizard.tcss")   # absolute: subclasses elsewhere keep the styles
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", id="quit")]
    # A browser keeps ctrl+r (reload), ctrl+n, ctrl+t, ctrl+q and ctrl+p for itself: served in one,
    # the wizard's keys are alt+ instead, and the footer shows those.
    WEB_KEYMAP = {"run": "alt+r", "next": "alt+n", "back": "alt+b", "troubleshoot": "alt+t", "quit": "alt+q"}

    def __init__(self, session: Session | None = None, save_profile: bool = True):
        super().__init__()
        self.session = session or Session()
        self.save_profile = save_profile
        self.step = 0

    def on_mount(self) -> None:
        if self.is_web:
            self.set_keymap(self.WEB_KEYMAP)
            self.bind("alt+p", "command_palette", description="palette")      # ctrl+p prints the page
        self.start()
        if self.is_web:     # short, and said once: a toast over Back and Next for 20 s was in the way
            self.notify("Paste with right-click > Paste. The keys here are alt+ (the browser keeps ctrl+r, "
                        "ctrl+n, ctrl+t).", title="In the browser", timeout=6)

    def start(self, step: str = "target") -> None:
        """Open on STEP. A resumed profile prefills the answers; the wizard still starts at the
        target, since the instance must be read (and an SSH host connected) first."""
        self.step = steps.index(step)
        self.push_screen(steps.STEPS[self.step].screen_class(self.session.back_to_disk)())

    def goto(self, sid: str) -> None:
        self.go(steps.index(sid) - self.step)

    def troubleshoot(self) -> None:
        from .troubleshoot import TroubleshootScreen
        self.push_screen(TroubleshootScreen())

    def go(self, delta: int) -> None:
        new = self.step + delta
        off_path = steps.skipped(self.session.back_to_disk)
        while 0 <= new < len(steps.STEPS) and steps.STEPS[new].id in off_path:
            new += 1 if delta > 0 else -1
        if not 0 <= new < len(steps.STEPS):
            return
        self.step = new
        step = steps.STEPS[new]
        self.session.answers.step = step.id
        if self.save_profile:
            save_answers(self.session.answers)
        self.switch_screen(step.screen_class(self.session.back_to_disk)())


def run(session: Session | None = None) -> None:
    WizardApp(session).run()
