"""The provider catalog: one data entry per S3 provider (mastowizard/data/providers.json)."""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from urllib.parse import urlsplit

from .errors import InputError

ACL_KINDS = ("yes", "no", "disabled-by-default", "ignored", "bucket-level", "fine-grained-only")


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    aliases: tuple[str, ...]
    endpoint_pattern: str | None
    endpoint_placeholders: Mapping[str, str]
    regions: tuple[str, ...]
    regions_complete: bool
    default_region: str | None
    region_value_note: str
    addressing: tuple[str, ...]
    default_addressing: str
    object_acls: str
    bucket_policies: bool
    default_permission: str
    public_read_how: str
    listing_risk: str | None
    cors: str
    cors_note: str
    quirks: tuple[str, ...]
    checksum_when_required: bool
    batch_delete_limit: int | None
    mastodon_env: Mapping[str, str]
    alias_host_hint: str
    sources: tuple[str, ...]
    rate_limit: Mapping[str, object] | None = None   # requests_per_s, scope (account|bucket|prefix|ip), what, source

    def fleet_rate(self) -> int | None:
        """The requests/s a whole fleet shares (an account's or a bucket's limit), or None when the
        limit is per prefix or per client IP: then more shards or more hosts get more."""
        if self.rate_limit and self.rate_limit.get("scope") in ("account", "bucket"):
            return int(self.rate_limit["requests_per_s"])
        return None

    @property
    def needs_endpoint(self) -> bool:
        """Self-hosted and generic providers: the operator gives the endpoint URL."""
        return self.id != "aws" and self.endpoint_pattern is None

    def placeholders(self) -> list[str]:
        if not self.endpoint_pattern:
            return []
        return [f for _, f, _, _ in string.Formatter().parse(self.endpoint_pattern) if f]

    def endpoint_for(self, region: str | None, **values: str) -> str | None:
        """The API endpoint for a region (and account id and the like). None for AWS and for
        providers where the operator must give the endpoint."""
        if not self.endpoint_pattern:
            return None
        filled = {"region": region or self.default_region or ""}
        for name in self.placeholders():
            if name == "region":
                continue
            value = (values.get(name) or "").strip()
            if not value:
                hint = self.endpoint_placeholders.get(name, name)
                example = self.endpoint_pattern.replace("{" + name + "}", name.upper())
                raise InputError(name.replace("_", "-"), f"{self.name} needs it to build the endpoint",
                                 f"give --endpoint {example}, where {name.upper()} is {hint}")
            filled[name] = value
        if "{region}" in self.endpoint_pattern and not filled["region"]:
            raise InputError("region", f"{self.name} needs a region", f"e.g. --region {self.default_region}")
        return self.endpoint_pattern.format(**filled)

    def endpoint_regex(self) -> re.Pattern[str] | None:
        if not self.endpoint_pattern:
            return None
        host = urlsplit(self.endpoint_pattern.replace("{", "<").replace("}", ">")).netloc
        rx = re.escape(host)
        for name in self.placeholders():
            rx = rx.replace(re.escape(f"<{name}>"), f"(?P<{name}>[a-z0-9.-]+?)")
        return re.compile(rf"^{rx}(:\d+)?$")


def _load() -> tuple[Provider, ...]:
    text = resources.files("mastowizard").joinpath("data/providers.json").read_text(encoding="utf-8")
    out = []
    for e in json.loads(text):
        out.append(Provider(
            id=e["id"], name=e["name"], aliases=tuple(e["aliases"]), endpoint_pattern=e["endpoint_pattern"],
            endpoint_placeholders=MappingProxyType(dict(e["endpoint_placeholders"])), regions=tuple(e["regions"]),
            regions_complete=e["regions_complete"], default_region=e["default_region"],
            region_value_note=e["region_value_note"], addressing=tuple(e["addressing"]),
            default_addressing=e["default_addressing"], object_acls=e["object_acls"],
            bucket_policies=e["bucket_policies"], default_permission=e["default_permission"],
            public_read_how=e["public_read_how"], listing_risk=e["listing_risk"], cors=e["cors"],
            cors_note=e["cors_note"], quirks=tuple(e["quirks"]), checksum_when_required=e["checksum_when_required"],
            batch_delete_limit=e["batch_delete_limit"], mastodon_env=MappingProxyType(dict(e["mastodon_env"])),
            alias_host_hint=e["alias_host_hint"], sources=tuple(e["sources"]),
            rate_limit=MappingProxyType(dict(e["rate_limit"])) if e.get("rate_limit") else None))
    return tuple(out)


@lru_cache(maxsize=1)
def all_providers() -> tuple[Provider, ...]:
    return _load()


def get_provider(name: str) -> Provider:
    key = (name or "").strip().lower()
    for p in all_providers():
        if key in (p.id, p.name.lower()) or key in p.aliases:
            return p
    ids = ", ".join(p.id for p in all_providers())
    raise InputError("provider", f"{name!r} is not in the catalog", f"use one of: {ids}")


def search_providers(text: str) -> list[Provider]:
    """Providers whose id, name or alias contains every word of TEXT (for a searchable list)."""
    words = text.lower().split()
    found = []
    for p in all_providers():
        hay = " ".join((p.id, p.name.lower(), *p.aliases))
        if all(w in hay for w in words):
            found.append(p)
    return found


def guess_provider(endpoint: str | None) -> Provider:
    """Which provider an S3_ENDPOINT belongs to: None means AWS, unknown hosts 'other'."""
    if not endpoint:
        return get_provider("aws")
    try:
        host = (urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}").hostname or "").lower()
    except ValueError:          # a malformed URL: the settings' own check names it
        return get_provider("other")
    for p in all_providers():
        rx = p.endpoint_regex()
        if rx and p.id != "idrive" and rx.match(host):
            return p
    legacy = {r"\.cloud\.ovh\.(net|us)$": "ovh", r"\.idrivee2(-\d+)?\.com$": "idrive", r"\.amazonaws\.com$": "aws"}
    for rx, pid in legacy.items():
        if re.search(rx, host):
            return get_provider(pid)
    return get_provider("other")


def region_from_endpoint(provider: Provider, endpoint: str | None) -> str | None:
    rx = provider.endpoint_regex()
    if not rx or not endpoint:
        return None
    m = rx.match((urlsplit(endpoint).netloc or "").lower())
    return m.groupdict().get("region") if m else None
