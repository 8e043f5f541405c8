"""A misbehaving provider on 127.0.0.1: an HTTP proxy in front of a lab S3 server that forwards each
request as it came (Host kept, so SigV4 signatures stay valid) and can hold chosen requests.

A rule matches a request (method, path, query) and says where to stop it: before it is forwarded
(`hold="request"`: the server never sees it) or after the server answered (`hold="response"`: the
server acted, the client never learns it); or it answers in the server's place (`hold="answer"`:
503 SlowDown by default, or any status and S3 error code, for the first `times` matches), as a busy
or incomplete provider does. Tests wait for `held()` to reach a count, a condition, instead of
guessing how fast the client runs; held requests stay held until the proxy stops.

The providers Mastodon's jobs break on, each a rule:
- `hold="delay", seconds=S`: the server answers S seconds late (a slow DeleteObjects, a slow PUT);
- `hold="drop", drop=("Content-Range",)`: the answer loses those headers (a proxy that breaks ranged reads);
- `hold="rewrite", rewrite=f`: the request is changed before it is forwarded (a proxy that rewrites
  Host, or turns HEAD into GET: SigV4 signatures then fail);
- `FaultProxy(port, latency=0.04)`: every request waits that long first, as a distant provider does.

    with FaultProxy(upstream_port) as proxy:
        proxy.rule(lambda r: r.method == "PUT" and "uploadId" in r.query, hold="request")
        ... point the client at proxy.endpoint, wait for proxy.wait_held(1), kill the client ...
"""

from __future__ import annotations

import http.client
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Rule:
    match: Callable[[Request], bool]
    hold: str = "request"              # request | response | answer | delay | drop | rewrite
    after: int = 0                     # let this many matching requests through first
    answer: int = 503                  # with hold="answer": this status, as a busy S3 server answers
    times: int | None = None           # act on this many matching requests, then let them through
    code: str | None = None            # with hold="answer": this S3 error code (else one for the status)
    seconds: float = 0.0               # with hold="delay": forward this much later
    drop: tuple[str, ...] = ()         # with hold="drop": remove these headers from the answer
    rewrite: Callable[[Request], Request] | None = None   # with hold="rewrite": forward what this returns
    seen: int = 0
    acted: int = 0


@dataclass
class Log:
    forwarded: list[tuple[str, str, int]] = field(default_factory=list)   # (method, path?query, status)
    held: list[tuple[str, str, str]] = field(default_factory=list)        # (method, path?query, where)
    answered: list[tuple[str, str, int]] = field(default_factory=list)    # (method, path?query, status) by us


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class FaultProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1", latency: float = 0.0):
        self.upstream = (upstream_host, upstream_port)
        self.latency = latency             # seconds every request waits before it is forwarded
        self.rules: list[Rule] = []
        self.log = Log()
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.stopping = threading.Event()
        self.in_flight = 0                 # requests read and not answered yet, held ones not counted
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                proxy._serve(self.rfile, self.wfile)

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="faultproxy")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self.stopping.set()
        with self.lock:
            self.changed.notify_all()
        self.server.shutdown()
        self.server.server_close()

    def rule(self, match: Callable[[Request], bool], hold: str = "request", after: int = 0, answer: int = 503,
             times: int | None = None, **how) -> Rule:
        r = Rule(match, hold, after, answer, times, **how)
        with self.lock:
            self.rules.append(r)
        return r

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()

    def wait_idle(self, timeout: float = 120.0) -> None:
        """Until no request is being forwarded or answered (held ones aside): every answer the server
        gave has reached the client."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while self.in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no request in flight awaited for {timeout:.0f}s; {self.in_flight} still "
                                         f"are, the last answered: {self.log.forwarded[-3:]}")
                self.changed.wait(min(left, 0.2))

    def held(self) -> int:
        with self.lock:
            return len(self.log.held)

    def wait_held(self, count: int = 1, timeout: float = 120.0, alive: Callable[[], bool] | None = None) -> None:
        """Until COUNT requests are held. Fails naming what it awaited and what it saw, also when
        ALIVE (the client) says the client ended first."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while len(self.log.held) < count:
                if alive is not None and not alive():
                    raise AssertionError(f"the client ended before {count} request(s) were held; it sent "
                                         f"{len(self.log.forwarded)}, the last: {self.log.forwarded[-3:]}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{count} held request(s) awaited for {timeout:.0f}s; held "
                                         f"{self.log.held}, forwarded {len(self.log.forwarded)}, the last: "
                                         f"{self.log.forwarded[-3:]}")
                self.changed.wait(min(left, 0.2))

    # -- the proxy ------------------------------------------------------------------------------
    def _rule_for(self, req: Request) -> Rule | None:
        with self.lock:
            for r in self.rules:
                if r.match(req):
                    r.seen += 1
                    if r.seen > r.after and (r.times is None or r.acted < r.times):
                        r.acted += 1
                        return r
        return None

    def _hold(self, req: Request, where: str) -> None:
        """Until the proxy stops; a held request is not in flight meanwhile."""
        with self.lock:
            self.log.held.append((req.method, f"{req.path}?{req.query}" if req.query else req.path, where))
            self.in_flight -= 1
            self.changed.notify_all()
        try:
            self.stopping.wait()
        finally:
            self._busy(+1)

    def _serve(self, rfile, wfile) -> None:
        upstream: http.client.HTTPConnection | None = None
        try:
            while not self.stopping.is_set():
                req = _read_request(rfile, wfile)
                if req is None:
                    return
                # in flight from the moment it is read, before any rule is looked at: wait_idle then
                # also covers a request whose rule was looked up before a test added a new one
                self._busy(+1)
                try:
                    upstream = self._one(req, upstream, wfile)
                finally:
                    self._busy(-1)
                if upstream is False:
                    return
        except (OSError, http.client.HTTPException):
            return
        finally:
            if upstream:
                upstream.close()

    def _one(self, req: Request, upstream, wfile):
        """One request through the rules: the upstream connection to keep, or False when held."""
        rule = self._rule_for(req)
        if self.latency:
            time.sleep(self.latency)
        if rule is not None and rule.hold == "delay":
            time.sleep(rule.seconds)
        head = req.method == "HEAD"        # the client's method frames the answer, whatever is forwarded
        if rule is not None and rule.hold == "rewrite":
            req = rule.rewrite(req)
        if rule is not None and rule.hold == "request":
            self._hold(req, "request")
            return False
        if rule is not None and rule.hold == "answer":
            self._answer(req, rule.answer, wfile, rule.code)
            return upstream
        return self._forward(req, rule, upstream, wfile, head)

    def _answer(self, req: Request, status: int, wfile, code: str | None = None) -> None:
        """Answer as a busy or incomplete S3 server does (503 SlowDown, 501 NotImplemented), without forwarding."""
        code = code or {503: "SlowDown", 500: "InternalError", 429: "TooManyRequests",
                        501: "NotImplemented"}.get(status, "Error")
        body = f"<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>lab fault</Message></Error>".encode()
        with self.lock:
            self.log.answered.append((req.method, f"{req.path}?{req.query}" if req.query else req.path, status))
            self.changed.notify_all()
        wfile.write(f"HTTP/1.1 {status} {code}\r\nContent-Type: application/xml\r\nContent-Length: {len(body)}"
                    f"\r\n\r\n".encode() + (b"" if req.method == "HEAD" else body))
        wfile.flush()

    def _busy(self, n: int) -> None:
        with self.lock:
            self.in_flight += n
            self.changed.notify_all()

    def _forward(self, req: Request, rule: Rule | None, upstream, wfile, head: bool = False):
        """Send REQ upstream and its answer back; the connection to keep, or False when held."""
        if upstream is None:
            upstream = http.client.HTTPConnection(*self.upstream, timeout=300)
        target = f"{req.path}?{req.query}" if req.query else req.path
        upstream.putrequest(req.method, target, skip_host=True, skip_accept_encoding=True)
        for k, v in req.headers:
            if k.lower() not in ("transfer-encoding", "content-length", "connection", "expect"):
                upstream.putheader(k, v)
        upstream.putheader("Content-Length", str(len(req.body)))
        upstream.endheaders(req.body)
        resp = upstream.getresponse()
        body = resp.read()
        with self.lock:
            self.log.forwarded.append((req.method, target, resp.status))
            self.changed.notify_all()
        if rule is not None and rule.hold == "response":
            upstream.close()
            self._hold(req, "response")
            return False
        lines = [f"HTTP/1.1 {resp.status} {resp.reason}"]
        dropped = {h.lower() for h in rule.drop} if rule is not None and rule.hold == "drop" else set()
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length", *dropped):
                lines.append(f"{k}: {v}")
        length = resp.getheader("Content-Length") if req.method == "HEAD" else str(len(body))
        if head:
            body = b""
        if length is not None:
            lines.append(f"Content-Length: {length}")
        wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        wfile.flush()
        if resp.will_close:
            upstream.close()
            return None
        return upstream


def _read_request(rfile, wfile) -> Request | None:
    line = rfile.readline(65537)
    if not line or not line.strip():
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers: list[tuple[str, str]] = []
    while True:
        h = rfile.readline(65537)
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.decode("latin-1").partition(":")
        headers.append((k.strip(), v.strip()))
    lower = {k.lower(): v for k, v in headers}
    if lower.get("expect", "").lower() == "100-continue":      # aws-sdk-ruby's PUTs wait for it (1 s otherwise)
        wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        wfile.flush()
    if "chunked" in lower.get("transfer-encoding", "").lower():
        body = b""
        while True:
            size = int(rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            body += rfile.read(size)
            rfile.readline()
    else:
        body = rfile.read(int(lower.get("content-length", "0") or 0))
    parts = urlsplit(target)
    return Request(method, parts.path, parts.query, headers, body)
