"""The Provider step: the provider (searchable catalog), bucket, region, endpoint, addressing, media
host and writer credential; Test runs the bucket probes live."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from mastowizard.providers import all_providers, get_provider, search_providers

from .base import StepScreen
from .checktable import CheckList
from .widgets import SecretInput, labelled, secret_field

FIELDS = ("bucket", "region", "endpoint", "addressing", "key_prefix", "access_key_id")
LABELS = {
    "bucket": ("Bucket", "S3_BUCKET: the bucket's name"),
    "region": ("Region", "S3_REGION: the bucket's region as the provider names it, e.g. eu-central-1 (auto on R2)"),
    "endpoint": ("Endpoint", "S3_ENDPOINT: the provider's S3 API URL (empty for AWS), not the public media host"),
    "addressing": ("Addressing", "path: ENDPOINT/BUCKET/KEY; virtual: BUCKET.ENDPOINT/KEY "
                                 "(S3_OVERRIDE_PATH_STYLE=true for path)"),
    "key_prefix": ("Key prefix", "S3_KEY_PREFIX: optional, a folder in the bucket for every key"),
    "access_key_id": ("Writer key id", "AWS_ACCESS_KEY_ID: the key Mastodon writes with, not an admin key"),
    "secret": ("Writer secret", "AWS_SECRET_ACCESS_KEY of the writer key: memory only, never saved"),
}


class ProviderScreen(StepScreen):
    STEP = "provider"
    MAIN = "#test"

    def body(self) -> ComposeResult:
        a = self.app.session.answers
        yield Label("Provider, bucket and the writer key", classes="title")
        with Horizontal(id="provider-cols"):
            with Vertical(id="provider-pick"):
                yield Input(placeholder="search providers", id="search")
                yield OptionList(*[Option(p.name, id=p.id) for p in all_providers()], id="providers")
            with Vertical(id="provider-fields"):
                yield Static("", id="provider-hint")
                for name in FIELDS:
                    yield from labelled(LABELS[name][0],
                                        Input(getattr(a, name), placeholder=name.replace("_", " "), id=name))
                yield from secret_field(LABELS["secret"][0], SecretInput(
                    self.app.session.secret_access_key, "writer secret access key", "secret", "held"))
                yield Static(LABELS["bucket"][1], id="field-hint", classes="note")
                yield Button("Test the bucket", id="test")
        yield CheckList(id="probes")

    def on_descendant_focus(self, event) -> None:
        """One hint line under the fields, for the field being edited (its variable, what goes in it)."""
        hint = LABELS.get(event.widget.id or "")
        if hint:
            self.query_one("#field-hint", Static).update(hint[1])

    def on_mount(self) -> None:
        self.pick(self.session.answers.provider)
        ol = self.query_one("#providers", OptionList)
        ol.highlighted = next((i for i, p in enumerate(all_providers()) if p.id == self.session.answers.provider), 0)

    endpoints: dict[str, str] | None = None     # what was typed per provider: back on Ceph, Ceph's endpoint

    def pick(self, pid: str) -> None:
        p = get_provider(pid)
        old = self.session.answers.provider
        changed = old != p.id
        if self.endpoints is None:
            self.endpoints = {}
        if changed:
            self.endpoints[old] = self.query_one("#endpoint", Input).value
        self.session.answers.provider = p.id
        # fill what the catalog knows into empty fields (or all of them on a new choice); still editable
        region = self.query_one("#region", Input)
        if p.default_region and (changed or not region.value):
            region.value = p.default_region
        endpoint = self.query_one("#endpoint", Input)
        if changed or not endpoint.value:
            endpoint.value = self.endpoints.get(p.id, "") if changed else ""
            endpoint.placeholder = (f"endpoint: {p.endpoint_pattern} (filled from the region)" if p.endpoint_pattern
                                    else "endpoint URL" if p.needs_endpoint else "endpoint: none needed for AWS")
        addressing = self.query_one("#addressing", Input)
        if changed or not addressing.value:
            addressing.value = p.default_addressing
        self.query_one("#provider-hint", Static).update(
            f"{p.name}: region {p.region_value_note}; object ACLs: {p.object_acls}; recommended: "
            f"{p.default_permission} mode" + (f"; endpoint {p.endpoint_pattern}" if p.endpoint_pattern else ""))

    @on(Input.Changed, "#search")
    def search(self, event: Input.Changed) -> None:
        ol = self.query_one("#providers", OptionList)
        ol.clear_options()
        ol.add_options([Option(p.name, id=p.id) for p in search_providers(event.value)])

    @on(Input.Submitted, "#search")
    def search_submitted(self) -> None:
        """Enter in the search picks the first match (no Down needed) and goes on to the fields."""
        ol = self.query_one("#providers", OptionList)
        if ol.option_count:
            ol.highlighted = 0
            self.pick(ol.get_option_at_index(0).id)
            self.query_one("#bucket", Input).focus()

    @on(OptionList.OptionSelected, "#providers")
    def selected(self, event: OptionList.OptionSelected) -> None:
        self.pick(event.option.id)

    def collect(self) -> bool:
        a = self.session.answers
        for name in FIELDS:
            setattr(a, name, self.query_one(f"#{name}", Input).value.strip())
        self.session.secret_access_key = self.query_one("#secret", SecretInput).secret()   # cleared: forgotten
        return self.settings_ok()

    @on(Button.Pressed, "#test")
    def test_pressed(self) -> None:
        if self.collect():
            self.say("probing the bucket ...")
            self.call_engine(self.session.probe, self.show)

    def show(self, checks) -> None:
        self.query_one("#probes", CheckList).set_checks(checks)
        self.bring_into_view("#probes")
        bad = [c for c in checks if c.status == "fail"]
        self.say(f"{len(bad)} probe(s) failed: {bad[0].fix}" if bad else "every probe passed",
                 "error" if bad else "ok")
