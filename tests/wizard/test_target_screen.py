"""The Target step asks for the SSH host and sudo only when the instance is reached over SSH."""

import asyncio

from textual.widgets import Input, RadioButton

from mastowizard.session import Answers, Session
from screens.app import WizardApp


def test_the_ssh_fields_show_on_over_ssh_and_keep_what_was_typed(tmp_path):
    app = WizardApp(Session(Answers(env_file=str(tmp_path / ".env.production"))), save_profile=False)

    async def drive():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert not app.screen.query("#ssh-target")                  # this machine: no SSH questions
            app.screen.query_one("#ssh", RadioButton).value = True
            await pilot.pause()
            field = app.screen.query_one("#ssh-target", Input)
            assert app.focused is field
            field.value = "admin@mastodon.example"
            app.screen.query_one("#local", RadioButton).value = True
            await pilot.pause()
            assert not app.screen.query_one("#ssh-fields").display
            app.screen.query_one("#ssh", RadioButton).value = True
            await pilot.pause()
            assert app.screen.query_one("#ssh-fields").display
            assert app.screen.query_one("#ssh-target", Input).value == "admin@mastodon.example"
    asyncio.run(drive())


def test_an_ssh_target_from_the_profile_or_the_flags_shows_them_at_once():
    app = WizardApp(Session(Answers(target="ssh", ssh="admin@h", sudo_user="mastodon")), save_profile=False)

    async def drive():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert app.screen.query_one("#ssh-target", Input).value == "admin@h"
            assert app.screen.query_one("#sudo-user", Input).value == "mastodon"
    asyncio.run(drive())
