"""Served in a browser (mastowizard web) the wizard's keys are ones the browser leaves to the page:
Chrome keeps ctrl+r (reload), ctrl+n, ctrl+t, ctrl+q and ctrl+p. The footer shows alt+ keys there,
they work, and the paste hint is short and said once. (The page itself is walked in Chromium in
test_web.py; here the app is told it is served, as textual-serve's driver tells it.)"""

import asyncio

from mastowizard.session import Answers, Session
from screens.app import WizardApp


class Served(WizardApp):
    @property
    def is_web(self) -> bool:
        return True

    def start(self, step: str = "target") -> None:
        super().start("provider")


def test_the_browser_gets_alt_keys_and_they_work():
    app = Served(Session(Answers(env_file="/nonexistent/live/.env.production", provider="wasabi",
                                 bucket="files-example", region="eu-central-1")), save_profile=False)

    async def drive():
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            footer = app.export_screenshot()
            assert "alt+n" in footer.lower() or "⌥n" in footer or "alt+N" in footer, "the footer shows alt keys"
            assert [n.message for n in app._notifications][0].startswith("Paste with right-click")
            assert all(n.timeout <= 6 for n in app._notifications)
            await pilot.press("ctrl+n")             # the browser's: nothing happens here
            await pilot.pause()
            assert app.screen.STEP == "provider"
            await pilot.press("alt+n")
            await pilot.pause()
            assert app.screen.STEP == "permission"
            await pilot.press("alt+b")
            await pilot.pause()
            assert app.screen.STEP == "provider"
    asyncio.run(drive())
