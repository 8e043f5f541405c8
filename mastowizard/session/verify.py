"""The Verify step: the access token (OAuth, memory only) and the live checklist; Troubleshoot's diagnosis."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import InputError
from ..results import Check
from .state import State


class VerifyStep(State):
    def start_token(self, open_browser: bool = True) -> tuple[str, bool, bool]:
        """Register the app; (the authorize URL, PKCE used, opened in a browser). OPEN_BROWSER False:
        the caller opens it (the wizard served in a browser opens it in that browser, not on this host)."""
        from ..instance import oauth
        self.oauth_pending = oauth.start(self.answers.instance, self.http())
        url = self.oauth_pending.url
        return url, self.oauth_pending.pkce, open_browser and oauth.open_in_browser(url)

    def finish_token(self, code: str) -> str:
        """Exchange the pasted code; the token becomes the checklist's. Returns the granted scope."""
        from ..instance import oauth
        if self.oauth_pending is None:
            raise InputError("authorization code", "no authorization is waiting for it", "press Get a token first")
        token = oauth.finish(self.oauth_pending, code, self.http())
        self.oauth_pending, self.oauth_token, self.token = None, token, token.access_token
        return token.scope

    def revoke_token(self) -> bool:
        from ..instance import oauth
        if self.oauth_token is None:
            raise InputError("token", "no token was got here", "tokens pasted by hand are revoked in Development")
        ok = oauth.revoke(self.oauth_token, self.http())
        if ok:
            self.oauth_token = self.token = None
        return ok

    def verify(self, on_check: Callable[[Check], None] | None = None, only: set[str] | None = None) -> list[Check]:
        from ..checklist.for_instance import checklist_for
        from ..checklist.runner import run_checks
        if self.back_to_disk:             # the way back: the disk's checks (all of them, a retry too)
            from ..checklist.on_disk import disk_checks
            self.checks = disk_checks(self.host, self.answers.env_file, self.instance_url(), self.http(), on_check)
            return self.checks
        ctx = checklist_for(self.host, self.answers.env_file, self.instance_url(), self.token, self.http())
        fresh = run_checks(ctx, on_check, only)
        if only is None:
            self.checks = fresh
        else:   # a retry: replace the rows it reran, keep the others
            rerun = {c.id: c for c in fresh}
            self.checks = [rerun.pop(c.id, c) for c in self.checks] + list(rerun.values())
        return self.checks

    def doctor(self, on_check: Callable[[Check], None] | None = None):
        """The checklist, then the web and sidekiq logs matched against known errors: (the checks,
        the checklist.diagnose.Diagnosis)."""
        from ..checklist.diagnose import diagnose
        checks = self.verify(on_check)
        return checks, diagnose(self.host, self.answers.env_file, checks)
