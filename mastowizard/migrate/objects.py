"""What Mastodon would have stored for a file on disk: its key, Content-Type, Cache-Control, ACL and
storage class (config/initializers/paperclip.rb; app/models/backup.rb; the 0600 files of
UpdateMediaAttachmentsPermissionsService). Never the host's mime table: an explicit one."""

from __future__ import annotations

import posixpath
import stat
from dataclasses import dataclass

from ..s3.policies import PUBLIC_PREFIXES
from ..settings import CACHE_CONTROL, Settings

MULTIPART_THRESHOLD = 15 * 1024 * 1024          # Mastodon's default S3_MULTIPART_THRESHOLD
UNKNOWN_TYPE = "application/octet-stream"

# Every extension Mastodon writes under public/system (media attachments and their thumbnails,
# avatars, headers, emoji, preview cards, site uploads, backups, old imports).
CONTENT_TYPES = {
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp",
    "avif": "image/avif", "heic": "image/heic", "heif": "image/heif", "ico": "image/vnd.microsoft.icon",
    "bmp": "image/bmp", "tif": "image/tiff", "tiff": "image/tiff", "svg": "image/svg+xml",
    "mp4": "video/mp4", "m4v": "video/x-m4v", "webm": "video/webm", "mov": "video/quicktime", "ogv": "video/ogg",
    "mp3": "audio/mpeg", "ogg": "audio/ogg", "oga": "audio/ogg", "opus": "audio/ogg", "flac": "audio/flac",
    "wav": "audio/wav", "m4a": "audio/mp4", "aac": "audio/aac", "3gp": "audio/3gpp", "wma": "audio/x-ms-wma",
    "zip": "application/zip", "csv": "text/csv", "json": "application/json", "txt": "text/plain",
}

# Top-level folders whose files are never public, whatever the mode: users' archives and their
# old follow/block lists (app/models/backup.rb, the Import model removed in 4.4).
PRIVATE_FOLDERS = frozenset({"backups", "imports"})


def content_type(name: str) -> str:
    ext = posixpath.splitext(name)[1].lstrip(".").lower()
    return CONTENT_TYPES.get(ext, UNKNOWN_TYPE)


def private_on_disk(mode: int) -> bool:
    """Mastodon makes a suspended account's media `0600 & ~umask`; every other file is
    `0666 & ~umask`. So no group or other bit at all means private (0640 under umask 027 is not)."""
    return stat.S_IMODE(mode) & 0o077 == 0


@dataclass(frozen=True)
class ObjectSpec:
    """The object one file becomes."""

    key: str
    content_type: str
    acl: str | None          # the canned ACL to send; None = no ACL header (policy mode)
    private: bool            # must never be public
    exposed: bool            # private, but a bucket policy (policy mode) makes it public anyway

    def signature(self, settings: Settings) -> str:
        """What the journal compares to know the object was stored with these headers."""
        return "|".join([self.content_type, CACHE_CONTROL, self.acl or "-", storage_class(settings) or "-"])


def storage_class(settings: Settings) -> str | None:
    return settings.extra_env.get("S3_STORAGE_CLASS") or None


def multipart_threshold(settings: Settings) -> int:
    try:
        return max(5 * 1024 * 1024, int(settings.extra_env.get("S3_MULTIPART_THRESHOLD") or MULTIPART_THRESHOLD))
    except ValueError:
        return MULTIPART_THRESHOLD


def part_size(size: int, threshold: int) -> int:
    """The part size of this tool's multipart upload of SIZE bytes: the threshold, at least 8 MiB, and
    never more than 10,000 parts (S3's limit). The copy, the check of an object in no journal and the
    s5cmd export all cut the same parts, so the same file gets the same multipart ETag."""
    return max(threshold, 8 * 1024 * 1024, -(-size // 10_000))


def spec_for(rel: str, mode: int, settings: Settings) -> ObjectSpec:
    """The object for the file at REL (relative to public/system) with MODE."""
    top = rel.split("/", 1)[0]
    private = top in PRIVATE_FOLDERS or private_on_disk(mode)
    acl = settings.acl or None      # "" (policy mode): Mastodon sends no ACL header at all
    if acl is not None and private:
        acl = "private"
    # In policy mode the bucket policy grants public read on Mastodon's media prefixes: a private file
    # there is public anyway (backups/ and imports/ are outside those prefixes).
    exposed = private and acl is None and f"{top}/" in PUBLIC_PREFIXES
    return ObjectSpec(settings.key(rel), content_type(rel), acl, private, exposed)
