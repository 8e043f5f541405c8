"""Before the switch: how many files on disk are not in the bucket yet. Once Mastodon reads media
from the bucket, each of them answers 404 (every old attachment, avatar, emoji). Write, Restart,
`apply` and `restart` measure it, say it, and go ahead only when the operator types the count.

The measure is the copy's own merge: the walk of public/system (here or over SSH) against one flat
listing of the bucket, a file counting as there when its key is listed with its size."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from ..errors import InputError, MastowizardError
from ..net import HttpOptions
from ..s3.credential import Credential
from ..settings import Settings
from .inventory import human_bytes, source_dir

UNCHECKED = "unchecked"          # what the operator types when the gap could not be measured


@dataclass
class MediaGap:
    source: str
    bucket: str
    host: str = "this machine"
    files: int = 0               # files on disk (what Mastodon serves today)
    missing: int = 0             # not in the bucket, or there with another size
    missing_bytes: int = 0
    examples: list[str] = field(default_factory=list)
    error: str = ""              # why it could not be measured (the gap is then unknown)

    kind: ClassVar[str] = "disk"            # what SOURCE is (bucket_gap.BucketGap: the old bucket)
    unmeasured: ClassVar[str] = "the media on disk"     # what could not be compared, in the refusal

    @property
    def known(self) -> bool:
        return not self.error

    @property
    def safe(self) -> bool:
        """Nothing on disk would be lost by the switch."""
        return self.known and self.missing == 0

    @property
    def token(self) -> str:
        """What the operator types to switch anyway: the count, or `unchecked`."""
        return str(self.missing) if self.known else UNCHECKED

    def lines(self) -> list[str]:
        """What the switch risks, for a confirmation or the terminal."""
        if not self.known:
            return [f"the media on disk could not be compared with bucket {self.bucket}: {self.error}",
                    "if files under public/system are not in the bucket, each of them answers 404 after the "
                    "switch (attachments, avatars, headers, emoji)"]
        if self.files == 0:
            return [f"no media on disk under {self.source}: nothing to copy before the switch"]
        if self.missing == 0:
            return [f"all {self.files} file(s) under {self.source} are in bucket {self.bucket}"]
        shown = ", ".join(self.examples[:3])
        return [f"{self.missing} of {self.files} file(s) under {self.source} on {self.host} "
                f"({human_bytes(self.missing_bytes)}) are NOT in bucket {self.bucket} yet, e.g. {shown}",
                f"after the restart Mastodon serves media from the bucket: those {self.missing} answer 404 "
                "(old posts' attachments, avatars, headers, emoji) until they are copied",
                "copy them first (Copy media, or `mastowizard migrate`); a rerun copies only what is missing"]

    def missed(self, name: str, size: int) -> None:
        """NAME (SIZE bytes) is not where the switch needs it."""
        self.missing += 1
        self.missing_bytes += size
        if len(self.examples) < 20:
            self.examples.append(name)

    def unknown(self, error: BaseException) -> None:
        """The gap could not be measured: why, and no count (a partial one would mislead)."""
        self.error = str(error) if isinstance(error, MastowizardError) else \
            f"a listing failed: {type(error).__name__}: {error}"
        self.missing, self.missing_bytes, self.examples = 0, 0, []

    def risk(self, what: str) -> str:
        """What the refusal says the switch would lose."""
        return f"{what} would leave {self.token} file(s) on disk out of bucket {self.bucket}"

    fix_first = "copy them first (`mastowizard migrate`)"

    def to_json(self) -> dict:
        return {"kind": self.kind, "source": self.source, "bucket": self.bucket, "files": self.files,
                "missing": self.missing, "missing_bytes": self.missing_bytes, "examples": self.examples[:20],
                "error": self.error, "safe": self.safe}


def media_gap(settings: Settings, writer: Credential | None, env_file: str, values: Mapping[str, str],
              host=None, http: HttpOptions | None = None) -> MediaGap:
    """Files under the instance's public/system (PAPERCLIP_ROOT_PATH honoured) on HOST (None: this
    machine) that are not in SETTINGS' bucket with their size. Never raises for what it cannot
    read: the gap is then unknown and says why."""
    from ..host.local import LocalHost
    from .copy import listing, merged
    from .putter import Putter
    from .run import inventory_of
    host = host or LocalHost()
    source = source_dir(env_file, values)
    gap = MediaGap(source, settings.bucket, host.describe())
    try:
        if not host.exists(source):
            return gap
        inv = inventory_of(source, host, spool=True)
    except MastowizardError as e:
        gap.error = f"the media on disk could not be read: {e}"
        return gap
    try:
        gap.files = inv.files
        if inv.files == 0:
            return gap
        if writer is None:
            gap.error = "the env file has no writer key to list the bucket with"
            return gap
        try:      # the copy's own merge, counted as it streams: memory stays bounded however big the tree
            remote = listing(Putter(settings, writer, http), settings, inv.splits)
            for f, spec, listed in merged(inv.replay(), remote, settings):
                if listed is None or listed[1] != f.size:
                    gap.missed(spec.key, f.size)
        except Exception as e:  # noqa: BLE001 - a listing that fails leaves the gap unknown, never a traceback
            gap.unknown(e)
        return gap
    finally:
        inv.close()


def require_typed(gap: MediaGap, typed: str | None, what: str, field_name: str) -> None:
    """Refuse unless the operator typed the gap's token (the count, or `unchecked`): a switch that
    loses files is a deliberate choice, never one key press or a bare --yes."""
    if gap.safe:
        return
    if (typed or "").strip() != gap.token:
        raise InputError(field_name, gap.risk(what)
                         if gap.known else f"{what}: {gap.unmeasured} could not be compared with bucket {gap.bucket}",
                         f"{gap.fix_first}, or give {field_name} {gap.token} to go ahead anyway")


def gap_before_write(plan, http: HttpOptions | None = None) -> MediaGap | None:
    """What writing PLAN would leave behind: measured when it moves media from disk to S3 (None
    otherwise), with the plan's own settings and writer key."""
    from ..env.doc import EnvDocument
    from ..settings import from_env
    values = EnvDocument(plan.new_text).values()
    if plan.disables_s3:                  # the way back to disk
        from .to_disk_gap import gap_before_to_disk
        return gap_before_to_disk(plan, http)
    if not plan.enables_s3:
        return _between_buckets(plan.env.doc.values(), values, http)
    return media_gap(*_settings_and_writer(from_env(values).settings), plan.env.path, values, plan.env.host, http)


def _between_buckets(old_values: Mapping[str, str], new_values: Mapping[str, str], http: HttpOptions | None
                     ) -> MediaGap | None:
    """The old bucket's objects not in the new one, when OLD_VALUES and NEW_VALUES name two buckets."""
    from .bucket_gap import bucket_gap, place
    from .to_disk_survey import s3_or_none
    old, new = s3_or_none(old_values), s3_or_none(new_values)
    if old is None or new is None or place(old) == place(new):
        return None
    return bucket_gap(*_settings_and_writer(old), *_settings_and_writer(new), http)


def gap_before_restart(host, env_file: str, http: HttpOptions | None = None) -> MediaGap | None:
    """What a restart would leave behind: measured when the env file stores media in S3, or keeps it
    on disk after a backup that named a bucket (the way back); None otherwise, or when it cannot be
    read as settings (the restart reports that itself)."""
    from ..env.plan import EnvFile
    from ..settings import from_env
    try:
        values = EnvFile.read(host, env_file).doc.values()
        settings = from_env(values).settings
    except MastowizardError:
        return None
    if settings is None:         # media on disk: after `apply --to-disk`, the bucket it read before
        return _back_to_disk(host, env_file, values, http)
    from ..env.apply import newest_backup
    backup = newest_backup(host, env_file)
    if backup is not None:       # the last apply moved the instance from one bucket to another
        try:
            before = EnvFile.read(host, backup).doc.values()
        except MastowizardError:
            before = {}
        gap = _between_buckets(before, values, http)
        if gap is not None and gap.known:    # an old bucket since removed (or its key) is not asked about forever
            return gap
    return media_gap(*_settings_and_writer(settings), env_file, values, host, http)


def _back_to_disk(host, env_file: str, values: Mapping[str, str], http: HttpOptions | None) -> MediaGap | None:
    """The objects of the bucket the newest backup stored media in that are not on disk; None when no
    backup names a bucket."""
    from .to_disk_gap import disk_gap
    from .to_disk_survey import bucket_values
    old = bucket_values(host, env_file, values)
    return disk_gap(host, env_file, old, values, http) if old is not None else None


def _settings_and_writer(settings: Settings) -> tuple[Settings, Credential | None]:
    writer = None
    if settings.access_key_id and settings.secret_access_key:
        writer = Credential(settings.access_key_id, settings.secret_access_key)
    return settings, writer
