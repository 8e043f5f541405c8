"""Snapshot tests (pytest-textual-snapshot) pin each step screen's look: at 80x24 and 120x40, in the
dark and the light theme. Regenerate deliberately: pytest tests/test_snapshots.py --snapshot-update"""

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


STEPS = ["target", "provider", "permission", "mediahost", "copymedia", "review", "restart", "verify", "summary"]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"], ids=["dark", "light"])
@pytest.mark.parametrize("step", STEPS)
def test_every_step_in_both_themes_and_sizes(snap_compare, step, theme, size):
    assert snap_compare(OneScreen(step, theme), terminal_size=size)
