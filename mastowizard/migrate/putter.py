"""A lean S3 PUT client for many small objects: SigV4 signed here, one keep-alive connection per
worker thread. botocore builds, signs and parses each request in Python under the GIL, and for
small files that CPU, not the network, caps the copy; this does only what a PUT needs. Large files
go through boto3's multipart upload (see copy.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import re
import socket
import ssl
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from ..net import HttpOptions
from ..s3.credential import Credential
from ..settings import Settings
from .pace import Pace, jittered

RETRYABLE_STATUS = {500, 502, 503, 504, 429}
RETRY_BUDGET = 60.0        # seconds a request is retried while the server is busy or the connection drops
_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
_CODE = re.compile(rb"<Code>([^<]+)</Code>")
_ETAG = re.compile(rb"<ETag>(?:&quot;|\")?([0-9a-fA-F-]+)")


class PutError(Exception):
    def __init__(self, code: str, status: int | None, message: str = ""):
        self.code, self.status = code, status
        super().__init__(f"{code}" + (f" (HTTP {status})" if status else "") + (f": {message}" if message else ""))


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str            # Host header (and signed host)
    port: int
    path_prefix: str     # "/bucket" for path style, "" for virtual
    connect_host: str    # where to connect (a --resolve pin for http endpoints)


def target_for(settings: Settings, http: HttpOptions | None = None) -> Target:
    if settings.endpoint:
        p = urlsplit(settings.endpoint)
        scheme, host, port = p.scheme, p.hostname or "", p.port or (443 if p.scheme == "https" else 80)
        if settings.addressing == "virtual":
            host, prefix = f"{settings.bucket}.{host}", ""
        else:
            prefix = f"/{settings.bucket}"
    else:
        scheme, host, port, prefix = "https", f"{settings.bucket}.s3.{settings.region}.amazonaws.com", 443, ""
    connect = host
    if scheme == "http" and http is not None:
        connect = http.pin_for(host, port) or host
    return Target(scheme, host, port, prefix, connect)


class Stream:
    """An object's body being read: read(n) until b"", then close() (the connection too)."""

    def __init__(self, response: http.client.HTTPResponse, conn: http.client.HTTPConnection):
        self.response, self.conn = response, conn

    def read(self, n: int = -1) -> bytes:
        """N bytes (fewer only at the end), or the rest."""
        if n < 0:
            return self.response.read()
        parts, left = [], n
        while left > 0:
            chunk = self.response.read(left)
            if not chunk:
                break
            parts.append(chunk)
            left -= len(chunk)
        return b"".join(parts)

    def close(self) -> None:
        self.response.close()
        self.conn.close()


class Putter:
    """PUT objects from bytes. Thread-safe: each thread keeps its own connection."""

    def __init__(self, settings: Settings, credential: Credential, http: HttpOptions | None = None,
                 timeout: float = 60.0):
        self.target = target_for(settings, http)
        self.bucket = settings.bucket
        self.region = settings.region
        self.key_id = credential.access_key_id
        self._secret = credential.secret_access_key
        self.timeout = timeout
        self._local = threading.local()
        self._keys: dict[str, bytes] = {}
        self._ssl = None
        if self.target.scheme == "https":
            cafile = http.ca_bundle if http is not None else None
            self._ssl = ssl.create_default_context(cafile=cafile)
        default = 443 if self.target.scheme == "https" else 80
        self._host_header = (self.target.host if self.target.port == default
                             else f"{self.target.host}:{self.target.port}")
        self.pace = Pace(http.max_rate) if http is not None and http.max_rate else None

    # -- signing ---------------------------------------------------------------------------
    def _signing_key(self, day: str) -> bytes:
        k = self._keys.get(day)
        if k is None:
            k = ("AWS4" + self._secret.reveal()).encode()
            for part in (day, self.region, "s3", "aws4_request"):
                k = hmac.new(k, part.encode(), hashlib.sha256).digest()
            self._keys = {day: k}
        return k

    def _sign(self, method: str, path: str, headers: dict[str, str], payload_hash: str, query: str = "") -> None:
        now = datetime.now(UTC)
        amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        headers["x-amz-date"] = amz_date
        headers["x-amz-content-sha256"] = payload_hash
        signed = sorted(k.lower() for k in headers)
        lower = {k.lower(): str(v).strip() for k, v in headers.items()}
        canonical = "\n".join([method, path, query, "".join(f"{k}:{lower[k]}\n" for k in signed), ";".join(signed),
                               payload_hash])
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        sig = hmac.new(self._signing_key(day), to_sign.encode(), hashlib.sha256).hexdigest()
        headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={self.key_id}/{scope}, "
                                    f"SignedHeaders={';'.join(signed)}, Signature={sig}")

    # -- connections -----------------------------------------------------------------------
    def _conn(self, fresh: bool = False) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is not None and not fresh:
            return conn
        if conn is not None:
            conn.close()
        t = self.target
        if t.scheme == "https":
            conn = http.client.HTTPSConnection(t.connect_host, t.port, timeout=self.timeout, context=self._ssl)
        else:
            conn = http.client.HTTPConnection(t.connect_host, t.port, timeout=self.timeout)
        self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- requests ---------------------------------------------------------------------------
    def _send(self, method: str, path: str, query: str = "", body: bytes = b"", headers: dict | None = None,
              budget: float = RETRY_BUDGET, signed: bool = True) -> tuple[http.client.HTTPResponse, bytes]:
        """Sign (unless not SIGNED: as anyone on the internet asks) and send, on this thread's
        keep-alive connection; a dropped connection, 5xx or 429 is retried with backoff (0.2 s
        doubling, at most 5 s) for up to BUDGET seconds: a server that is busy for a while slows the
        copy, it does not fail files. Returns the 200 response and its body; anything else raises
        PutError."""
        payload_hash = hashlib.sha256(body).hexdigest()
        delay, started, attempt = 0.2, time.monotonic(), 0
        while True:
            h = {"Host": self._host_header, **(headers or {})}
            if body or method == "PUT":
                h["Content-Length"] = str(len(body))
            if self.pace is not None:
                self.pace.wait()
            if signed:
                self._sign(method, path, h, payload_hash, query)
            try:
                conn = self._conn(fresh=attempt > 0)
                conn.request(method, f"{path}?{query}" if query else path, body=body or None, headers=h)
                r = conn.getresponse()
                data = r.read()
            except (OSError, http.client.HTTPException) as e:
                self._conn(fresh=True)
                # nobody there (refused, no such name): a wrong endpoint is said within seconds;
                # a connection that dropped is a busy server's, retried for the whole budget
                allowed = min(budget, 3.0) if isinstance(e, (ConnectionRefusedError, socket.gaierror)) else budget
                if time.monotonic() - started + delay > allowed:
                    raise PutError(type(e).__name__, None, str(e)) from None
            else:
                if self.pace is not None:
                    self.pace.slowed() if r.status in (429, 503) else self.pace.answered()
                if r.status == 200:
                    return r, data
                if r.status not in RETRYABLE_STATUS or time.monotonic() - started + delay > budget:
                    m = _CODE.search(data or b"")
                    raise PutError(m.group(1).decode(errors="replace") if m else f"HTTP{r.status}", r.status)
            time.sleep(jittered(delay))
            delay, attempt = min(delay * 2, 5.0), attempt + 1

    def put(self, key: str, body: bytes, headers: dict[str, str]) -> str:
        """Store BODY under KEY; returns the ETag (the MD5 hex for a single PUT). The server checks
        the body against Content-MD5, so a cut or corrupted upload is refused, never stored."""
        md5 = hashlib.md5(body)
        h = {"Content-MD5": base64.b64encode(md5.digest()).decode(), **headers}
        r, _ = self._send("PUT", self.path(key), body=body, headers=h)
        return (r.getheader("ETag") or "").strip('"') or md5.hexdigest()

    def path(self, key: str) -> str:
        return self.target.path_prefix + "/" + quote(key, safe="/~")

    def head(self, key: str, signed: bool = True) -> dict[str, str] | None:
        """The object's headers (lowercase names), or None when it is not there. Unsigned: whether
        anyone may read it (PutError 403 when not)."""
        try:
            r, _ = self._send("HEAD", self.path(key), signed=signed, budget=30.0)
        except PutError as e:
            if e.status == 404:
                return None
            raise
        return {k.lower(): v for k, v in r.getheaders()}

    def anyone_reads(self, key: str) -> bool | None:
        """Whether anyone on the internet may read the object (an unsigned HEAD): True or False, or
        None when it is gone."""
        try:
            return self.head(key, signed=False) is not None or None
        except PutError as e:
            if e.status in (401, 403):
                return False
            raise

    def get(self, key: str, into=None, chunk: int = 1 << 20,
            budget: float = RETRY_BUDGET) -> tuple[dict[str, str], bytes | None]:
        """GET KEY (signed): its headers (lowercase names) and its bytes; with INTO (anything with
        write()), the bytes go there chunk by chunk, never all in memory, and None is returned.
        PutError NoSuchKey (404) when it is gone. Retried as _send retries until the answer starts;
        a connection that drops while INTO is being filled raises PutError (INTO then holds a part)."""
        if into is None:
            r, data = self._send("GET", self.path(key), budget=budget)
            return {k.lower(): v for k, v in r.getheaders()}, data
        path, delay, started, attempt = self.path(key), 0.2, time.monotonic(), 0
        while True:
            if self.pace is not None:
                self.pace.wait()
            h = {"Host": self._host_header}
            self._sign("GET", path, h, hashlib.sha256(b"").hexdigest())
            try:
                conn = self._conn(fresh=attempt > 0)
                conn.request("GET", path, headers=h)
                r = conn.getresponse()
            except (OSError, http.client.HTTPException) as e:
                self._conn(fresh=True)
                if time.monotonic() - started + delay > budget:
                    raise PutError(type(e).__name__, None, str(e)) from None
            else:
                if r.status == 200:
                    break
                data = r.read()
                if r.status not in RETRYABLE_STATUS or time.monotonic() - started + delay > budget:
                    m = _CODE.search(data or b"")
                    raise PutError(m.group(1).decode(errors="replace") if m else f"HTTP{r.status}", r.status)
            time.sleep(jittered(delay))
            delay, attempt = min(delay * 2, 5.0), attempt + 1
        try:
            while block := r.read(chunk):
                into.write(block)
        except (OSError, http.client.HTTPException) as e:
            self._conn(fresh=True)
            raise PutError(type(e).__name__, None, f"the download broke: {e}") from None
        return {k.lower(): v for k, v in r.getheaders()}, None

    def put_acl(self, key: str, acl: str) -> None:
        """Set the object's canned ACL (PutError NoSuchKey when it is gone)."""
        self._send("PUT", self.path(key), "acl=", headers={"x-amz-acl": acl})

    def copy_onto_itself(self, key: str, etag: str, headers: dict[str, str]) -> str:
        """Replace the object's headers (and ACL) by copying it onto itself, only if it is still the
        object with ETAG (PutError PreconditionFailed when Mastodon replaced it meanwhile). Its new ETag."""
        return self.copy_object(key, self.bucket, key, headers, if_match=etag)

    def copy_object(self, key: str, source_bucket: str, source_key: str, headers: dict[str, str],
                    if_match: str | None = None) -> str:
        """CopyObject from SOURCE_BUCKET/SOURCE_KEY (on this endpoint) to KEY with HEADERS replacing the
        source's (Content-Type, Cache-Control, ACL, storage class; no user metadata). With IF_MATCH,
        only if the source still has that ETag. The copy's ETag."""
        h = {"x-amz-copy-source": f"/{quote(source_bucket)}/{quote(source_key, safe='/~')}",
             "x-amz-metadata-directive": "REPLACE", **headers}
        if if_match:
            h["x-amz-copy-source-if-match"] = h["x-amz-copy-if-match"] = f'"{if_match}"'   # the latter: Ceph RGW's name
        _, data = self._send("PUT", self.path(key), headers=h)
        if b"<Error>" in data:      # CopyObject may fail after its 200 has started
            m = _CODE.search(data)
            raise PutError(m.group(1).decode(errors="replace") if m else "CopyFailed", 200)
        m = _ETAG.search(data)
        if not m:
            raise PutError("CopyFailed", 200, "no ETag in the answer")
        return m.group(1).decode()


    def open(self, key: str) -> Stream:
        """The object's bytes as a stream to read in parts, on a connection of its own (closed with
        the response): a large object never sits in memory whole."""
        h = {"Host": self._host_header}
        self._sign("GET", self.path(key), h, hashlib.sha256(b"").hexdigest())
        t = self.target
        conn = (http.client.HTTPSConnection(t.connect_host, t.port, timeout=self.timeout, context=self._ssl)
                if t.scheme == "https" else http.client.HTTPConnection(t.connect_host, t.port, timeout=self.timeout))
        conn.request("GET", self.path(key), headers=h)
        r = conn.getresponse()
        if r.status != 200:
            data = r.read()
            conn.close()
            m = _CODE.search(data or b"")
            raise PutError(m.group(1).decode(errors="replace") if m else f"HTTP{r.status}", r.status)
        return Stream(r, conn)

    def list_page(self, prefix: str, start_after: str | None = None, token: str | None = None
                  ) -> tuple[list[tuple[str, int, str]], str | None]:
        """One ListObjectsV2 page: [(key, size, etag)] and the continuation token (None at the end).
        Parsed with the C XML parser, three fields each: botocore spends most of a listing parsing
        every field (LastModified through dateutil) of every object."""
        params = {"list-type": "2", "prefix": prefix}
        if start_after:
            params["start-after"] = start_after
        if token:
            params["continuation-token"] = token
        query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(params.items()))
        _, data = self._send("GET", self.target.path_prefix + "/", query)
        root = ET.fromstring(data)
        items = [(c.findtext(f"{_NS}Key"), int(c.findtext(f"{_NS}Size") or 0),
                  (c.findtext(f"{_NS}ETag") or "").strip('"'))
                 for c in root.iter(f"{_NS}Contents")]
        truncated = (root.findtext(f"{_NS}IsTruncated") or "").lower() == "true"
        nxt = root.findtext(f"{_NS}NextContinuationToken")
        if truncated and not nxt and items:      # servers without continuation tokens: go on after the last key
            nxt = "after:" + items[-1][0]
        return items, (nxt if truncated else None)
