"""What an access token may do, asked without changing anything on the instance, for a token kept on
disk for a timer, which should upload media and do nothing else. Mastodon checks a token's scope
before anything else, so each question is a request that cannot succeed:
- a media upload with no file: 403 without write:media; with it, 422 (the file is missing; nothing is
  stored), unless the token has no user (422 "This method requires an authenticated user");
- the account it would read: 200 only with a read scope;
- deleting status 0 and following account 0: 403 without write:statuses or write:follows, else 404.
The 422's wording follows the instance's DEFAULT_LOCALE, so only its status is relied on. An answer
that is none of these (429, a 5xx while web restarts) leaves the scope unchecked, and says so."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from ..net import HttpOptions, describe_error
from ..net import client as http_client
from ..secrets import Secret

NO_USER = "requires an authenticated user"      # require_user!'s fixed English text


@dataclass(frozen=True)
class TokenReach:
    answered: bool                  # the instance answered every question plainly
    valid: bool = False
    uploads: bool = False           # write:media (or write)
    more: list[str] = field(default_factory=list)     # what else it may do: read the account, post, follow
    detail: str = ""


def token_reach(instance: str, token: Secret, http: HttpOptions) -> TokenReach:
    base = instance.rstrip("/")
    auth = {"Authorization": f"Bearer {token.reveal()}"}
    try:
        with http_client(http) as c:
            up = c.post(f"{base}/api/v2/media", headers=auth, files={"description": (None, "")})
            if up.status_code == 401:
                return TokenReach(True, detail=f"{base} refuses this token (401): it is not valid, or was revoked")
            if up.status_code == 403:
                return TokenReach(True, True, detail="a media upload answers 403: the token has no write:media")
            if up.status_code != 422:
                return TokenReach(False, detail=f"a media upload answered {up.status_code}, which says nothing of "
                                                "the token's scope (try again when the instance answers normally)")
            if NO_USER in up.text:
                return TokenReach(True, True, detail="the token belongs to no user (an app token): the upload "
                                                     "needs a user's")
            answers = {"read the account": c.get(f"{base}/api/v1/accounts/verify_credentials", headers=auth),
                       "delete and post statuses": c.delete(f"{base}/api/v1/statuses/0", headers=auth),
                       "follow accounts": c.post(f"{base}/api/v1/accounts/0/follow", headers=auth)}
    except httpx.HTTPError as e:
        return TokenReach(False, detail=f"{base} could not be asked ({describe_error(e)})")
    except UnicodeError:
        return TokenReach(True, detail="the token is not plain ASCII text, as Mastodon's tokens are")
    more = [what for what, r in answers.items() if r.status_code in ((200,) if what == "read the account" else (404,))]
    odd = {what: r.status_code for what, r in answers.items() if r.status_code not in (200, 403, 404)}
    if odd:
        return TokenReach(False, True, True, more, f"the instance answered {odd}, which says nothing of the scope")
    return TokenReach(True, True, True, more)
