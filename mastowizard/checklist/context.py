"""What a checklist run is given (Context, and what the settings check says when the env file keeps
media on local disk), and what its groups share (ChecklistBase: the results as they come in, and
what one group leaves for another)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from ..net import HttpOptions
from ..results import Check
from ..s3.credential import Credential
from ..secrets import Secret
from ..settings import Settings
from ..timing import lap
from .titles import new_check

# The env file keeps media on disk: said the same way by `check`, `doctor`, Verify and Troubleshoot.
NOT_ENABLED = "the env file has no object storage (S3_ENABLED is not true): media is on local disk"
NOT_ENABLED_FIX = ("copy the media (Copy media, `mastowizard migrate`), write the S3 settings (Review, `mastowizard "
                   "apply`), then restart")


@dataclass
class Context:
    settings: Settings | None
    writer: Credential | None
    instance: str | None
    token: Secret | None
    http: HttpOptions = field(default_factory=HttpOptions)
    settings_error: str | None = None        # why no settings (local storage, a bad value)
    settings_fix: str = ""
    notes: list[str] = field(default_factory=list)
    old_urls: list[str] = field(default_factory=list)   # sample of /system/ paths on disk
    poll_timeout: float = 60.0
    no_upload: str | None = None             # why no test upload is made (a read-only watch), when none is


class ChecklistBase:
    """The state of one run; the groups' checks are mixins on it (the whole list: runner.Checklist)."""

    def __init__(self, ctx: Context, on_check: Callable[[Check], None] | None = None):
        self.ctx, self.on_check = ctx, on_check
        self.results: dict[str, Check] = {}
        self.bucket_cors: Check | None = None
        self.fetched: list[dict] = []
        self.preflight: dict | None = None
        self.page: httpx.Response | httpx.HTTPError | None = None    # the instance's web page (prefetch)
        self.memo: dict = {}
        self.lock = threading.Lock()

    def add(self, c: Check) -> Check:
        self.results[c.id] = c
        lap()
        if self.on_check:
            self.on_check(c)
        return c

    def skip(self, ids: list[str], why: str) -> None:
        for cid in ids:
            if cid not in self.results:
                self.add(new_check(cid).skipped(why))
