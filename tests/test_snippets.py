"""The media-host snippet, loaded into the lab's real nginx in front of a real bucket, serves media."""


from mastowizard.checklist.snippets import (
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


def test_snippet_is_valid_nginx_and_serves_the_bucket(bucket, lab_info, tmp_path):
    srv = bucket.server
    alias = f"snippet-{bucket.name}.lab.test"
    s = Settings.build(bucket=bucket.name, provider="ceph" if srv.name == "rgw" else "other",
                       endpoint=srv.endpoint, permission="policy", alias_host=alias)
    setup_bucket(s, Credential(srv.admin_access_key, Secret(srv.admin_secret_key)))
    bucket.admin_client.put_object(Bucket=bucket.name, Key="media_attachments/files/x.png", Body=b"png!",
                                   ContentType="image/png")
    conf = nginx_media_host(s)
    assert "limit_except GET OPTIONS" in conf and f"server_name {alias};" in conf
    # the lab serves it: its own listen lines and certificate instead of production's
    body = conf.split("\n", 1)[1].replace("  listen 443 ssl;\n  listen [::]:443 ssl;\n  http2 on;\n", "")
    body = body.replace("resolver 9.9.9.9;", "")
    site = ("server {\n" + f"  listen 127.0.0.1:{lab_info.http_port};\n  listen 127.0.0.1:{lab_info.https_port} ssl;\n"
            + body)
    path = nginx.root() / "sites" / f"snippet-{bucket.name}.conf"
    path.write_text(site)
    try:
        nginx.reload()
        from mastowizard.net import HttpOptions, client
        with client(HttpOptions.build(lab_info.resolve(), lab_info.ca_pem)) as c:
            r = c.get(f"https://{alias}:{lab_info.https_port}/media_attachments/files/x.png")
            assert r.status_code == 200 and r.content == b"png!"
            assert r.headers["access-control-allow-origin"] == "*" and "nosniff" in r.headers["x-content-type-options"]
            assert c.get(f"https://{alias}:{lab_info.https_port}/").status_code == 403
            pre = c.options(f"https://{alias}:{lab_info.https_port}/media_attachments/files/x.png",
                            headers={"Origin": "https://x.example", "Access-Control-Request-Method": "GET"})
            assert pre.status_code != 403
            assert c.put(f"https://{alias}:{lab_info.https_port}/y.png", content=b"x").status_code == 403
    finally:
        path.unlink()
        nginx.reload()


def test_system_redirect_snippet():
    s = Settings.build(bucket="media", alias_host="files.example.com", key_prefix="inst")
    text = nginx_system_redirect(s)
    assert "rewrite ^/system/(.*)$ https://files.example.com/inst/$1 permanent;" in text


def test_the_resolver_line_says_what_it_is_for():
    from mastowizard.checklist.snippets import nginx_media_host
    from mastowizard.settings import Settings
    text = nginx_media_host(Settings.build(bucket="files-example", provider="wasabi", region="eu-central-1",
                                           alias_host="files.example.com"))
    line = next(ln for ln in text.splitlines() if "resolver" in ln)
    assert "# the DNS server nginx asks" in line and "use your own" in line
