"""Rate a bucket's CORS configuration (or the CORS headers a server sends) for risk and for fit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SEVERITY = ("ok", "low", "medium", "high")
WRITE_METHODS = {"PUT", "POST", "DELETE", "PATCH"}
SENSITIVE_EXPOSE = {
    "authorization", "set-cookie", "x-amz-security-token", "x-amz-server-side-encryption-customer-key",
    "x-amz-server-side-encryption-customer-key-md5", "x-amz-server-side-encryption-aws-kms-key-id",
}


@dataclass
class Finding:
    severity: str
    message: str
    fix: str
    rule: int | None = None


@dataclass
class CorsRating:
    findings: list[Finding] = field(default_factory=list)
    allows_public_get: bool = False   # GET (and HEAD) from any origin: what the web UI needs
    allows_head: bool = False

    @property
    def severity(self) -> str:
        return max((f.severity for f in self.findings), key=SEVERITY.index, default="ok")

    def summary(self) -> str:
        if not self.findings:
            return "no risky CORS rule"
        return "; ".join(f"{f.severity}: {f.message}" for f in self.findings)


def _upper(values: Any) -> list[str]:
    return [str(v).upper() for v in (values or [])]


def rate_rules(cors: Mapping[str, Any] | None) -> CorsRating:
    """Rate an S3 CORS configuration ({"CORSRules": [...]}, as GetBucketCors returns it)."""
    rating = CorsRating()
    rules = list((cors or {}).get("CORSRules") or [])
    for i, rule in enumerate(rules):
        origins = [str(o) for o in rule.get("AllowedOrigins") or []]
        methods = set(_upper(rule.get("AllowedMethods")))
        headers = [str(h).lower() for h in rule.get("AllowedHeaders") or []]
        exposed = [str(h).lower() for h in rule.get("ExposeHeaders") or []]
        any_origin = "*" in origins
        wild_origins = [o for o in origins if "*" in o and o != "*"]
        if any_origin and "GET" in methods:
            rating.allows_public_get = True
            rating.allows_head = rating.allows_head or "HEAD" in methods
        writes = sorted(methods & WRITE_METHODS)
        if writes and (any_origin or wild_origins):
            rating.findings.append(Finding(
                "high", f"rule {i + 1} lets any web page send {', '.join(writes)} to the bucket",
                "allow only GET and HEAD from any origin; Mastodon writes with signed requests, not CORS", i))
        elif writes:
            rating.findings.append(Finding(
                "medium", f"rule {i + 1} allows {', '.join(writes)} from {', '.join(origins)}",
                "remove write methods unless a browser app on that origin must upload directly", i))
        for o in wild_origins:
            rating.findings.append(Finding(
                "medium", f"rule {i + 1} has a partial wildcard origin {o!r} that matches hosts you do not own",
                "use * for read-only media, or list exact origins", i))
        for o in origins:
            if o.lower().startswith("http://") and o != "*":
                rating.findings.append(Finding("low", f"rule {i + 1} trusts a plain-http origin {o!r}",
                                               "use https origins", i))
        bad_exposed = [h for h in exposed if h in SENSITIVE_EXPOSE or h == "*" or h.startswith("x-amz-meta-")]
        if bad_exposed:
            rating.findings.append(Finding(
                "medium", f"rule {i + 1} exposes sensitive headers to scripts: {', '.join(bad_exposed)}",
                "expose only what the web UI needs (none, or ETag/Content-Length)", i))
        if "*" in headers and writes:
            rating.findings.append(Finding("medium", f"rule {i + 1} accepts any request header with write methods",
                                           "drop AllowedHeaders * or the write methods", i))
    if rules and not rating.allows_public_get:
        rating.findings.append(Finding(
            "low", "no rule allows GET from any origin: the web UI cannot read media across origins",
            "add a rule: AllowedOrigins *, AllowedMethods GET and HEAD"))
    return rating


def rate_headers(headers: Mapping[str, str], request_origin: str = "https://example.invalid") -> CorsRating:
    """Rate the CORS headers one response carried (for a CDN or proxy in front of the bucket)."""
    h = {k.lower(): v for k, v in headers.items()}
    rating = CorsRating()
    acao = h.get("access-control-allow-origin")
    creds = h.get("access-control-allow-credentials", "").lower() == "true"
    methods = {m.strip().upper() for m in h.get("access-control-allow-methods", "").split(",") if m.strip()}
    if acao in ("*", request_origin):
        rating.allows_public_get = True
    if acao == request_origin and creds:
        rating.findings.append(Finding("high", "the server echoes any Origin and allows credentials",
                                       "send Access-Control-Allow-Origin: * without credentials"))
    elif acao == "*" and creds:
        rating.findings.append(Finding("medium", "wildcard origin with Allow-Credentials (browsers refuse it)",
                                       "drop Access-Control-Allow-Credentials"))
    writes = sorted(methods & WRITE_METHODS)
    if writes and acao in ("*", request_origin):
        rating.findings.append(Finding("high", f"any origin may send {', '.join(writes)}",
                                       "allow only GET, HEAD and OPTIONS"))
    exposed = {x.strip().lower() for x in h.get("access-control-expose-headers", "").split(",") if x.strip()}
    if exposed & SENSITIVE_EXPOSE or "*" in exposed:
        rating.findings.append(Finding("medium", "sensitive headers exposed to scripts",
                                       "expose only ETag and Content-Length, or nothing"))
    return rating
