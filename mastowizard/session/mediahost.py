"""The Media host step: its check, and the configurations that serve it."""

from __future__ import annotations

from ..results import Check
from .state import State


class MediaHostStep(State):
    def media_host(self) -> tuple[Check, str, str, str]:
        """The media host's check, and the configurations that serve it: nginx (with the Mastodon host's
        own resolver where it can be read; during a move between buckets, the new bucket first and the
        old one for what the new one lacks yet), the /system/ redirect, and Caddy."""
        from ..checklist.media_host import check_media_host
        from ..checklist.snippets import (
            caddy_media_host,
            nginx_media_host,
            nginx_media_host_fallback,
            nginx_system_redirect,
            resolver_of,
        )
        from ..host.local import LocalHost
        s = self.settings()
        resolver = resolver_of(self.host if self.host is not None else LocalHost())
        writer = self.writer() if self.answers.access_key_id and self.secret_access_key else None
        old = self.old_bucket()          # a move between buckets: the new one first, the old one for the rest
        nginx = nginx_media_host_fallback(s, old, resolver) if old is not None else nginx_media_host(s, resolver)
        return check_media_host(s, self.http(), writer), nginx, nginx_system_redirect(s), caddy_media_host(s)
