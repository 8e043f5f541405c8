"""Which lab servers a bucket test runs on, and a media host snippet as the lab's nginx serves it."""

from __future__ import annotations

import pytest

import mastowizard_lab as lab


def on(*servers: str):
    """Run a bucket test only on SERVERS: where what it checks exists (a server's own behaviour), or
    once where it does not depend on the server. Never generated for the others and skipped."""
    return pytest.mark.parametrize("s3server", servers, indirect=True)


def servers_where(capability: str) -> tuple[str, ...]:
    """The lab's servers (every bucket test's) that have CAPABILITY."""
    from mastowizard_lab import ministack, rgw
    caps = {"rgw": rgw.CAPABILITIES, "ministack": ministack.CAPABILITIES}
    return tuple(name for name in lab.SERVERS if caps[name].get(capability))


def lab_site(conf: str, lab_info, cache_dir) -> str:
    """The snippet as the lab serves it: its own listen lines and certificate instead of production's,
    the cache in a directory of the test's, under a zone name of its own."""
    conf = conf.replace("  listen 443 ssl;\n  listen [::]:443 ssl;\n  http2 on;\n",
                        f"  listen 127.0.0.1:{lab_info.http_port};\n  listen 127.0.0.1:{lab_info.https_port} ssl;\n")
    zone = f"z{cache_dir.name}".replace("-", "_")
    return conf.replace("/var/cache/nginx/mastodon_media", str(cache_dir)).replace(
        "keys_zone=mastodon_media", f"keys_zone={zone}").replace("proxy_cache mastodon_media;", f"proxy_cache {zone};")
