"""The media-host snippet, loaded into the lab's real nginx in front of a real bucket, serves media."""

import shutil
from pathlib import Path

from helpers.lab import lab_site

from mastowizard.checklist.snippets import (
    caddy_media_host,
    nginx_media_host,
    nginx_system_redirect,
    upstream,
)
from mastowizard.s3.bucket_setup import setup_bucket
from mastowizard.s3.credential import Credential
from mastowizard.secrets import Secret
from mastowizard.settings import Settings
from mastowizard_lab import nginx


def test_upstream_by_addressing():
    s = Settings.build(bucket="media", provider="other", endpoint="https://s3.example.net", permission="policy")
    assert upstream(s) == ("s3.example.net", "/media")
    v = Settings.build(bucket="media", provider="other", endpoint="https://s3.example.net", addressing="virtual",
                       permission="policy")
    assert upstream(v) == ("media.s3.example.net", "")
    assert upstream(Settings.build(bucket="media", region="eu-west-1")) == ("media.s3.eu-west-1.amazonaws.com", "")


def test_snippet_is_valid_nginx_serves_the_bucket_and_caches_only_success(bucket, lab_info, tmp_path):
    """The media host as generated, in the lab's nginx (the proxy_cache_path line in the http block, as
    sites/ is): keys served with CORS, the root and writes refused, answers cached, and a 404 NOT
    cached: once the object exists, it is served at once (a cached error would outlive its fix)."""
    srv = bucket.server
    alias = f"snippet-{bucket.name}.lab.test"
    s = Settings.build(bucket=bucket.name, provider="ceph" if srv.name == "rgw" else "other",
                       endpoint=srv.endpoint, permission="policy", alias_host=alias)
    setup_bucket(s, Credential(srv.admin_access_key, Secret(srv.admin_secret_key)))
    bucket.admin_client.put_object(Bucket=bucket.name, Key="media_attachments/files/x.png", Body=b"png!",
                                   ContentType="image/png")
    conf = nginx_media_host(s)
    assert "limit_except GET OPTIONS" in conf and f"server_name {alias};" in conf
    assert "keys_zone=mastodon_media:" in conf and "proxy_cache mastodon_media;" in conf
    assert "proxy_cache_valid 200 7d;" in conf and "proxy_cache_valid any" not in conf
    path = nginx.root() / "sites" / f"snippet-{bucket.name}.conf"
    import tempfile
    cache = Path(tempfile.mkdtemp(prefix="mw-nginx-cache-"))     # nginx's workers run as nobody: not under /root
    cache.chmod(0o777)
    path.write_text(lab_site(conf, lab_info, cache))
    base = f"https://{alias}:{lab_info.https_port}"
    try:
        nginx.reload()
        from mastowizard.net import HttpOptions, client
        with client(HttpOptions.build(lab_info.resolve(), lab_info.ca_pem)) as c:
            r = c.get(f"{base}/media_attachments/files/x.png")
            assert r.status_code == 200 and r.content == b"png!"
            assert r.headers["access-control-allow-origin"] == "*" and "nosniff" in r.headers["x-content-type-options"]
            assert c.get(f"{base}/media_attachments/files/x.png").headers["x-cache-status"] == "HIT"
            assert c.get(f"{base}/").status_code == 403
            pre = c.options(f"{base}/media_attachments/files/x.png",
                            headers={"Origin": "https://x.example", "Access-Control-Request-Method": "GET"})
            assert pre.status_code != 403
            assert c.put(f"{base}/y.png", content=b"x").status_code == 403
            assert c.get(f"{base}/media_attachments/files/late.png").status_code in (403, 404)
            bucket.admin_client.put_object(Bucket=bucket.name, Key="media_attachments/files/late.png", Body=b"late",
                                           ContentType="image/png")
            r = c.get(f"{base}/media_attachments/files/late.png")
            assert r.status_code == 200 and r.content == b"late", (r.status_code, r.headers)
    finally:
        path.unlink()
        nginx.reload()
        shutil.rmtree(cache, ignore_errors=True)


def test_caddy_snippet_is_valid_caddy_and_serves_the_bucket(rgw_bucket, tmp_path):
    """The Caddy media host, run by Debian's Caddy on a lab port (plain http: no certificate here)."""
    import socket
    import subprocess

    import httpx

    from mastowizard_lab import procs
    bucket = rgw_bucket
    srv = bucket.server
    caddy = shutil.which("caddy")
    assert caddy, "Caddy is part of the lab (python3 -m mastowizard_lab install)"
    alias = f"caddy-{bucket.name}.lab.test"
    s = Settings.build(bucket=bucket.name, provider="ceph", endpoint=srv.endpoint, permission="policy",
                       alias_host=alias)
    setup_bucket(s, Credential(srv.admin_access_key, Secret(srv.admin_secret_key)))
    bucket.admin_client.put_object(Bucket=bucket.name, Key="media_attachments/files/x.png", Body=b"png!",
                                   ContentType="image/png")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    conf = caddy_media_host(s)
    assert conf.startswith(f"{alias} {{")
    caddyfile = tmp_path / "Caddyfile"
    caddyfile.write_text("{\n\tadmin off\n\tauto_https off\n\tstorage file_system " + str(tmp_path / "data")
                         + "\n}\n" + conf.replace(f"{alias} {{", f"http://{alias}:{port} {{", 1))
    env = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path),
           "PATH": "/usr/bin:/bin"}
    v = subprocess.run([caddy, "validate", "--config", str(caddyfile), "--adapter", "caddyfile"], capture_output=True,
                       text=True, env=env, timeout=60, check=False)
    assert v.returncode == 0, v.stdout + v.stderr
    with open(tmp_path / "caddy.log", "w") as log:
        proc = subprocess.Popen([caddy, "run", "--config", str(caddyfile), "--adapter", "caddyfile"], env=env,
                                stdout=subprocess.DEVNULL, stderr=log)
    try:
        procs.wait_for(lambda: procs.port_open(port), 30, "Caddy to listen", tmp_path / "caddy.log")
        with httpx.Client(headers={"Host": alias}) as c:
            r = c.get(f"http://127.0.0.1:{port}/media_attachments/files/x.png")
            assert r.status_code == 200 and r.content == b"png!", (r.status_code, r.text[:200])
            assert r.headers["access-control-allow-origin"] == "*"
            assert c.get(f"http://127.0.0.1:{port}/").status_code == 403
            assert c.put(f"http://127.0.0.1:{port}/y.png", content=b"x").status_code == 403
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_system_redirect_snippet():
    s = Settings.build(bucket="media", alias_host="files.example.com", key_prefix="inst")
    text = nginx_system_redirect(s)
    assert "rewrite ^/system/(.*)$ https://files.example.com/inst/$1 permanent;" in text


def test_the_resolver_line_says_what_it_is_for():
    from mastowizard.checklist.snippets import nginx_media_host
    from mastowizard.settings import Settings
    s = Settings.build(bucket="files-example", provider="wasabi", region="eu-central-1", alias_host="files.example.com")
    line = next(ln for ln in nginx_media_host(s).splitlines() if "resolver" in ln)
    assert "resolver 127.0.0.53 valid=300s;" in line and "/etc/resolv.conf" in line
    assert "resolver 10.0.0.2 valid=300s;" in nginx_media_host(s, resolver="10.0.0.2")


def test_a_media_host_that_caches_errors_is_named(rgw_bucket, lab_info):
    """The documented proxy with errors cached too (`proxy_cache_valid any`): the media host check asks
    for a missing key, writes it, asks again, and still gets the error: from the cache."""
    import tempfile

    from mastowizard.checklist.media_host import check_media_host
    from mastowizard.net import HttpOptions
    bucket, srv = rgw_bucket, rgw_bucket.server
    alias = f"errcache-{bucket.name}.lab.test"
    s = Settings.build(bucket=bucket.name, provider="ceph", endpoint=srv.endpoint, permission="policy",
                       alias_host=f"{alias}:{lab_info.https_port}")
    setup_bucket(s, Credential(srv.admin_access_key, Secret(srv.admin_secret_key)))
    cache = Path(tempfile.mkdtemp(prefix="mw-nginx-cache-"))
    cache.chmod(0o777)
    path = nginx.root() / "sites" / f"errcache-{bucket.name}.conf"
    good = lab_site(nginx_media_host(s), lab_info, cache)
    http = HttpOptions.build(lab_info.resolve(), lab_info.ca_pem)
    writer = Credential(srv.writer_access_key, Secret(srv.writer_secret_key))
    try:
        path.write_text(good)
        nginx.reload()
        ok = check_media_host(s, http, writer)
        assert ok.status == "pass", ok
        path.write_text(good.replace("proxy_cache_valid 200 7d;", "proxy_cache_valid any 10m;"))
        nginx.reload()
        bad = check_media_host(s, http, writer)
        assert bad.status == "warn", bad
        assert "caches its errors: a key answered 403, was then written to the bucket, and still answered 403" \
            in bad.detail, bad.detail
        assert "proxy_cache_valid 200" in bad.fix
        assert bucket.admin_client.list_objects_v2(Bucket=bucket.name).get("KeyCount") == 0, "the probe is removed"
    finally:
        path.unlink()
        nginx.reload()
        shutil.rmtree(cache, ignore_errors=True)
