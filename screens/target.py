"""The Target step: where is the instance (this machine or SSH) and its env file; what it uses now."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from mastowizard.host.ssh import UnknownHostKey

from .base import StepScreen
from .steps import skipped
from .widgets import Choice, SecretInput, StepIndicator, labelled, secret_field


class TargetScreen(StepScreen):
    STEP = "target"
    MAIN = "#read"

    def body(self) -> ComposeResult:
        a = self.app.session.answers
        yield Label("Where does Mastodon run?", classes="title")
        with RadioSet(id="where"):
            yield Choice("This machine", value=a.target == "local", id="local")
            yield Choice("Over SSH", value=a.target == "ssh", id="ssh")
        with Vertical(id="ssh-fields"):
            if a.target == "ssh":
                yield from self.ssh_fields()
        yield from labelled("Env file", Input(a.env_file, placeholder="path of .env.production", id="env-file"))
        yield Button("Read the instance", id="read")
        yield Button("Trust this host key", id="trust", classes="hidden")
        yield Static("", id="found")
        with Vertical(id="move-box", classes="hidden"):
            yield Label("It stores media in a bucket already. Where should the media go?", classes="title")
            with RadioSet(id="move"):
                yield Choice("Another bucket, or repair it", value=a.move != "disk", id="to-bucket")
                yield Choice("Back to local disk", value=a.move == "disk", id="to-disk")

    def ssh_fields(self) -> ComposeResult:
        """The SSH host and sudo fields: only on "Over SSH" (this machine needs none of them)."""
        a = self.session.answers
        yield from labelled("SSH host", Input(a.ssh, placeholder="admin@mastodon.example", id="ssh-target"),
                            hint="[user@]host[:port], or a Host from ~/.ssh/config")
        yield from labelled("Sudo user", Input(a.sudo_user, placeholder="e.g. mastodon, or empty", id="sudo-user"),
                            hint="optional: when your login may not read the instance's files, they are read "
                                 "as this user")
        yield from secret_field("Login password", SecretInput(self.session.ssh_password, "only if the login "
                                                              "needs one", "ssh-password", "held"))
        yield from secret_field("Key passphrase", SecretInput(self.session.key_passphrase, "only if the key "
                                                              "has one", "key-passphrase", "held"))
        yield from secret_field("Sudo password", SecretInput(self.session.sudo_password, "sudo password",
                                                             "sudo-password", "held"))

    @on(RadioSet.Changed, "#where")
    async def where_changed(self, event: RadioSet.Changed) -> None:
        box = self.query_one("#ssh-fields", Vertical)
        over_ssh = event.pressed.id == "ssh"
        if over_ssh and not box.children:
            await box.mount_all(list(self.ssh_fields()))
            self.query_one("#ssh-target", Input).focus()
        box.display = over_ssh

    @on(RadioSet.Changed, "#move")
    def move_changed(self, event: RadioSet.Changed) -> None:
        self.session.answers.move = "disk" if event.pressed.id == "to-disk" else ""
        self.query_one(StepIndicator).show(self.STEP, skipped(self.session.back_to_disk))
        if self.session.back_to_disk:
            self.say("back to disk: Copy media copies the bucket into public/system, Review switches S3_ENABLED "
                     "off (Provider, Permission and Media host are skipped)")

    def _copy_form(self) -> None:
        a = self.session.answers
        a.target = "ssh" if self.query_one("#ssh", RadioButton).value else "local"
        if a.target == "ssh" and self.query("#ssh-target"):
            a.ssh = self.query_one("#ssh-target", Input).value.strip()
            a.sudo_user = self.query_one("#sudo-user", Input).value.strip()
            self.session.sudo_password = self.query_one("#sudo-password", SecretInput).secret()   # cleared: forgotten
            self.session.ssh_password = self.query_one("#ssh-password", SecretInput).secret()
            self.session.key_passphrase = self.query_one("#key-passphrase", SecretInput).secret()
        a.env_file = self.query_one("#env-file", Input).value.strip()

    def collect(self) -> bool:
        a = self.session.answers
        self._copy_form()
        if a.target == "ssh" and not a.ssh:
            self.say("SSH host: give [user@]host[:port]", "error")
            return False
        if self.session.found is None:
            self.say("Read the instance first (button above)", "error")
            return False
        return True

    @on(Button.Pressed, "#read")
    def read_pressed(self) -> None:
        self._copy_form()
        self.say("reading ...")
        self.read()

    @on(Button.Pressed, "#trust")
    def trust_pressed(self) -> None:
        """The operator compared the fingerprint shown with the server's and accepts it."""
        self.session.answers.accept_host_key = self.pending_fingerprint
        self.query_one("#trust", Button).add_class("hidden")
        self.read_pressed()

    pending_fingerprint = ""

    def read(self) -> None:
        self.call_engine(lambda: (self.session.connect(), self.session.read_instance()), self.show_found)

    def fail(self, exc: BaseException) -> None:
        if isinstance(exc, UnknownHostKey):
            self.unknown_key(exc)
        else:
            super().fail(exc)

    def unknown_key(self, e: UnknownHostKey) -> None:
        self.pending_fingerprint = e.fingerprint
        self.say(f"The host key of {e.host} is not known yet: {e.key_type} {e.fingerprint}. Compare it with the "
                 "server's (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) before trusting it.", "error")
        self.query_one("#trust", Button).remove_class("hidden")

    def show_found(self, result) -> None:
        where, found = result
        lines = [f"{found['path']} on {where}",
                 f"instance: {found['local_domain'] or '?'}",
                 "media storage: " + ("S3 object storage" if found["storage"] == "s3" else "local disk")]
        lines.append(f"install: {found.get('install')}")
        size = found.get("media_bytes")
        if found.get("local_media"):
            lines.append("media on disk: " + (f"{size / 1048576:.1f} MiB" if size is not None else "yes")
                         + f" (e.g. {found['local_media'][0]})")
        lines += [f"  {k}={v}" for k, v in found["s3"].items()]
        lines += [f"note: {n}" for n in found["notes"]]
        self.query_one("#found", Static).update(Text("\n".join(lines)))
        on_s3 = found["storage"] == "s3"
        if not on_s3:                     # nothing to bring back: the way to a bucket
            self.session.answers.move = ""
        self.query_one("#move-box").set_class(not on_s3, "hidden")
        self.say("read the instance" + (": choose where its media goes (below)" if on_s3 else ""), "ok")
