"""The live verification checklist: the instance, its bucket and its media host seen from outside,
the way browsers and other servers see them. Independent groups run concurrently; every check
has an id, a status, a detail, evidence and a fix. The test upload is removed, whatever happens.

This module gathers the checklist's public names from the modules that hold them: titles (ids,
titles, groups), context (Context, NOT_ENABLED), bucket_checks, media_host, upload_chain,
public_fetch, instance_csp, old_urls, and runner (Checklist, run_checks)."""

from __future__ import annotations

from .context import NOT_ENABLED as NOT_ENABLED
from .context import NOT_ENABLED_FIX as NOT_ENABLED_FIX
from .context import Context as Context
from .media_host import check_media_host as check_media_host
from .old_urls import sample_local_media as sample_local_media
from .public_fetch import MIN_CACHE_SECONDS as MIN_CACHE_SECONDS
from .public_fetch import ORIGIN as ORIGIN
from .runner import Checklist as Checklist
from .runner import run_checks as run_checks
from .titles import BUCKET_GROUP as BUCKET_GROUP
from .titles import INSTANCE_GROUP as INSTANCE_GROUP
from .titles import JOBS_GROUP as JOBS_GROUP
from .titles import ORDER as ORDER
from .titles import TITLES as TITLES
from .upload_chain import TEST_JPEG as TEST_JPEG

__all__ = [
    "BUCKET_GROUP",
    "INSTANCE_GROUP",
    "JOBS_GROUP",
    "MIN_CACHE_SECONDS",
    "NOT_ENABLED",
    "NOT_ENABLED_FIX",
    "ORDER",
    "ORIGIN",
    "TEST_JPEG",
    "TITLES",
    "Checklist",
    "Context",
    "check_media_host",
    "run_checks",
    "sample_local_media",
]
