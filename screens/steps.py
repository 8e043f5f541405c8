"""The wizard's steps, in order: the one table the app, the step bar, the command palette and the tests
read. A step's screen is the class SCREEN in screens/ID.py, imported only when the wizard reaches it
(so the first screen opens without loading what later steps need)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module


@dataclass(frozen=True)
class Step:
    id: str          # its module (screens/ID.py), the screen's STEP, and the profile's Answers.step
    title: str       # as the step bar and the palette name it
    screen: str      # the screen's class name in screens/ID.py

    @property
    def number(self) -> int:
        """Its number as the step bar and the palette show it, from 1."""
        return index(self.id) + 1

    def screen_class(self):
        return getattr(import_module(f"screens.{self.id}"), self.screen)


STEPS: tuple[Step, ...] = (
    Step("target", "Target", "TargetScreen"),
    Step("provider", "Provider", "ProviderScreen"),
    Step("permission", "Permission", "PermissionScreen"),
    Step("mediahost", "Media host", "MediaHostScreen"),
    Step("copymedia", "Copy media", "CopyMediaScreen"),
    Step("review", "Review", "ReviewScreen"),
    Step("restart", "Restart", "RestartScreen"),
    Step("verify", "Verify", "VerifyScreen"),
    Step("summary", "Summary", "SummaryScreen"),
)


def ids() -> list[str]:
    return [s.id for s in STEPS]


def index(sid: str) -> int:
    """The position of step SID in STEPS, from 0; ValueError for no such step."""
    return ids().index(sid)


def get(sid: str) -> Step:
    return STEPS[index(sid)]
