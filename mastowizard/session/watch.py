"""The Summary's offer to keep watching: the baseline of this run's green checklist, saved beside
the env file on the instance's host (where the timer will run), and the commands that watch it."""

from __future__ import annotations

import posixpath
import shlex
from dataclasses import dataclass

from ..errors import InputError
from .state import State

BASELINE_NAME = "mastowizard-baseline.json"


@dataclass
class WatchOffer:
    path: str               # the baseline, on the instance's host
    recorded: list[str]     # what it records, a line each
    commands: list[str]     # what to run on that host to keep watching


class WatchStep(State):
    def baseline_path(self) -> str:
        return posixpath.join(posixpath.dirname(self.answers.env_file), BASELINE_NAME)

    def existing_baseline(self) -> str | None:
        """When a baseline is already beside the env file: when it was saved (it would be replaced)."""
        import json

        from ..watch.compare import when
        path = self.baseline_path()
        if not self.host.exists(path):
            return None
        try:
            return when(float(json.loads(self.host.read_bytes(path))["taken_at"]))
        except (ValueError, KeyError, TypeError):
            return "at an unknown time (it is not a baseline this version reads)"

    def save_watch_baseline(self) -> WatchOffer:
        """Snapshot this run's checklist with the setup as it is now, and save it (0600, owned like
        the env file) beside the env file. Only after a checklist with nothing failed."""
        from ..checklist.for_instance import checklist_for
        from ..env.plan import EnvFile
        from ..watch import baseline, snapshot
        from ..watch.files import Files
        failed = [c.id for c in self.checks if c.status == "fail"]
        if not self.checks or failed or self.back_to_disk:
            raise InputError("Keep watching", "a baseline records a working setup on object storage"
                             + (f"; failed: {', '.join(failed[:4])}" if failed else ""), "run Verify to a green "
                             "checklist first")
        env = EnvFile.read(self.host, self.answers.env_file)
        ctx = checklist_for(self.host, self.answers.env_file, self.instance_url(), None, self.http(), env=env)
        snap = snapshot.of_checks(ctx, env.doc.values(), self.checks)
        path = self.baseline_path()
        st = self.host.stat(self.answers.env_file)
        baseline.save(path, snap, Files(self.host, (st.uid, st.gid)))
        commands, notes = self.watch_commands(path, self.host.user_name(st.uid))
        return WatchOffer(path, snapshot.describe(snap) + notes, commands)

    def watch_commands(self, path: str, owner: str) -> tuple[list[str], list[str]]:
        """What to run on the instance's host: a watch now, as the env file's owner (the baseline is
        theirs, 0600), and the timer (`--install` asks before writing, and asks for the token); and
        what to know about them."""
        a = self.answers
        common = ["watch", "--env-file", a.env_file, "--baseline", path]
        if a.instance.strip():
            common += ["--instance", a.instance.strip()]
        for r in a.resolve:
            common += ["--resolve", r]
        notes = []
        if a.ca_bundle and a.target == "ssh":
            notes.append(f"--ca-bundle {a.ca_bundle} is a file on this machine: copy it to the host and add "
                         "--ca-bundle with its path there")
        elif a.ca_bundle:
            common += ["--ca-bundle", a.ca_bundle]
        # the admin pastes them at their own login: over SSH that is the login user, not the sudo user
        as_owner = [] if owner == self.host.user_name(self.host.login_uid()) else ["sudo", "-u", owner]
        return [shlex.join([*as_owner, "mastowizard", *common]), shlex.join(["sudo", "mastowizard", *common,
                                                                            "--install"])], notes
