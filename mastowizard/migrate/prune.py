"""Shrinking the remote media cache before the copy: Mastodon's own `tootctl media remove --days N`,
run on the host the way the install needs (a source install as the instance's user in its live
directory, Compose in a one-off web container). It deletes the cached copies of other servers'
media older than N days; Mastodon fetches them again when someone views them. Never
`--prune-profiles`: pruned remote avatars and headers are not fetched again on view."""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import InputError, TargetError
from ..host.interface import Host

if TYPE_CHECKING:                      # the CLI's parser reads DEFAULT_DAYS: this module stays light
    from ..host.restart import Install

DEFAULT_DAYS = 7            # tootctl's own default


@dataclass
class PruneCommand:
    install: Install
    argv: list[str]          # what runs on the host
    root: bool               # through sudo (as root) when the login is not root
    shown: str               # what the operator is shown and confirms

    def describe(self) -> str:
        return self.shown


def check_days(days, field: str = "--days") -> int:
    try:
        n = int(days)
    except (TypeError, ValueError):
        raise InputError(field, f"{days!r} is not a number of days",
                         f"use a whole number, {DEFAULT_DAYS} is tootctl's default") from None
    if n < 1 or n > 3650:
        raise InputError(field, f"{n} is out of range", f"use 1 to 3650 ({DEFAULT_DAYS} is tootctl's default)")
    return n


def _owner(host: Host, live: str) -> str:
    r = host.run(["stat", "-c", "%U", "--", live], timeout=30)
    name = r.stdout.decode().strip()
    if not r.ok or not name or name == "UNKNOWN":
        raise TargetError(live, "its owner could not be read", "check the instance directory")
    return name


def _login(host: Host) -> str:
    r = host.run(["id", "-un"], timeout=30)
    return r.stdout.decode().strip()


def prune_command(host: Host, install: Install, env_file: str, days: int) -> PruneCommand:
    """The tootctl command for INSTALL, as it must run on the host."""
    days = check_days(days)
    return tootctl_command(host, install, env_file, ["media", "remove", "--days", str(days)])


def orphans_command(host: Host, install: Install, env_file: str) -> PruneCommand:
    """`tootctl media remove-orphans --dry-run`: after a switch between buckets, it counts the files
    no record points at (media Mastodon deleted in the new bucket that the last copy brought back
    from the old one). Read-only: it deletes nothing."""
    return tootctl_command(host, install, env_file, ["media", "remove-orphans", "--dry-run"])


def tootctl_command(host: Host, install: Install, env_file: str, tootctl: list[str]) -> PruneCommand:
    """`bin/tootctl TOOTCTL` for INSTALL, as it must run on the host: a source install as the
    instance's user in its live directory, Compose in a one-off web container."""
    if install.kind == "compose":
        argv = ["docker", "compose", "-f", install.compose_file, "run", "--rm", "web", "bin/tootctl", *tootctl]
        return PruneCommand(install, argv, True, shlex.join(argv))
    live = posixpath.dirname(env_file)
    owner = _owner(host, live)
    # A source install's Ruby is rbenv's, on the instance user's PATH only in an interactive shell:
    # the units call ~/.rbenv/shims directly, and so does this.
    script = (f'PATH="$HOME/.rbenv/shims:$HOME/.rbenv/bin:$PATH"; cd {shlex.quote(live)} && '
              f"RAILS_ENV=production exec bin/tootctl {shlex.join(tootctl)}")
    shown = f"cd {shlex.quote(live)} && RAILS_ENV=production bin/tootctl {shlex.join(tootctl)}   (as {owner})"
    if _login(host) == owner:
        return PruneCommand(install, ["sh", "-c", script], False, shown)
    return PruneCommand(install, ["sudo", "-u", owner, "-H", "--", "sh", "-c", script], True, shown)


def run_prune(host: Host, cmd: PruneCommand, on_line: Callable[[str], None] | None = None,
              timeout: float = 6 * 3600) -> tuple[bool, list[str]]:
    """Run it (only on the operator's confirmation); (ok, the last lines it printed)."""
    lines: list[str] = []

    def line(text: str) -> None:
        lines.append(text)
        if on_line:
            on_line(text)
    r = host.run(cmd.argv, root=cmd.root, timeout=timeout, on_line=line)
    tail = lines[-20:] or r.stderr_tail[-20:]
    return r.ok, tail
