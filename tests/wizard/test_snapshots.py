"""Snapshot tests (pytest-textual-snapshot) pin each step screen's look: at 80x24 and 120x40, in the
dark and the light theme. Regenerate deliberately: pytest tests/wizard/test_snapshots.py --snapshot-update"""

import pytest

from mastowizard.session import Answers, Session
from screens import steps
from screens.app import WizardApp

# the env file is one no machine has: a Mastodon host's own /home/mastodon/live/.env.production is never read
ANSWERS = dict(env_file="/nonexistent/mastodon/live/.env.production", provider="wasabi", bucket="files-example",
               region="eu-central-1", alias_host="files.example.com", access_key_id="AKIAEXAMPLE",
               instance="https://mastodon.example")


class OneScreen(WizardApp):
    """The wizard opened on one step (no network: only the screen's initial look)."""

    def __init__(self, step: str, theme: str = "textual-dark"):
        super().__init__(Session(Answers(**ANSWERS)), save_profile=False)
        self.start_step, self.start_theme = step, theme

    def start(self, step: str = "target") -> None:
        self.theme = self.start_theme
        super().start(self.start_step)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"], ids=["dark", "light"])
@pytest.mark.parametrize("step", steps.ids())
def test_every_step_in_both_themes_and_sizes(snap_compare, step, theme, size):
    assert snap_compare(OneScreen(step, theme), terminal_size=size)


def _checklist():
    """A checklist as a live run ends (one failure, one warning), for the Verify step's look."""
    from mastowizard.checklist.titles import TITLES
    from mastowizard.results import Check
    checks = [Check(cid, title).passed("as Mastodon needs it") for cid, title in TITLES.items()]
    checks[2].failed("GET https://files.example.com/media_attachments/files/110/000/000/original/probe.png "
                     "answered 403 AccessDenied (the object is private, its ACL grants no one but the owner)",
                     "S3_PERMISSION=public-read in the env file, restart web and sidekiq, then copy the existing "
                     "media again with `mastowizard migrate` so every object gets the ACL",
                     doc="docs/troubleshooting.md#403", status=403, key="media_attachments/files/110/000/000/"
                     "original/probe.png", headers={"content-type": "application/xml", "x-amz-request-id": "tx0"})
    checks[5].warned("the root answered 200 with a page (text/html, 612 bytes, title 'Welcome to nginx!')")
    return checks


class VerifyResults(OneScreen):
    """Verify after a run: the table and, under it, the selected check's panel (the cursor on the failure)."""

    def __init__(self, theme: str = "textual-dark"):
        super().__init__("verify", theme)

    def start(self, step: str = "target") -> None:
        super().start()
        self.session.checks = _checklist()
        self.call_after_refresh(self.show_results)

    def show_results(self) -> None:
        self.screen.done(self.session.checks)
        self.screen.query_one("#checks").move_cursor(row=2)


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"], ids=["dark", "light"])
def test_verify_shows_the_selected_checks_fix_under_the_table_at_80x24(snap_compare, theme):
    assert snap_compare(VerifyResults(theme), terminal_size=(80, 24))


def test_enter_opens_the_whole_detail_in_a_panel_that_fits_80x24(snap_compare):
    assert snap_compare(VerifyResults(), press=["enter"], terminal_size=(80, 24))


class HeldSecret(OneScreen):
    """Provider with the writer secret held (read from the env file): dots and its state line."""

    def __init__(self):
        super().__init__("provider")
        from mastowizard.secrets import Secret
        self.session.secret_access_key = Secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYSNAPSHOTKEY")


def test_a_held_secret_shows_its_state_not_its_value(snap_compare):
    assert snap_compare(HeldSecret(), terminal_size=(80, 24))


class SkippedChecks(VerifyResults):
    """Verify after a run where the token was missing: counts with 'not verified', never all passed."""

    def start(self, step: str = "target") -> None:
        super().start()
        for c in self.session.checks:
            if c.id in ("instance.token", "upload", "urls", "objects", "public_fetch", "cleanup"):
                c.skipped("no access token given: the upload chain did not run")
        self.session.checks[2].passed("reachable")


def test_skips_are_counted_as_not_verified(snap_compare):
    assert snap_compare(SkippedChecks(), terminal_size=(80, 24))


class SwitchWarning(OneScreen):
    """Review's confirmation when 303 files on disk are not in the bucket: the count to type."""

    def __init__(self):
        super().__init__("review")

    def start(self, step: str = "target") -> None:
        super().start()
        from mastowizard.migrate.gap import MediaGap
        from screens.confirm import ConfirmScreen
        gap = MediaGap("/home/mastodon/live/public/system", "files-example", "admin@mastodon.example", 303, 303,
                       52_000_000, ["accounts/avatars/109/000/000/original/a1b2c3.png"])
        lines = [*gap.lines(), "write /home/mastodon/live/.env.production on admin@mastodon.example",
                 "changing 12 variable(s): S3_ENABLED, S3_BUCKET, S3_REGION, S3_ENDPOINT, ..."]
        self.push_screen(ConfirmScreen("Switch before the media is copied?", lines, "Write it", typed=gap.token,
                                       alternative="Copy media first"))


def test_the_warning_before_write_asks_for_the_count(snap_compare):
    assert snap_compare(SwitchWarning(), terminal_size=(80, 24))
