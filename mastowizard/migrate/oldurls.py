"""Old URLs: other servers keep https://INSTANCE/system/KEY forever and fetch it again when their
cache is gone. After the move each must answer: a permanent redirect to the media host URL
Mastodon now builds (then 200 with the same bytes), or the bytes themselves (from disk, or proxied)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin

from ..net import HttpOptions, describe_error
from ..net import client as http_client
from ..settings import Settings
from .inventory import SourceFile

REDIRECTS = (301, 308)


@dataclass
class OldUrlResult:
    checked: int = 0
    redirected: int = 0
    served: int = 0          # 200 straight from the instance (still on disk, or proxied)
    failed: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.checked > 0 and not self.failed

    def to_json(self) -> dict:
        return {"ok": self.ok, "checked": self.checked, "redirected": self.redirected, "served": self.served,
                "failed": self.failed}


def check_old_urls(settings: Settings, instance: str, files: list[SourceFile], http: HttpOptions | None = None,
                   ) -> OldUrlResult:
    """GET INSTANCE/system/REL for each file without following: a 301/308 must point at the URL
    Mastodon builds for its key and that URL must give the same bytes; a 200 must be those bytes."""
    res = OldUrlResult()
    base = instance.rstrip("/")
    with http_client(http) as c:
        for f in files:
            res.checked += 1
            url = f"{base}/system/{f.rel}"
            with open(f.path, "rb") as fh:
                local = fh.read()
            try:
                r = c.get(url)
                if r.status_code in REDIRECTS:
                    target = urljoin(url, r.headers.get("location", ""))
                    expected = settings.public_url(settings.key(f.rel))
                    if target != expected:
                        res.failed.append({"url": url, "error": f"redirects to {target}, expected {expected}"})
                        continue
                    r2 = c.get(target)
                    if r2.status_code != 200 or r2.content != local:
                        res.failed.append({"url": url, "error": f"{target} answers HTTP {r2.status_code}"
                                           + ("" if r2.status_code != 200 else " with other bytes")})
                        continue
                    res.redirected += 1
                elif r.status_code == 200 and r.content == local:
                    res.served += 1
                else:
                    res.failed.append({"url": url, "error": f"HTTP {r.status_code}" + (
                        " (a redirect that is not permanent: other servers may not keep following it)"
                        if r.status_code in (302, 303, 307) else "")})
            except Exception as e:  # noqa: BLE001
                res.failed.append({"url": url, "error": describe_error(e)})
    return res
