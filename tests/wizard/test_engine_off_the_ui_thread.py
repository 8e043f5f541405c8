"""The screens call the engine in a worker thread, never on the UI thread (a read over SSH would freeze
the wizard): Troubleshoot's every call, and Review's rollback. A session that notes the thread of each
call, and answers without touching a host (no lab)."""

import threading
from types import SimpleNamespace

from helpers.wizard import AtStep, drive, settle, status

from mastowizard.checklist.diagnose import Diagnosis
from mastowizard.migrate.gap import MediaGap
from mastowizard.session import Answers, Session


class Noting(Session):
    """Notes which engine calls ran on the UI thread (the one the test's app runs on)."""

    def __init__(self):
        super().__init__(Answers(env_file="/nonexistent/live/.env.production"))
        self.called: dict[str, bool] = {}
        self.ui_thread = threading.get_ident()

    def note(self, name: str) -> None:
        self.called[name] = threading.get_ident() == self.ui_thread

    def connect(self, prompt=None) -> str:
        self.note("connect")
        self.host = SimpleNamespace(describe=lambda: "the test's host")
        return "the test's host"

    def doctor(self, on_check=None):
        self.note("doctor")
        return [], Diagnosis()

    def make_plan(self, announce: bool = False):
        self.note("make_plan")
        return SimpleNamespace(notes=[], empty=True)

    def describe_rollback(self) -> list[str]:
        self.note("describe_rollback")
        return ["restore the env file from its backup"]

    def rollback(self) -> str:
        self.note("rollback")
        return "/backup"

    def describe_restart(self):
        self.note("describe_restart")
        return ["restart web, sidekiq and streaming"], None

    def restart(self, on_line=None):
        self.note("restart")
        on_line("restarted")
        return SimpleNamespace(ok=True, checks=[])


def test_troubleshoot_calls_the_engine_in_a_worker():
    session = Noting()

    async def steps(app, pilot):
        session.ui_thread = threading.get_ident()
        app.screen.query_one("#diagnose").press()
        await settle(app, pilot)
        assert "nothing wrong found" in status(app)
        for button, said in (("#rollback", "restored from /backup"), ("#restart", "back and healthy")):
            app.screen.query_one(button).press()
            await settle(app, pilot)
            assert app.screen.__class__.__name__ == "ConfirmScreen"
            await pilot.press("y")
            await settle(app, pilot)
            assert said in status(app), status(app)
    drive(AtStep("troubleshoot", session), steps)
    assert session.called == {"connect": False, "doctor": False, "describe_rollback": False, "rollback": False,
                              "describe_restart": False, "restart": False}


def test_reviews_rollback_reads_what_it_restores_in_a_worker():
    session = Noting()
    session.host = SimpleNamespace(describe=lambda: "the test's host")      # the Target step read it

    async def steps(app, pilot):
        session.ui_thread = threading.get_ident()
        await settle(app, pilot)
        app.screen.query_one("#rollback").press()
        await settle(app, pilot)
        assert app.screen.__class__.__name__ == "ConfirmScreen"
        await pilot.press("y")
        await settle(app, pilot)
        assert "restored from /backup" in status(app), status(app)
    drive(AtStep("review", session), steps)
    assert session.called == {"make_plan": False, "describe_rollback": False, "rollback": False}


class MediaMissing(Noting):
    """A restart that would leave 3 files on disk out of the bucket; the copy that closes the gap."""

    def describe_restart(self):
        self.note("describe_restart")
        return ["restart web, sidekiq and streaming"], MediaGap("/live/public/system", "media", files=10, missing=3,
                                                                 missing_bytes=3000, examples=["a.png"])

    def copy_media(self, on_progress=None, cancel=None):
        self.note("copy_media")
        return SimpleNamespace(complete=True)


def test_troubleshoots_restart_offers_the_copy_first_when_media_is_missing():
    """Troubleshoot asks as the Restart step does: the risk first, the count typed to go ahead, the
    copy of what is missing offered as the safe way (and run in a worker, without restarting)."""
    session = MediaMissing()

    async def steps(app, pilot):
        session.ui_thread = threading.get_ident()
        app.screen.query_one("#restart").press()
        await settle(app, pilot)
        assert app.screen.__class__.__name__ == "ConfirmScreen" and app.screen.typed == "3", app.screen
        await pilot.press("y")                       # `y` is not the count: nothing happens
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ConfirmScreen" and "restart" not in session.called
        app.screen.query_one("#alternative").press()
        await settle(app, pilot)
        assert "every file on disk is in the bucket now" in status(app), status(app)
    drive(AtStep("troubleshoot", session), steps)
    assert session.called == {"connect": False, "describe_restart": False, "copy_media": False}
