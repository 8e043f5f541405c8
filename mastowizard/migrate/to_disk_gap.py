"""Before the switch back to disk (`apply --to-disk`): how many objects in the bucket are not under
public/system with their size yet. Once S3_ENABLED is false Mastodon serves media from disk, and
each of them answers 404. Measured with the copy's own survey (one flat listing merged with one
walk of the disk, here or over SSH); the guard goes ahead only on the typed count (gap.py)."""

from __future__ import annotations

from ..errors import MastowizardError
from ..net import HttpOptions
from .gap import MediaGap
from .inventory import human_bytes


class DiskGap(MediaGap):
    """MediaGap the other way: FILES are the bucket's objects, MISSING those not on disk."""

    def lines(self) -> list[str]:
        if not self.known:
            return [f"bucket {self.bucket} could not be compared with the media on disk: {self.error}",
                    "objects that are not under public/system answer 404 after the switch (attachments, avatars, "
                    "headers, emoji)"]
        if self.missing == 0:
            return [f"all {self.files} object(s) of bucket {self.bucket} are under {self.source} on {self.host}"]
        shown = ", ".join(self.examples[:3])
        return [f"{self.missing} of {self.files} object(s) in bucket {self.bucket} ({human_bytes(self.missing_bytes)}) "
                f"are NOT under {self.source} on {self.host} yet, e.g. {shown}",
                f"after the restart Mastodon serves media from disk: those {self.missing} answer 404 (old posts' "
                "attachments, avatars, headers, emoji) until they are copied",
                "copy them first (`mastowizard migrate --to-disk`); a rerun copies only what is missing"]

    def risk(self, what: str) -> str:
        return f"{what} would leave {self.token} object(s) of the bucket off the disk"

    fix_first = "copy them first (`mastowizard migrate --to-disk`)"


def gap_before_to_disk(plan, http: HttpOptions | None = None) -> DiskGap | None:
    """What writing PLAN would leave behind: measured when it switches media from S3 back to disk
    (None otherwise), with the env file's own bucket and writer key."""
    if not plan.disables_s3:
        return None
    values = plan.env.doc.values()
    return disk_gap(plan.env.host, plan.env.path, values, values, http)


def disk_gap(host, env_path: str, s3_values, disk_values, http: HttpOptions | None = None) -> DiskGap:
    """The objects of the bucket S3_VALUES name (read with their key) that are not under the
    public/system DISK_VALUES give (PAPERCLIP_ROOT_PATH honoured) on HOST with their size. Never
    raises for what it cannot read: the gap is then unknown and says why."""
    from ..s3.credential import Credential
    from .disk_target import target_for
    from .inventory import source_dir
    from .putter import Putter
    from .to_disk_survey import s3_settings, survey
    settings = s3_settings(env_path, s3_values)
    dest = source_dir(env_path, disk_values)
    gap = DiskGap(dest, settings.bucket, host.describe())
    if not (settings.access_key_id and settings.secret_access_key):
        gap.error = "the env file has no key to list the bucket with"
        return gap
    try:
        putter = Putter(settings, Credential(settings.access_key_id, settings.secret_access_key), http)
        found = survey(putter, settings, target_for(host, dest, env_path))
    except MastowizardError as e:
        gap.error = str(e)
        return gap
    except Exception as e:  # noqa: BLE001 - a listing that fails leaves the gap unknown, never a traceback
        gap.error = f"{type(e).__name__}: {e}"
        return gap
    gap.files, gap.missing, gap.missing_bytes, gap.examples = (found.objects, found.missing, found.missing_bytes,
                                                               found.examples)
    return gap
