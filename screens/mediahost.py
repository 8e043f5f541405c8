"""The Media host step: the public media host (S3_ALIAS_HOST): DNS, TLS and root checks, and the nginx
snippets for a proxy in front of the bucket and for old /system/ URLs."""

from __future__ import annotations

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, Static

from .base import StepScreen
from .widgets import LongText, labelled


class MediaHostScreen(StepScreen):
    STEP = "mediahost"
    MAIN = "#check-media"

    def body(self) -> ComposeResult:
        a = self.app.session.answers
        yield Label("Public media host", classes="title")
        yield Static("Media URLs become PROTOCOL://MEDIA_HOST/KEY: the host must serve the bucket at its root "
                     "(a proxy or CDN), with Access-Control-Allow-Origin: *.")
        yield from labelled("Media host", Input(a.alias_host, placeholder="files.example.com", id="alias_host"),
                            hint="S3_ALIAS_HOST: a host name only, no https://")
        yield from labelled("Protocol", Input(a.protocol or "https", placeholder="https or http", id="protocol"),
                            hint="S3_PROTOCOL: https (http media is blocked on an https instance)")
        yield Button("Check the media host", id="check-media")
        yield Static("", id="result")
        yield LongText(id="snippets")
        with Horizontal(classes="buttons hidden", id="snippet-actions"):
            yield Button("Copy the media host block", id="copy-snippet")
            yield Button("Save them as files", id="save-snippets")

    def collect(self) -> bool:
        a = self.session.answers
        a.alias_host = self.query_one("#alias_host", Input).value.strip()
        a.protocol = self.query_one("#protocol", Input).value.strip() or "https"
        return self.settings_ok()

    @on(Button.Pressed, "#check-media")
    def check_pressed(self) -> None:
        if self.collect():
            self.say("checking the media host ...")
            self.call_engine(self.session.media_host, self.show)

    moving = False

    def show(self, result) -> None:
        check, proxy, redirect, caddy = result
        self.moving = self.session.old_bucket() is not None      # the block tries the new bucket, then the old
        self.query_one("#result", Static).update(Text(f"{check.status}: {check.detail}"
                                                        + (f"\nfix: {check.fix}" if check.fix else "")))
        self.bring_into_view("#result")
        self.proxy, self.redirect, self.caddy = proxy, redirect, caddy
        self.query_one("#snippets", LongText).show(Group(
            "[b]nginx for the media host[/b] (caches successful answers only"
            + ("; the new bucket first, the old one for what it lacks until the last copy" if self.moving else "")
            + ")", Syntax(proxy, "nginx", word_wrap=False),
            "[b]in the instance's server block, for old /system/ URLs[/b]", Syntax(redirect, "nginx", word_wrap=False),
            "[b]or Caddy for the media host[/b] (it gets the certificate itself)",
            Syntax(caddy, "text", word_wrap=False)), proxy)
        self.query_one("#snippet-actions").remove_class("hidden")
        ok = check.status in ("pass", "warn")
        self.say(f"media host {check.status}: {check.detail}", "ok" if ok else "error")

    proxy = redirect = caddy = ""

    @on(Button.Pressed, "#copy-snippet")
    def copy_pressed(self) -> None:
        self.app.copy_to_clipboard(self.proxy)       # OSC 52: the terminal's clipboard, lines whole
        self.say("copied the media host block (where the terminal allows it: otherwise Save them as files)", "ok")

    @on(Button.Pressed, "#save-snippets")
    def save_pressed(self) -> None:
        def save():
            return [self.session.save_text("nginx-media-host.conf", self.proxy),
                    self.session.save_text("nginx-old-system-urls.conf", self.redirect),
                    self.session.save_text("Caddyfile-media-host", self.caddy)]
        self.call_engine(save, lambda paths: self.say("saved " + ", ".join(paths), "ok"))
