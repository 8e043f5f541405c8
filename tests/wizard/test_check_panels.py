"""Why a check failed can be read on every screen that shows checks, at 80x24: the table's detail
column is cut there, so the selected check's panel under it shows the fix and what was seen whole,
and enter opens all of it (Provider, Permission, Restart and Troubleshoot, as Verify does)."""

import pytest
from helpers.wizard import AtStep, drive
from textual.widgets import Static

from mastowizard.results import Check

REASON = ("SignatureDoesNotMatch: the request signature we calculated does not match the signature you "
          "provided; check your key and signing method (the writer secret is wrong, or has a space at its end)")


def at(step):
    return AtStep(step, provider="wasabi", bucket="files-example", region="eu-central-1")


@pytest.mark.parametrize("step, table", [("provider", "#probes"), ("permission", "#setup"), ("restart", "#health"),
                                         ("troubleshoot", "#checks")])
def test_the_reason_is_readable_whole_at_80x24(step, table):
    checks = [Check("writer.credentials", "Writer credential is valid").passed("the key id is known"),
              Check("writer.write", "Writer can write and delete").failed(
                  REASON, "put the writer secret again, without spaces", error="SignatureDoesNotMatch")]

    async def steps(app, pilot):
        await app.workers.wait_for_complete()
        app.screen.query_one(table).set_checks(checks)
        await pilot.pause()
        panel = app.screen.query_one(f"{table} .check-panel-text", Static)
        shown = str(panel.render())
        assert shown.startswith("Writer can write and delete (fail)\nfix: put the writer secret again"), shown
        assert REASON in shown.replace("\n", " ") or REASON in shown     # whole, not cut at a column
        app.screen.query_one(f"{table} CheckTable").focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "CheckDetailScreen"
        assert REASON in str(app.screen.query_one("#all-text", Static).render())
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.__class__.__name__ != "CheckDetailScreen"
    drive(at(step), steps)


def test_verify_uses_a_tall_terminal_for_its_rows():
    """At 120x40 the checklist shows 16 rows (not 8 over empty space); at 80x24 no more than before,
    so the panel and the status line keep their room."""
    from mastowizard.checklist.titles import TITLES
    checks = [Check(cid, title).passed("as Mastodon needs it") for cid, title in TITLES.items()]

    def heights(size):
        async def steps(app, pilot):
            app.session.checks = checks
            app.screen.done(checks)
            await pilot.pause()
            return app.screen.query_one("#checks").size.height
        return drive(at("verify"), steps, size)
    tall, small = heights((120, 40)), heights((80, 24))
    assert tall >= 16 and small <= 10, (tall, small)
