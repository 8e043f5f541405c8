"""The Review step: the env file's change, written with a backup, and rolled back."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import InputError
from .risk import risk_first
from .state import State

if TYPE_CHECKING:
    from ..env.plan import Plan

class ReviewStep(State):
    def make_plan(self, announce: bool = False) -> Plan:
        """The env change for the switch (the way back: S3_ENABLED=false); with ANNOUNCE only the new
        media host in EXTRA_MEDIA_HOSTS (a week ahead, while media stays where it is: browsers keep the
        old policy that long)."""
        from ..env.plan import make_announce_plan, make_plan, make_to_disk_plan
        if self.env is None:
            self.read_instance()
        if self.back_to_disk:             # the way back: S3_ENABLED=false, nothing else changed
            self.plan = make_to_disk_plan(self.env)
            return self.plan
        self.plan = (make_announce_plan(self.env, self.settings()) if announce
                     else make_plan(self.env, self.settings(), self.measured))
        return self.plan

    def describe_write(self):
        """What Write will do, exactly, and what it risks: (the confirmation's lines, the media on disk
        not in the bucket yet when the write switches storage, else None)."""
        from ..env.apply import next_backup
        from ..migrate.gap import gap_before_write
        plan = self.plan
        keys = ", ".join(dict.fromkeys(c.key for c in plan.changes))
        gap = gap_before_write(plan, self.http())
        return risk_first([f"write {plan.env.path} on {self.host.describe()}",
                            f"changing {len(plan.changes)} variable(s): {keys}",
                            f"after copying it to {next_backup(plan.env.host, plan.env.path)} (Roll back restores "
                            "it byte for byte)",
                            "atomically (a temporary file, fsync, rename), with the same mode and owner"], gap), gap

    def apply(self) -> str | None:
        from ..env.apply import apply_plan
        from ..env.plan import EnvFile
        result = apply_plan(self.plan)
        self.backup = result.backup
        if result.backup:
            self.written.append((list(self.plan.changes), result.backup))
        self.env = EnvFile.read(self.host, self.answers.env_file)
        return result.backup

    def describe_rollback(self) -> list[str]:
        """What Roll back will do, exactly: for the confirmation."""
        from ..env.apply import newest_backup
        backup = self.backup or newest_backup(self.host, self.answers.env_file)
        if backup is None:
            raise InputError("rollback", f"{self.answers.env_file} has no backup to restore",
                             "nothing was written by mastowizard yet")
        return [f"restore {self.answers.env_file} on {self.host.describe()} from {backup}, byte for byte, "
                "with its mode and owner", "the file it replaces is kept beside it",
                "then restart Mastodon so it reads it"]

    def rollback(self) -> str:
        from ..env.apply import rollback
        from ..env.plan import EnvFile
        r = rollback(self.host, self.answers.env_file, self.backup)
        self.env = EnvFile.read(self.host, self.answers.env_file)
        return r.restored_from
