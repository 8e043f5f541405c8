"""Anonymous probes: what a stranger can do to the bucket and through the media host (read, list,
write, read users' archives), each judged by its effect on a probe object, never on real media."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import httpx

from ..net import describe_error
from .client import bucket_url
from .probe_run import ProbeRun, check, concurrently, tiny_png

_INDEX_PAGE = re.compile(r"<(title|h1)>\s*(Index of|Directory listing for)\b|<div class=\"listing\"", re.I)
_LIST_FIELDS = {"contents", "files", "objects", "items", "keys", "entries"}


def listing_kind(resp: httpx.Response) -> str | None:
    """What kind of key or file list RESP is (S3 XML, a web server's index page, JSON), or None."""
    if resp.status_code != 200:
        return None
    text = resp.text[:200_000]
    if "<ListBucketResult" in text or "<Contents>" in text:
        return "an S3 key list (XML)"
    if "<ListAllMyBucketsResult" in text and "<Bucket>" in text:
        return "a list of buckets (XML)"
    if "<list>" in text and ("<file" in text or "<directory" in text):
        return "a file list (XML, a web server's autoindex)"
    if _INDEX_PAGE.search(text):
        return "a directory index page (HTML, a web server's autoindex)"
    stripped = text.lstrip()
    if stripped[:1] in ("[", "{"):
        try:
            doc = json.loads(resp.text)
        except ValueError:
            return None
        if isinstance(doc, dict):
            if _LIST_FIELDS & {k.lower() for k in doc}:
                return "a key or file list (JSON)"
        elif isinstance(doc, list) and doc and all(isinstance(d, dict) for d in doc[:20]) \
                and any({"name", "key", "path"} & {k.lower() for k in d} for d in doc[:20]):
            return "a file list (JSON, a web server's autoindex)"
    return None


def describe_body(resp: httpx.Response) -> str:
    """What a 200 answer holds, in a few words (for a root that should answer 403 or 404)."""
    ctype = resp.headers.get("content-type", "no Content-Type").split(";")[0]
    title = re.search(r"<title>\s*([^<]{1,80})", resp.text[:20_000], re.I)
    seen = f"{ctype}, {len(resp.content)} bytes"
    if title:
        seen += f', titled "{title.group(1).strip()}"'
    elif resp.text.strip():
        seen += f": {resp.text.strip()[:60]!r}"
    return seen


def probe_read(run: ProbeRun) -> None:
    s = run.settings
    key = run.key("public")
    read = check("anon.read")
    try:
        run.put(key, s.acl or None)
    except Exception as exc:  # noqa: BLE001
        run.add(read.skipped(f"could not upload a probe object: {run.err(exc).code}"))
    else:
        url = s.public_url(key)
        try:
            r = run.get(url)
            ev = {"url": url, "status": r.status_code, "content_type": r.headers.get("content-type"),
                  "cache_control": r.headers.get("cache-control")}
            if r.status_code == 200 and r.content == tiny_png():
                run.add(read.passed(f"{url} answered 200 with the object", **ev))
            elif r.status_code in (401, 403, 404):
                from .read_diagnosis import diagnose_read, summary
                causes = diagnose_read(run, key, url, r.status_code)
                tail, fix = summary(causes)
                run.add(read.failed(f"{url} answered {r.status_code}: media would not load; {tail}", fix,
                                    causes=[c.to_dict() for c in causes], **ev))
            else:
                run.add(read.failed(f"{url} answered {r.status_code} without the object",
                                    "check that the media host (S3_ALIAS_HOST) proxies to this bucket", **ev))
        except httpx.HTTPError as exc:
            run.add(read.failed(f"{url}: {describe_error(exc)}",
                                "check the media host's DNS, TLS certificate and proxy (or --resolve/--ca-bundle)",
                                url=url))


def _sweep(run: ProbeRun, requests: list[tuple[str, str, bytes | None]],
           judge: Callable[[httpx.Response, int], str | None]) -> tuple[list[str], list[str]]:
    """Send each anonymous request; `judge(response, index)` names what went wrong, or None.
    Returns the offending URLs and a line per request for the evidence."""
    offenders, seen = [], []

    def send(method: str, url: str, body: bytes | None):
        try:
            return run.get(url, method, content=body) if body is not None else run.get(url, method)
        except httpx.HTTPError as exc:
            return exc
    answers = concurrently(*[lambda m=m, u=u, b=b: send(m, u, b) for m, u, b in requests])
    for i, ((method, url, _), r) in enumerate(zip(requests, answers, strict=False)):
        label = f"{method} {url}" if method != "GET" else url
        if isinstance(r, httpx.HTTPError):
            seen.append(f"{label} -> {describe_error(r)}")
            continue
        verdict = judge(r, i)
        seen.append(f"{label} -> {r.status_code}" + (f" ({verdict})" if verdict else ""))
        if verdict:
            offenders.append(url)
    return offenders, seen


def probe_list(run: ProbeRun) -> None:
    s = run.settings
    chk = check("anon.list")
    urls = [bucket_url(s, ""), bucket_url(s, "") + "?list-type=2"]
    if run.media_base:     # the root, and the folders Mastodon writes (a web server's autoindex shows there)
        urls += [run.media_base + "/", run.media_base + "/?list-type=2"]
        urls += [f"{run.media_base}/{s.key(d)}/" for d in ("media_attachments", "media_attachments/files", "accounts")]
    kinds: dict[str, str] = {}

    def judge(r, i):
        kind = listing_kind(r)
        if kind:
            kinds[urls[i]] = kind
        return kind
    listed, seen = _sweep(run, [("GET", u, None) for u in urls], judge)
    if listed:
        what = ", ".join(f"{u} ({kinds[u]})" for u in listed)
        fixes = []
        if any(not (run.media_base and u.startswith(run.media_base + "/")) for u in listed) or \
                any(kinds[u].startswith("an S3") for u in listed):
            fixes.append("remove s3:ListBucket for Principal * from the bucket policy and set the bucket "
                         "(and the provider's 'file listing') private")
        if any("autoindex" in kinds[u] for u in listed):
            fixes.append("turn off autoindex on the media host (nginx `autoindex off;`, Apache `Options -Indexes`)")
        fixes.append("deny / and directory paths on the media host")
        run.add(chk.failed("anyone can list keys or files: " + what, "; ".join(fixes), requests=seen,
                           listings=kinds))
    else:
        run.add(chk.passed("no key list at " + ", ".join(seen), requests=seen))


# What each kind of anonymous write is, and what takes it away.
WRITE_FIX = {
    "upload": "s3:PutObject",
    "overwrite": "s3:PutObject",
    "ACL change": "s3:PutObjectAcl",
    "delete": "s3:DeleteObject",
}


def _body(run: ProbeRun, key: str) -> bytes | None:
    """The probe object's bytes as the writer reads them; None when it is gone or no longer ours."""
    try:
        return run.s3.get_object(Bucket=run.settings.bucket, Key=key)["Body"].read()
    except Exception:  # noqa: BLE001 - 404 gone, 403 replaced by a stranger's object
        return None


def _acl(run: ProbeRun, key: str) -> list | None:
    try:
        return run.s3.get_object_acl(Bucket=run.settings.bucket, Key=key).get("Grants", [])
    except Exception:  # noqa: BLE001 - no ACLs here (or not readable): judged by the status alone
        return None


def probe_put(run: ProbeRun) -> None:
    """Anonymous writes of every kind, each judged by its effect on a probe object of its own:
    an upload of a new key, an overwrite, an ACL change and a delete, at the bucket's API URL and
    through the media host."""
    s = run.settings
    chk = check("anon.put")
    bases = [("bucket", lambda k: bucket_url(s, k))]
    if run.media_base:
        bases.append(("media host", lambda k: f"{run.media_base}/{k}"))
    tries = []          # (kind, method, url, body, headers, judge() -> bool: did it take effect)
    for where, url_of in bases:
        tag = "" if where == "bucket" else "-media"
        new = run.key(f"anon-put{tag}")
        run.created.append(new)       # in case the upload is accepted
        tries.append(("upload", "PUT", url_of(new), b"anonymous", {}, lambda k=new: _exists(run, k)))
        def victim(kind: str, tag: str = tag) -> tuple[str, str | None]:
            key = run.key(f"anon-{kind}{tag}")
            try:
                run.put(key, s.acl or None)
                return kind, key
            except Exception:  # noqa: BLE001 - that kind goes untested; said below
                return kind, None
        victims = {kind: key for kind, key in concurrently(*[lambda k=k: victim(k) for k in
                                                             ("overwrite", "acl", "delete")]) if key}
        if "overwrite" in victims:
            k = victims["overwrite"]
            tries.append(("overwrite", "PUT", url_of(k), b"anonymous", {}, lambda k=k: _body(run, k) != tiny_png()))
        if "acl" in victims and where == "bucket":    # ?acl is the S3 API's, not a path a media host has
            k = victims["acl"]
            before = _acl(run, k)
            tries.append(("ACL change", "PUT", url_of(k) + "?acl", b"", {"x-amz-acl": "public-read-write"},
                          lambda k=k, before=before: before is None or _acl(run, k) != before))
        if "delete" in victims:
            k = victims["delete"]
            tries.append(("delete", "DELETE", url_of(k), None, {}, lambda k=k: not _exists(run, k)))
    def attempt(kind, method, url, body, headers, effect) -> tuple[str, bool]:
        try:
            r = run.get(url, method, content=body, headers=headers) if body is not None else \
                run.get(url, method, headers=headers)
        except httpx.HTTPError as exc:
            return f"{kind}: {method} {url} -> {describe_error(exc)}", False
        done = 200 <= r.status_code < 300 and effect()
        return f"{kind}: {method} {url} -> {r.status_code}" + (" (it took effect)" if done else ""), done
    took, seen = [], []
    for t, (line, done) in zip(tries, concurrently(*[lambda t=t: attempt(*t) for t in tries]), strict=False):
        seen.append(line)
        if done:
            took.append((t[0], t[1], t[2]))
    untested = sorted({"overwrite", "ACL change", "delete"} - {t[0] for t in tries})
    if took:
        kinds = list(dict.fromkeys(k for k, _, _ in took))
        actions = ", ".join(dict.fromkeys(WRITE_FIX[k] for k in kinds))
        run.add(chk.failed(f"anyone can {', '.join(kinds)}: " + ", ".join(f"{m} {u}" for _, m, u in took),
                           f"remove {actions} (and any write action) for Principal * from the bucket policy, "
                           "and public-read-write from the bucket ACL; allow only GET on the media host",
                           requests=seen, anonymous=kinds))
    else:
        tested = ", ".join(dict.fromkeys(t[0] for t in tries))
        run.add(chk.passed(f"anonymous {tested} refused at " + " and ".join(w for w, _ in bases)
                           + (f"; not tested (no probe object): {', '.join(untested)}" if untested else ""),
                           requests=seen))


def probe_backups(run: ProbeRun) -> None:
    s = run.settings
    chk = check("anon.backups")
    key = run.key("backup")
    try:
        # Mastodon uploads archives with a private ACL, or none when S3_PERMISSION is empty.
        run.put(key, "private" if s.acl else None)
    except Exception as exc:  # noqa: BLE001
        run.add(chk.skipped(f"could not upload a probe archive: {run.err(exc).code}"))
        return
    urls = [bucket_url(s, key)] + ([f"{run.media_base}/{key}"] if run.media_base else [])
    readable, seen = _sweep(run, [("GET", u, None) for u in urls],
                            lambda r, _: "the archive" if r.status_code == 200 and r.content == tiny_png() else None)
    if readable:
        run.add(chk.failed("a private archive under backups/ is readable by anyone: " + ", ".join(readable),
                           "limit the public GetObject to Mastodon's media prefixes, never backups/ "
                           "(`mastowizard policy`)", requests=seen))
    else:
        run.add(chk.passed("backups/ stays private: " + ", ".join(seen), requests=seen))


def _exists(run: ProbeRun, key: str) -> bool:
    """Did an anonymous write really store the object? (A web server may answer 200 to anything.)"""
    try:
        run.s3.head_object(Bucket=run.settings.bucket, Key=key)
        return True
    except Exception as exc:  # noqa: BLE001
        # 404: not there. 403: an object the writer may not read, i.e. someone else's upload.
        return run.err(exc).code not in ("NotFound", "NoSuchKey", "404")
