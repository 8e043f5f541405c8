"""Read an instance's env file, report what it uses, and plan the change to the S3 variables."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from ..host.interface import FileStat, Host
from ..host.local import digest
from ..secrets import is_secret_name, mask, mask_userinfo
from ..settings import (
    CHECKSUM_REASON,
    CHECKSUM_VARIABLES,
    S3_VARIABLES,
    Settings,
    from_env,
)
from .doc import EnvDocument

CREDENTIAL_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


@dataclass
class EnvFile:
    """An env file as read from a host: its bytes, mode and owner, and the parsed document."""

    host: Host
    path: str
    data: bytes
    stat: FileStat
    doc: EnvDocument

    @classmethod
    def read(cls, host: Host, path: str) -> EnvFile:
        stat = host.stat(path)
        data = host.read_bytes(path)
        doc = EnvDocument.from_bytes(data, source=path.rsplit("/", 1)[-1])
        doc.check_parseable()
        return cls(host, path, data, stat, doc)

    @property
    def digest(self) -> str:
        return digest(self.data)


def show_value(key: str, value: str | None) -> str | None:
    if value is None:
        return None
    return mask(value) if is_secret_name(key) else mask_userinfo(value)


def describe(env: EnvFile) -> dict[str, Any]:
    """What the instance uses now, as the wizard's first screen and `mastowizard show` report it."""
    values = env.doc.values()
    notes: list[str] = []
    storage = "s3" if values.get("S3_ENABLED") == "true" else "local"
    try:
        reading = from_env(values)
        notes += reading.notes
    except InputError as e:
        notes.append(str(e))
    if "S3_ENDPOINT" in values and "S3_HOSTNAME" in values and "S3_ALIAS_HOST" not in values:
        ep_host = values["S3_ENDPOINT"].split("://", 1)[-1].rstrip("/")
        if values["S3_HOSTNAME"] != ep_host:
            notes.append(f"S3_HOSTNAME ({values['S3_HOSTNAME']}) differs from the S3_ENDPOINT host ({ep_host}): "
                         "media URLs use S3_HOSTNAME")
    for key, lines in env.doc.duplicates().items():
        notes.append(f"{key} is set {len(lines)} times (lines {', '.join(map(str, lines))}): the last one counts")
    for key in env.doc.expanding_values():
        notes.append(f"{key} contains $ outside single quotes: Ruby's dotenv (web, sidekiq) expands it, "
                     "Node's (streaming) does not")
    s3 = {k: show_value(k, values[k]) for k in S3_VARIABLES if k in values}
    return {
        "path": env.path,
        "host": env.host.describe(),
        "storage": storage,
        "local_domain": values.get("LOCAL_DOMAIN"),
        "web_domain": values.get("WEB_DOMAIN") or values.get("LOCAL_DOMAIN"),
        "s3": s3,
        "mode": f"{env.stat.mode:04o}",
        "owner": f"{env.stat.uid}:{env.stat.gid}",
        "notes": notes,
    }


@dataclass
class Change:
    key: str
    action: str            # add | change | remove
    old: str | None
    new: str | None
    line: int | None       # the line changed or removed (the effective one), None when added

    @property
    def secret(self) -> bool:
        return is_secret_name(self.key)

    def masked(self) -> dict[str, Any]:
        old, new = show_value(self.key, self.old), show_value(self.key, self.new)
        if self.secret and self.old is not None and self.new is not None and old == new:
            new = f"{new} (changed)"
        return {"key": self.key, "action": self.action, "old": old, "new": new, "line": self.line,
                "secret": self.secret}


@dataclass
class Plan:
    env: EnvFile
    new_text: str
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def new_bytes(self) -> bytes:
        return self.new_text.encode("utf-8")

    @property
    def empty(self) -> bool:
        return not self.changes

    @property
    def enables_s3(self) -> bool:
        """The plan moves media from disk to S3: S3_ENABLED becomes exactly `true` (as Mastodon reads it)."""
        before = self.env.doc.values().get("S3_ENABLED") == "true"
        return not before and EnvDocument(self.new_text).values().get("S3_ENABLED") == "true"

    @property
    def disables_s3(self) -> bool:
        """The plan moves media from S3 back to disk: S3_ENABLED stops being exactly `true`."""
        before = self.env.doc.values().get("S3_ENABLED") == "true"
        return before and EnvDocument(self.new_text).values().get("S3_ENABLED") != "true"

    def diff(self) -> str:
        """A unified diff with every secret value masked (last 4 characters at most)."""
        old = masked_lines(EnvDocument.from_bytes(self.env.data))
        same_mask = {c.key for c in self.changes if c.secret and c.old is not None and c.new is not None
                     and show_value(c.key, c.old) == show_value(c.key, c.new)}
        new = masked_lines(EnvDocument(self.new_text), changed=same_mask)
        name = self.env.path
        return "".join(difflib.unified_diff(old, new, fromfile=f"{name} (now)", tofile=f"{name} (planned)"))

    def to_json(self) -> dict[str, Any]:
        return {"path": self.env.path, "host": self.env.host.describe(),
                "changes": [c.masked() for c in self.changes], "notes": self.notes}


def masked_lines(doc: EnvDocument, changed: set[str] = frozenset()) -> list[str]:
    lines: list[str] = []
    for seg in doc.segments:
        text = seg.text
        if seg.is_assignment and is_secret_name(seg.key):
            head, written, tail = seg.parts()
            shown = mask(seg.value or "") if written else ""
            if seg.key in changed and doc.occurrences(seg.key)[-1] is seg:
                shown += " (changed)" if shown else ""
            text = head + shown + tail
        else:
            text = mask_userinfo(text)
        lines += [ln.rstrip("\r\n") + "\n" for ln in text.splitlines(keepends=True)] or []
    return lines


def desired_values(settings: Settings) -> dict[str, str | None]:
    """What the plan writes: Mastodon's S3 variables for the settings. Credentials only when given
    (None for them means keep, never remove)."""
    wanted = settings.to_env(include_secrets=True)
    for key in CREDENTIAL_KEYS:
        if wanted.get(key) is None:
            wanted.pop(key, None)
    return wanted


def sane_values(wanted: dict[str, str | None]) -> list[str]:
    """Correct what Mastodon would misread in WANTED (in place): a multipart threshold under 5 MiB
    (written in megabytes, read in bytes), a timeout of 0 s. The notes say what and why."""
    from ..s3.mastodon_client import DEFAULT_THRESHOLD, MastodonClient
    client = MastodonClient.from_env({k: v for k, v in wanted.items() if v is not None})
    notes = []
    problem = client.threshold_problem()
    if problem:
        wanted["S3_MULTIPART_THRESHOLD"] = str(DEFAULT_THRESHOLD)
        notes.append(f"{problem}; written as {DEFAULT_THRESHOLD} (15 MiB, Mastodon's default, in bytes)")
    for name in ("S3_OPEN_TIMEOUT", "S3_READ_TIMEOUT"):
        if wanted.get(name) is not None and getattr(client, name[3:].lower()) <= 0:
            notes.append(f"{name}={wanted[name]} is read as 0 s (Mastodon takes the leading whole number): removed, "
                         "so Mastodon's default of 5 s applies")
            wanted[name] = None
    return notes


def make_plan(env: EnvFile, settings: Settings,
              measured: Mapping[str, tuple[str | None, str]] | None = None) -> Plan:
    """The change of the env file to SETTINGS; MEASURED (from the jobs checks: variable -> (value or
    None to remove, the reason)) is written on top, each with its reason in the notes."""
    doc = EnvDocument.from_bytes(env.data, source=env.doc.source)
    before = doc.values()
    changes: list[Change] = []
    wanted = desired_values(settings)
    fixed = sane_values(wanted)
    for key, (value, _) in (measured or {}).items():
        if key in S3_VARIABLES:
            wanted[key] = value
    for key, value in wanted.items():
        current = before.get(key)
        occurrences = doc.occurrences(key)
        line = occurrences[-1].line if occurrences else None
        if value is None:
            if occurrences:
                doc.remove(key)
                changes.append(Change(key, "remove", current, None, line))
        elif current != value or not occurrences:
            doc.set(key, value)
            changes.append(Change(key, "change" if occurrences else "add", current, value, line))
    notes = []
    for key, lines in env.doc.duplicates().items():
        if any(c.key == key for c in changes):
            notes.append(f"{key} is set {len(lines)} times: the last one (line {lines[-1]}) is changed"
                         if any(c.key == key and c.action != "remove" for c in changes)
                         else f"{key} is set {len(lines)} times: every one is removed")
    if any(c.key in CHECKSUM_VARIABLES and c.action != "remove" for c in changes):
        notes.append(CHECKSUM_REASON)
    notes += fixed
    notes += [reason for key, (_, reason) in (measured or {}).items() if key in S3_VARIABLES]
    plan = Plan(env, doc.text(), changes, notes)
    _check_round_trip(plan, wanted)
    return plan


def media_origin(settings: Settings) -> str:
    """The media host as Mastodon's policy lists it: always https (its production policy)."""
    return f"https://{settings.alias_host or settings.url_hostname}"


def make_announce_plan(env: EnvFile, settings: Settings) -> Plan:
    """Only EXTRA_MEDIA_HOSTS, with the new media host added (nothing else changes, storage stays
    where it is): browsers that ran the web app keep the old Content-Security-Policy for up to a
    week, so the new host is announced that long before the switch. Mastodon 4.4+."""
    doc = EnvDocument.from_bytes(env.data, source=env.doc.source)
    current = doc.values().get("EXTRA_MEDIA_HOSTS")
    hosts = [h for h in re.split(r"(?:\s*,\s*|\s+)", current or "") if h]
    origin = media_origin(settings)
    notes = [f"EXTRA_MEDIA_HOSTS puts {origin} in the web app's Content-Security-Policy (Mastodon 4.4+) while "
             "media stays where it is; restart web, then switch a week later (browsers cache the old policy in "
             "the service worker for up to a week)"]
    changes: list[Change] = []
    if origin not in hosts:
        occurrences = doc.occurrences("EXTRA_MEDIA_HOSTS")
        value = " ".join([*hosts, origin])
        doc.set("EXTRA_MEDIA_HOSTS", value)
        changes.append(Change("EXTRA_MEDIA_HOSTS", "change" if occurrences else "add", current, value,
                              occurrences[-1].line if occurrences else None))
    plan = Plan(env, doc.text(), changes, notes)
    _check_round_trip(plan, {"EXTRA_MEDIA_HOSTS": doc.values().get("EXTRA_MEDIA_HOSTS")})
    return plan


def make_to_disk_plan(env: EnvFile) -> Plan:
    """S3_ENABLED=false: Mastodon stores and serves media from disk again (public/system, or
    PAPERCLIP_ROOT_PATH). Every other S3_* line stays: Mastodon reads none of them while S3_ENABLED is
    not true, and going back to the bucket is then this one line again (`rollback`)."""
    doc = EnvDocument.from_bytes(env.data, source=env.doc.source)
    current = doc.values().get("S3_ENABLED")
    changes: list[Change] = []
    if current != "true":
        notes = [f"S3_ENABLED is {current!r}, not 'true': Mastodon keeps media on disk already"
                 if current is not None else "S3_ENABLED is not set: Mastodon keeps media on disk already"]
    else:
        notes = ["the other S3_* lines stay: Mastodon ignores them while S3_ENABLED is false, and they make "
                 "going back to the bucket one line (`mastowizard rollback`)"]
        line = doc.occurrences("S3_ENABLED")[-1].line
        doc.set("S3_ENABLED", "false")
        changes.append(Change("S3_ENABLED", "change", current, "false", line))
    plan = Plan(env, doc.text(), changes, notes)
    _check_round_trip(plan, {"S3_ENABLED": "false" if changes else current})
    return plan


def _check_round_trip(plan: Plan, wanted: Mapping[str, str | None]) -> None:
    """The planned text must read back as intended; anything else is a bug, never written."""
    after = EnvDocument(plan.new_text).values()
    for key, value in wanted.items():
        if after.get(key) != value:
            raise AssertionError(f"planned file does not read back {key} as intended")
