"""Which objects in a bucket Mastodon keeps private, told from what the bucket shows.

Mastodon makes three kinds of object private: users' archives (`backups/`), the old follow and block
lists (`imports/`), and the media attachments of suspended accounts and of deleted-but-reported
posts (UpdateMediaAttachmentsPermissionsService: `file` and `thumbnail` only, local and cached).
Avatars, headers, emoji, preview cards and site uploads are never made private.

So a private avatar is always an accident (a copy tool's default ACL, rclone's `private`), and a
few private attachments in a bucket that is otherwise public are suspensions. When most of the
bucket is private, a private attachment may be either: that bucket is suspect, and only the
operator can say whether its private media is to stay private."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..s3.policies import PUBLIC_PREFIXES
from .objects import PRIVATE_FOLDERS

SUSPECT_SHARE = 0.5          # at least this share of one kind private: the bucket is suspect
KEEP, PUBLIC = "keep", "public"     # what to do with private attachments in a suspect bucket


def kind_of(rel: str) -> str:
    """'private' (backups/, imports/), 'attachment' (may be private: suspensions), 'public' (never
    private in Mastodon), or 'other' (not a folder Mastodon writes: left alone)."""
    top = rel.split("/", 1)[0]
    if top in PRIVATE_FOLDERS:
        return "private"
    if rel.startswith(("media_attachments/", "cache/media_attachments/")):
        return "attachment"
    if f"{top}/" in PUBLIC_PREFIXES:
        return "public"
    return "other"


@dataclass
class Tally:
    """How many objects of each kind were seen, and how many of them anyone can read."""

    seen: dict[str, int] = field(default_factory=dict)
    readable: dict[str, int] = field(default_factory=dict)
    sampled: set[str] = field(default_factory=set)     # kinds of which only a sample was asked

    def add(self, kind: str, public: bool) -> None:
        self.seen[kind] = self.seen.get(kind, 0) + 1
        if public:
            self.readable[kind] = self.readable.get(kind, 0) + 1

    def private(self, kind: str) -> int:
        return self.seen.get(kind, 0) - self.readable.get(kind, 0)

    def share_private(self, kind: str) -> float:
        return self.private(kind) / self.seen[kind] if self.seen.get(kind) else 0.0

    @property
    def suspect(self) -> bool:
        """Most avatars, emoji and cards, or most attachments, are private: a copy tool's doing, not
        Mastodon's (a suspension makes a few attachments private, never an avatar)."""
        return any(self.seen.get(k, 0) >= 1 and self.share_private(k) >= SUSPECT_SHARE
                   for k in ("public", "attachment"))

    def describe(self) -> str:
        """One line: which kinds are private, and how many."""
        names = {"public": "avatars, headers, emoji, cards and site uploads", "attachment": "media attachments",
                 "private": "backups/ and imports/"}
        parts = [f"{self.private(k)} of {self.seen[k]} {names[k]}" + (" asked (a sample)" if k in self.sampled else "")
                 + " private" for k in ("public", "attachment", "private") if self.seen.get(k)]
        return "; ".join(parts) if parts else "no object Mastodon writes"


def should_be_private(kind: str, public_now: bool, private_media: str) -> bool | None:
    """Whether an object of KIND that anyone can (PUBLIC_NOW) or cannot read must be private: True or
    False, or None when it is not Mastodon's to say (another folder: left alone). A private
    attachment stays private (a suspension) unless the operator chose PUBLIC for PRIVATE_MEDIA."""
    if kind == "private":
        return True
    if kind == "public":
        return False
    if kind == "attachment":
        return False if public_now else private_media != PUBLIC
    return None


def suspect_line(tally: Tally, what: str = "this bucket") -> str:
    """Why a bucket is suspect, as the CLI and the wizard say it."""
    return (f"{what} is suspect: " + tally.describe() + ". Mastodon never makes avatars private, and a suspension "
            "makes only a few attachments private: a copy tool (rclone's default ACL is private) probably did "
            "this, and its private attachments cannot be told from suspended accounts' media")


def known_mode(kind: str, private_media: str | None = None) -> int | None:
    """A file's mode on disk that needs no question to the bucket: 0600 for backups/ and imports/, 0644
    for what Mastodon never makes private, and for attachments when the operator chose PUBLIC; None
    when it depends on whether anyone may read the object."""
    if kind == "private":
        return 0o600
    if kind == "public" or (kind == "attachment" and private_media == PUBLIC):
        return 0o644
    return None


def disk_mode(kind: str, public_now: bool, private_media: str | None = None) -> int:
    """A file's mode on disk as Mastodon keeps it (0600 private, 0644 public), for an object anyone can
    (PUBLIC_NOW) or cannot read."""
    known = known_mode(kind, private_media)
    return known if known is not None else (0o644 if public_now else 0o600)
