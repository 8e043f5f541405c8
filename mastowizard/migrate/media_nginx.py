"""After a copy back to disk: the nginx server block that keeps the old media host's URLs
(`https://S3_ALIAS_HOST/[S3_KEY_PREFIX/]<path>`, which posts, caches and other servers still hold)
answering from public/system once Mastodon stores media on disk again. It answers as the bucket
did, with Mastodon's headers: CORS for any origin, Cache-Control as Mastodon uploads it, nosniff,
and the sandboxing Content-Security-Policy Mastodon's own nginx config gives /system/."""

from __future__ import annotations

from ..settings import CACHE_CONTROL, Settings

CSP = "default-src 'none'; form-action 'none'"


def media_host_nginx(settings: Settings, dest: str, listen: tuple[str, ...] = ("443 ssl", "[::]:443 ssl"),
                     certificate: str | None = None, certificate_key: str | None = None) -> str:
    """The server block for the old media host, serving DEST; comment lines only when the old URLs
    are the provider's own host (no S3_ALIAS_HOST): no nginx of the instance's can answer those."""
    if not settings.alias_host:
        old = settings.public_url("KEY").removesuffix("/KEY")
        return (f"# The old media URLs ({old}/...) are the provider's host, not one of yours: nginx cannot keep\n"
                "# them answering. Keep the bucket readable until remote servers have refetched the media.\n")
    host = settings.alias_host
    cert = certificate or f"/etc/letsencrypt/live/{host}/fullchain.pem"
    key = certificate_key or f"/etc/letsencrypt/live/{host}/privkey.pem"
    root = dest.rstrip("/")
    prefix = f"/{settings.key_prefix}" if settings.key_prefix else ""
    private = f"location ~ ^{prefix}/(?:backups|imports)/ {{ return 403; }}     # private in the bucket too"
    if prefix:
        locations = f"""    location {prefix}/ {{
        rewrite ^{prefix}/(.*)$ /$1 break;          # S3_KEY_PREFIX is not a folder on disk
        try_files $uri =404;
    }}
    location / {{ return 404; }}"""
    else:
        locations = """    location / {
        try_files $uri =404;
    }"""
    listens = "\n".join(f"    listen {x};" for x in listen)
    return f"""# {host}: the old media URLs answered from {root} (Mastodon stores media there again).
# Keep the host's DNS and certificate; the http block must include mime.types (Debian's does).
server {{
{listens}
    server_name {host};
    ssl_certificate     {cert};
    ssl_certificate_key {key};
    root {root};
    autoindex off;
    add_header Access-Control-Allow-Origin "*" always;
    add_header Cache-Control "{CACHE_CONTROL}";
    add_header X-Content-Type-Options nosniff always;
    add_header Content-Security-Policy "{CSP}";
    if ($request_method = OPTIONS) {{ return 204; }}    # CORS preflight, as the bucket answered it
    if ($request_method !~ ^(?:GET|HEAD)$) {{ return 405; }}
    {private}
{locations}
}}
"""
