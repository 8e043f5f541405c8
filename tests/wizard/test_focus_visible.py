"""Nothing invisible can be focused: on every step, on Troubleshoot and on the confirmations, at 80x24
and 120x40, each control that Tab reaches is on screen once focused (a button in a row of zero height
that Enter still presses is how "Roll back" was reached blind)."""

import asyncio

import pytest

from mastowizard.session import Answers, Session
from screens import steps
from screens.app import WizardApp


class OneScreen(WizardApp):
    def __init__(self, step: str, env_file: str):
        super().__init__(Session(Answers(env_file=env_file, provider="wasabi", bucket="files-example",
                                         region="eu-central-1", alias_host="files.example.com",
                                         access_key_id="AKIAEXAMPLE", instance="https://mastodon.example")),
                         save_profile=False)
        self.first = step

    def start(self, step: str = "target") -> None:
        if self.first == "troubleshoot":
            super().start("target")
            self.troubleshoot()
        elif self.first == "confirm":
            super().start("review")
            from screens.confirm import ConfirmScreen
            self.push_screen(ConfirmScreen("Switch before the media is copied?",
                                           ["a line that says what is at risk " * 4] * 12, "Write it",
                                           typed="303", alternative="Copy media first"))
        else:
            super().start(self.first)


async def invisible_focusables(app, pilot) -> list[str]:
    """Focus each control Tab reaches, in turn; those that are not then visible on screen."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    bad = []
    chain = list(app.screen.focus_chain)
    assert chain, "nothing can be focused on this screen"
    for widget in chain:
        widget.focus()
        await pilot.pause()
        await pilot.pause()
        region = widget.region
        under = app.screen.get_widget_at(*region.center)[0] if region.area else None
        if not region.area or not (under is widget or widget in under.ancestors_with_self):
            bad.append(f"#{widget.id or '?'} {type(widget).__name__} region={tuple(region)} under="
                       f"{type(under).__name__ if under else None}")
    return bad


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("step", [*steps.ids(), "troubleshoot", "confirm"])
def test_every_focusable_control_is_visible_when_focused(step, size, tmp_path):
    app = OneScreen(step, str(tmp_path / "live" / ".env.production"))   # no such file: nothing real is read

    async def drive():
        async with app.run_test(size=size) as pilot:
            return await invisible_focusables(app, pilot)
    assert asyncio.run(drive()) == []


def test_the_env_files_path_is_whole_at_80_columns(tmp_path):
    path = "/var/lib/mastowizard-lab/instance/live/.env.production"      # the demo's, 54 characters
    app = OneScreen("target", path)

    async def drive():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            field = app.screen.query_one("#env-file")
            return field.content_region.width
    assert asyncio.run(drive()) > len(path)
