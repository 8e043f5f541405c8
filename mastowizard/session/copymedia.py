"""The Copy media step: what is on disk, the copy and its verification, and pruning the remote cache."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import InputError
from .state import State


class CopyMediaStep(State):
    def media_source(self) -> str:
        """public/system of the instance (PAPERCLIP_ROOT_PATH honoured), on the host the wizard reads."""
        from ..migrate.inventory import source_dir
        if self.host is None:
            raise InputError("target", "the instance is not read yet", "run the Target step first")
        return source_dir(self.answers.env_file, self.env.doc.values() if self.env else {})

    def media_transfer(self) -> str:
        """How the files reach this machine, and what it costs (said on the Copy media step)."""
        from ..migrate.run import describe_reading
        return "files: " + describe_reading(self.host)

    def media_inventory(self):
        """What is on disk (files, bytes, private ones per folder), and the lines that explain it."""
        from ..migrate.run import inventory_lines, inventory_of
        self.inventory = inventory_of(self.media_source(), self.host, spool=False)
        return self.inventory, [*inventory_lines(self.inventory, self.settings()), self.media_transfer()]

    def copy_media(self, on_progress=None, cancel=None):
        """Copy (or copy again: only what is new) and verify. Safe to rerun, and to cancel."""
        from ..migrate.job import copy_and_verify
        from ..migrate.objects import multipart_threshold
        from ..migrate.run import open_tree
        src = self.media_source()
        settings = self.settings()
        # anew: a rerun (the final delta) has new files
        inv, reader = open_tree(src, self.host, "tar", large_over=multipart_threshold(settings))
        try:
            self.copies.append(copy_and_verify(settings, self.writer(), src, http=self.http(),
                                               on_progress=on_progress, cancel=cancel, inventory=inv, reader=reader))
        finally:
            reader.close()
            inv.close()
        self.inventory = inv
        return self.copied

    def prune_plan(self, days):
        """The `tootctl media remove --days N` command for this install, and the bytes under cache/
        now (from the last inventory); nothing runs until prune_cache."""
        from ..host.restart import detect
        from ..migrate.prune import check_days, prune_command
        days = check_days(days, "days (remote media cache)")
        if self.host is None:
            raise InputError("target", "the instance is not read yet", "run the Target step first")
        install = detect(self.host, self.answers.env_file)
        cmd = prune_command(self.host, install, self.answers.env_file, days)
        cache = self.inventory.folders.get("cache") if self.inventory is not None else None
        return cmd, (cache.bytes if cache else None)

    def prune_cache(self, cmd, on_line: Callable[[str], None] | None = None) -> tuple[bool, list[str]]:
        """Run the command prune_plan made (the operator confirmed it); (ok, its last lines)."""
        from ..migrate.prune import run_prune
        return run_prune(self.host, cmd, on_line=on_line)
