"""An S3 credential: the key id and its secret (held as a Secret). No boto3 here, so what only
carries a credential does not pay for importing it."""

from __future__ import annotations

from dataclasses import dataclass

from ..secrets import Secret


@dataclass(frozen=True)
class Credential:
    access_key_id: str
    secret_access_key: Secret
    session_token: Secret | None = None      # a temporary credential's (an AWS profile with a role or SSO)

    def __repr__(self) -> str:
        return f"Credential({self.access_key_id!r}, {self.secret_access_key!r})"
