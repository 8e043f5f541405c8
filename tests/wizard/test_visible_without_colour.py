"""Focus and choice show without colour (a monochrome terminal, a colour-blind admin): the chosen
radio option is ● and the other ○, the focused button is drawn reversed and Next is not coloured as
if it had the focus, the steps behind are marked ✓, and Enter in the provider search takes the first
match."""

from helpers.wizard import AtStep, drive
from textual.widgets import Input


def _plain(app):
    import re
    from html import unescape
    svg = app.export_screenshot()
    rows = {}
    for y, text in re.findall(r'<text[^>]*y="([\d.]+)"[^>]*>([^<]*)</text>', svg):
        rows.setdefault(float(y), []).append(unescape(text).replace("\xa0", " "))
    return ["".join(parts) for _, parts in sorted(rows.items())]


def test_the_chosen_option_and_the_steps_behind_show_without_colour():
    async def steps(app, pilot):
        acl = next(ln for ln in _plain(app) if "ACL mode" in ln and "Bucket policy mode" in ln)
        assert "●" in acl.split("ACL mode")[0] and "○" in acl.split("ACL mode")[1], acl     # ● ACL  ○ Bucket policy
        steps = next(ln for ln in _plain(app) if "3 Permission" in ln)
        assert "✓1" in steps and "✓2" in steps and "✓4" not in steps, steps
        assert app.screen.query_one("#next").variant == "default"
    drive(AtStep("permission", provider="wasabi", bucket="files-example", region="eu-central-1", permission="acl"),
          steps)


def test_enter_in_the_provider_search_takes_the_first_match():
    async def steps(app, pilot):
        app.screen.query_one("#search", Input).focus()
        await pilot.press(*"wasabi", "enter")
        await pilot.pause()
        assert app.screen.session.answers.provider == "wasabi"
        assert app.focused.id == "bucket"
    drive(AtStep("provider", provider="aws"), steps)
