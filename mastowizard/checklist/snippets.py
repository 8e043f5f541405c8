"""Web server snippets an admin pastes: the media host in front of the bucket, and the redirect that
keeps old /system/ URLs answering after the move."""

from __future__ import annotations

from urllib.parse import urlsplit

from ..settings import Settings


def upstream(settings: Settings) -> tuple[str, str]:
    """(host to proxy to, path prefix) so that a key K is fetched from https://HOST/PREFIX/K."""
    if settings.endpoint:
        netloc = urlsplit(settings.endpoint).netloc
        if settings.addressing == "virtual":
            return f"{settings.bucket}.{netloc}", ""
        return netloc, f"/{settings.bucket}"
    return f"{settings.bucket}.s3.{settings.region}.amazonaws.com", ""


CACHE_ZONE = "mastodon_media"


def resolver_of(host) -> str | None:
    """The first nameserver in HOST's /etc/resolv.conf: the one nginx there can surely reach."""
    try:
        text = host.read_bytes("/etc/resolv.conf").decode("utf-8", "replace")
    except Exception:  # noqa: BLE001 - unreadable: the snippet says what to put there
        return None
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "nameserver":
            return f"[{parts[1]}]" if ":" in parts[1] else parts[1]
    return None


def nginx_media_host(settings: Settings, resolver: str | None = None) -> str:
    """Mastodon's documented media proxy (object-storage-proxy.md), with what trips admins up fixed:
    the `proxy_cache_path` it needs is included (for the http block), only successful answers are
    cached (a cached 403 or 404 would keep media broken after the fix), OPTIONS is allowed for the
    CORS preflight, and the resolver is RESOLVER (the host's own, from /etc/resolv.conf) instead of
    a public one the host may not reach."""
    host, prefix = upstream(settings)
    scheme = urlsplit(settings.endpoint).scheme if settings.endpoint else "https"
    name = (settings.alias_host or "files.example.com").split(":")[0]
    key_prefix = f"/{settings.key_prefix}" if settings.key_prefix else ""
    dns = resolver or "127.0.0.53"
    said = ("this host's, from /etc/resolv.conf" if resolver
            else "systemd-resolved's; else the first nameserver in /etc/resolv.conf")
    return f"""# In the http block (a file in /etc/nginx/conf.d/ is inside it); proxy_cache below needs it:
proxy_cache_path /var/cache/nginx/{CACHE_ZONE} levels=1:2 keys_zone={CACHE_ZONE}:10m max_size=10g inactive=7d use_temp_path=off;

server {{
  listen 443 ssl;
  listen [::]:443 ssl;
  http2 on;
  server_name {name};
  # ssl_certificate /etc/letsencrypt/live/{name}/fullchain.pem;
  # ssl_certificate_key /etc/letsencrypt/live/{name}/privkey.pem;

  location = / {{ return 403; }}

  location / {{
    limit_except GET OPTIONS {{ deny all; }}    # OPTIONS: the CORS preflight
    resolver {dns} valid=300s;    # {said}: nginx looks the bucket's host up again as its addresses change
    set $bucket_host {host};
    proxy_set_header Host $bucket_host;
    proxy_set_header Connection '';
    proxy_set_header Authorization '';
    proxy_set_header Cookie '';
    proxy_hide_header Set-Cookie;
    proxy_hide_header 'Access-Control-Allow-Origin';
    proxy_hide_header 'Access-Control-Allow-Methods';
    proxy_hide_header 'Access-Control-Allow-Headers';
    proxy_hide_header x-amz-id-2;
    proxy_hide_header x-amz-request-id;
    proxy_hide_header x-amz-meta-server-side-encryption;
    proxy_hide_header x-amz-server-side-encryption;
    proxy_hide_header x-amz-bucket-region;
    proxy_hide_header x-amzn-requestid;
    proxy_ignore_headers Set-Cookie;
    proxy_pass {scheme}://$bucket_host{prefix}{key_prefix}$uri;
    proxy_intercept_errors off;
    proxy_cache {CACHE_ZONE};
    proxy_cache_valid 200 7d;       # successful answers only: an error cached would outlive its fix
    proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;
    proxy_cache_lock on;
    add_header X-Cache-Status $upstream_cache_status always;
    add_header Cache-Control public;
    add_header Access-Control-Allow-Origin '*';
    add_header X-Content-Type-Options nosniff;
    add_header Content-Security-Policy "default-src 'none'; form-action 'none'";
  }}
}}
"""


def nginx_media_host_fallback(new: Settings, old: Settings, resolver: str | None = None) -> str:
    """The media host during a move between buckets: it keeps its name, asks the new bucket first and
    the old one when the new one has no such object yet (403 or 404: a stranger may not list, so a
    missing key is a 403). Nothing answered by the old bucket is cached."""
    conf = nginx_media_host(new, resolver)
    old_host, old_prefix = upstream(old)
    scheme = urlsplit(old.endpoint).scheme if old.endpoint else "https"
    key_prefix = f"/{old.key_prefix}" if old.key_prefix else ""
    conf = conf.replace("    proxy_intercept_errors off;\n", "    proxy_intercept_errors on;      # a 403 or 404 from "
                        "the new bucket asks the old one\n    error_page 403 404 = @old_bucket;\n")
    fallback = f"""
  # Until the last copy is done: what the new bucket does not hold yet comes from the old one. Media
  # made private in the new bucket meanwhile (a suspension) is still served from the old bucket:
  # remove this block (and error_page above) once `mastowizard migrate --source-env` has run after
  # the switch.
  location @old_bucket {{
    resolver {resolver or "127.0.0.53"} valid=300s;
    set $old_bucket_host {old_host};
    proxy_set_header Host $old_bucket_host;
    proxy_set_header Connection '';
    proxy_set_header Authorization '';
    proxy_set_header Cookie '';
    proxy_hide_header Set-Cookie;
    proxy_hide_header 'Access-Control-Allow-Origin';
    proxy_hide_header x-amz-id-2;
    proxy_hide_header x-amz-request-id;
    proxy_hide_header x-amz-bucket-region;
    proxy_ignore_headers Set-Cookie;
    proxy_pass {scheme}://$old_bucket_host{old_prefix}{key_prefix}$uri;
    add_header X-Served-From old-bucket always;
    add_header Cache-Control public;
    add_header Access-Control-Allow-Origin '*';
    add_header X-Content-Type-Options nosniff;
    add_header Content-Security-Policy "default-src 'none'; form-action 'none'";
  }}
}}
"""
    head, _, _ = conf.rpartition("}\n")
    return head + fallback


def caddy_media_host(settings: Settings) -> str:
    """The same media host for Caddy (certificates by itself): keys only, GET, HEAD and OPTIONS."""
    host, prefix = upstream(settings)
    scheme = urlsplit(settings.endpoint).scheme if settings.endpoint else "https"
    name = (settings.alias_host or "files.example.com").split(":")[0]
    key_prefix = f"/{settings.key_prefix}" if settings.key_prefix else ""
    return f"""{name} {{
	@root path /
	respond @root 403
	@other not method GET HEAD OPTIONS
	respond @other 403
	rewrite * {prefix}{key_prefix}{{uri}}
	reverse_proxy {scheme}://{host} {{
		header_up Host {host}
		header_up -Authorization
		header_up -Cookie
		header_down -Set-Cookie
		header_down -x-amz-id-2
		header_down -x-amz-request-id
		header_down -Access-Control-Allow-Origin
	}}
	header Access-Control-Allow-Origin *
	header X-Content-Type-Options nosniff
	header Content-Security-Policy "default-src 'none'; form-action 'none'"
}}
"""


def nginx_system_redirect(settings: Settings) -> str:
    """For the instance's own server block: old /system/KEY URLs go to the media host."""
    media = f"{settings.protocol}://{settings.alias_host or 'files.example.com'}"
    prefix = f"/{settings.key_prefix}" if settings.key_prefix else ""
    return f"""# in the instance's server block, before `location /`:
location ^~ /system/ {{
  # files still on disk are served; the rest moved to object storage
  try_files $uri @media;
}}
location @media {{
  rewrite ^/system/(.*)$ {media}{prefix}/$1 permanent;
}}
"""


def nginx_system_proxy(settings: Settings) -> str:
    """The other way to keep old URLs: the instance serves /system/KEY itself, fetched from the media
    host. Same URLs, no redirect, but every old-URL byte goes through the instance's server."""
    media_host = (settings.alias_host or "files.example.com")
    name = media_host.split(":")[0]
    prefix = f"/{settings.key_prefix}" if settings.key_prefix else ""
    return f"""# in the instance's server block, before `location /`:
location ^~ /system/ {{
  try_files $uri @media;
}}
location @media {{
  rewrite ^/system/(.*)$ {prefix}/$1 break;
  proxy_set_header Host {name};
  proxy_ssl_server_name on;
  proxy_ssl_name {name};
  proxy_set_header Cookie '';
  proxy_set_header Authorization '';
  proxy_pass {settings.protocol}://{media_host};
}}
"""
