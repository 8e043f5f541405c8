"""What the wizard's screen tests share: the wizard opened at one step (or Troubleshoot) with a
session of their own, driven at a size, and the screen's status line."""

from __future__ import annotations

import asyncio

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
