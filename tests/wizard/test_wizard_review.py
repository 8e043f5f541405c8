"""The wizard's Review step on this machine's own env file (no lab): a week ahead of the switch it
plans and writes only EXTRA_MEDIA_HOSTS, with a backup, and storage stays where it is."""

import asyncio
from pathlib import Path

from textual.widgets import Static

from mastowizard.env.file import parse_values
from mastowizard.session import Answers, Session
from screens.app import WizardApp


class AtReview(WizardApp):
    def start(self, step: str = "target") -> None:
        super().start("review")


def test_announcing_the_media_host_writes_only_extra_media_hosts(tmp_path):
    env = tmp_path / ".env.production"
    env.write_text("LOCAL_DOMAIN=example.org\nS3_ENABLED=false\n")
    session = Session(Answers(env_file=str(env), provider="wasabi", bucket="files-example", region="eu-central-1",
                              alias_host="files.example.com"))
    session.connect()
    session.read_instance()
    app = AtReview(session, save_profile=False)

    async def drive():
        async with app.run_test(size=(100, 40)) as pilot:
            async def settle():
                await pilot.pause()
                await app.workers.wait_for_complete()
                await pilot.pause()

            def diff():
                return session.plan.diff()
            await settle()
            assert "+S3_ENABLED=true" in diff()
            app.screen.query_one("#announce").press()
            await settle()
            assert "+EXTRA_MEDIA_HOSTS=https://files.example.com" in diff() and "+S3_ENABLED" not in diff()
            shown = app.screen.query_one("#diff", Static).content
            notes = shown.renderables[1].plain               # the notes, in full, under the diff
            status = str(app.screen.query_one("#status", Static).render())
            assert "a week" in notes and "note(s) under the diff" in status
            app.screen.query_one("#write").press()
            await settle()
            assert "EXTRA_MEDIA_HOSTS" in str(app.screen.query_one("#what", Static).render())
            await pilot.press("n")                     # cancelled: nothing is written
            await settle()
            assert "not written" in str(app.screen.query_one("#status", Static).render())
            assert env.read_text() == "LOCAL_DOMAIN=example.org\nS3_ENABLED=false\n"
            app.screen.query_one("#write").press()
            await settle()
            await pilot.press("y")
            await settle()
            assert "backup:" in str(app.screen.query_one("#status", Static).render())
            # the step shows the written state: no (now)/(planned) diff, and Write has nothing left to do
            shown = str(app.screen.query_one("#diff", Static).render())
            assert shown.startswith("Written:") and "(planned)" not in shown, shown
            app.screen.query_one("#write").press()
            await settle()
            assert app.screen.__class__.__name__ == "ReviewScreen"
            assert "nothing to change" in str(app.screen.query_one("#status", Static).render())
    asyncio.run(drive())
    values = parse_values(env.read_text())
    assert values == {"LOCAL_DOMAIN": "example.org", "S3_ENABLED": "false",
                      "EXTRA_MEDIA_HOSTS": "https://files.example.com"}
    assert session.backup
    assert Path(session.backup).read_text() == "LOCAL_DOMAIN=example.org\nS3_ENABLED=false\n"


def test_what_the_bucket_test_measured_is_written_with_its_reason_under_the_diff(tmp_path):
    """After *Test the bucket* found that ranged reads break (the jobs checks' measured values kept on the
    session), Review's plan writes S3_FORCE_SINGLE_REQUEST=true and says why, in full, under the diff."""
    env = tmp_path / ".env.production"
    env.write_text("LOCAL_DOMAIN=example.org\nS3_ENABLED=false\n")
    session = Session(Answers(env_file=str(env), provider="wasabi", bucket="files-example", region="eu-central-1",
                              alias_host="files.example.com", access_key_id="AKIAEXAMPLEEXAMPLE12"))
    from mastowizard.secrets import Secret
    session.secret_access_key = Secret("x" * 40)
    session.connect()
    session.read_instance()
    reason = ("S3_FORCE_SINGLE_REQUEST=true: measured by jobs.read_back: a ranged GET (Range: bytes=0-99) answered "
              "200 with Content-Range missing (expected 206 and bytes 0-99/5242908)")
    session.measured = {"S3_FORCE_SINGLE_REQUEST": ("true", reason)}
    app = AtReview(session, save_profile=False)

    async def drive():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert "+S3_FORCE_SINGLE_REQUEST=true" in session.plan.diff()
            notes = app.screen.query_one("#diff", Static).content.renderables[1].plain
            assert reason in notes.replace("\n", " "), notes
    asyncio.run(drive())
