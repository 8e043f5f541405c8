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
    assert "1 pass, 1 fail" in md and "fail: cors: no CORS rules (fix: apply the CORS rules)" in md
    assert "not copied in this run" in md


def test_the_summary_step_shows_it_and_saves_the_report(tmp_path, monkeypatch):
    session = a_run(tmp_path)
    monkeypatch.chdir(tmp_path)
    app = AtSummary(session, save_profile=False)

    async def drive():
        async with app.run_test(size=(100, 40)) as pilot:
            await pilot.pause()
            shown = str(app.screen.query_one("#summary", Static).render())
            assert "The env file" in shown and session.backup in shown and SECRET not in shown
            assert "1 check(s) failed" in str(app.screen.query_one("#status", Static).render())
            await pilot.press("ctrl+r")
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert "saved " in str(app.screen.query_one("#status", Static).render())
    asyncio.run(drive())
    [report] = [p for p in os.listdir(tmp_path) if p.startswith("mastowizard-report-")]
    path = tmp_path / report
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and SECRET not in path.read_text()
    assert path.read_text().startswith("# mastowizard report")
