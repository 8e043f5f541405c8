"""A secret field shows whether a secret is held (never the value), and clearing it forgets the
secret: the next action cannot use the old one. The writer secret, the admin key, the sudo password
and the access token alike."""

from helpers.wizard import AtStep, drive
from textual.widgets import Input, Static

from mastowizard.s3.credential import Credential
from mastowizard.secrets import Secret
from mastowizard.session import Answers, Session

OLD = "wrong-secret-typed-first-0123456789"


def run(session, step, steps):
    async def settled(app, pilot):
        await app.workers.wait_for_complete()
        await pilot.pause()
        await steps(app, pilot)
    drive(AtStep(step, session), settled)


def text(app, selector) -> str:
    return str(app.screen.query_one(selector, Static).render())


def test_clearing_the_writer_secret_forgets_it(tmp_path):
    session = Session(Answers(env_file=str(tmp_path / ".env.production"), provider="wasabi", bucket="files-example",
                              region="eu-central-1", access_key_id="AKIAEXAMPLE"),
                      secret_access_key=Secret(OLD))

    async def steps(app, pilot):
        field = app.screen.query_one("#secret", Input)
        assert field.password and field.value == OLD        # held, shown as dots only
        assert text(app, "#secret-state") == "set (held); clear to forget"
        assert OLD not in app.export_screenshot()
        field.value = ""
        await pilot.pause()
        assert text(app, "#secret-state") == "empty: none held (never saved)"
        app.screen.query_one("#test").press()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert session.secret_access_key is None
        assert "Writer key: access key id and secret are both needed" in text(app, "#status")
        field.value = "typed-anew-0123456789"
        await pilot.pause()
        assert text(app, "#secret-state") == "typed (hidden); never saved"
        assert app.screen.collect() is not None and session.secret_access_key.reveal() == "typed-anew-0123456789"
    run(session, "provider", steps)


def test_clearing_the_admin_key_forgets_it_and_nothing_is_applied(tmp_path):
    session = Session(Answers(env_file=str(tmp_path / ".env.production"), provider="wasabi", bucket="files-example",
                              region="eu-central-1", access_key_id="AKIAEXAMPLE"),
                      secret_access_key=Secret("writer-secret-0123456789"),
                      admin=Credential("AKIAADMINEXAMPLE", Secret(OLD)), admin_from="given at launch")

    async def steps(app, pilot):
        assert app.screen.query_one("#admin-id", Input).value == "AKIAADMINEXAMPLE"
        assert text(app, "#admin-secret-state").startswith("set (given at launch)")
        app.screen.query_one("#admin-id", Input).value = ""
        app.screen.query_one("#admin-secret", Input).value = ""
        await pilot.pause()
        app.screen.query_one("#apply-bucket").press()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert session.admin is None
        assert app.screen.__class__.__name__ == "PermissionScreen"       # no confirmation, nothing applied
        assert text(app, "#status").startswith("Admin key id: choose an AWS profile")
    run(session, "permission", steps)


def test_clearing_the_token_forgets_it(tmp_path):
    session = Session(Answers(env_file=str(tmp_path / ".env.production")), token=Secret(OLD))

    async def steps(app, pilot):
        assert app.screen.query_one("#token", Input).value == OLD
        assert text(app, "#token-state").startswith("set (held)")
        app.screen.query_one("#token", Input).value = ""
        await pilot.pause()
        app.screen.query_one("#run").press()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert session.token is None
    run(session, "verify", steps)


def test_clearing_the_sudo_password_forgets_it(tmp_path):
    session = Session(Answers(env_file=str(tmp_path / ".env.production"), target="ssh", ssh="admin@host.example"),
                      sudo_password=Secret(OLD))

    async def steps(app, pilot):
        from textual.widgets import RadioButton
        app.screen.query_one("#ssh", RadioButton).value = True
        await pilot.pause()
        await pilot.pause()
        assert app.screen.query_one("#sudo-password", Input).value == OLD
        assert text(app, "#sudo-password-state").startswith("set (held)")
        app.screen.query_one("#sudo-password", Input).value = ""
        await pilot.pause()
        app.screen._copy_form()
        assert session.sudo_password is None
    run(session, "target", steps)
