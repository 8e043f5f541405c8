"""The wizard names a field as its screen labels it ("SSH host", "Media host"), never as the command
line's flag ("--ssh", "alias-host"), and a fix that names a command names the wizard's button too."""

from helpers.wizard import AtStep, drive, settle, status
from textual.widgets import Input

from mastowizard.errors import InputError
from mastowizard.session import Answers, Session
from screens.base import wizard_words


def test_the_ssh_host_and_the_media_host_are_named_as_labelled(tmp_path):
    session = Session(Answers(env_file=str(tmp_path / ".env.production"), target="ssh", ssh="admin@:99999",
                              provider="wasabi", bucket="files-example", region="eu-central-1"))

    async def target(app, pilot):
        app.screen.query_one("#read").press()
        await settle(app, pilot)
        assert status(app).startswith("SSH host: "), status(app)
        assert "--ssh" not in status(app)
    drive(AtStep("target", session), target)

    async def mediahost(app, pilot):
        app.screen.query_one("#alias_host", Input).value = "https://files.example.com"
        app.screen.query_one("#next").press()
        await pilot.pause()
        assert status(app).startswith("Media host: ") and "alias-host" not in status(app), status(app)
    drive(AtStep("mediahost", session), mediahost)


def test_a_fix_that_names_a_command_names_the_button_too():
    e = InputError("--accept-missing-media", "would leave 3 file(s) out", "copy them first (`mastowizard migrate`)")
    assert "Copy media (or `mastowizard migrate`)" in wizard_words(e)
    assert wizard_words(RuntimeError("boom")) == "unexpected error: RuntimeError: boom"


def test_choosing_another_provider_and_back_keeps_what_was_typed(tmp_path):
    """Ceph with its endpoint typed, then R2, then Ceph again: the endpoint comes back."""
    from textual.widgets import OptionList
    session = Session(Answers(env_file=str(tmp_path / ".env.production"), provider="ceph", bucket="files-example"))

    async def provider(app, pilot):
        app.screen.query_one("#endpoint", Input).value = "https://ceph.example.org"
        providers = app.screen.query_one("#providers", OptionList)
        for pid in ("r2", "ceph"):
            index = next(i for i, o in enumerate(providers.options) if o.id == pid)
            providers.highlighted = index
            providers.action_select()
            await pilot.pause()
        assert session.answers.provider == "ceph"
        assert app.screen.query_one("#endpoint", Input).value == "https://ceph.example.org"
    drive(AtStep("provider", session), provider)
