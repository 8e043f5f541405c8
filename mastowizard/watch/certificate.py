"""The media host's TLS certificate as the watch records it: issuer, subject, expiry and fingerprint.
Read even when it is no longer valid (expired, wrong name), since then its dates are the news."""

from __future__ import annotations

import hashlib
import socket
import ssl
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from ..net import HttpOptions


@dataclass(frozen=True)
class Certificate:
    host: str                  # the media host's name (and port, when not 443)
    issuer: str
    subject: str
    not_after: float           # unix seconds
    sha256: str

    def days_left(self, now: float) -> float:
        return (self.not_after - now) / 86400

    @property
    def expires(self) -> str:
        return datetime.fromtimestamp(self.not_after, UTC).strftime("%Y-%m-%d %H:%M UTC")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Certificate:
        return cls(**{k: d[k] for k in ("host", "issuer", "subject", "not_after", "sha256")})


def read_certificate(alias_host: str, http: HttpOptions, timeout: float = 10.0) -> Certificate:
    """The certificate https://ALIAS_HOST presents (through a --resolve pin when one matches).
    Raises OSError (or ssl.SSLError) when no TLS handshake could be made."""
    parts = urlsplit(f"https://{alias_host}")
    name, port = parts.hostname or alias_host, parts.port or 443
    address = http.pin_for(name, port) or name
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE     # its dates are wanted even when it is invalid
    with socket.create_connection((address, port), timeout=timeout) as raw, \
            ctx.wrap_socket(raw, server_hostname=name) as tls:
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise ssl.SSLError(f"{name}:{port} sent no certificate")
    return parse(der, alias_host)


def parse(der: bytes, host: str) -> Certificate:
    from cryptography import x509
    cert = x509.load_der_x509_certificate(der)
    return Certificate(host=host, issuer=cert.issuer.rfc4514_string(), subject=cert.subject.rfc4514_string(),
                       not_after=cert.not_valid_after_utc.timestamp(), sha256=hashlib.sha256(der).hexdigest())
