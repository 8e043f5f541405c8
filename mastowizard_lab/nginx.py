"""nginx from Debian as the public media host in front of the lab's buckets, over http and https.

`BUCKET.SERVER.media.test` serves BUCKET of SERVER (rgw, ministack or seaweedfs) at its root, as Mastodon's
docs proxy a media host: GET/HEAD/OPTIONS only, no Authorization upstream, no Set-Cookie or
x-amz-* headers back. The root and CORS are left to the bucket, so a listable bucket or one with
no CORS configuration shows through, as it would in production. Extra sites (for example a demo's
fixed media host) go in `<lab>/nginx/sites/*.conf`.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from . import procs
from .config import (
    EXTRA_ZONE,
    HOST,
    MEDIA_ZONE,
    MINISTACK_PORT,
    NGINX_HTTP_PORT,
    NGINX_HTTPS_PORT,
    RGW_PORT,
    home,
)
from .seaweedfs import SEAWEEDFS_PORT

PACKAGES = ["nginx-light", "libnginx-mod-http-headers-more-filter", "openssl"]
HEADERS_MORE = "/usr/lib/nginx/modules/ngx_http_headers_more_filter_module.so"
NGINX = "/usr/sbin/nginx"
BACKENDS = {"rgw": RGW_PORT, "ministack": MINISTACK_PORT, "seaweedfs": SEAWEEDFS_PORT}


def root() -> Path:
    return home() / "nginx"


def ca_pem() -> Path:
    return home() / "ca" / "ca.pem"


HTML_HOST = f"html.{EXTRA_ZONE}"


def media_host(server: str, bucket: str) -> str:
    return f"{bucket}.{server}.{MEDIA_ZONE}"


def install() -> None:
    procs.ensure_debian(PACKAGES, [NGINX, HEADERS_MORE, "openssl"])


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def ensure_certificates() -> tuple[Path, Path]:
    """A throwaway CA and one server certificate for every lab media host name."""
    d = home() / "ca"
    cert, key = d / "media.pem", d / "media.key"
    names = [f"*.{s}{x}.{MEDIA_ZONE}" for s in BACKENDS for x in ("", "-docs")] + [f"*.{EXTRA_ZONE}", MEDIA_ZONE]
    if cert.exists() and key.exists() and ca_pem().exists() and (d / "names").exists() \
            and (d / "names").read_text() == ",".join(names):
        return cert, key
    d.mkdir(parents=True, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj", "/CN=mastowizard lab CA",
             "-keyout", "ca.key", "-out", "ca.pem", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    (d / "san.ext").write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
        "subjectAltName=" + ",".join(f"DNS:{n}" for n in names) + "\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={MEDIA_ZONE}", "-keyout", "media.key",
             "-out", "media.csr", cwd=d)
    _openssl("x509", "-req", "-in", "media.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "825", "-extfile", "san.ext", "-out", "media.pem", cwd=d)
    (d / "names").write_text(",".join(names))
    return cert, key


def media_location(upstream: str, methods: str = "GET OPTIONS") -> str:
    """The proxy block of a media host, as Mastodon's docs write it (with OPTIONS for CORS preflight;
    METHODS="GET" is the docs' exact line, which refuses the preflight)."""
    return f"""
        location / {{
            limit_except {methods} {{ deny all; }}
            proxy_set_header Host {upstream.split('/')[2]};
            proxy_set_header Authorization "";
            proxy_set_header Cookie "";
            proxy_hide_header Set-Cookie;
            more_clear_headers 'x-amz-*';
            proxy_intercept_errors off;
            proxy_pass {upstream};
        }}"""


def _config(d: Path, cert: Path, key: Path) -> str:
    servers = []
    zone = MEDIA_ZONE.replace('.', chr(92) + '.')
    for name, port in BACKENDS.items():
        # BUCKET.SERVER.media.test, and BUCKET.SERVER-docs.media.test with the docs' `limit_except GET`
        for suffix, methods in (("", "GET OPTIONS"), ("-docs", "GET")):
            servers.append(f"""
    server {{
        listen {HOST}:{NGINX_HTTP_PORT};
        listen {HOST}:{NGINX_HTTPS_PORT} ssl;
        server_name ~^(?<bucket>[a-z0-9-]+)\\.{name}{suffix}\\.{zone}$;
        {media_location(f"http://{HOST}:{port}/$bucket$lab_path", methods)}
    }}""")
    return f"""load_module {HEADERS_MORE};
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    # The workers run as nobody, who cannot enter the lab's home under /root: an answer larger than
    # the proxy buffers is passed on as it comes instead of spooled to a temporary file (a video
    # through the media host was cut off at the first spool: "Permission denied" in error.log).
    proxy_max_temp_file_size 0;
    server_tokens off;
    keepalive_timeout 2s;   # old workers exit soon after a reload
    ssl_certificate {cert};
    ssl_certificate_key {key};
    # The key path exactly as the client sent it (still percent-encoded), without the query.
    map $request_uri $lab_path {{ "~^(?<p>[^?]*)" $p; }}

    server {{
        listen {HOST}:{NGINX_HTTP_PORT} default_server;
        listen {HOST}:{NGINX_HTTPS_PORT} ssl default_server;
        return 404;
    }}
{''.join(servers)}
    # A web server that answers every path with a page: what a wrong media host or endpoint looks like.
    server {{
        listen {HOST}:{NGINX_HTTP_PORT};
        listen {HOST}:{NGINX_HTTPS_PORT} ssl;
        server_name html.{EXTRA_ZONE};
        default_type text/html;
        location / {{ return 200 "<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>"; }}
    }}
    include {d}/sites/*.conf;
}}
"""


def is_running() -> bool:
    return procs.running(root() / "nginx.pid") and procs.port_open(NGINX_HTTP_PORT)


def write_config() -> Path:
    d = root()
    for sub in ("tmp", "sites"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    cert, key = ensure_certificates()
    conf = d / "nginx.conf"
    conf.write_text(_config(d, cert, key))
    r = subprocess.run([NGINX, "-t", "-q", "-c", str(conf), "-p", str(d)], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"lab: nginx config test failed: {r.stderr.strip()}")
    return conf


def start() -> None:
    install()
    conf = write_config()
    d = root()
    if is_running():
        reload()
        return
    stop()
    procs.spawn([NGINX, "-c", str(conf), "-p", str(d), "-g", "daemon off;"], d / "nginx.out")
    procs.wait_for(lambda: procs.port_open(NGINX_HTTP_PORT) and procs.port_open(NGINX_HTTPS_PORT)
                   and (d / "nginx.pid").exists(), 20, "nginx", d / "error.log")


def reload() -> None:
    """Pick up a changed config or new sites without dropping connections."""
    conf = write_config()
    marker = root() / "sites" / "reload-marker.conf"
    token = f"reload-{time.monotonic_ns()}"
    marker.write_text(f"server {{ listen {HOST}:{NGINX_HTTP_PORT}; server_name {token}.{EXTRA_ZONE}; "
                      f"return 204; }}\n")
    master = procs.read_pid(root() / "nginx.pid")
    old_workers = _children(master) if master else []
    subprocess.run([NGINX, "-c", str(conf), "-p", str(root()), "-s", "reload"], check=True, capture_output=True)
    # Reload is asynchronous: wait until the new workers answer for the new marker name, and the old
    # workers (which may still accept a connection with the old config) are gone.
    procs.wait_for(lambda: _status(f"{token}.{EXTRA_ZONE}") == 204, 10, "nginx reload", root() / "error.log", 0.05)
    procs.wait_for(lambda: not any(procs.alive(p) for p in old_workers), 15, "old nginx workers to exit",
                   root() / "error.log", 0.05)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def _status(host: str) -> int | None:
    import http.client
    c = http.client.HTTPConnection(HOST, NGINX_HTTP_PORT, timeout=2)
    try:
        c.request("GET", "/", headers={"Host": host})
        return c.getresponse().status
    except OSError:
        return None
    finally:
        c.close()


def _write_site(name: str, server_name: str, body: str, tls: bool = True) -> Path:
    """One server block under sites/ (http, and https unless TLS is False), picked up at once."""
    f = root() / "sites" / f"{name}.conf"
    f.parent.mkdir(parents=True, exist_ok=True)
    listen = f"    listen {HOST}:{NGINX_HTTP_PORT};\n" + (f"    listen {HOST}:{NGINX_HTTPS_PORT} ssl;\n" if tls else "")
    f.write_text(f"server {{\n{listen}    server_name {server_name};\n{body}\n}}\n")
    if is_running():
        reload()
    return f


def add_site(name: str, server_name: str, upstream: str, certificate: tuple[Path, Path] | None = None) -> Path:
    """A fixed-name media host (e.g. media.lab.test for a demo) proxying to UPSTREAM (http://host:port/bucket),
    with its own CERTIFICATE (cert, key: see issue_certificate) instead of the lab's wildcard one."""
    tls = f"    ssl_certificate {certificate[0]};\n    ssl_certificate_key {certificate[1]};\n" if certificate else ""
    return _write_site(name, server_name, f"{tls}    {media_location(upstream.rstrip('/') + '$lab_path')}")


def issue_certificate(name: str, not_before: float, not_after: float, directory: Path) -> tuple[Path, Path]:
    """A certificate for NAME from the lab's CA, valid between the two unix times (one in the past
    makes an expired certificate, one near makes a certificate about to expire): (cert, key) files."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    ensure_certificates()
    ca_dir = home() / "ca"
    ca = x509.load_pem_x509_certificate((ca_dir / "ca.pem").read_bytes())
    ca_key = serialization.load_pem_private_key((ca_dir / "ca.key").read_bytes(), None)
    key = ec.generate_private_key(ec.SECP256R1())
    when = lambda t: datetime.datetime.fromtimestamp(t, datetime.UTC)  # noqa: E731
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(when(not_before)).not_valid_after(when(not_after))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = directory / f"{name}.pem", directory / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o644)        # nginx's master reads it as root; the lab's throwaway keys are not secrets
    return cert_file, key_file


def add_index_site(name: str, server_name: str, upstream: str, directory: Path, fmt: str = "html") -> Path:
    """A media host misconfigured the way admins do it: keys proxied to the bucket, but directory
    paths (`/`, `/media_attachments/`) served from DIRECTORY with nginx's autoindex in FMT
    (html, json or xml)."""
    return _write_site(name, server_name, f"""    root {directory};
    location ~ /$ {{ autoindex on; autoindex_format {fmt}; }}
    {media_location(upstream.rstrip('/') + '$lab_path')}""")


def add_redirect_site(name: str, server_name: str, target_base: str) -> Path:
    """A media host that answers every key with a permanent redirect to TARGET_BASE (a CDN or another
    host in front of the bucket, as some admins set it up)."""
    return _write_site(name, server_name, f"""    location = / {{ return 403; }}
    location / {{ return 301 {target_base.rstrip('/')}$request_uri; }}""")


NOT_IMPLEMENTED = ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code><Message>A header or '
                   'query you provided requested a function that is not implemented.</Message></Error>')


def add_no_batch_delete_endpoint(name: str, server_name: str, upstream_port: int) -> Path:
    """An S3 endpoint in front of a lab server that answers multi-object delete (POST ?delete) with
    501 NotImplemented, as Google Cloud Storage's XML API does; everything else goes through
    unchanged (Host kept, so signatures still verify)."""
    return _write_site(name, server_name, f"""    client_max_body_size 0;
    location / {{
        set $batch "";
        if ($request_method = POST) {{ set $batch "P"; }}
        if ($args ~ "(^|&)delete(=|&|$)") {{ set $batch "${{batch}}D"; }}
        if ($batch = "PD") {{ return 501 '{NOT_IMPLEMENTED}'; }}
        proxy_set_header Host $http_host;
        proxy_request_buffering off;
        proxy_pass http://{HOST}:{upstream_port};
    }}""", tls=False)


def remove_site(name: str) -> None:
    (root() / "sites" / f"{name}.conf").unlink(missing_ok=True)
    if is_running():
        reload()


def stop() -> None:
    procs.stop(root() / "nginx.pid")


def remove() -> None:
    stop()
    shutil.rmtree(root(), ignore_errors=True)
