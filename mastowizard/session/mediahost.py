"""The Media host step: its check, and the configurations that serve it."""

from __future__ import annotations

from ..results import Check
from .state import State


class MediaHostStep(State):
    def media_host(self) -> tuple[Check, str, str, str]:
        """The media host's check, and the configurations that serve it: nginx (with the Mastodon host's
        own resolver where it can be read), the /system/ redirect, and Caddy."""
        from ..checklist.media_host import check_media_host
        from ..checklist.snippets import (
            caddy_media_host,
            nginx_media_host,
            nginx_system_redirect,
            resolver_of,
        )
        from ..host.local import LocalHost
        s = self.settings()
        resolver = resolver_of(self.host if self.host is not None else LocalHost())
        writer = self.writer() if self.answers.access_key_id and self.secret_access_key else None
        return (check_media_host(s, self.http(), writer), nginx_media_host(s, resolver), nginx_system_redirect(s),
                caddy_media_host(s))
