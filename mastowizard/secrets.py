"""Secrets stay wrapped: their repr, str and format never show the value."""

from __future__ import annotations

import re

SECRET_NAME = re.compile(r"(KEY|TOKEN|PASS|SECRET|OTP|PRIVATE|CREDENTIAL)", re.IGNORECASE)
# Names that contain KEY but hold nothing secret.
NOT_SECRET = frozenset({"AWS_ACCESS_KEY_ID", "S3_KEY_PREFIX"})


class Secret:
    """A secret value. Use .reveal() only where the value must go to a library call."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

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


def scrub(text: str, secrets: "list[str | Secret | None]") -> str:
    """Remove every occurrence of the given secret values from a text (error messages, logs)."""
    for s in secrets:
        value = s.reveal() if isinstance(s, Secret) else s
        if value and len(value) >= 4:
            text = text.replace(value, mask(value))
    return text
