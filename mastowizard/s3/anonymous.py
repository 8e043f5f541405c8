"""Anonymous probes: what a stranger can do to the bucket and through the media host (read, list,
write, read users' archives), each judged by its effect on a probe object, never on real media."""

from __future__ import annotations

from typing import Callable

import httpx

from ..net import describe_error
from .client import bucket_url
from .probe_run import ProbeRun, check, tiny_png


def is_listing(resp: httpx.Response) -> bool:
    return resp.status_code == 200 and ("<ListBucketResult" in resp.text or "<Contents>" in resp.text)


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
                fix = ("in ACL mode check that uploads keep public-read (writer.acl, Block Public Access)"
                       if s.permission == "acl" else "apply the public-read bucket policy (`mastowizard policy`)")
                if s.alias_host:
                    fix += "; and that the media host proxies to this bucket"
                run.add(read.failed(f"{url} answered {r.status_code}: media would not load", fix, **ev))
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
    for i, (method, url, body) in enumerate(requests):
        label = f"{method} {url}" if method != "GET" else url
        try:
            r = run.get(url, method, content=body) if body is not None else run.get(url, method)
        except httpx.HTTPError as exc:
            seen.append(f"{label} -> {describe_error(exc)}")
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
    if run.media_base:
        urls += [run.media_base + "/", run.media_base + "/?list-type=2"]
    listed, seen = _sweep(run, [("GET", u, None) for u in urls],
                          lambda r, _: "a key list" if is_listing(r) else None)
    if listed:
        run.add(chk.failed("anyone can list every key: " + ", ".join(listed),
                           "remove s3:ListBucket for Principal * from the bucket policy, set the bucket "
                           "(and the provider's 'file listing') private, and deny / on the media host",
                           requests=seen))
    else:
        run.add(chk.passed("no key list at " + ", ".join(seen), requests=seen))


def probe_put(run: ProbeRun) -> None:
    s = run.settings
    chk = check("anon.put")
    keys = [run.key("anon-put")] + ([run.key("anon-put-media")] if run.media_base else [])
    urls = [bucket_url(s, keys[0])] + ([f"{run.media_base}/{keys[1]}"] if run.media_base else [])
    run.created.extend(keys)  # in case a write is accepted
    accepted, seen = _sweep(run, [("PUT", u, b"anonymous") for u in urls],
                            lambda r, i: "stored" if 200 <= r.status_code < 300 and _exists(run, keys[i]) else None)
    if accepted:
        run.add(chk.failed("anyone can write: " + ", ".join(accepted),
                           "remove s3:PutObject (and any write action) for Principal * from the bucket policy "
                           "and public-read-write from the bucket ACL", requests=seen))
    else:
        run.add(chk.passed("anonymous PUT refused: " + ", ".join(seen), requests=seen))


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
