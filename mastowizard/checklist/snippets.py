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


def nginx_media_host(settings: Settings) -> str:
    """Mastodon's documented media proxy, with OPTIONS allowed for the CORS preflight."""
    host, prefix = upstream(settings)
    scheme = urlsplit(settings.endpoint).scheme if settings.endpoint else "https"
    name = (settings.alias_host or "files.example.com").split(":")[0]
    key_prefix = f"/{settings.key_prefix}" if settings.key_prefix else ""
    return f"""server {{
  listen 443 ssl;
  listen [::]:443 ssl;
  http2 on;
  server_name {name};
  # ssl_certificate /etc/letsencrypt/live/{name}/fullchain.pem;
  # ssl_certificate_key /etc/letsencrypt/live/{name}/privkey.pem;

  location = / {{ return 403; }}

  location / {{
    limit_except GET OPTIONS {{ deny all; }}    # OPTIONS: the CORS preflight
    resolver 9.9.9.9;    # the DNS server nginx asks for the bucket's host (proxy_pass resolves at run time): use your own, e.g. 127.0.0.53 under systemd-resolved
    proxy_set_header Host {host};
    proxy_set_header Connection '';
    proxy_set_header Authorization '';
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
    proxy_pass {scheme}://{host}{prefix}{key_prefix}$uri;
    proxy_intercept_errors off;
    add_header Cache-Control public;
    add_header Access-Control-Allow-Origin '*';
    add_header X-Content-Type-Options nosniff;
    add_header Content-Security-Policy "default-src 'none'; form-action 'none'";
  }}
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
