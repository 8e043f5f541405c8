"""Secrets stay wrapped: their repr, str and format never show the value."""

from __future__ import annotations

import re
from collections.abc import Iterable

SECRET_NAME = re.compile(r"(KEY|TOKEN|PASS|SECRET|OTP|PRIVATE|CREDENTIAL)", re.IGNORECASE)
# Names that contain KEY but hold nothing secret.
NOT_SECRET = frozenset({"AWS_ACCESS_KEY_ID", "S3_KEY_PREFIX"})


class Secret:
    """A secret value. Use .reveal() only where the value must go to a library call."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value
        if value and len(value) >= 8:   # shorter ones are lab throwaways ("test") that match plain words
            _KNOWN.add(value)

    def reveal(self) -> str:
        return self._value

    def masked(self) -> str:
        return mask(self._value)

    def __repr__(self) -> str:
        return f"Secret({self.masked()})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self):  # never pickled into logs or caches
        raise TypeError("a Secret cannot be pickled")


def mask(value: str | None, keep: int = 4) -> str:
    """Show only the last `keep` characters, and only when the value is long enough to stay secret."""
    if not value:
        return ""
    if len(value) < 12:
        return "****"
    return "****" + value[-keep:]


def is_secret_name(name: str) -> bool:
    return name.upper() not in NOT_SECRET and bool(SECRET_NAME.search(name))


# Every secret value this process has held: scrub() removes them from any text shown.
_KNOWN: set[str] = set()
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@?#]+@")


def mask_userinfo(text: str) -> str:
    """`https://KEY:SECRET@host` shows as `https://****@host`: a URL's userinfo is a credential."""
    return _USERINFO.sub(r"\1****@", text)


class ScrubbedStream:
    """A text stream that passes everything through scrub(): the CLI's stdout and stderr."""

    def __init__(self, inner):
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(scrub(text))
        return len(text)

    def __getattr__(self, name: str):
        return getattr(self._inner, name)


def scrub(text: str, secrets: Iterable[str | Secret | None] = ()) -> str:
    """The text with every URL's userinfo, every secret value this process holds, and SECRETS masked:
    the one scrubber for anything shown (error messages, logs, reports, the CLI's output)."""
    text = mask_userinfo(text)
    given = {v for v in (s.reveal() if isinstance(s, Secret) else s for s in secrets) if v and len(v) >= 4}
    for value in sorted(_KNOWN | given, key=len, reverse=True):
        if value in text:
            text = text.replace(value, mask(value))
    return text
