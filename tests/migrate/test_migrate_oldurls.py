"""Old https://INSTANCE/system/KEY URLs after the move, through the lab's real nginx as the instance's
web server: files still on disk are served, moved ones redirect permanently to the media host URL
Mastodon now builds and that URL gives the same bytes; the proxy variant serves them itself."""

import os
import shutil
import uuid
from pathlib import Path

import pytest

from mastowizard.checklist.snippets import nginx_system_proxy, nginx_system_redirect
from mastowizard.migrate.copy import copy_tree
from mastowizard.migrate.inventory import walk
from mastowizard.migrate.oldurls import check_old_urls
from mastowizard.net import HttpOptions
from mastowizard.s3.credential import Credential
from mastowizard.secrets import Secret
from mastowizard.settings import Settings
from mastowizard_lab import nginx
from mastowizard_lab.media_tree import make_tree

WEB = Path("/var/lib/mastowizard-lab")      # nginx's workers (nobody) can read here, not under /root


@pytest.fixture
def instance_site(rgw_bucket, lab_info, tmp_path, monkeypatch):
    """nginx's behaviour does not depend on the S3 server behind it: one (RGW) is enough."""
    bucket = rgw_bucket
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    name = f"inst-{uuid.uuid4().hex[:8]}"
    live = WEB / f"web-{name}"
    WEB.mkdir(mode=0o755, exist_ok=True)
    os.chmod(WEB, 0o755)
    tree = make_tree(live / "public" / "system", 60, suspended=0)
    for d in (live, live / "public"):
        os.chmod(d, 0o755)
    for dirpath, dirnames, _ in os.walk(live):
        for dn in dirnames:
            os.chmod(os.path.join(dirpath, dn), 0o755)
    srv = bucket.server
    s = Settings.build(bucket=bucket.name, provider="ceph", endpoint=srv.endpoint, region=srv.region,
                       addressing="path", permission="acl", alias_host=bucket.media_https_base.split("://")[1])
    result = copy_tree(s, Credential(srv.writer_access_key, Secret(srv.writer_secret_key)), str(tree.root))
    assert not result.failed and result.copied == len(tree.files)
    sites = []

    def serve(snippet: str) -> str:
        host = f"{name}-{len(sites)}.lab.test"
        site = nginx.root() / "sites" / f"{host}.conf"
        site.write_text(f"server {{\n  listen 127.0.0.1:{lab_info.http_port};\n"
                        f"  listen 127.0.0.1:{lab_info.https_port} ssl;\n  server_name {host};\n"
                        f"  root {live}/public;\n  proxy_ssl_trusted_certificate {lab_info.ca_pem};\n"
                        f"  proxy_ssl_verify on;\n{snippet}\n  location / {{ return 404; }}\n}}\n")
        sites.append(site)
        nginx.reload()
        return f"https://{host}:{lab_info.https_port}"
    yield s, tree, serve
    for site in sites:
        site.unlink()
    nginx.reload()
    shutil.rmtree(live)


def moved_away(files, scratch: Path):
    """Take files off the instance's disk (as the admin does once the checks are green), keeping them
    in SCRATCH to compare; the SourceFiles returned point at the kept copies."""
    from dataclasses import replace
    scratch.mkdir(exist_ok=True)
    kept = []
    for f in files:
        p = scratch / f.rel.replace("/", "_")
        shutil.move(f.path, p)
        kept.append(replace(f, path=str(p)))
    return kept


def put_back(originals, kept):
    for f, k in zip(originals, kept, strict=True):
        shutil.move(k.path, f.path)


def test_moved_files_redirect_permanently_and_files_on_disk_are_served(instance_site, lab_info, tmp_path):
    s, tree, serve = instance_site
    url = serve(nginx_system_redirect(s))
    files = [f for f in walk(str(tree.root)) if f.rel not in tree.private]
    moved, on_disk = files[:8], files[8:13]
    http = HttpOptions.build(lab_info.resolve(), lab_info.ca_pem)
    kept = moved_away(moved, tmp_path / "moved")
    try:
        res = check_old_urls(s, url, on_disk, http)
        assert res.ok and res.served == 5, res.failed
        res = check_old_urls(s, url, kept, http)
        assert res.ok and res.redirected == 8, res.failed
    finally:
        put_back(moved, kept)


def test_a_redirect_to_the_wrong_place_is_caught(instance_site, lab_info, tmp_path):
    s, tree, serve = instance_site
    wrong = Settings.build(bucket=s.bucket, provider="ceph", endpoint=s.endpoint, region=s.region,
                           addressing="path", permission="acl", alias_host=s.alias_host, key_prefix="elsewhere")
    url = serve(nginx_system_redirect(wrong))       # redirects under a key prefix the bucket does not use
    f = next(f for f in walk(str(tree.root)) if f.rel not in tree.private)
    kept = moved_away([f], tmp_path / "moved")
    try:
        res = check_old_urls(s, url, kept, HttpOptions.build(lab_info.resolve(), lab_info.ca_pem))
        assert not res.ok and "expected" in res.failed[0]["error"]
    finally:
        put_back([f], kept)


def test_the_proxy_variant_serves_moved_files_itself(instance_site, lab_info, tmp_path):
    s, tree, serve = instance_site
    # the lab has no DNS: nginx reaches the media host at 127.0.0.1, with its name for Host and SNI
    snippet = nginx_system_proxy(s).replace(f"proxy_pass https://{s.alias_host};",
                                            f"proxy_pass https://127.0.0.1:{lab_info.https_port};")
    url = serve(snippet)
    f = next(f for f in walk(str(tree.root)) if f.rel not in tree.private)
    kept = moved_away([f], tmp_path / "moved")
    try:
        from mastowizard.net import client
        with client(HttpOptions.build(lab_info.resolve(), lab_info.ca_pem)) as c:
            r = c.get(f"{url}/system/{f.rel}")
        assert r.status_code == 200 and r.content == Path(kept[0].path).read_bytes()
    finally:
        put_back([f], kept)
