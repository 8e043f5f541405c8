"""The test upload as a browser fetches it from the media host: status, image type, a long public
Cache-Control and CORS (public_fetch; why a refused read is refused, from read-only calls on the
bucket), and the cors check, which weighs those headers, the preflight and the bucket's CORS rules."""

from __future__ import annotations

from urllib.parse import unquote, urljoin, urlsplit

import httpx

from ..net import describe_error
from ..s3 import read_diagnosis
from ..s3.probe_run import ProbeRun, concurrently
from .context import ChecklistBase
from .titles import new_check

ORIGIN = "https://mastowizard.invalid"
MIN_CACHE_SECONDS = 86400


class PublicFetchChecks(ChecklistBase):
    """The public_fetch check (after the upload) and the cors check (last, after both groups)."""

    def public_fetch(self, c: httpx.Client, url: str, preview: str) -> None:
        chk = new_check("public_fetch")
        problems, seen, no_cors = [], [], []

        def head(u: str):
            try:   # as a browser does: a redirect is followed (the CSP check judges where it goes)
                return c.head(u, headers={"Origin": ORIGIN}, follow_redirects=True)
            except httpx.HTTPError as e:
                return e
        for u, r in zip((url, preview), concurrently(lambda: head(url), lambda: head(preview)), strict=False):
            if isinstance(r, httpx.HTTPError):
                problems.append(f"{u}: {describe_error(r)}")
                continue
            cc = r.headers.get("cache-control", "")
            acao = r.headers.get("access-control-allow-origin")
            seen.append({"url": u, "status": r.status_code, "content_type": r.headers.get("content-type"),
                         "cache_control": cc, "access_control_allow_origin": acao,
                         **({"redirected_to": _followed(u, r)} if r.history else {})})
            if r.status_code != 200:
                problems.append(f"{u} answered {r.status_code}")
                continue
            if not r.headers.get("content-type", "").startswith("image/"):
                problems.append(f"{u} has Content-Type {r.headers.get('content-type')!r}")
            if acao not in ("*", ORIGIN):
                no_cors.append(u)
            if "public" not in cc or _max_age(cc) < MIN_CACHE_SECONDS:
                problems.append(f"{u} has Cache-Control {cc!r}")
        self.fetched = seen
        try:   # the CORS preflight a browser sends before a non-simple request
            final = next((r["redirected_to"] for r in seen if r["url"] == url and "redirected_to" in r), url)
            pre = c.options(final, headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"})
            self.preflight = {"status": pre.status_code,
                              "access_control_allow_origin": pre.headers.get("access-control-allow-origin")}
        except httpx.HTTPError as e:
            self.preflight = {"status": None, "error": describe_error(e)}
        if not problems and no_cors:
            self.add(chk.warned("200, image type and a long public Cache-Control, but no Access-Control-Allow-Origin "
                                "(see cors)", "apply the CORS configuration (`mastowizard policy`)", responses=seen))
            return
        if not problems:
            self.add(chk.passed("200, image type, CORS and a long public Cache-Control on both", responses=seen))
            return
        first = problems[0]
        causes = None
        refused = next((r for r in seen if r["status"] in (401, 403, 404)), None)
        if refused is not None and self.ctx.writer is not None:
            causes = self.diagnose(refused["url"], refused["status"])
        if causes is not None:
            tail, fix = read_diagnosis.summary(causes)
            self.add(chk.failed("; ".join(problems) + "; " + tail, fix, responses=seen,
                                causes=[c.to_dict() for c in causes]))
            return
        if "answered 403" in first or "answered 404" in first:
            fix = ("the object is not public, or S3_ALIAS_HOST does not serve this bucket: check the ACL or bucket "
                   "policy (`mastowizard probe`) and the media host's proxy target")
        elif "Cache-Control" in first:
            fix = "do not override Cache-Control at the media host; Mastodon uploads with a 10-year public one"
        else:
            fix = "check the media host's DNS, TLS and proxy"
        self.add(chk.failed("; ".join(problems), fix, responses=seen))

    def diagnose(self, url: str, status: int):
        """The likely causes of a refused read of the test upload (read-only calls on the bucket)."""
        s = self.ctx.settings
        path = urlsplit(url).path.lstrip("/")
        key = unquote(path if s.alias_host else path.split("/", 1)[-1])
        run = ProbeRun(s, self.ctx.writer, self.ctx.http)
        try:
            return read_diagnosis.diagnose_read(run, key, url, status)
        except Exception:  # noqa: BLE001 - the failure stands without a diagnosis
            return None
        finally:
            run.close()

    def cors(self, seen: list[dict]) -> None:
        """Runs last: the bucket's CORS rules (group 1) and the headers the upload got (group 2)."""
        chk = new_check("cors")
        bucket = self.bucket_cors
        seen = [r for r in seen if r.get("status") == 200]
        has_header = any(r.get("access_control_allow_origin") in ("*", ORIGIN) for r in seen)
        ev = {"bucket_cors": bucket.to_dict() if bucket else None}
        if bucket and bucket.status == "fail" and "no CORS configuration" not in bucket.detail:
            self.add(chk.failed(bucket.detail, bucket.fix, **ev))
        elif seen and not has_header:
            self.add(chk.failed("media answers without Access-Control-Allow-Origin: the web UI cannot read it "
                                "across origins", "apply the CORS configuration from `mastowizard policy` (GET and "
                                "HEAD from any origin), or add the header at the media host", **ev))
        elif seen and self.preflight and not (self.preflight.get("status") in (200, 204) and
                                              self.preflight.get("access_control_allow_origin") in ("*", ORIGIN)):
            self.add(chk.failed(f"the CORS preflight (OPTIONS) is refused: {self.preflight}",
                                "allow OPTIONS at the media host (nginx: `limit_except GET OPTIONS`, not "
                                "`limit_except GET`)", preflight=self.preflight, **ev))
        elif seen:
            self.add(chk.passed("GET with Origin gets Access-Control-Allow-Origin and the preflight passes"
                                + (f"; bucket rules: {bucket.detail}" if bucket else ""),
                                preflight=self.preflight, **ev))
        elif bucket and bucket.status == "fail":
            self.add(chk.failed(bucket.detail, bucket.fix, **ev))
        else:
            self.add(chk.skipped("no media was fetched", **ev))


def _followed(url: str, r: httpx.Response) -> str:
    """Where the redirects of R led, as the server named it (the pinned transport rewrites r.url)."""
    for hop in r.history:
        url = urljoin(url, hop.headers.get("location", ""))
    return url


def _max_age(cache_control: str) -> int:
    for part in cache_control.split(","):
        name, _, value = part.strip().partition("=")
        if name == "max-age" and value.isdigit():
            return int(value)
    return 0
