"""The lab's Mastodon stand-in: behaves like Mastodon wherever mastowizard's checklist touches it.

- Reads the instance's env file when it starts, so a restart picks up a change.
- Stores, reads back, re-permissions and deletes media with Mastodon's own code (mastodon_storage.py:
  Mastodon 4.4's paperclip.rb, kt-paperclip 7.2.2 and Debian's aws-sdk-s3 in a Ruby worker, the env
  file read by dotenv 3.1.8), so keys, headers, ACLs, multipart, timeouts and URLs are Mastodon's.
  Images get an original and a small style; the small style is a copy (no image processing).
- `POST /lab/jobs/...` runs what Sidekiq does with stored media (see Handler.job).
- Answers `POST /api/v2/media` (200 for images, 202 with `url: null` for video and audio),
  `GET /api/v1/media/:id` (206 while processing, 200 when done), `DELETE /api/v1/media/:id` (422
  when attached to a status), `POST /api/v1/statuses` (to attach), `GET /health`,
  `GET /api/v1|v2/instance`, `GET /api/v1/accounts/verify_credentials`, with bearer tokens,
  scopes (`write:media`, or `write`) and Mastodon's error bodies.
- OAuth as Mastodon 4.3+ does it (Doorkeeper): `POST /api/v1/apps` (confidential apps, the OOB
  redirect), `GET /oauth/authorize` (the consent form, a box per scope, for the logged-in lab
  admin) and `POST /oauth/authorize` (the OOB page that shows the code), `POST /oauth/token`
  (authorization_code, one-time codes valid 10 minutes, PKCE S256, the granted scope in the
  answer), `POST /oauth/revoke` (needs the client secret), `/.well-known/oauth-authorization-server`.
- Serves its web pages with the Content-Security-Policy Mastodon 4.4 builds from the env.

Stdlib only: the lab's systemctl and docker stand-ins run it with /usr/bin/python3 as any user.
    python3 mastodon_standin.py ENV_FILE PORT PIDFILE [LAB_CONFIG_JSON]
LAB_CONFIG_JSON: {"tokens": {"TOKEN": "read write:media"}, "processing_seconds": 1,
"never_finish": false (true: no upload ever finishes processing), "base_url": "http://127.0.0.1:17030"}
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import errno
import hashlib
import hmac
import html
import json
import os
import re
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urljoin, urlsplit

from mastodon_storage import MastodonStorage, StorageError

PUBLIC_KEYS = ("S3_ENABLED", "S3_BUCKET", "S3_REGION", "S3_ENDPOINT", "S3_ALIAS_HOST", "S3_PERMISSION",
               "LOCAL_DOMAIN")
IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}
LATER_TYPES = {"video/mp4": "mp4", "video/webm": "webm", "audio/mpeg": "mp3", "audio/ogg": "ogg"}
VERSION = "4.4.0"


def read_env(path: str) -> dict[str, str]:
    """Enough of dotenv for the lab: KEY=VALUE, `export`, quotes, comments."""
    values: dict[str, str] = {}
    with open(path, encoding="utf-8-sig") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, _, value = line.partition("=")
            key = key.replace("export ", "").strip()
            value = value.strip()
            if value[:1] in ("'", '"') and value[1:].find(value[0]) >= 0:
                value = value[1:1 + value[1:].find(value[0])]
            elif " #" in value:
                value = value.split(" #", 1)[0].rstrip()
            values[key] = value
    return values


def _slash(url: str) -> str:
    p = urlsplit(url)
    return url + "/" if p.path and not p.path.endswith("/") else url


def content_security_policy(env: dict[str, str], nonce: str) -> str:
    """The Content-Security-Policy of Mastodon 4.4/4.5's web pages, built from the env as
    config/initializers/content_security_policy.rb and app/lib/content_security_policy.rb do
    (mastodon 33894db93f, fc42e2d48b): media hosts = assets host, the first of S3_ALIAS_HOST,
    S3_CLOUDFRONT_HOST, AZURE_ALIAS_HOST, S3_HOSTNAME (https in production; S3_PROTOCOL and
    S3_ENDPOINT are never used; S3_ENABLED is not consulted), then SWIFT_OBJECT_URL if https,
    PAPERCLIP_ROOT_URL, EXTRA_MEDIA_HOSTS split on commas and/or spaces, verbatim."""
    web = env.get("WEB_DOMAIN") or env.get("LOCAL_DOMAIN") or "localhost:3000"

    def h2u(host):
        return _slash(f"https://{host}") if host else None
    assets = env.get("CDN_HOST") or h2u(web)
    swift = env.get("SWIFT_OBJECT_URL") or ""
    swift = (swift if swift.endswith("/") else swift + "/") if swift.startswith("https://") else None
    cdn = next((h for h in (h2u(env.get(k)) for k in ("S3_ALIAS_HOST", "S3_CLOUDFRONT_HOST", "AZURE_ALIAS_HOST",
                                                      "S3_HOSTNAME")) if h), swift)
    root_url = env.get("PAPERCLIP_ROOT_URL")
    root_url = _slash(urljoin(assets, root_url)) if root_url else None
    extra = re.split(r"(?:\s*,\s*|\s+)", env.get("EXTRA_MEDIA_HOSTS", ""))
    while extra and extra[-1] == "":
        extra.pop()                        # Ruby's split drops trailing empty fields only
    media = [h for h in (assets, cdn, root_url) if h] + extra
    stream = env.get("STREAMING_API_BASE_URL") or f"wss://{web}"
    directives = [
        ("base-uri", ["'none'"]), ("default-src", ["'none'"]), ("frame-ancestors", ["'none'"]),
        ("font-src", ["'self'", assets]), ("img-src", ["'self'", "data:", "blob:", *media]),
        ("media-src", ["'self'", "data:", *media]), ("manifest-src", ["'self'", assets]),
        ("form-action", ["'none'"]), ("child-src", ["'self'", "blob:", assets]),
        ("worker-src", ["'self'", "blob:", assets]), ("connect-src", ["'self'", "data:", "blob:", *media, stream]),
        ("script-src", ["'self'", assets, "'wasm-unsafe-eval'"]), ("frame-src", ["'self'", "https:"]),
        ("style-src", ["'self'", assets, f"'nonce-{nonce}'"]),
    ]
    return "; ".join(f"{k} {' '.join(v)}" for k, v in directives)


WEB_PAGE = (b"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Lab</title></head>"
            b"<body class=\"app-body\"><div class=\"app-holder\" id=\"mastodon\"></div></body></html>")


class Instance:
    def __init__(self, env: dict[str, str], env_file: str, lab: dict):
        self.env, self.lab = env, lab
        self.domain = env.get("LOCAL_DOMAIN", "lab.example")
        self.version = str(lab.get("version") or VERSION)       # what /api/v1|v2/instance says
        self.base_url = lab.get("base_url") or f"https://{env.get('WEB_DOMAIN') or self.domain}"
        self.storage = MastodonStorage(env_file)        # Mastodon's own code: keys, headers, ACLs, URLs
        self.root = os.path.join(os.path.dirname(os.path.abspath(env_file)), "public", "system")   # nginx's /system/
        self.media: dict[str, dict] = {}
        self.lock = threading.Lock()
        self.counter = 0

    def new_id(self) -> str:
        """A snowflake id, as Mastodon makes them (milliseconds, then a sequence)."""
        with self.lock:
            self.counter = (self.counter + 1) % 65536
            return str((int(time.time() * 1000) << 16) | self.counter)

    def url(self, path: str) -> str:
        """Mastodon's full_asset_url: local storage's /system/ paths are on the instance."""
        return urljoin(self.base_url + "/", path)

    @staticmethod
    def record(entry: dict) -> dict:
        return {"id": entry["id"], "file_name": entry["file_name"], "content_type": entry["content_type"]}

    def upload(self, data: bytes, content_type: str, description: str | None) -> dict:
        ext = IMAGE_TYPES.get(content_type) or LATER_TYPES[content_type]
        media_id = self.new_id()
        stored = self.storage.store(media_id, secrets.token_hex(8) + "." + ext, data, content_type)
        kind = "image" if content_type in IMAGE_TYPES else content_type.split("/")[0]
        later = kind != "image" or self.lab.get("never_finish", False)
        ready_at = time.time() + float(self.lab.get("processing_seconds", 1)) if later else time.time()
        entry = {"id": media_id, "type": kind, "keys": list(stored["keys"].values()), "urls": stored["urls"],
                 "file_name": stored["file_name"], "content_type": stored["content_type"],
                 "description": description, "ready_at": ready_at, "never": bool(self.lab.get("never_finish", False)),
                 "attached": False, "size": len(data)}
        with self.lock:
            self.media[media_id] = entry
        return entry

    def remove(self, entry: dict) -> None:
        self.storage.destroy(self.record(entry))

    def ready(self, entry: dict) -> bool:
        return not entry["never"] and time.time() >= entry["ready_at"]

    def attachment(self, entry: dict) -> dict:
        ready = self.ready(entry)
        urls = entry["urls"]
        return {"id": entry["id"], "type": entry["type"], "url": self.url(urls["original"]) if ready else None,
                "preview_url": self.url(urls["small"]), "remote_url": None, "preview_remote_url": None,
                "text_url": None,
                "meta": {"original": {"width": 1, "height": 1, "size": "1x1", "aspect": 1.0},
                         "small": {"width": 1, "height": 1, "size": "1x1", "aspect": 1.0}},
                "description": entry["description"], "blurhash": "UAAAAAAAAAAA"}


OOB = "urn:ietf:wg:oauth:2.0:oob"
SCOPES = ("read", "write", "follow", "push", "profile", "read:accounts", "read:statuses", "write:media",
          "write:statuses", "admin:read")


class OAuth:
    """Apps, one-time codes and tokens, as Mastodon's Doorkeeper keeps them."""

    def __init__(self, tokens: dict[str, set[str]]):
        self.tokens = tokens                 # shared with the API: a new token works at once
        self.apps: dict[str, dict] = {}
        self.codes: dict[str, dict] = {}
        self.lock = threading.Lock()

    def register(self, name: str, redirect_uris, scopes: str) -> dict:
        uris = redirect_uris if isinstance(redirect_uris, list) else str(redirect_uris).split()
        app = {"id": str(len(self.apps) + 1), "name": name, "website": None, "scopes": scopes.split(),
               "redirect_uris": uris, "redirect_uri": "\n".join(uris), "client_id": secrets.token_urlsafe(32),
               "client_secret": secrets.token_urlsafe(32), "client_secret_expires_at": 0}
        with self.lock:
            self.apps[app["client_id"]] = app
        return app

    def issue_code(self, app: dict, scopes: list[str], redirect_uri: str, challenge: str | None,
                   method: str | None) -> str:
        code = secrets.token_urlsafe(32)
        with self.lock:
            self.codes[code] = {"app": app["client_id"], "scopes": scopes, "redirect_uri": redirect_uri,
                                "challenge": challenge, "method": method, "expires": time.time() + 600}
        return code

    def exchange(self, form: dict) -> tuple[int, dict]:
        app = self.apps.get(form.get("client_id", ""))
        if app is None or not hmac.compare_digest(app["client_secret"], form.get("client_secret", "")):
            return 401, {"error": "invalid_client", "error_description": "Client authentication failed due to "
                         "unknown client, no client authentication included, or unsupported authentication method."}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type",
                         "error_description":
                             "The authorization grant type is not supported by the authorization server."}
        with self.lock:
            grant = self.codes.pop(form.get("code", ""), None)          # a code works once
        bad = {"error": "invalid_grant", "error_description": "The provided authorization grant is invalid, expired, "
               "revoked, does not match the redirection URI used in the authorization request, or was issued to "
               "another client."}
        if grant is None or grant["expires"] < time.time() or grant["app"] != app["client_id"] \
                or grant["redirect_uri"] != form.get("redirect_uri"):
            return 400, bad
        if grant["challenge"]:
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if not hmac.compare_digest(digest, grant["challenge"]):
                return 400, bad
        token = secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[token] = set(grant["scopes"])
        return 200, {"access_token": token, "token_type": "Bearer", "scope": " ".join(grant["scopes"]),
                     "created_at": int(time.time())}

    def revoke(self, form: dict) -> tuple[int, dict]:
        app = self.apps.get(form.get("client_id", ""))
        if app is None or not hmac.compare_digest(app["client_secret"], form.get("client_secret", "")):
            return 403, {"error": "unauthorized_client",
                         "error_description": "You are not authorized to revoke this token"}
        with self.lock:
            self.tokens.pop(form.get("token", ""), None)
        return 200, {}


def consent_page(app: dict, query: dict, scopes: list[str]) -> bytes:
    """Mastodon's authorize page for a logged-in user: a box per requested scope, ticked."""
    hidden = "".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in query.items()
                     if k != "scope")
    boxes = "".join(f'<label><input type="checkbox" name="scope[]" value="{html.escape(s)}" checked> {html.escape(s)}'
                    "</label>" for s in scopes)
    return (f'<!DOCTYPE html><html><head><title>Authorization required</title></head><body>'
            f'<h1>{html.escape(app["name"])} would like permission to access your account (lab admin)</h1>'
            f'<form method="post" action="/oauth/authorize">{hidden}{boxes}'
            f'<button type="submit">Authorize</button></form></body></html>').encode()


def code_page(code: str) -> bytes:
    return ('<!DOCTYPE html><html><head><title>Authorization code</title></head><body>'
            '<p>Copy this authorization code and paste it to the application.</p>'
            f'<input class="oauth-code" readonly type="text" value="{code}"></body></html>').encode()


def api_versions(version: str) -> dict[str, int]:
    """/api/v2/instance's api_versions, there since 4.3.0 (API version 2); 4.4.0 has API version 4 or
    later, the one that brought DELETE /api/v1/media/:id (../shared/reference/mastodon-oauth.md)."""
    parts = tuple(int(x) for x in version.split("-")[0].split(".")[:2])
    return {} if parts < (4, 3) else {"mastodon": 2 if parts < (4, 4) else 4}


def make_handler(inst: Instance, tokens: dict[str, set[str]]):
    oauth = OAuth(tokens)
    class Handler(BaseHTTPRequestHandler):
        server_version = "Mastodon"
        sys_version = ""

        def log_message(self, *args):
            pass

        def reply(self, status: int, doc, ctype: str = "application/json; charset=utf-8",
                  headers: dict | None = None) -> None:
            body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def scopes(self) -> set[str] | None:
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer "):
                return None
            return tokens.get(auth[7:].strip())

        def need(self, scope: str) -> bool:
            granted = self.scopes()
            if granted is None:
                self.reply(401, {"error": "The access token is invalid"})
                return False
            top = scope.split(":")[0]
            if scope not in granted and top not in granted:
                self.reply(403, {"error": "This action is outside the authorized scopes"})
                return False
            return True

        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            path = urlsplit(self.path).path.rstrip("/") or "/"      # Rails takes a trailing slash
            if path == "/health":
                return self.reply(200, b"OK", "text/plain; charset=utf-8")
            if path in ("/", "/about", "/public", "/explore"):    # the web app, with the CSP web read at start
                nonce = base64.b64encode(os.urandom(16)).decode()
                return self.reply(200, WEB_PAGE, "text/html; charset=utf-8",
                                  {"Content-Security-Policy": content_security_policy(inst.env, nonce)})
            if path == "/.well-known/oauth-authorization-server":       # Mastodon 4.3+
                base = inst.base_url
                return self.reply(200, {
                    "issuer": base + "/", "authorization_endpoint": base + "/oauth/authorize",
                    "token_endpoint": base + "/oauth/token", "revocation_endpoint": base + "/oauth/revoke",
                    "app_registration_endpoint": base + "/api/v1/apps", "scopes_supported": list(SCOPES),
                    "response_types_supported": ["code"],
                    "response_modes_supported": ["query", "fragment", "form_post"],
                    "code_challenge_methods_supported": ["S256"],
                    "grant_types_supported": ["authorization_code", "client_credentials"],
                    "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"]})
            if path == "/oauth/authorize":
                from urllib.parse import parse_qsl
                query = dict(parse_qsl(urlsplit(self.path).query))
                app = oauth.apps.get(query.get("client_id", ""))
                if app is None:
                    return self.reply(401, b"<h1>The client is unknown</h1>", "text/html; charset=utf-8")
                wanted = (query.get("scope") or "read").split()
                if query.get("redirect_uri") not in app["redirect_uris"] or not set(wanted) <= set(app["scopes"]) \
                        or query.get("response_type") != "code" \
                        or query.get("code_challenge_method", "S256") != "S256":
                    return self.reply(400, b"<h1>The request is invalid</h1>", "text/html; charset=utf-8")
                return self.reply(200, consent_page(app, query, wanted), "text/html; charset=utf-8")
            if path == "/lab/env":
                return self.reply(200, {k: inst.env[k] for k in PUBLIC_KEYS if k in inst.env})
            if path in ("/api/v1/instance", "/api/v2/instance"):
                return self.reply(200, {
                    **({"api_versions": api_versions(inst.version)} if path == "/api/v2/instance" else {}),
                    "domain": inst.domain, "uri": inst.domain, "title": "Lab", "version": inst.version,
                    "configuration": {"media_attachments": {
                        "supported_mime_types": sorted(IMAGE_TYPES) + sorted(LATER_TYPES),
                        "image_size_limit": 16777216, "image_matrix_limit": 33177600,
                        "video_size_limit": 103809024, "video_frame_rate_limit": 120,
                        "video_matrix_limit": 8294400}}})
            if path == "/api/v1/apps/verify_credentials":
                if self.scopes() is None:
                    return self.reply(401, {"error": "The access token is invalid"})
                return self.reply(200, {"name": "mastowizard", "website": None})
            if path == "/api/v1/accounts/verify_credentials":
                if not self.need("read:accounts"):
                    return
                return self.reply(200, {"id": "1", "username": "admin", "acct": "admin", "display_name": "Lab admin"})
            if path.startswith("/api/v1/media/"):
                if not self.need("write:media"):
                    return
                entry = inst.media.get(path.rsplit("/", 1)[1])
                if not entry:
                    return self.reply(404, {"error": "Record not found"})
                return self.reply(200 if inst.ready(entry) else 206, inst.attachment(entry))
            if path.startswith("/system/"):   # nginx's try_files serves public/ first, whatever the storage
                full = os.path.realpath(os.path.join(inst.root, path[len("/system/"):]))
                if full.startswith(os.path.realpath(inst.root) + os.sep) and os.path.isfile(full):
                    with open(full, "rb") as f:
                        return self.reply(200, f.read(), "application/octet-stream")
                return self.reply(404, {"error": "Not found"})
            return self.reply(404, {"error": "Not found"})

        def _form(self) -> dict:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            ctype = self.headers.get("Content-Type", "")
            fields = {}
            if ctype.startswith("multipart/form-data"):
                msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                    b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw)
                for part in msg.iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    fields[name] = (part.get_content_type(), part.get_payload(decode=True), part.get_filename())
            elif ctype.startswith("application/json"):
                for k, v in json.loads(raw or b"{}").items():
                    fields[k] = ("text/plain", json.dumps(v).encode() if not isinstance(v, str) else v.encode(), None)
            else:
                from urllib.parse import parse_qsl
                for k, v in parse_qsl(raw.decode()):
                    fields.setdefault(k, ("text/plain", v.encode(), None))
            return fields

        def _fields(self) -> dict:
            """A form or JSON body as name -> text; repeated names (scope[]) as lists."""
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.headers.get("Content-Type", "").startswith("application/json"):
                doc = json.loads(raw or b"{}")
                return {k: v if isinstance(v, list) else str(v) for k, v in doc.items()}
            from urllib.parse import parse_qsl
            out: dict = {}
            for k, v in parse_qsl(raw.decode(), keep_blank_values=True):
                if k.endswith("[]"):
                    out.setdefault(k[:-2], []).append(v)
                else:
                    out[k] = v
            return out

        def do_POST(self):
            path = urlsplit(self.path).path.rstrip("/") or "/"      # Rails takes a trailing slash
            if path == "/api/v1/apps":
                form = self._fields()
                uris = form.get("redirect_uris")
                if not form.get("client_name"):
                    return self.reply(422, {"error": "Validation failed: Application name can't be blank"})
                if not uris or any(u != OOB and "://" not in u for u in (uris if isinstance(uris, list) else [uris])):
                    return self.reply(422, {"error": "Validation failed: Redirect URI must be an absolute URI."})
                scopes = form.get("scopes") or "read"
                if any(sc not in SCOPES for sc in scopes.split()):
                    return self.reply(422, {"error": "Validation failed: Scopes must be a valid scope"})
                return self.reply(200, oauth.register(form["client_name"], uris, scopes))
            if path == "/oauth/authorize":        # the consent form was submitted: the OOB page shows the code
                form = self._fields()
                app = oauth.apps.get(form.get("client_id", ""))
                if app is None or form.get("redirect_uri") not in app["redirect_uris"]:
                    return self.reply(400, b"<h1>The request is invalid</h1>", "text/html; charset=utf-8")
                granted = [sc for sc in form.get("scope", []) if sc in app["scopes"]]
                code = oauth.issue_code(app, granted, form["redirect_uri"], form.get("code_challenge"),
                                        form.get("code_challenge_method"))
                return self.reply(200, code_page(code), "text/html; charset=utf-8")
            if path == "/oauth/token":
                form = self._fields()
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):          # client_secret_basic
                    from urllib.parse import unquote
                    cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
                    form.update(client_id=unquote(cid), client_secret=unquote(secret))
                status, doc = oauth.exchange(form)
                return self.reply(status, doc)
            if path == "/oauth/revoke":
                status, doc = oauth.revoke(self._fields())
                return self.reply(status, doc)
            if path.startswith("/lab/jobs/"):
                return self.job(path.split("/")[3:])
            if path in ("/api/v2/media", "/api/v1/media"):
                if not self.need("write:media"):
                    return
                fields = self._form()
                if "file" not in fields or not fields["file"][1]:
                    return self.reply(422, {"error": "Validation failed: File can't be blank"})
                ctype, data, _ = fields["file"]
                if ctype not in IMAGE_TYPES and ctype not in LATER_TYPES:
                    return self.reply(422, {"error": "Validation failed: File content type is invalid"})
                desc = fields["description"][1].decode() if "description" in fields else None
                try:
                    entry = inst.upload(data, ctype, desc)
                except Exception as e:  # noqa: BLE001 - Mastodon answers 500 when storage fails
                    print(f"lab mastodon: upload failed: {e}", file=sys.stderr, flush=True)
                    return self.reply(500, {"error": "Error processing thumbnail for uploaded media"})
                return self.reply(200 if inst.ready(entry) else 202, inst.attachment(entry))
            if path == "/api/v1/statuses":
                if not self.need("write:statuses"):
                    return
                fields = self._form()
                ids = [v[1].decode() for k, v in fields.items() if k.startswith("media_ids")]
                for i in ids:
                    for j in json.loads(i) if i.startswith("[") else [i]:
                        if str(j) in inst.media:
                            inst.media[str(j)]["attached"] = True
                return self.reply(200, {"id": inst.new_id(), "content": "", "media_attachments": [
                    inst.attachment(inst.media[str(i)]) for i in ids if str(i) in inst.media]})
            if path.startswith("/api/v1/accounts/") and path.endswith("/follow"):
                # Api::V1::AccountsController: doorkeeper_authorize! :follow, :write, :'write:follows',
                # then the account is looked up (the lab has none to follow: 404)
                granted = self.scopes()
                if granted is None:
                    return self.reply(401, {"error": "The access token is invalid"})
                if not granted & {"follow", "write", "write:follows"}:
                    return self.reply(403, {"error": "This action is outside the authorized scopes"})
                return self.reply(404, {"error": "Record not found"})
            return self.reply(404, {"error": "Not found"})

        def job(self, parts: list[str]):
            """What Sidekiq does with stored media, through Mastodon's code (the lab's own routes):
            POST /lab/jobs/read/ID[/STYLE] (copy_to_local_file, as thumbnails and transcodes do),
            /lab/jobs/suspend/ID and /lab/jobs/unsuspend/ID (UpdateMediaAttachmentsPermissionsService),
            /lab/jobs/delete/ID,ID,... (a batch delete, as the cleanups do). The answer is the worker's:
            ok, what it returned, the error Mastodon's code raised and what it logged."""
            kind, ids = parts[0], (parts[1].split(",") if len(parts) > 1 else [])
            entries = [inst.media.get(i) for i in ids]
            if kind not in ("read", "suspend", "unsuspend", "delete") or not entries or None in entries:
                return self.reply(404, {"error": "Not found"})
            records = [inst.record(e) for e in entries]
            try:
                if kind == "read":
                    answer = inst.storage.read(records[0], parts[2] if len(parts) > 2 else "original")
                elif kind == "delete":
                    answer = inst.storage.delete(records)
                else:
                    answer = inst.storage.permissions(records[0], "private" if kind == "suspend" else "public")
            except StorageError as e:
                return self.reply(500, {"ok": False, "error": e.error, "log": e.log})
            return self.reply(200, answer)

        def do_DELETE(self):
            path = urlsplit(self.path).path.rstrip("/") or "/"      # Rails takes a trailing slash
            if path.startswith("/api/v1/statuses/"):
                if not self.need("write:statuses"):       # the scope first, as Mastodon checks it
                    return
                return self.reply(404, {"error": "Record not found"})       # no such status of this account
            if path.startswith("/api/v1/media/") and tuple(map(int, inst.version.split(".")[:2])) < (4, 4):
                return self.reply(404, {"error": "Not found"})       # the route came with 4.4
            if path.startswith("/api/v1/media/"):
                if not self.need("write:media"):
                    return
                media_id = path.rsplit("/", 1)[1]
                entry = inst.media.get(media_id)
                if not entry:
                    return self.reply(404, {"error": "Record not found"})
                if entry["attached"]:
                    return self.reply(422, {"error": "Media attachment is currently used by a status"})
                inst.remove(entry)
                with inst.lock:
                    del inst.media[media_id]
                return self.reply(200, {})
            return self.reply(404, {"error": "Not found"})

    return Handler


def main(argv: list[str]) -> int:
    env_file, port, pidfile = argv[0], int(argv[1]), argv[2]
    lab = {}
    if len(argv) > 3 and os.path.exists(argv[3]):
        with open(argv[3]) as f:
            lab = json.load(f)
    env = read_env(env_file)
    if env.get("LAB_FAIL_START") == "true":
        print("lab: refusing to start (LAB_FAIL_START=true)", file=sys.stderr)
        return 1
    tokens = {t: set(s.split()) for t, s in lab.get("tokens", {}).items()}
    inst = Instance(env, env_file, lab)
    deadline = time.monotonic() + 30
    while True:      # a restart: the old process may still hold the port for a moment
        try:
            server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(inst, tokens))
            break
        except OSError as e:
            if e.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    with open(pidfile, "w") as f:
        f.write(f"{os.getpid()}\n")
    print(f"lab mastodon: listening on 127.0.0.1:{port}, S3_ENABLED={env.get('S3_ENABLED')}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
