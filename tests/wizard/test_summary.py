"""The wizard's last step and its Markdown report (no lab: this machine's own env file): what changed,
the backup, how to roll back, the checklist's result, secrets masked."""

import asyncio
import os
import stat

from textual.widgets import Static

from mastowizard import summary
from mastowizard.results import Check
from mastowizard.secrets import Secret
from mastowizard.session import Answers, Session
from screens.app import WizardApp

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSUMMARYKEY"


class AtSummary(WizardApp):
    def start(self, step: str = "target") -> None:
        super().start("summary")


def a_run(tmp_path) -> Session:
    env = tmp_path / ".env.production"
    env.write_text("LOCAL_DOMAIN=example.org\nS3_ENABLED=false\n")
    session = Session(Answers(env_file=str(env), provider="wasabi", bucket="files-example", region="eu-central-1",
                              alias_host="files.example.com", access_key_id="AKIAEXAMPLEKEY000"),
                      secret_access_key=Secret(SECRET))
    session.connect()
    session.read_instance()
    session.make_plan()
    session.apply()
    session.checks = [Check("upload", "Test image uploads through the API", "pass", "uploaded"),
                      Check("cors", "CORS lets the web UI read media", "fail", "no CORS rules", "apply the CORS rules")]
    return session


def test_the_report_says_what_changed_how_to_roll_back_and_masks_secrets(tmp_path):
    session = a_run(tmp_path)
    md = summary.markdown(session)
    assert f"backup: {session.backup}" in md and "add S3_BUCKET = files-example" in md
    assert SECRET not in md and "****" + SECRET[-4:] in md           # as the diff shows it
    assert f"mastowizard rollback --env-file {session.answers.env_file}" in md
    assert "1 failed, 1 passed" in md and "fail: cors: no CORS rules (fix: apply the CORS rules)" in md
    assert "not copied in this run" in md


def test_the_summary_step_shows_it_and_saves_the_report(tmp_path, monkeypatch):
    session = a_run(tmp_path)
    monkeypatch.chdir(tmp_path)                        # where the wizard was started: nothing lands here
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    app = AtSummary(session, save_profile=False)

    async def drive():
        async with app.run_test(size=(100, 40)) as pilot:
            await pilot.pause()
            shown = str(app.screen.query_one("#summary", Static).render())
            assert "The env file" in shown and session.backup in shown and SECRET not in shown
            assert "1 failed, 1 passed" in str(app.screen.query_one("#status", Static).render())
            await pilot.press("ctrl+r")
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            said = str(app.screen.query_one("#status", Static).render())
            assert f"saved {tmp_path / 'home' / 'mastowizard'}/mastowizard-report-" in said, said   # absolute
    asyncio.run(drive())
    assert not [p for p in os.listdir(tmp_path) if p.startswith("mastowizard-")]
    [report] = [p for p in os.listdir(tmp_path / "home" / "mastowizard") if p.startswith("mastowizard-report-")]
    path = tmp_path / "home" / "mastowizard" / report
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and SECRET not in path.read_text()
    assert path.read_text().startswith("# mastowizard report")


def test_skips_are_never_counted_as_passes(tmp_path):
    """A checklist with skips says what was not verified, in the Summary, its status and the report."""
    session = a_run(tmp_path)
    session.checks = [Check("upload", "Test image uploads through the API", "pass", "uploaded"),
                      Check("instance.token", "The token may upload media", "skip", "no access token given")]
    md = summary.markdown(session)
    assert "1 passed, 1 not verified" in md and "every check passed" not in md
    assert "not verified: The token may upload media: no access token given" in md
    app = AtSummary(session, save_profile=False)

    async def drive():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            shown = str(app.screen.query_one("#status", Static).render())
            assert "not verified is not passed" in shown and "every check passed" not in shown, shown
    asyncio.run(drive())


def test_a_return_visit_keeps_what_was_written_and_copied(tmp_path):
    """Review planned again after the write (nothing left to change) and a second copy (the delta,
    nothing new): the Summary still says what was written, and what the first copy copied."""
    from mastowizard.migrate.copy import CopyResult
    session = a_run(tmp_path)
    session.make_plan()                                  # a return visit to Review: nothing to change now
    assert session.plan.empty
    session.copies = [(CopyResult(copied=303, skipped=0), None), (CopyResult(copied=0, skipped=303), None)]
    md = summary.markdown(session)
    assert "add S3_BUCKET = files-example" in md and f"backup: {session.backup}" in md
    assert "copied 303, already in the bucket 0" in md and "then the delta: copied 0, already in the bucket 303" in md
