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

    def env_bucket(self):
        """The bucket the env file uses now (with its key), or None when it keeps media on disk."""
        from ..migrate.to_disk_survey import s3_or_none
        return s3_or_none(self.env.doc.values()) if self.env is not None else None

    def old_bucket(self):
        """The env file's bucket when the wizard's settings name another: a move between buckets, and
        Copy media copies from it. None when the media is on disk, or it is the same bucket."""
        from ..migrate.bucket_gap import place
        current = self.env_bucket()
        return current if current is not None and place(current) != place(self.settings()) else None

    def _open_old_bucket(self, old):
        from ..migrate.from_bucket import open_old_bucket
        from ..s3.credential import Credential
        if not (old.access_key_id and old.secret_access_key):
            raise InputError("AWS_ACCESS_KEY_ID", f"the env file has no key to read bucket {old.bucket} with",
                             "put the old bucket's key in the env file (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")
        return open_old_bucket(old, Credential(old.access_key_id, old.secret_access_key), self.settings(),
                               self.writer(), self.http())

    def media_inventory(self):
        """What is on disk, or in the old bucket (files, bytes, private ones per folder), and the lines
        that explain it."""
        from ..migrate.run import inventory_lines, inventory_of
        old = self.old_bucket()
        if old is not None:
            return self._old_bucket_inventory(old)
        source = self.media_source()
        current = self.env_bucket()
        if current is not None and not self.host.exists(source):      # on S3 already, nothing left on disk
            from ..migrate.inventory import Inventory
            self.inventory = Inventory(source)
            return self.inventory, [f"no media on disk ({source} does not exist): the instance stores its media in "
                                    f"bucket {current.bucket}"]
        self.inventory = inventory_of(source, self.host, spool=False)
        return self.inventory, [*inventory_lines(self.inventory, self.settings()), self.media_transfer()]

    def _old_bucket_inventory(self, old):
        from ..migrate.from_bucket import suspect_question
        from ..migrate.run import inventory_lines
        ob = self._open_old_bucket(old)
        try:
            self.inventory = ob.inventory
            self.suspect = ob.ambiguous(self.settings())
            lines = [*inventory_lines(ob.inventory, self.settings()), "files: " + ob.reader.how]
            if self.suspect:
                lines.append("warning: " + suspect_question(ob.survey) + ". Choose below what becomes of them.")
            return ob.inventory, lines
        finally:
            ob.close()

    def copy_media(self, on_progress=None, cancel=None):
        """Copy (or copy again: only what is new) and verify. Safe to rerun, and to cancel."""
        from ..migrate.job import copy_and_verify
        from ..migrate.objects import multipart_threshold
        from ..migrate.run import open_tree
        old = self.old_bucket()
        if old is not None:
            return self._copy_from_old(old, on_progress, cancel)
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

    def _copy_from_old(self, old, on_progress, cancel):
        from ..migrate.from_bucket import copy_from_old
        ob = self._open_old_bucket(old)
        try:
            self.suspect = ob.ambiguous(self.settings())
            outcome = copy_from_old(ob, self.settings(), self.writer(), http=self.http(),
                                    private_media=self.private_media, on_progress=on_progress, cancel=cancel)
        finally:
            ob.close()
        self.inventory = outcome.inventory
        self.copies.append(outcome.report)
        return self.copied

    def repair_permissions(self, dry_run: bool, headers: bool = False, on_progress=None):
        """Survey (DRY_RUN) or repair the env file's bucket in place: every object's ACL (and with HEADERS
        its headers) as Mastodon would have written it. (the result, its lines)."""
        from ..migrate.repair import repair
        from ..migrate.repair_lines import outcome_lines, plan_lines
        from ..s3.credential import Credential
        s = self.env_bucket()
        if s is None:
            raise InputError("target", "the env file keeps media on disk: there is no bucket to repair",
                             "copy the media first")
        if not (s.access_key_id and s.secret_access_key):
            raise InputError("AWS_ACCESS_KEY_ID", f"the env file has no key for bucket {s.bucket}",
                             "put the writer key in the env file")
        result = repair(s, Credential(s.access_key_id, s.secret_access_key), self.http(), headers=headers,
                        dry_run=dry_run, private_media=self.private_media, on_progress=on_progress)
        self.suspect = bool(result.decision_needed or (result.plan.tally.suspect
                                                       and result.plan.tally.private("attachment")))
        return result, [*plan_lines(result.plan, s, headers), *outcome_lines(result)]

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

    def _to_disk(self, dry_run: bool, on_progress=None, cancel=None):
        """migrate.to_disk on the instance's host, from the env file's bucket (or, after the switch, its
        backup's): (the result, the owner of the files, the bucket's settings)."""
        from ..migrate.to_disk import to_disk
        from ..migrate.to_disk_survey import source_bucket
        from ..s3.credential import Credential
        if self.env is None:
            self.read_instance()
        values = self.env.doc.values()
        old, s = source_bucket(self.host, self.answers.env_file, values)
        if not (s.access_key_id and s.secret_access_key):
            raise InputError("AWS_ACCESS_KEY_ID", f"the env file has no key to read bucket {s.bucket} with",
                             "put the bucket's key in the env file (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")
        owners: list = []
        result = to_disk(self.answers.env_file, values, Credential(s.access_key_id, s.secret_access_key),
                         host=self.host, dry_run=dry_run, http=self.http(), private_media=self.private_media,
                         on_survey=lambda found, owner, how: owners.append(owner), on_progress=on_progress,
                         cancel=cancel, s3_values=old)
        return result, owners[0] if owners else "", s

    def disk_survey(self):
        """The way back to disk, before anything is written: (the dry run's result, its lines). A
        suspect bucket sets SUSPECT: the copy then waits for PRIVATE_MEDIA."""
        from ..migrate.to_disk_lines import survey_lines
        result, owner, _ = self._to_disk(dry_run=True)
        self.suspect = bool(result.survey and result.survey.suspect)
        return result, survey_lines(result.survey, owner)

    def copy_to_disk(self, on_progress=None, cancel=None):
        """Copy the bucket into public/system (or only what is missing) and verify it: (the result, its
        lines, the nginx server block that keeps the media host's URLs answering from disk, or None
        until the copy is complete). Safe to rerun, and to cancel."""
        from ..migrate.media_nginx import media_host_nginx
        from ..migrate.to_disk_lines import result_lines
        result, _, s = self._to_disk(False, on_progress, cancel)
        self.to_disk_runs.append(result)
        return result, result_lines(result), (media_host_nginx(s, result.dest) if result.ok else None)
