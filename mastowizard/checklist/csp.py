"""Reading a Content-Security-Policy the way a browser applies it to media: which directive governs
a fetch (img-src, media-src, connect-src, falling back to default-src) and whether a URL matches
its source list (CSP Level 3 source expressions: 'self', schemes, hosts with wildcards, ports and
paths). Mastodon's web app loads images through img-src, video and audio through media-src, and
its service worker fetches media through connect-src."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MEDIA_DIRECTIVES = ("img-src", "media-src", "connect-src")
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_HOST_SOURCE = re.compile(r"^(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?(?P<host>\*|(?:\*\.)?[a-z0-9.-]+)"
                          r"(?::(?P<port>\d+|\*))?(?P<path>/[^\s]*)?$", re.I)


def parse(header: str) -> dict[str, list[str]]:
    """Directives to their source lists; the first of a repeated directive counts, as in browsers."""
    policy: dict[str, list[str]] = {}
    for part in header.split(";"):
        tokens = part.split()
        if tokens and tokens[0].lower() not in policy:
            policy[tokens[0].lower()] = tokens[1:]
    return policy


def governing(policy: dict[str, list[str]], directive: str) -> list[str] | None:
    """The source list a fetch of this kind is checked against (None: nothing restricts it)."""
    if directive in policy:
        return policy[directive]
    return policy.get("default-src")


def _scheme_ok(source_scheme: str, scheme: str) -> bool:
    # a source's http also allows https (and ws/wss likewise): the secure upgrade
    return scheme == source_scheme or (source_scheme, scheme) in (("http", "https"), ("ws", "wss"))


def source_allows(source: str, url: str, self_origin: str) -> bool:
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = parts.port or DEFAULT_PORTS.get(scheme)
    src = source.strip()
    low = src.lower()
    if low == "'self'":
        me = urlsplit(self_origin)
        if host != (me.hostname or "").lower():
            return False
        my_port = me.port or DEFAULT_PORTS.get(me.scheme)
        if scheme == me.scheme:
            return port == my_port
        return me.scheme == "http" and scheme == "https" and port in (443, my_port)
    if low == "*":
        return scheme in ("http", "https", "ws", "wss")
    if re.fullmatch(r"[a-z][a-z0-9+.-]*:", low):
        return _scheme_ok(low[:-1], scheme)
    if low.startswith("'"):
        return False                      # nonces, hashes, 'none', 'unsafe-*': not for media URLs
    m = _HOST_SOURCE.match(low)
    if not m:
        return False
    if m["scheme"]:
        if not _scheme_ok(m["scheme"], scheme):
            return False
    elif not _scheme_ok(urlsplit(self_origin).scheme, scheme):
        return False
    pattern = m["host"]
    if pattern == "*":
        pass
    elif pattern.startswith("*."):
        if not host.endswith(pattern[1:]):
            return False
    elif host != pattern:
        return False
    if m["port"] != "*":
        wanted = int(m["port"]) if m["port"] else DEFAULT_PORTS.get(m["scheme"] or scheme)
        if port != wanted:
            return False
    path = m["path"]
    if path and path != "/":
        return parts.path.startswith(path) if path.endswith("/") else parts.path == path
    return True


def allowed_in(policy: dict[str, list[str]], url: str, self_origin: str) -> dict[str, bool]:
    """For each media directive: does it let the page fetch URL?"""
    result = {}
    for directive in MEDIA_DIRECTIVES:
        sources = governing(policy, directive)
        result[directive] = sources is None or any(source_allows(s, url, self_origin) for s in sources)
    return result
