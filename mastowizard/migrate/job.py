"""The copy and its verification as one job: what `mastowizard migrate` and the wizard's Copy media
step both run."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import NamedTuple

from ..net import HttpOptions
from ..s3.credential import Credential
from ..settings import Settings
from .copy import CopyResult, Progress, copy_tree
from .inventory import Inventory
from .reading import Reader
from .verify import Verification, verify_listing, verify_public


class CopyReport(NamedTuple):
    """What a copy did and what its verification found (unpacks as (copy, verification)).
    Whether the copy is complete is decided here, for the CLI, the wizard and the report alike."""

    copy: CopyResult
    verification: Verification | None = None

    @property
    def complete(self) -> bool:
        """No upload failed, the copy was neither stopped nor cancelled, and its verification (when
        one ran) found every file listed with its size and the sample served right. A dry run copies
        nothing: it is complete when nothing it looked at failed."""
        copy, v = self
        return not (copy.failed or copy.aborted or copy.cancelled) and (v is None or v.ok)


def copy_and_verify(settings: Settings, writer: Credential, source: str, *, http: HttpOptions | None = None,
                    jobs: int = 32, dry_run: bool = False, verify: str = "sample",
                    on_progress: Callable[[Progress], None] | None = None, cancel: threading.Event | None = None,
                    inventory: Inventory | None = None, reader: Reader | None = None,
                    copy_source=None, public: Settings | None = None) -> CopyReport:
    """Copy SOURCE, then prove it: every file listed with its size, and VERIFY ("sample", "all" or
    "none") fetched anonymously through the media host. No verification after a dry run, a cancel
    or an abort. With the INVENTORY just taken (spooled), neither walks the tree again."""
    inv = inventory
    result = copy_tree(settings, writer, source, http=http, jobs=jobs, dry_run=dry_run, keep_all=verify == "all",
                       on_progress=on_progress, cancel=cancel, totals=(inv.files, inv.bytes) if inv else None,
                       splits=inv.splits if inv else None, files=inv.replay() if inv else None,
                       reader=reader, copy_source=copy_source, shard=inv.shard if inv else None,
                       prefixes=inv.units if inv else None)
    if dry_run or result.aborted or result.cancelled:
        return CopyReport(result)
    if result.copied or result.failed:
        v = verify_listing(settings, writer, source, http, inv.splits if inv else None,
                           inv.replay() if inv else None, inv.units if inv else None)
    else:   # nothing copied: the copy's own merge saw every object listed with its size
        v = Verification(listed=result.skipped)
    if verify != "none":
        pub = [x for x in (result.all_files or result.sample_public) if not x[1].private]
        priv = [x for x in (result.all_files or result.sample_private) if x[1].private and not x[1].exposed]
        verify_public(public or settings, v, pub, priv, http, read=reader.read_all if reader else None)
    return CopyReport(result, v)
