"""What the wizard's screen tests share: the wizard opened at one step (or Troubleshoot) with a
session of their own, driven at a size, the screen's status line, a button pressed as a click
would, and waiting until a condition holds (a failure names what was awaited and what was seen)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from textual.widgets import Static

from mastowizard.session import Answers, Session
from screens.app import WizardApp

NO_ENV = "/nonexistent/live/.env.production"      # no machine has it: nothing real is ever read


class AtStep(WizardApp):
    """The wizard opened at STEP ("troubleshoot": Troubleshoot over Target)."""

    def __init__(self, step: str, session: Session | None = None, **answers):
        super().__init__(session or Session(Answers(**{"env_file": NO_ENV, **answers})), save_profile=False)
        self.first = step

    def start(self, step: str = "target") -> None:
        if self.first == "troubleshoot":
            super().start("target")
            self.troubleshoot()
        else:
            super().start(self.first)


def drive(app: WizardApp, steps, size=(80, 24)):
    """Run the app at SIZE and await STEPS(app, pilot) once its first screen is up; its result."""
    async def main():
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            return await steps(app, pilot)
    return asyncio.run(main())


async def settle(app, pilot) -> None:
    """Until the engine calls the last key or press started are done and shown."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def status(app) -> str:
    return str(app.screen.query_one("#status", Static).render())


async def press(app, pilot, selector: str) -> None:
    """Press a button as a click would (buttons below the fold of a scrolled form included)."""
    button = app.screen.query_one(selector)
    button.scroll_visible(animate=False)
    await pilot.pause()
    button.press()
    await pilot.pause()


def on_screen(app, shown: Callable[[], str] | None = None) -> str:
    """What the screen shows, for a failure: its class, its status line or the confirmation's text,
    and SHOWN (what the test knows to look at)."""
    screen = app.screen
    parts = [type(screen).__name__]
    if screen.query("#status"):
        parts.append(f"status {status(app)!r}")
    if screen.query("#what"):
        parts.append(f"asking {str(screen.query_one('#what', Static).render())!r}")
    if shown is not None:
        parts.append(shown())
    return "; ".join(parts)


async def until(app, pilot, awaited: str, condition: Callable[[], object], shown: Callable[[], str] | None = None,
                timeout: float = 120.0, grace: float = 2.0) -> None:
    """Until CONDITION() holds: the engine calls started are awaited and drawn first, then the screen
    is polled for GRACE seconds more (a confirmation being pushed, a table laid out), TIMEOUT at most.
    Else an AssertionError naming AWAITED and what the screen shows (on_screen)."""
    deadline = time.monotonic() + timeout
    idle_since = None
    while True:
        await pilot.pause()
        if any(not worker.is_finished for worker in app.workers):
            idle_since = None                   # still working: the grace counts from when it is done
        try:
            await asyncio.wait_for(app.workers.wait_for_complete(), max(deadline - time.monotonic(), 0.01))
        except TimeoutError:
            raise AssertionError(f"awaited {awaited}: still running after {timeout:.0f}s; saw "
                                 f"{on_screen(app, shown)}") from None
        await pilot.pause()
        if condition():
            return
        now = time.monotonic()
        idle_since = idle_since or now
        if now - idle_since > grace or now > deadline:
            raise AssertionError(f"awaited {awaited}; saw {on_screen(app, shown)}")
        await pilot.pause(0.02)


async def confirmation(app, pilot, awaited: str) -> str:
    """Until the confirmation AWAITED is up; the text of what it says will happen."""
    await until(app, pilot, awaited, lambda: type(app.screen).__name__ == "ConfirmScreen")
    return str(app.screen.query_one("#what", Static).render())
