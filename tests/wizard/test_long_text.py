"""Long text is copied whole: the nginx blocks on Media host and the authorize URL on Verify are
kept on their lines (scrolled sideways, never wrapped into a header or a scrollbar's glyph), Copy
puts exactly that text on the clipboard (OSC 52), and Save writes it to ~/mastowizard/ under its
absolute path."""

from helpers.wizard import AtStep, drive, settle, status
from textual.widgets import Static

from mastowizard.results import Check

URL = ("https://mastodon.example/oauth/authorize?client_id=" + "c" * 43 + "&redirect_uri=urn%3Aietf%3Awg%3Aoauth"
       "%3A2.0%3Aoob&response_type=code&scope=write%3Amedia&code_challenge=" + "x" * 43 + "&code_challenge_method=S256")


def run(step, steps):
    drive(AtStep(step, provider="wasabi", bucket="files-example", region="eu-central-1",
                 alias_host="files.example.com"), steps)


def test_the_nginx_blocks_are_copied_and_saved_whole(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    from mastowizard.checklist.snippets import (
        caddy_media_host,
        nginx_media_host,
        nginx_system_redirect,
    )

    async def steps(app, pilot):
        s = app.session.settings()
        proxy, redirect, caddy = nginx_media_host(s), nginx_system_redirect(s), caddy_media_host(s)
        assert max(len(line) for line in proxy.splitlines()) > 80        # lines longer than the screen
        app.screen.show((Check("media_host", "Media host").passed("answered 403"), proxy, redirect, caddy))
        await settle(app, pilot)
        app.screen.query_one("#copy-snippet").press()
        await pilot.pause()
        assert app.clipboard == proxy
        app.screen.query_one("#save-snippets").press()
        await settle(app, pilot)
        where = tmp_path / "mastowizard"
        assert status(app) == (f"saved {where}/nginx-media-host.conf, {where}/nginx-old-system-urls.conf, "
                               f"{where}/Caddyfile-media-host")
        assert (where / "nginx-media-host.conf").read_text() == proxy.rstrip("\n") + "\n"
        assert (where / "nginx-old-system-urls.conf").read_text() == redirect.rstrip("\n") + "\n"
        assert (where / "Caddyfile-media-host").read_text() == caddy.rstrip("\n") + "\n"
    run("mediahost", steps)


def test_the_authorize_url_is_one_line_and_copied_whole(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))

    async def steps(app, pilot):
        app.screen.show_authorize((URL, True, False))
        await pilot.pause()
        shown = app.screen.query_one("#oauth-link Static", Static)
        assert shown.size.height == 1 and shown.size.width >= len(URL)         # one line, not wrapped
        app.screen.query_one("#copy-url").press()
        await pilot.pause()
        assert app.clipboard == URL
        app.screen.query_one("#save-url").press()
        await settle(app, pilot)
        assert status(app) == f"saved {tmp_path}/mastowizard/authorize-url.txt"
        assert (tmp_path / "mastowizard" / "authorize-url.txt").read_text() == URL + "\n"
    run("verify", steps)
