"""The live verification checklist: the instance, its bucket and its media host seen from outside,
the way browsers and other servers see them. Independent groups run concurrently; every check
has an id, a status, a detail, evidence and a fix. The test upload is removed, whatever happens."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from ..results import Check
from .bucket_checks import BucketChecks
from .context import NOT_ENABLED as NOT_ENABLED
from .context import NOT_ENABLED_FIX as NOT_ENABLED_FIX
from .context import Context as Context
from .media_host import check_media_host as check_media_host
from .old_urls import sample_local_media as sample_local_media
from .public_fetch import MIN_CACHE_SECONDS as MIN_CACHE_SECONDS
from .public_fetch import ORIGIN as ORIGIN
from .titles import BUCKET_GROUP as BUCKET_GROUP
from .titles import INSTANCE_GROUP as INSTANCE_GROUP
from .titles import JOBS_GROUP as JOBS_GROUP
from .titles import ORDER as ORDER
from .titles import TITLES as TITLES
from .upload_chain import TEST_JPEG as TEST_JPEG
from .upload_chain import InstanceChecks


class Checklist(BucketChecks, InstanceChecks):
    def run(self, only: set[str] | None = None) -> list[Check]:
        """All checks, or (ONLY) the group(s) those checks belong to: a retry of one check reruns
        what it depends on, and nothing more."""
        groups = []
        if only is None or only & BUCKET_GROUP:
            groups.append(self.bucket_group)
        if only is None or only & JOBS_GROUP:
            groups.append(self.jobs_group)
        if only is None or only & INSTANCE_GROUP:
            groups.append(self.instance_group)
        with ThreadPoolExecutor(max_workers=3) as pool:
            for f in [pool.submit(g) for g in groups]:
                f.result()
        if only is None or "cors" in only or (only & INSTANCE_GROUP and only & BUCKET_GROUP):
            self.cors(self.fetched)
        from .knowledge import link_failures
        return link_failures([self.results[cid] for cid in ORDER if cid in self.results])


def run_checks(ctx: Context, on_check: Callable[[Check], None] | None = None,
               only: set[str] | None = None) -> list[Check]:
    return Checklist(ctx, on_check).run(only)
