"""What every wizard screen shares (WizardScreen: the steps and Troubleshoot): the session, a status
line with secrets scrubbed, and engine calls in thread workers with their result or error shown as one
line, never a traceback. What every step screen adds (StepScreen): the step indicator, Back/Next."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Static

from mastowizard.errors import MastowizardError
from mastowizard.secrets import scrub

from .widgets import StepIndicator

# The engine names a field as the command line does (--ssh, alias-host); the wizard names it as its
# screens label it, and its buttons where the fix names a command.
FIELD_LABELS = {
    "--ssh": "SSH host", "ssh": "SSH host", "--sudo-user": "Sudo user", "--identity": "SSH key",
    "--accept-host-key": "the host key", "--env-file": "Env file", "env file": "Env file",
    "bucket": "Bucket", "--bucket": "Bucket", "region": "Region", "--region": "Region",
    "endpoint": "Endpoint", "--endpoint": "Endpoint", "addressing": "Addressing", "--addressing": "Addressing",
    "key-prefix": "Key prefix", "--key-prefix": "Key prefix", "alias-host": "Media host",
    "--alias-host": "Media host", "protocol": "Protocol", "--protocol": "Protocol", "permission": "Permission mode",
    "--permission": "Permission mode", "provider": "Provider", "--provider": "Provider",
    "instance": "Instance URL", "--instance": "Instance URL", "--source": "Media folder",
    "--days": "Delete cached copies older than (days)", "writer credential": "Writer key",
    "AWS_ACCESS_KEY_ID": "Writer key id", "AWS_SECRET_ACCESS_KEY": "Writer secret",
    "--private-media": "Private media attachments",
}
FIX_WORDS = {"`mastowizard migrate`": "Copy media (or `mastowizard migrate`)",
             "`mastowizard restart`": "Restart (or `mastowizard restart`)",
             "`mastowizard setup-bucket`": "Apply to the bucket (or `mastowizard setup-bucket`)",
             "e.g. --ssh ": "e.g. ", "or the password": "or the Login password"}


def wizard_words(exc: BaseException) -> str:
    """An engine error as the wizard says it: the field as the screen labels it, the fix with the
    wizard's button beside the command. Anything else is one line, never a traceback."""
    if not isinstance(exc, MastowizardError):
        return f"unexpected error: {type(exc).__name__}: {exc}"
    field = getattr(exc, "field", None)
    if field is None:
        return str(exc)
    fix = exc.fix
    for cli, words in FIX_WORDS.items():
        fix = fix.replace(cli, words)
    return f"{FIELD_LABELS.get(field, field)}: {exc.message}" + (f" ({fix})" if fix else "")


class WizardScreen(Screen):
    """A screen over the wizard's session, with a Static #status line to say things on."""

    @property
    def session(self):
        return self.app.session

    def say(self, text: str, kind: str = "info") -> None:
        status = self.query_one("#status", Static)
        status.set_classes(kind)
        status.update(Text(scrub(text, self.session.secrets())))

    def fail(self, exc: BaseException) -> None:
        self.say(wizard_words(exc), "error")

    @work(thread=True, exclusive=True)
    def call_engine(self, fn, done) -> None:
        """Run the blocking engine call FN in a thread; hand its result to DONE on the UI thread, or
        show its error as one line."""
        try:
            result = fn()
        except Exception as e:  # noqa: BLE001 - shown as one line, never a traceback
            self.app.call_from_thread(self.fail, e)
            return
        self.app.call_from_thread(done, result)

    def confirm_switch(self, described, plain: tuple[str, str], risky: tuple[str, str, str], then) -> None:
        """Ask before an action that switches storage, with DESCRIBED = (lines, media gap). Nothing at
        risk: PLAIN (title, yes), `y` is enough. Files not in the bucket: RISKY (title, yes, the safe
        way), and only the typed count goes ahead. THEN gets True, False or confirm.ALTERNATIVE."""
        from .confirm import ConfirmScreen
        lines, gap = described
        if gap is not None and not gap.safe:
            self.say(f"{gap.token} file(s) on disk are not in the bucket yet" if gap.known
                     else "the media on disk could not be compared with the bucket", "error")
            title, yes, alternative = risky
            self.app.push_screen(ConfirmScreen(title, lines, yes, typed=gap.token, alternative=alternative), then)
            return
        self.app.push_screen(ConfirmScreen(plain[0], lines, plain[1]), then)


class StepScreen(WizardScreen):
    STEP = ""
    MAIN = ""          # the button of the step's main action (ctrl+r)
    BINDINGS = [
        Binding("ctrl+r", "main", "Run step", id="run"),
        Binding("ctrl+n", "next", "Next", id="next"),
        Binding("ctrl+b", "back", "Back", id="back"),
        Binding("ctrl+t", "troubleshoot", "Troubleshoot", id="troubleshoot"),
    ]

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield StepIndicator(id="steps")
        with VerticalScroll(id="body"):
            yield from self.body()
        yield Static("", id="status")
        with Horizontal(id="nav"):
            yield Button("Back", id="back")
            yield Button("Next", id="next")       # not coloured as if focused: the focus shows itself
        yield Footer()

    def body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        from .steps import skipped
        self.query_one(StepIndicator).show(self.STEP, skipped(self.session.back_to_disk))

    def bring_into_view(self, selector: str) -> None:
        """Scroll a step's result to where the eye is, once it is drawn (the form above it may be long)."""
        widget = self.query_one(selector)
        # after the next refresh the result's rows are laid out; scrolling earlier stops short of them
        self.call_after_refresh(lambda: self.call_after_refresh(widget.scroll_visible, animate=False))

    def settings_ok(self) -> bool:
        """The answers make valid settings; else the field and fix are shown."""
        try:
            self.session.settings()
        except Exception as e:  # noqa: BLE001
            self.fail(e)
            return False
        return True

    # Textual calls message handlers of every class in the MRO: the base uses its own names.
    @on(Button.Pressed, "#next")
    def _next_pressed(self) -> None:
        self.action_next()

    @on(Button.Pressed, "#back")
    def _back_pressed(self) -> None:
        self.action_back()

    def action_main(self) -> None:
        if self.MAIN:
            self.query_one(self.MAIN, Button).press()

    def action_troubleshoot(self) -> None:
        self.app.troubleshoot()

    def action_back(self) -> None:
        self.app.go(-1)

    def action_next(self) -> None:
        if self.collect():
            self.app.go(+1)

    def collect(self) -> bool:
        """Copy the form into the answers; False (with a message) when something is missing."""
        return True
