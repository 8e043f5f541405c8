"""The Verify step: the live checklist. Each row turns from running to pass, warn or fail; selecting one
shows its evidence and fix. The access token is got here the OAuth way (Get a token: authorize in the
browser, paste the code) or pasted by hand; it lives in memory only, and one got here is revoked on
request after the checklist."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Input, Label, Static

from mastowizard.results import Check, verdict

from .base import StepScreen
from .checktable import CheckTable, check_text
from .detail import CheckDetailScreen
from .widgets import LongText, SecretInput, labelled, secret_field


class VerifyScreen(StepScreen):
    STEP = "verify"
    MAIN = "#run"

    def body(self) -> ComposeResult:
        yield Label("Verify from the outside", classes="title")
        yield from labelled("Instance URL", Input(self.app.session.answers.instance,
                                                  placeholder="https://mastodon.example", id="instance"))
        yield from secret_field("Access token", SecretInput(self.app.session.token, "paste one, or Get a token",
                                                            "token", "held"),
                                Button("Get a token", id="get-token"))
        yield Static("By hand: Preferences > Development > New application, tick write:media only, Submit, "
                     "open the application and copy \"Your access token\".", classes="note")
        with Vertical(id="oauth", classes="hidden"):
            yield Static("", id="oauth-url", classes="note")
            yield LongText(id="oauth-link")
            with Horizontal(classes="buttons"):
                yield Button("Copy the URL", id="copy-url")
                yield Button("Save it to a file", id="save-url")
            yield from labelled("Authorization code", Input(placeholder="paste the code", password=True, id="code"),
                                Button("Use this code", id="use-code"))
        with Horizontal(classes="buttons"):
            yield Button("Run the checklist", id="run", variant="primary")
            yield Button("Retry the selected check", id="retry")
            yield Button("Revoke the token got here", id="revoke", classes="hidden")
        yield CheckTable(id="checks")
        with VerticalScroll(id="detail"):
            yield Static("select a check for its evidence and fix (enter: all of it)", id="detail-text")

    @on(Button.Pressed, "#run")
    def run_pressed(self) -> None:
        self.read_form()
        table = self.query_one("#checks", CheckTable)
        table.set_checks([Check(cid, title, "run") for cid, title in self.titles().items()])
        self.say("checking ...")
        self.run_checks()

    def read_form(self) -> None:
        self.session.answers.instance = self.query_one("#instance", Input).value.strip()
        self.session.token = self.query_one("#token", SecretInput).secret()      # cleared: no token

    def titles(self) -> dict[str, str]:
        """The checks this screen runs, by id, in order."""
        from mastowizard.checklist.titles import TITLES
        return TITLES

    selected = ""

    @on(Button.Pressed, "#get-token")
    def get_token_pressed(self) -> None:
        self.session.answers.instance = self.query_one("#instance", Input).value.strip()
        self.say("registering the app on the instance ...")
        self.call_engine(lambda: self.session.start_token(open_browser=not self.app.is_web), self.show_authorize)

    def show_authorize(self, result) -> None:
        url, pkce, opened = result
        if self.app.is_web:         # served in a browser: a new tab of that browser, not one on this host
            self.app.open_url(url)
            opened = True
        self.query_one("#oauth").remove_class("hidden")
        self.query_one("#oauth-url", Static).update(Text.assemble(
            ("Open this URL ", "bold"), "(logged in as the account the test upload may use), press Authorize"
            + (", and copy the code it shows" if not opened else "; it is open in your browser")
            + ". It is one line (scroll sideways), or Copy or Save it whole:"))
        self.query_one("#oauth-link", LongText).show(Text(url, style="underline", no_wrap=True), url)
        self.query_one("#code", Input).focus()
        self.say("waiting for the code" + (" (PKCE)" if pkce else "") + ": paste it, then Use this code")

    @on(Button.Pressed, "#copy-url")
    def copy_url_pressed(self) -> None:
        self.app.copy_to_clipboard(self.query_one("#oauth-link", LongText).text)
        self.say("copied the URL (where the terminal allows it: otherwise Save it to a file)", "ok")

    @on(Button.Pressed, "#save-url")
    def save_url_pressed(self) -> None:
        url = self.query_one("#oauth-link", LongText).text
        self.call_engine(lambda: self.session.save_text("authorize-url.txt", url),
                         lambda path: self.say(f"saved {path}", "ok"))

    @on(Button.Pressed, "#use-code")
    @on(Input.Submitted, "#code")
    def use_code_pressed(self) -> None:
        code = self.query_one("#code", Input).value
        self.call_engine(lambda: self.session.finish_token(code), self.got_token)

    def got_token(self, scope: str) -> None:
        self.query_one("#code", Input).value = ""
        self.query_one("#oauth").add_class("hidden")
        self.hold_token(self.session.token.reveal(), f"got here, {scope}")
        self.query_one("#revoke").remove_class("hidden")
        self.say(f"got a token with {scope}: ctrl+r runs the checklist", "ok")

    def hold_token(self, value: str, source: str) -> None:
        field = self.query_one("#token", SecretInput)
        field.original, field.source = value, source
        field.value = value
        field.show_state()

    @on(Button.Pressed, "#revoke")
    def revoke_pressed(self) -> None:
        self.call_engine(self.session.revoke_token, self.revoked)

    def revoked(self, ok: bool) -> None:
        if ok:
            self.query_one("#revoke").add_class("hidden")
            self.hold_token("", "")
            self.say("the token is revoked", "ok")
        else:
            self.say("the instance did not confirm the revocation: revoke it under Development > "
                     "Authorized apps", "error")

    @on(Button.Pressed, "#retry")
    def retry_pressed(self) -> None:
        if not self.selected:
            self.say("select a check first", "error")
            return
        self.say(f"retrying {self.selected} (and what it depends on) ...")
        self.run_checks({self.selected})

    def run_checks(self, only: set[str] | None = None) -> None:
        table = self.query_one("#checks", CheckTable)
        self.call_engine(lambda: self.session.verify(
            on_check=lambda c: self.app.call_from_thread(table.mark, c), only=only), self.done)

    def done(self, checks) -> None:
        self.query_one("#checks", CheckTable).set_checks(checks)
        self.bring_into_view("#detail")
        v = verdict(checks)
        revoke = "; Revoke the token when you are done" if self.session.oauth_token is not None else ""
        hint = ": select one, its fix shows under the table (enter: all of it)" if v.failed else \
            ("" if v.all_passed else ": select one for why")
        self.say(v.line() + hint + revoke, "ok" if v.all_passed else "error" if v.failed else "info")

    @on(DataTable.RowHighlighted, "#checks")
    def show(self, event: DataTable.RowHighlighted) -> None:
        cid = event.row_key.value if event.row_key else None
        self.selected = cid or ""
        c = self.check(cid)
        if c is not None:
            self.query_one("#detail-text", Static).update(check_text(c))
            self.query_one("#detail", VerticalScroll).scroll_home(animate=False)

    @on(DataTable.RowSelected, "#checks")
    def open_detail(self, event: DataTable.RowSelected) -> None:
        c = self.check(event.row_key.value if event.row_key else None)
        if c is not None:
            self.app.push_screen(CheckDetailScreen(c.title, check_text(c)))

    def check(self, cid: str | None) -> Check | None:
        return next((c for c in self.session.checks if c.id == cid), None)

    def collect(self) -> bool:
        return True
