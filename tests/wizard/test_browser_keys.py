"""Served in a browser (mastowizard web) the wizard's keys are ones the browser leaves to the page:
Chrome keeps ctrl+r (reload), ctrl+n, ctrl+t, ctrl+q and ctrl+p. The footer shows alt+ keys there,
they work, and the paste hint is short and said once. (The page itself is walked in Chromium in
test_web.py; here the app is told it is served, as textual-serve's driver tells it.)"""

from helpers.wizard import AtStep, drive


class Served(AtStep):
    @property
    def is_web(self) -> bool:
        return True


def test_the_browser_gets_alt_keys_and_they_work():
    async def steps(app, pilot):
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
    drive(Served("provider", provider="wasabi", bucket="files-example", region="eu-central-1"), steps, (100, 30))
