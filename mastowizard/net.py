"""HTTP to media hosts and instances: httpx with curl-style --resolve pins and a CA bundle."""

from __future__ import annotations

import ipaddress
import os
import ssl
from dataclasses import dataclass, field

import httpx

from .errors import InputError

USER_AGENT = "mastowizard (+https://github.com/mastowizard)"


@dataclass(frozen=True)
class Resolve:
    """HOST:PORT:ADDR, as curl's --resolve. HOST may be '*.example.com' to pin a whole zone."""

    host: str
    port: int
    addr: str

    @classmethod
    def parse(cls, text: str) -> Resolve:
        fix = "write it as HOST:PORT:ADDRESS, e.g. media.example.com:443:127.0.0.1"
        parts = text.split(":", 2)
        if len(parts) != 3 or not parts[0] or not parts[2]:
            raise InputError("--resolve", f"{text!r} is not HOST:PORT:ADDRESS", fix)
        host, port, addr = parts
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            raise InputError("--resolve", f"{text!r} has an invalid port", fix)
        addr = addr.strip("[]")
        try:
            ipaddress.ip_address(addr)
        except ValueError:
            raise InputError("--resolve", f"{addr!r} is not an IP address", fix) from None
        return cls(host.lower(), int(port), addr)

    def matches(self, host: str, port: int) -> bool:
        host = host.lower()
        if port != self.port:
            return False
        if self.host.startswith("*."):
            return host.endswith(self.host[1:])
        return host == self.host or self.host == "*"


@dataclass(frozen=True)
class HttpOptions:
    resolve: tuple[Resolve, ...] = ()
    ca_bundle: str | None = None
    timeout: float = 10.0
    extra: dict = field(default_factory=dict)
    max_rate: float | None = None     # requests/s the copy keeps to (migrate --max-rate)

    @classmethod
    def build(cls, resolve: list[str] | None = None, ca_bundle: str | None = None,
              timeout: float = 10.0) -> HttpOptions:
        if ca_bundle:
            if not os.path.isfile(ca_bundle):
                raise InputError("--ca-bundle", f"{ca_bundle!r} is not a file", "give a PEM file of CA certificates")
            try:
                ssl.create_default_context(cafile=ca_bundle)
            except (ssl.SSLError, OSError, ValueError):
                raise InputError("--ca-bundle", f"{ca_bundle!r} holds no usable PEM certificate",
                                 "give a PEM file of CA certificates") from None
        return cls(tuple(Resolve.parse(r) for r in (resolve or [])), ca_bundle, timeout)

    def pin_for(self, host: str, port: int) -> str | None:
        for r in self.resolve:
            if r.matches(host, port):
                return r.addr
        return None


class _PinnedTransport(httpx.HTTPTransport):
    """Connects to the pinned address while keeping the URL's name for Host, SNI and certificate checks."""

    def __init__(self, options: HttpOptions, **kwargs):
        self._options = options
        super().__init__(**kwargs)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        addr = self._options.pin_for(url.host, port)
        if addr:
            request.extensions = {**request.extensions, "sni_hostname": url.host}
            request.url = url.copy_with(host=addr)
        return super().handle_request(request)


def client(options: HttpOptions | None = None, follow_redirects: bool = False) -> httpx.Client:
    options = options or HttpOptions()
    verify: ssl.SSLContext | bool = True
    if options.ca_bundle:
        verify = ssl.create_default_context(cafile=options.ca_bundle)
    transport = _PinnedTransport(options, verify=verify, retries=0)
    return httpx.Client(transport=transport, timeout=options.timeout, follow_redirects=follow_redirects,
                        headers={"User-Agent": USER_AGENT}, trust_env=False)


def describe_error(exc: Exception) -> str:
    """One line for a transport error, with no secrets (httpx errors carry no credentials)."""
    if isinstance(exc, httpx.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, httpx.ReadTimeout):
        return "no answer in time"
    if isinstance(exc, httpx.ConnectError):
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate" in text.lower():
            return f"TLS certificate not trusted: {text}"
        if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
            return "host name does not resolve"
        if "Connection refused" in text:
            return "connection refused"
        return f"cannot connect: {text}"
    return f"{type(exc).__name__}: {exc}"
