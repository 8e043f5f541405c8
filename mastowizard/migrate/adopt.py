"""An object already in the bucket that no journal here recorded: a shard rerun on another host (its
first host died with the journal), a journal lost or deleted, a copy made earlier by this tool
elsewhere. It is kept, and journaled, instead of written again, only when it is exactly what
Mastodon would have stored for the file:
- the same bytes: the listing's ETag is the file's MD5 (or, for a file over the multipart
  threshold, the multipart ETag of the parts this tool cuts);
- the same headers: Content-Type, Cache-Control and storage class, and no user metadata
  (`x-amz-meta-*`, which rclone adds) nor Content-Encoding or Content-Disposition;
- the same permission: in ACL mode the canned ACL (public-read: anyone may read and nothing else
  is granted to a group; private: no group at all), in policy mode no group grant either.
Anything else, or a server that does not answer the question, is uploaded again as today."""

from __future__ import annotations

import hashlib
import re

from ..settings import CACHE_CONTROL, Settings
from .objects import ObjectSpec, part_size, storage_class
from .putter import PutError, Putter
from .reading import Body

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
_GRANT = re.compile(rb"<Grant>(.*?)</Grant>", re.S)
_URI = re.compile(rb"<URI>([^<]+)</URI>")
_PERMISSION = re.compile(rb"<Permission>([^<]+)</Permission>")
FOREIGN_HEADERS = ("content-encoding", "content-disposition")


def etag_of(body: Body, threshold: int) -> str | None:
    """The ETag the server gave the object this tool stores from BODY: the MD5 of a single PUT, or
    the multipart ETag (MD5 of the parts' MD5s, "-" and their count). A large body's file is read
    through and rewound; None when it cannot be rewound (then it is uploaded)."""
    if body.data is not None:
        return hashlib.md5(body.data).hexdigest()
    fh = body.file
    if fh is None or not fh.seekable():
        return None
    step, digests = part_size(body.size, threshold), []
    while True:
        chunk = fh.read(step)
        if not chunk and digests:
            break
        digests.append(hashlib.md5(chunk).digest())
        if len(chunk) < step:
            break
    fh.seek(0)
    return f"{hashlib.md5(b''.join(digests)).hexdigest()}-{len(digests)}"


def group_grants(putter: Putter, key: str) -> set[tuple[str, str]] | None:
    """The (group URI, permission) grants on the object, or None when the server does not say."""
    try:
        _, data = putter._send("GET", putter.path(key), "acl=", budget=30.0)
    except PutError:
        return None
    grants = set()
    for block in _GRANT.findall(data or b""):
        uri, perm = _URI.search(block), _PERMISSION.search(block)
        if uri:              # a group (everyone, any AWS user, the log delivery); people have an ID
            grants.add((uri.group(1).decode().strip(), perm.group(1).decode().strip() if perm else "?"))
    return grants


def stored_as_mastodon_would(putter: Putter, spec: ObjectSpec, settings: Settings) -> bool:
    """The object under SPEC's key has exactly the headers and permission Mastodon would give it."""
    try:
        head = putter.head(spec.key)
    except PutError:
        return False
    if head is None:
        return False
    if head.get("content-type") != spec.content_type or head.get("cache-control") != CACHE_CONTROL:
        return False
    if (head.get("x-amz-storage-class") or "STANDARD") != (storage_class(settings) or "STANDARD"):
        return False
    if any(k.startswith("x-amz-meta-") for k in head) or any(k in head for k in FOREIGN_HEADERS):
        return False
    if spec.acl not in (None, "public-read", "private"):
        return False            # another canned ACL: not one this check knows how to read back
    grants = group_grants(putter, spec.key)
    if grants is None:
        return False
    wanted = {(ALL_USERS, "READ")} if spec.acl == "public-read" else set()
    return grants == wanted
