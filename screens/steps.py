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
    back_screen: str = ""   # "module.Class" in screens/ of the step on the way back to disk, where it differs

    @property
    def number(self) -> int:
        """Its number as the step bar and the palette show it, from 1."""
        return index(self.id) + 1

    def screen_class(self, back_to_disk: bool = False):
        if back_to_disk and self.back_screen:
            module, name = self.back_screen.rsplit(".", 1)
            return getattr(import_module(f"screens.{module}"), name)
        return getattr(import_module(f"screens.{self.id}"), self.screen)


STEPS: tuple[Step, ...] = (
    Step("target", "Target", "TargetScreen"),
    Step("provider", "Provider", "ProviderScreen"),
    Step("permission", "Permission", "PermissionScreen"),
    Step("mediahost", "Media host", "MediaHostScreen"),
    Step("copymedia", "Copy media", "CopyMediaScreen", "todisk.ToDiskScreen"),
    Step("review", "Review", "ReviewScreen"),
    Step("restart", "Restart", "RestartScreen"),
    Step("verify", "Verify", "VerifyScreen", "verifydisk.VerifyDiskScreen"),
    Step("summary", "Summary", "SummaryScreen"),
)


# The way back to disk needs no new bucket: no provider, permission or media host to choose.
BACK_TO_DISK_SKIPS = frozenset({"provider", "permission", "mediahost"})


def skipped(back_to_disk: bool) -> frozenset[str]:
    """The steps not on the operator's path (the way back to disk skips the bucket's)."""
    return BACK_TO_DISK_SKIPS if back_to_disk else frozenset()


def ids() -> list[str]:
    return [s.id for s in STEPS]


def index(sid: str) -> int:
    """The position of step SID in STEPS, from 0; ValueError for no such step."""
    return ids().index(sid)


def get(sid: str) -> Step:
    return STEPS[index(sid)]
