"""What the wizard saves goes to one clear place (~/mastowizard, or $MASTOWIZARD_FILES) and is named
by its absolute path: never the directory the wizard happened to start in (under the demo, the
source checkout)."""

import asyncio
import json

from textual.widgets import Static

from mastowizard.session import Answers, Session
from screens.app import WizardApp


class AtPermission(WizardApp):
    def start(self, step: str = "target") -> None:
        super().start("permission")


def test_the_bucket_documents_are_saved_in_one_clear_place(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    session = Session(Answers(env_file=str(tmp_path / ".env.production"), provider="wasabi", bucket="files-example",
                              region="eu-central-1", alias_host="files.example.com"))
    app = AtPermission(session, save_profile=False)

    async def drive():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.screen.query_one("#save-docs").press()
            await pilot.pause()
            return str(app.screen.query_one("#status", Static).render())
    said = asyncio.run(drive())
    where = tmp_path / "home" / "mastowizard"
    assert said.startswith(f"saved {where}/files-example-"), said
    assert sorted(p.name for p in where.iterdir()) == ["files-example-bucket_policy.json", "files-example-cors.json",
                                                       "files-example-writer_policy.json"]
    assert json.loads((where / "files-example-cors.json").read_text())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("mastowizard")]
