"""Troubleshoot and Verify tell one story: before the switch (the env file keeps media on disk) the
diagnosis says so, not that web and sidekiq missed a restart."""

from helpers.wizard import AtStep, drive, settle
from textual.widgets import Static

from mastowizard.session import Answers, Session


def test_before_the_switch_the_diagnosis_is_that_it_is_not_written_yet(tmp_path):
    env = tmp_path / "live" / ".env.production"
    env.parent.mkdir()
    env.write_text("LOCAL_DOMAIN=example.org\nS3_ENABLED=false\n")
    session = Session(Answers(env_file=str(env)))

    async def steps(app, pilot):
        app.screen.query_one("#diagnose").press()
        await settle(app, pilot)
        shown = str(app.screen.query_one("#diagnosis", Static).render())
        assert "The env file still keeps media on disk" in shown, shown
        assert "started before" not in shown and "S3_ENABLED is not `true`" in shown, shown
        settings = next(c for c in session.checks if c.id == "settings")
        assert settings.status == "fail" and "S3_ENABLED is not true" in settings.detail  # Verify's row says the same
    drive(AtStep("troubleshoot", session), steps)


def test_an_env_file_that_cannot_be_parsed_is_the_settings_row_and_the_checklist_still_runs(tmp_path):
    """Verify and Troubleshoot say a broken env file as the settings check (with the line), as before
    the CLI and the wizard shared checklist_for; the CLI refuses it with one line instead."""
    env = tmp_path / "live" / ".env.production"
    env.parent.mkdir()
    env.write_text('LOCAL_DOMAIN=example.org\nS3_BUCKET="never closed\n')
    session = Session(Answers(env_file=str(env)))
    session.connect()
    checks = session.verify()
    settings = next(c for c in checks if c.id == "settings")
    assert settings.status == "fail" and "line 2" in settings.detail and "cannot be parsed" in settings.detail, \
        settings.to_dict()
    assert len(checks) > 1, [c.id for c in checks]
