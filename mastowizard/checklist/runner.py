"""The checklist run: the three groups concurrently (bucket, jobs, instance), the cors check last
as it weighs what two groups saw, and the results in ORDER with links to their troubleshooting
entries. A retry of one check reruns its group."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ..results import Check
from ..timing import timed
from .bucket_checks import BucketChecks
from .context import Context
from .titles import BUCKET_GROUP, INSTANCE_GROUP, JOBS_GROUP, ORDER
from .upload_chain import InstanceChecks


class Checklist(BucketChecks, InstanceChecks):
    """Every check: the groups' checks together, on one run's shared state."""

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
            for f in [pool.submit(timed(g)) for g in groups]:
                f.result()
        if only is None or "cors" in only or (only & INSTANCE_GROUP and only & BUCKET_GROUP):
            timed(lambda: self.cors(self.fetched))()
        from .knowledge import link_failures
        return link_failures([self.results[cid] for cid in ORDER if cid in self.results])


def run_checks(ctx: Context, on_check: Callable[[Check], None] | None = None,
               only: set[str] | None = None) -> list[Check]:
    return Checklist(ctx, on_check).run(only)
