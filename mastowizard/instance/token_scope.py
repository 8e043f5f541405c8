"""What an access token may do, asked without changing anything on the instance: a media upload
with no file (Mastodon checks the scope first: 403 without write:media, then 422 "File can't be
blank", and stores nothing), and the account it would read (200 only with a read scope). For a token
kept on disk for a timer, which should upload media and do nothing else."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from ..net import HttpOptions, describe_error
from ..net import client as http_client
from ..secrets import Secret


@dataclass(frozen=True)
class TokenReach:
    answered: bool                  # the instance could be asked at all
    valid: bool = False
    uploads: bool = False           # write:media (or write)
    reads_account: bool = False     # a read scope too: more than the watch needs
    detail: str = ""


def token_reach(instance: str, token: Secret, http: HttpOptions) -> TokenReach:
    base = instance.rstrip("/")
    auth = {"Authorization": f"Bearer {token.reveal()}"}
    try:
        with http_client(http) as c:
            up = c.post(f"{base}/api/v2/media", headers=auth, files={"description": (None, "")})
            if up.status_code == 401:
                return TokenReach(True, detail=f"{base} refuses this token (401): it is not valid, or was revoked")
            me = c.get(f"{base}/api/v1/accounts/verify_credentials", headers=auth)
    except httpx.HTTPError as e:
        return TokenReach(False, detail=f"{base} could not be asked ({describe_error(e)})")
    uploads = up.status_code == 422 and "can't be blank" in up.text
    detail = "" if uploads else f"a media upload answers {up.status_code}: {up.text[:120]!r}"
    return TokenReach(True, True, uploads, me.status_code == 200, detail)
