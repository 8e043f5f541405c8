"""The instance.csp check: the Content-Security-Policy of the web app's page must let browsers
fetch media from where Mastodon's URLs point, and from where the media host redirects to. With
what it needs from the instance: its page (prefetched) and its version (asked once a run)."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import httpx

from ..net import describe_error
from . import csp
from .context import ChecklistBase
from .titles import new_check


class InstanceCspChecks(ChecklistBase):
    """The instance.csp check and the instance's page and version (the cleanup check reads the version too)."""

    def csp(self, c: httpx.Client, base: str) -> None:
        """The CSP of the web app's page must let browsers fetch media from where Mastodon's URLs
        point (and from where the media host redirects to)."""
        chk = new_check("instance.csp")
        s = self.ctx.settings
        if s is None:
            self.add(chk.skipped("needs S3 settings"))
            return
        upload = self.results.get("upload")
        uploaded = upload.evidence.get("url") if upload is not None and upload.status == "pass" else None
        # where the settings put media (what Mastodon builds after a restart), and where the upload landed
        url = s.public_url(s.key("media_attachments/files/000/000/001/original/mastowizard.png"))
        page = self.page
        if page is None:
            try:
                page = c.get(base + "/")
            except httpx.HTTPError as e:
                page = e
        if isinstance(page, httpx.HTTPError):
            self.add(chk.skipped(f"{base}/: {describe_error(page)}"))
            return
        header = page.headers.get("content-security-policy")
        if not header:
            self.add(chk.warned(f"{base}/ answered {page.status_code} without a Content-Security-Policy header",
                                "Mastodon sends one on every page: check that a proxy in front of it does not drop it",
                                status=page.status_code))
            return
        policy = csp.parse(header)
        origin = f"{urlsplit(base).scheme}://{urlsplit(base).netloc}"
        media_origin = f"{urlsplit(url).scheme}://{urlsplit(url).netloc}"
        ev = {"url": base + "/", "media_url": url, "csp": {d: policy.get(d) for d in csp.MEDIA_DIRECTIVES}}
        version = self.instance_version(c, base)
        extra_ok = version is None or version >= (4, 4)
        week = ("Browsers that ran the web app keep the old policy in its service worker for up to a week "
                "(Mastodon's docs): announce a new media host that long before the switch"
                + (" with EXTRA_MEDIA_HOSTS (`mastowizard plan --announce-media-host`)." if extra_ok else
                   ": on Mastodon before 4.4 (no EXTRA_MEDIA_HOSTS) by setting S3_ALIAS_HOST while S3_ENABLED is "
                   "still false."))
        if urlsplit(url).scheme == "http" and origin.startswith("https://"):
            self.add(chk.failed(f"media URLs are http ({media_origin}) on an https instance: browsers block them "
                                "as mixed content (and the policy lists only https media hosts)",
                                "serve the media host over https and set S3_PROTOCOL=https", **ev))
            return
        blocked = [d for d, ok in csp.allowed_in(policy, url, origin).items() if not ok]
        if blocked:
            self.add(chk.failed(
                f"the instance's policy does not allow {media_origin} in {', '.join(blocked)}: browsers block "
                "every image and video from it", "Mastodon builds the policy from S3_ALIAS_HOST (then "
                "S3_CLOUDFRONT_HOST, S3_HOSTNAME) and EXTRA_MEDIA_HOSTS, never from S3_ENDPOINT: set S3_ALIAS_HOST "
                f"to {urlsplit(url).netloc} and restart web (if the env file already says so, web has not been "
                f"restarted since: `mastowizard restart`). {week}", blocked=blocked, **ev))
            return
        if uploaded and urlsplit(uploaded).netloc != urlsplit(url).netloc:
            blocked = [d for d, ok in csp.allowed_in(policy, uploaded, origin).items() if not ok]
            if blocked:
                self.add(chk.failed(f"the test upload's URL ({uploaded}) is not allowed in {', '.join(blocked)}",
                                    "restart web and sidekiq so that URLs and the policy follow the env file "
                                    "(`mastowizard restart`)", blocked=blocked, **ev))
                return
        target = self.redirect_target(c, uploaded) if uploaded else None
        if target:
            blocked = [d for d, ok in csp.allowed_in(policy, target, origin).items() if not ok]
            if blocked:
                host = f"{urlsplit(target).scheme}://{urlsplit(target).netloc}"
                self.add(chk.failed(
                    f"{media_origin} redirects to {host}, which the policy does not allow in {', '.join(blocked)}: "
                    "browsers block the redirected media",
                    (f"add {host} to EXTRA_MEDIA_HOSTS (Mastodon 4.4+) and restart web" if extra_ok else
                     f"serve the media from {media_origin} without the redirect "
                     f"(Mastodon {'.'.join(map(str, version))} has no EXTRA_MEDIA_HOSTS)")
                    + f". {week}", redirect=target, blocked=blocked, **ev))
                return
        self.add(chk.passed(f"img-src, media-src and connect-src allow {media_origin}"
                            + (f" and the host it redirects to ({urlsplit(target).netloc})" if target else ""), **ev))

    def prefetch(self, c: httpx.Client, base: str) -> None:
        """The instance's page (its CSP) and version, fetched while the test upload runs."""
        self.instance_version(c, base)
        try:
            self.page = c.get(base + "/")
        except httpx.HTTPError as e:
            self.page = e

    def instance_version(self, c: httpx.Client, base: str) -> tuple[int, int] | None:
        """Mastodon's version, asked once a run."""
        with self.lock:
            if "version" not in self.memo:
                self.memo["version"] = self._version(c, base)
            return self.memo["version"]

    @staticmethod
    def _version(c: httpx.Client, base: str) -> tuple[int, int] | None:
        try:
            v = c.get(base + "/api/v2/instance").json().get("version", "")
        except Exception:  # noqa: BLE001 - unknown: assume a current Mastodon
            return None
        m = re.match(r"(\d+)\.(\d+)", str(v))
        return (int(m[1]), int(m[2])) if m else None

    def redirect_target(self, c: httpx.Client, url: str) -> str | None:
        """Where the media host sends a browser for URL, when it redirects to another host: as the public
        fetch saw it, else asked."""
        seen = next((f for f in self.fetched if f.get("url") == url), None)
        if seen is not None:
            target = seen.get("redirected_to")
            return target if target and urlsplit(target).netloc != urlsplit(url).netloc else None
        try:
            r = c.head(url, follow_redirects=False)
        except httpx.HTTPError:
            return None
        location = r.headers.get("location")
        if r.status_code in (301, 302, 303, 307, 308) and location:
            target = urljoin(url, location)
            if urlsplit(target).netloc != urlsplit(url).netloc:
                return target
        return None
