"""The Permission step: ACL or bucket policy, with the probe's evidence, the three documents, and an
optional admin credential (never saved) to apply them."""

from __future__ import annotations

from rich.syntax import Syntax
from textual import on
from textual.app import ComposeResult
from textual.widgets import (
    Button,
    Collapsible,
    Input,
    Label,
    RadioButton,
    RadioSet,
    Select,
    Static,
)

from .base import StepScreen
from .checktable import CheckList
from .confirm import ConfirmScreen
from .widgets import Choice, SecretInput, labelled, secret_field

CONSEQUENCE = ("ACL mode (S3_PERMISSION=public-read): every upload is public by its own ACL, and Mastodon can "
               "hide a suspended account's media. Policy mode: a bucket policy makes media public; a suspended "
               "account's media stays reachable by URL.")


class PermissionScreen(StepScreen):
    STEP = "permission"
    MAIN = "#apply-bucket"

    def body(self) -> ComposeResult:
        a = self.app.session.answers
        try:
            p = self.app.session.settings().provider_entry
        except Exception as e:  # noqa: BLE001 - reached before the provider step was complete
            yield Label("Complete the provider step first", classes="title")
            yield Static(str(e))
            self.incomplete = True
            return
        self.incomplete = False
        mode = a.permission or p.default_permission
        yield Label("How is media made public?", classes="title")
        yield Static(CONSEQUENCE)
        yield Static(f"{p.name}: object ACLs {p.object_acls}; recommended {p.default_permission} mode.", id="evidence")
        with RadioSet(id="mode"):
            yield Choice("ACL mode", value=mode == "acl", id="acl")
            yield Choice("Bucket policy mode", value=mode == "policy", id="policy")
        yield from labelled("Admin AWS profile", Select([], prompt="none: paste a key below", allow_blank=True,
                                                        compact=True, id="admin-profile"),
                            hint="optional: an AWS profile (~/.aws) with an admin key, read when you apply")
        s = self.app.session
        pasted = s.admin if s.admin_profile is None else None
        yield from labelled("Admin key id", Input(pasted.access_key_id if pasted else "",
                                                  placeholder="admin access key id", id="admin-id"),
                            hint="or paste a key that may change the bucket's settings (Mastodon never gets it)")
        yield from secret_field("Admin secret", SecretInput(pasted.secret_access_key if pasted else None,
                                                            "admin secret", "admin-secret", s.admin_from))
        yield Button("Apply to the bucket", id="apply-bucket")
        yield CheckList(id="setup")
        with Collapsible(title="The bucket's documents (JSON), to apply by hand or review", id="docs-box"):
            yield Static("", id="docs")
            yield Button("Save the documents as JSON files", id="save-docs")

    def on_mount(self) -> None:
        if not self.incomplete:
            self.show_docs()
            self.call_engine(self.session.admin_profiles, self.list_profiles)

    def list_profiles(self, names: list[str]) -> None:
        select = self.query_one("#admin-profile", Select)
        select.set_options([(n, n) for n in names])
        if self.session.admin_profile is not None and self.session.admin_profile.name in names:
            select.value = self.session.admin_profile.name

    def mode(self) -> str:
        return "acl" if self.query_one("#acl", RadioButton).value else "policy"

    incomplete = False

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        self.session.answers.permission = self.mode()
        self.show_docs()

    def show_docs(self) -> None:
        self.session.answers.permission = self.mode()
        try:
            docs = self.session.documents()
        except Exception as e:  # noqa: BLE001
            self.fail(e)
            return
        from rich.console import Group

        from mastowizard.s3.policies import to_json
        parts = []
        for name, doc in docs.items():
            if name == "bucket_policy" and self.mode() == "acl":
                continue
            parts += [f"[b]{name.replace('_', ' ')}[/b]", Syntax(to_json(doc), "json", word_wrap=True)]
        self.query_one("#docs", Static).update(Group(*parts))

    def collect(self) -> bool:
        if self.incomplete:
            self.say("go back to the provider step and complete it", "error")
            return False
        self.session.answers.permission = self.mode()
        return self.settings_ok()

    @on(Button.Pressed, "#save-docs")
    def save_pressed(self) -> None:
        self.call_engine(self.session.save_documents, lambda paths: self.say("saved " + ", ".join(paths), "ok"))

    @on(Button.Pressed, "#apply-bucket")
    def apply_pressed(self) -> None:
        """First say what will change, on which bucket, with which key (read in a worker); change
        the bucket only on the confirmation."""
        profile = self.query_one("#admin-profile", Select).value
        key = self.query_one("#admin-id", Input).value.strip()
        field = self.query_one("#admin-secret", SecretInput)
        profile = profile if isinstance(profile, str) else None
        if not profile:
            held = self.session.admin if self.session.admin_profile is None else None
            if key and field.value:
                if held is None or key != held.access_key_id or field.value != field.original:
                    self.session.use_admin_key(key, field.secret())
            elif key or field.value:
                self.say("Admin secret: fill in both admin fields, or clear both" if key else
                         "Admin key id: fill in both admin fields, or clear both", "error")
                return
            else:                                   # both cleared: no admin key is held any more
                self.session.admin = self.session.admin_profile = None
                self.say("Admin key id: choose an AWS profile, or paste an admin key id and secret", "error")
                return
        if not self.collect():
            return
        self.say("reading the bucket's settings with the admin key ...")
        self.call_engine(lambda: self.session.describe_bucket_setup(profile), self.confirm_setup)

    def confirm_setup(self, lines: list[str]) -> None:
        self.app.push_screen(ConfirmScreen(f"Change the settings of bucket {self.session.answers.bucket}?", lines,
                                           "Yes, change the bucket"), self.setup_confirmed)

    def setup_confirmed(self, yes: bool | str | None) -> None:
        if yes is not True:
            self.say("the bucket was not changed")
            return
        self.say("applying to the bucket ...")
        self.call_engine(self.session.setup_bucket, self.done)

    def done(self, checks) -> None:
        self.query_one("#setup", CheckList).set_checks(checks)
        self.bring_into_view("#setup")
        bad = [c for c in checks if c.status == "fail"]
        self.say(bad[0].detail if bad else "the bucket is set up for this mode", "error" if bad else "ok")
