"""Field validators: each returns the cleaned value or raises InputError naming the field and the fix."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from .errors import InputError

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_BUCKET_CHARS = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
_REGION = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_KEY_PREFIX = re.compile(r"^[A-Za-z0-9!_.*'()/-]+$")

# Names AWS reserves (S3 "general purpose bucket naming rules").
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name(value: str | None, field: str = "bucket") -> str:
    """S3 bucket naming rules (the strict, DNS-compatible set every provider accepts)."""
    name = (value or "").strip()
    fix = "use 3-63 lowercase letters, digits, hyphens or dots, starting and ending with a letter or digit"
    if not name:
        raise InputError(field, "is empty", "give the bucket name, e.g. mastodon-media")
    if "/" in name or "://" in name:
        raise InputError(field, f"{name!r} is a URL or a path, not a bucket name",
                         "give only the bucket's name; the endpoint goes in --endpoint")
    if not 3 <= len(name) <= 63:
        raise InputError(field, f"{name!r} is {len(name)} characters long", fix)
    if name != name.lower():
        raise InputError(field, f"{name!r} has uppercase letters", "bucket names are lowercase")
    if not _BUCKET_CHARS.match(name):
        raise InputError(field, f"{name!r} has characters a bucket name cannot have", fix)
    if ".." in name or ".-" in name or "-." in name:
        raise InputError(field, f"{name!r} has a dot next to a dot or a hyphen", fix)
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        raise InputError(field, f"{name!r} looks like an IP address", "choose a name that is not an IP address")
    if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        raise InputError(field, f"{name!r} uses a prefix or suffix S3 reserves", "choose another name")
    return name


def host_name(value: str | None, field: str = "host", allow_port: bool = True) -> str:
    """A DNS host name (optionally with :port), or an IP address. Never a URL."""
    raw = (value or "").strip()
    if not raw:
        raise InputError(field, "is empty", "give a host name such as media.example.com")
    if "://" in raw:
        scheme_less = urlsplit(raw).netloc or raw
        raise InputError(field, f"{raw!r} is a URL", f"give only the host name, e.g. {scheme_less}")
    if "/" in raw or "?" in raw or "#" in raw:
        raise InputError(field, f"{raw!r} has a path", "give only the host name; keys are served at its root")
    host, port = raw, None
    if raw.startswith("["):
        end = raw.find("]")
        if end < 0:
            raise InputError(field, f"{raw!r} has an unclosed IPv6 bracket", "write [::1]:8080 or a host name")
        host, rest = raw[1:end], raw[end + 1:]
        if rest:
            if not rest.startswith(":"):
                raise InputError(field, f"{raw!r} is not host:port", "write [ADDRESS]:PORT")
            port = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise InputError(field, f"{host!r} is not an IPv6 address", "fix the address in brackets") from None
    elif raw.count(":") == 1:
        host, port = raw.split(":")
    if port is not None:
        if not allow_port:
            raise InputError(field, f"{raw!r} has a port", "give the host name without :port")
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            raise InputError(field, f"{raw!r} has an invalid port", "use a port from 1 to 65535")
    if raw.startswith("["):
        return raw
    host = host.lower().rstrip(".")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise InputError(field, f"{raw!r} is not a valid international host name",
                             "check the name, or give its xn-- form") from None
    try:
        ipaddress.ip_address(host)
        return host if port is None else f"{host}:{port}"
    except ValueError:
        pass
    if len(host) > 253 or not host:
        raise InputError(field, f"{raw!r} is not a valid host name", "use a name like media.example.com")
    for label in host.split("."):
        if not _LABEL.match(label):
            raise InputError(field, f"{raw!r} is not a valid host name: bad label {label!r}",
                             "use letters, digits and hyphens between the dots, e.g. media.example.com")
    return host if port is None else f"{host}:{port}"


def url(value: str | None, field: str, example: str, no_path: str) -> tuple[str, str, str]:
    """Any URL the operator gives, parsed once: (scheme, host, netloc). http(s) only, a valid host
    (IDNA names in their ASCII form), a port from 1 to 65535 if any, no user:password@, no query, no
    fragment, no path but slashes (NO_PATH is the fix to show for one)."""
    raw = (value or "").strip()
    if not raw:
        raise InputError(field, "is empty", f"give a URL such as {example}")
    if any(c.isspace() for c in raw):
        raise InputError(field, f"{raw!r} has a space in it", f"write it as one URL, e.g. {example}")
    if "://" not in raw:
        raise InputError(field, f"{raw!r} has no scheme", f"write it as a URL: https://{raw}")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as e:
        if "IPv6" in str(e) or raw.count("[") != raw.count("]"):
            raise InputError(field, f"{raw!r} has an unclosed IPv6 bracket", "write an IPv6 address as "
                             "http://[::1]:PORT") from None
        raise InputError(field, f"{raw!r} has an invalid port", "use a port from 1 to 65535, or none") from None
    if parts.scheme not in ("http", "https"):
        raise InputError(field, f"{raw!r} uses {parts.scheme!r}", "use an https:// (or http://) URL")
    if "@" in parts.netloc:
        raise InputError(field, "has credentials in the URL (user:password@)", "remove them; keys and tokens are "
                         "given apart, never in a URL")
    if parts.query or parts.fragment or raw.endswith(("?", "#")):
        raise InputError(field, f"{raw!r} has a query or fragment", "remove everything after ? or #")
    if port is not None and not 1 <= port <= 65535 or parts.netloc.endswith(":"):
        raise InputError(field, f"{raw!r} has an invalid port", "use a port from 1 to 65535, or none")
    if not parts.hostname:
        raise InputError(field, f"{raw!r} has no host", f"write it as {example}")
    host = host_name(parts.hostname, field=field, allow_port=False)
    if parts.path.strip("/"):
        raise InputError(field, f"{raw!r} has a path ({parts.path})", no_path)
    shown = f"[{host}]" if ":" in host else host
    return parts.scheme, host, shown + (f":{port}" if port else "")


def endpoint_url(value: str | None, field: str = "endpoint") -> str:
    """An S3 API endpoint: http(s)://host[:port], no path, no query, no credentials."""
    if not (value or "").strip():
        raise InputError(field, "is empty", "give the provider's S3 endpoint, e.g. https://s3.eu-central-1.wasabisys.com")
    scheme, _host, netloc = url(value, field, "https://s3.eu-central-1.wasabisys.com",
                                no_path="give only scheme://host[:port]; the bucket goes in --bucket")
    return f"{scheme}://{netloc}"


def instance_url(value: str | None, field: str = "instance") -> str:
    """The Mastodon instance's own URL: https://host[:port] (a bare host name gets https://); http only
    for a loopback test instance, since codes and tokens would cross the network in the clear."""
    raw = (value or "").strip()
    if not raw:
        raise InputError(field, "is empty", "give the instance's URL, e.g. https://mastodon.example")
    if "://" not in raw and not any(c.isspace() for c in raw):
        raw = "https://" + raw
    scheme, host, netloc = url(raw, field, "https://mastodon.example",
                               no_path="give only the scheme and host, e.g. https://mastodon.example")
    if scheme == "http" and host not in ("127.0.0.1", "localhost", "::1"):
        raise InputError(field, f"{value.strip()!r} uses http", "use https:// (codes and tokens must not cross the "
                         "network in the clear)")
    return f"{scheme}://{netloc}"


def region(value: str | None, field: str = "region") -> str:
    raw = (value or "").strip()
    if not raw:
        raise InputError(field, "is empty", "give the provider's region, e.g. us-east-1 (or auto for Cloudflare R2)")
    if not _REGION.match(raw):
        raise InputError(field, f"{raw!r} is not a region name",
                         "use lowercase letters, digits and hyphens, e.g. eu-central-1")
    return raw


def choice(value: str | None, field: str, allowed: tuple[str, ...]) -> str:
    raw = (value or "").strip().lower()
    if raw not in allowed:
        raise InputError(field, f"{value!r} is not one of {', '.join(allowed)}", f"use one of: {', '.join(allowed)}")
    return raw


def key_prefix(value: str | None, field: str = "key-prefix") -> str | None:
    raw = (value or "").strip()
    if not raw:
        return None
    if raw.startswith("/") or raw.endswith("/") or "//" in raw or ".." in raw.split("/"):
        raise InputError(field, f"{raw!r} has a leading, trailing or doubled slash or a '..'",
                         "write it like media or mastodon/media: Mastodon adds the slash")
    if not _KEY_PREFIX.match(raw):
        raise InputError(field, f"{raw!r} has characters that need URL escaping",
                         "use letters, digits, - _ . and /")
    return raw


def access_key_id(value: str | None, field: str = "AWS_ACCESS_KEY_ID") -> str:
    raw = (value or "").strip()
    if not raw:
        raise InputError(field, "is not set",
                         f"export {field} (or put it in the env file); never pass keys as arguments")
    if any(c.isspace() for c in raw) or len(raw) > 256:
        raise InputError(field, "has spaces or is too long", "paste the access key id exactly as the provider shows it")
    return raw


def secret_value(value: str | None, field: str = "AWS_SECRET_ACCESS_KEY") -> str:
    raw = value or ""
    if not raw.strip():
        raise InputError(field, "is not set",
                         f"export {field} (or put it in the env file); never pass keys as arguments")
    if raw != raw.strip() or len(raw) > 512:
        # Never echo the secret itself.
        raise InputError(field, "has leading or trailing spaces or is too long",
                         "paste the secret exactly as the provider shows it")
    return raw
