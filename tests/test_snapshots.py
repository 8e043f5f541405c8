"""Snapshot tests (pytest-textual-snapshot) pin each step screen's look at 80x24, in the dark theme
and once in the light one. Regenerate deliberately: pytest tests/test_snapshots.py --snapshot-update"""

import pytest

from mastowizard.session import Answers, Session
from screens.app import WizardApp

ANSWERS = dict(env_file="/home/mastodon/live/.env.production", provider="wasabi", bucket="files-example",
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


@pytest.mark.parametrize("step", ["target", "provider", "permission", "mediahost", "copymedia", "restart", "verify"])
def test_step_screens(snap_compare, step):
    assert snap_compare(OneScreen(step), terminal_size=(80, 24))


def test_light_theme(snap_compare):
    assert snap_compare(OneScreen("permission", "textual-light"), terminal_size=(80, 24))
