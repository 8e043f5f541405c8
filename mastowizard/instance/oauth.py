"""A user token with `write:media` for the live checklist, the way Mastodon's docs describe it for
an app without a web server: register an app (`POST /api/v1/apps`, the OOB redirect, scope
write:media only), send the operator to the authorize URL, exchange the code they paste
(`POST /oauth/token`, with PKCE S256 where the server announces it: 4.3+), check the scope the
server actually granted, and revoke the token afterwards (`POST /oauth/revoke`, which needs the
client secret). The password grant is gone in Mastodon 4.4 and is never used.

The token and the client secret are `Secret`s held in memory by the caller: never saved, logged,
put in argv or in an exception message."""

from __future__ import annotations

import base64
import hashlib
import secrets as _random
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from ..errors import InputError, TargetError
from ..net import HttpOptions, describe_error
from ..net import client as http_client
from ..secrets import Secret, scrub

SCOPE = "write:media"
OOB = "urn:ietf:wg:oauth:2.0:oob"
CLIENT_NAME = "mastowizard (media check)"
WEBSITE = "https://github.com/mastowizard/mastowizard"


@dataclass
class App:
    client_id: str
    client_secret: Secret


@dataclass
class Authorization:
    """An app registered for this run and the URL the operator opens; waiting for the code."""

    instance: str
    app: App
    url: str
    verifier: Secret | None          # PKCE: None where the server does not announce S256

    @property
    def pkce(self) -> bool:
        return self.verifier is not None


@dataclass
class Token:
    access_token: Secret
    scope: str
    app: App
    instance: str


def open_in_browser(url: str) -> bool:
    """Open URL in a graphical browser where one is available (never a text browser in the terminal
    the wizard runs in); False when the operator must open it by hand."""
    import os
    import sys
    if not (sys.platform == "darwin" or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    import webbrowser
    try:
        return webbrowser.open(url)
    except Exception:  # noqa: BLE001 - no browser after all: the URL is shown
        return False


def instance_url(raw: str | None) -> str:
    """The instance's own URL: https://host[:port] (http only for a loopback test instance)."""
    from ..validate import instance_url as checked
    return checked(raw, "instance")


def _json(r: httpx.Response, doing: str) -> dict:
    try:
        doc = r.json()
    except ValueError:
        kind = "an HTML page" if "html" in r.headers.get("content-type", "") else "no JSON"
        raise TargetError(str(r.request.url).split("?")[0], f"answered {r.status_code} with {kind} while {doing}",
                          "give the Mastodon instance's own URL (the one its web app is on)") from None
    if not isinstance(doc, dict):
        raise TargetError(str(r.request.url).split("?")[0], f"answered {r.status_code} with unexpected JSON "
                          f"while {doing}", "give the Mastodon instance's own URL")
    return doc


def _post(c: httpx.Client, url: str, data: dict, doing: str, secrets: list) -> httpx.Response:
    try:
        return c.post(url, data=data)
    except httpx.HTTPError as e:
        raise TargetError(url, scrub(describe_error(e), secrets) + f" while {doing}",
                          "check the instance URL and that it is reachable from here") from None


def server_supports_pkce(c: httpx.Client, instance: str) -> bool:
    """Mastodon 4.3+ announces S256 in its authorization server metadata (RFC 8414)."""
    try:
        r = c.get(instance + "/.well-known/oauth-authorization-server")
        return r.status_code == 200 and "S256" in r.json().get("code_challenge_methods_supported", [])
    except (httpx.HTTPError, ValueError, AttributeError):
        return False


def start(instance: str, http: HttpOptions | None = None) -> Authorization:
    """Register the app and build the authorize URL (nothing is granted until the operator agrees)."""
    instance = instance_url(instance)
    with http_client(http) as c:
        r = _post(c, instance + "/api/v1/apps", {"client_name": CLIENT_NAME, "redirect_uris": OOB, "scopes": SCOPE,
                                                 "website": WEBSITE}, "registering the app", [])
        doc = _json(r, "registering the app")
        if r.status_code == 429:
            raise TargetError(instance, "refused to register another app for now (429, rate limited)",
                              "wait a few minutes, or create the token by hand (Development > New application)")
        if r.status_code != 200 or not doc.get("client_id") or not doc.get("client_secret"):
            raise TargetError(instance, f"did not register the app ({r.status_code}: "
                              f"{str(doc.get('error', ''))[:120]})", "create the token by hand: Preferences > "
                              "Development > New application, tick write:media")
        app = App(doc["client_id"], Secret(doc["client_secret"]))
        pkce = server_supports_pkce(c, instance)
    query = {"response_type": "code", "client_id": app.client_id, "redirect_uri": OOB, "scope": SCOPE}
    verifier = None
    if pkce:
        raw = _random.token_urlsafe(64)
        verifier = Secret(raw)
        query["code_challenge"] = base64.urlsafe_b64encode(hashlib.sha256(raw.encode()).digest()).rstrip(b"=").decode()
        query["code_challenge_method"] = "S256"
    return Authorization(instance, app, f"{instance}/oauth/authorize?{urlencode(query)}", verifier)


def finish(auth: Authorization, code: str, http: HttpOptions | None = None) -> Token:
    """Exchange the pasted code; the token must hold write:media (or write, which includes it)."""
    code = (code or "").strip()
    if not code or any(ch.isspace() for ch in code):
        raise InputError("authorization code", "is empty" if not code else "is not one code",
                         "paste the code the instance shows after Authorize")
    data = {"grant_type": "authorization_code", "code": code, "client_id": auth.app.client_id,
            "client_secret": auth.app.client_secret.reveal(), "redirect_uri": OOB}
    if auth.verifier is not None:
        data["code_verifier"] = auth.verifier.reveal()
    hidden = [code, auth.app.client_secret, auth.verifier]
    with http_client(http) as c:
        r = _post(c, auth.instance + "/oauth/token", data, "exchanging the code", hidden)
    doc = _json(r, "exchanging the code")
    if r.status_code != 200 or not doc.get("access_token"):
        if doc.get("error") == "invalid_grant":
            raise InputError("authorization code", "the instance refused it (invalid_grant): a code works once, "
                             "for 10 minutes, with the app that asked for it", "get a new code (Get a token again)")
        raise TargetError(auth.instance, f"did not give a token ({r.status_code} {doc.get('error', '')})".strip(),
                          "get a new code, or create the token by hand (Development > New application)")
    token = Token(Secret(doc["access_token"]), str(doc.get("scope", "")), auth.app, auth.instance)
    granted = token.scope.split()
    if SCOPE not in granted and "write" not in granted:
        revoke(token, http)                  # useless for the check: do not leave it behind
        raise InputError("scope", f"the instance granted {token.scope or 'no scope'!r}, without write:media",
                         "authorize again and leave the write:media box ticked")
    return token


def revoke(token: Token, http: HttpOptions | None = None) -> bool:
    """Revoke the token (after the checklist). True when the instance confirmed it."""
    data = {"client_id": token.app.client_id, "client_secret": token.app.client_secret.reveal(),
            "token": token.access_token.reveal()}
    try:
        with http_client(http) as c:
            r = c.post(token.instance + "/oauth/revoke", data=data)
    except httpx.HTTPError:
        return False
    return r.status_code == 200
