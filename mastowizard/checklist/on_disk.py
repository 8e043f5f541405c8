"""The checklist after the way back to disk (`check --to-disk`, the wizard's Verify on that path):
the env file keeps media on disk; every object of the bucket it used is under public/system with
its size; the instance serves a sample of those files at /system/ with their exact bytes; and the
old media URLs (the bucket's media host, which other servers stored) still answer with them.

The bucket is the env file's while it still names one (before the switch), else the one the newest
backup `apply` made names (after it)."""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from ..env.plan import EnvFile
from ..errors import MastowizardError
from ..host.interface import Host
from ..net import HttpOptions, client, describe_error
from ..results import Check
from .old_urls import sample_under

TITLES = {
    "disk.settings": "The env file keeps media on disk (S3_ENABLED is not true)",
    "disk.files": "Every object of the bucket is on disk with its size",
    "disk.served": "The instance serves media from disk at /system/",
    "disk.media_host": "Old media URLs (the bucket's media host) still answer",
}


def disk_checks(host: Host, env_path: str, instance: str | None, http: HttpOptions | None = None,
                on_check: Callable[[Check], None] | None = None) -> list[Check]:
    """The four checks, each told to ON_CHECK as it is judged. Prints nothing, raises nothing it
    can say as a failed check."""
    from ..migrate.inventory import source_dir
    from ..migrate.to_disk_gap import disk_gap
    from ..migrate.to_disk_survey import bucket_values, s3_or_none
    checks: list[Check] = []

    def add(c: Check) -> Check:
        checks.append(c)
        if on_check is not None:
            on_check(c)
        return c
    new = {cid: Check(cid, title) for cid, title in TITLES.items()}
    try:
        values = EnvFile.read(host, env_path).doc.values()
    except MastowizardError as e:
        add(new["disk.settings"].failed(f"the env file could not be read: {e}", "check Env file on the Target step"))
        return checks
    dest = source_dir(env_path, values)
    if s3_or_none(values) is None:
        add(new["disk.settings"].passed(f"S3_ENABLED={values.get('S3_ENABLED', '') or '(unset)'}: Mastodon reads "
                                        f"and writes media under {dest}"))
    else:
        add(new["disk.settings"].failed("S3_ENABLED=true: Mastodon still reads and writes media in the bucket",
                                        "write S3_ENABLED=false (Review, or `mastowizard apply --to-disk`), then "
                                        "restart"))
    old = bucket_values(host, env_path, values)
    settings = s3_or_none(old) if old is not None else None
    if old is None:
        add(new["disk.files"].skipped("neither the env file nor a backup of it names a bucket: nothing to compare"))
    else:
        gap = disk_gap(host, env_path, old, values, http)
        lines = gap.lines()
        if gap.safe:
            add(new["disk.files"].passed(lines[0], bucket=gap.bucket, objects=gap.files))
        else:
            add(new["disk.files"].failed(" ".join(lines[:2]), "copy them (Copy media, or `mastowizard migrate "
                                         "--to-disk`): a rerun copies only what is missing",
                                         bucket=gap.bucket, missing=gap.missing, examples=gap.examples[:20]))
    sample = sample_under(host, dest.rstrip("/"), public_only=True)
    if not instance:
        add(new["disk.served"].skipped("no instance URL given: give it to fetch media through the instance"))
    else:
        served = _fetch_each(host, dest, sample, lambda rel: f"{instance.rstrip('/')}/system/{rel}", http)
        add(_judge(new["disk.served"], served, sample,
                   "serve /system/ from public/system in the instance's nginx (Mastodon's dist/nginx.conf: "
                   "location ~ ^/system/ with try_files), then reload nginx"))
    if settings is None or not settings.alias_host:
        what = ("no bucket is known" if settings is None else
                f"bucket {settings.bucket} had no media host (S3_ALIAS_HOST): other servers hold its provider's "
                "URLs; keep the bucket readable, or redirect that host")
        add(new["disk.media_host"].skipped(what))
    else:
        got = _fetch_each(host, dest, sample, lambda rel: settings.public_url(settings.key(rel)), http)
        add(_judge(new["disk.media_host"], got, sample,
                   f"point {settings.alias_host} at public/system (`mastowizard migrate --to-disk` prints the nginx "
                   "server block), or keep the bucket it serves"))
    return checks


def _fetch_each(host: Host, dest: str, rels: list[str], url_of: Callable[[str], str], http: HttpOptions | None
                ) -> list[tuple[str, str | None]]:
    """(URL, None) for each REL answered 200 with the file's exact bytes, else (URL, what was wrong)."""
    out: list[tuple[str, str | None]] = []
    with client(http, follow_redirects=True) as c:
        for rel in rels:
            url = url_of(rel)
            try:
                r = c.get(url)
            except Exception as e:  # noqa: BLE001 - said as the check's failure
                out.append((url, describe_error(e)))
                continue
            if r.status_code != 200:
                out.append((url, f"HTTP {r.status_code}"))
                continue
            try:
                same = host.read_bytes(posixpath.join(dest, rel)) == r.content
            except Exception as e:  # noqa: BLE001
                out.append((url, f"the file on disk could not be read: {e}"))
                continue
            out.append((url, None if same else f"{len(r.content)} bytes that differ from the file on disk"))
    return out


def _judge(chk: Check, results: list[tuple[str, str | None]], sample: list[str], fix: str) -> Check:
    if not sample:
        return chk.skipped("no media under public/system to sample")
    bad = [f"{url}: {why}" for url, why in results if why]
    seen = [url for url, _ in results]
    if bad:
        return chk.failed("; ".join(bad), fix, requests=seen)
    return chk.passed(f"{len(results)} file(s) answered 200 with their exact bytes, e.g. {seen[0]}", requests=seen)
