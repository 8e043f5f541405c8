"""What the operator does in a browser against the lab's Mastodon stand-in, for the tests that get a
token the OAuth way (the token command, the wizard's Verify step): authorize on the consent form,
and whether a token still works."""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode

import httpx


def authorize(url: str, untick: tuple[str, ...] = ()) -> str:
    """What the operator does in the browser: the consent form (boxes ticked), Authorize, the code."""
    with httpx.Client() as c:
        page = c.get(url)
        assert page.status_code == 200, page.text
        fields = [(k, html.unescape(v)) for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">',
                                                             page.text)]
        boxes = re.findall(r'name="scope\[\]" value="([^"]+)"', page.text)
        assert boxes == ["write:media"]                   # asked for write:media only
        data = fields + [("scope[]", s) for s in boxes if s not in untick]
        done = c.post(url.split("/oauth/")[0] + "/oauth/authorize", content=urlencode(data),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
        return re.search(r'class="oauth-code" readonly type="text" value="([^"]+)"', done.text)[1]


def works(instance: str, token: str) -> int:
    """The status the instance answers a request with TOKEN: 200 while it works, 401 once revoked."""
    return httpx.get(instance + "/api/v1/apps/verify_credentials", headers={"Authorization": f"Bearer {token}"}
                     ).status_code
