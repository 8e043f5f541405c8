"""Old /system/ URLs after the move: a sample of the media on the instance's disk
(sample_local_media), and the old_urls check that each still answers (200 or a redirect)."""

from __future__ import annotations

import httpx

from ..net import describe_error
from .context import ChecklistBase
from .titles import new_check


class OldUrlChecks(ChecklistBase):
    """The old_urls check, run in the instance group."""

    def old_urls(self, c: httpx.Client, base: str) -> None:
        chk = new_check("old_urls")
        if not self.ctx.old_urls:
            self.add(chk.skipped("no media on the instance's disk to sample"))
            return
        bad, seen = [], []
        for path in self.ctx.old_urls[:5]:
            url = f"{base}/system/{path}"
            try:
                r = c.get(url)
            except httpx.HTTPError as e:
                bad.append(f"{url}: {describe_error(e)}")
                continue
            seen.append(f"{url} -> {r.status_code}")
            if not (r.status_code == 200 or (300 <= r.status_code < 400 and r.headers.get("location"))):
                bad.append(f"{url} -> {r.status_code}")
        if bad:
            self.add(chk.failed("old media URLs no longer answer: " + ", ".join(bad),
                                "copy public/system to the bucket and redirect /system/ to the media host "
                                "(docs/troubleshooting.md#old-urls)", requests=seen))
        else:
            self.add(chk.passed("; ".join(seen), requests=seen))


def sample_local_media(host, live_dir: str, limit: int = 5) -> list[str]:
    """Up to LIMIT keys of files under public/system (the first entries at each level: cheap on big
    instances). They are what old URLs point at: https://INSTANCE/system/KEY."""
    return sample_under(host, live_dir.rstrip("/") + "/public/system", limit)


def sample_under(host, root: str, limit: int = 5, public_only: bool = False) -> list[str]:
    """Up to LIMIT paths of files under ROOT, relative to it; with PUBLIC_ONLY, only files anyone may
    be served (not under backups/ or imports/, readable by others on disk)."""
    found: list[str] = []

    def walk(rel: str, depth: int) -> None:
        if len(found) >= limit or depth > 12:
            return
        try:
            entries = host.list_dir(f"{root}/{rel}" if rel else root)
        except Exception:  # noqa: BLE001 - no public/system: nothing to sample
            return
        for name in entries[:limit if not public_only else 4 * limit]:
            path = f"{rel}/{name}" if rel else name
            if public_only and not rel and name in ("backups", "imports"):
                continue
            if "." in name and rel.count("/") >= 2:
                if not public_only or _others_read(host, f"{root}/{path}"):
                    found.append(path)
            else:
                walk(path, depth + 1)
            if len(found) >= limit:
                return
    walk("", 0)
    return found


def _others_read(host, path: str) -> bool:
    try:
        return bool(host.stat(path).mode & 0o004)
    except Exception:  # noqa: BLE001 - gone meanwhile
        return False
