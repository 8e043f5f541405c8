"""What the wizard saves goes to one clear place (~/mastowizard, or $MASTOWIZARD_FILES) and is named
by its absolute path: never the directory the wizard happened to start in (under the demo, the
source checkout)."""

import json

from helpers.wizard import AtStep, drive, settle, status

from mastowizard.session import Answers, Session


def test_the_bucket_documents_are_saved_in_one_clear_place(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    session = Session(Answers(env_file=str(tmp_path / ".env.production"), provider="wasabi", bucket="files-example",
                              region="eu-central-1", alias_host="files.example.com"))

    async def steps(app, pilot):
        app.screen.query_one("#save-docs").press()
        await settle(app, pilot)                 # saved in a worker, as every file the wizard writes
        return status(app)
    said = drive(AtStep("permission", session), steps)
    where = tmp_path / "home" / "mastowizard"
    assert said.startswith(f"saved {where}/files-example-"), said
    assert sorted(p.name for p in where.iterdir()) == ["files-example-bucket_policy.json", "files-example-cors.json",
                                                       "files-example-writer_policy.json"]
    assert json.loads((where / "files-example-cors.json").read_text())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("mastowizard")]
