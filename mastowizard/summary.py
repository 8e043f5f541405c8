"""What a wizard run did, for its last screen and as a Markdown report: the env file's change and
its backup, the bucket and its setup, the media copied, how to roll back, and the checklist's
result. Secrets are masked (the report may be pasted into a ticket)."""

from __future__ import annotations

import os
import shlex
import time
from dataclasses import dataclass, field

from .results import verdict
from .secrets import scrub


@dataclass
class Section:
    title: str
    lines: list[str] = field(default_factory=list)


def sections(session) -> list[Section]:
    a = session.answers
    out: list[Section] = []
    env = Section("The env file")
    where = session.host.describe() if session.host is not None else "this machine"
    env.lines.append(f"{a.env_file} on {where}")
    for changes, backup in session.written:     # what was written, whatever was planned since
        for c in changes:
            value = c.masked()["new"]           # secrets as the diff shows them: the last 4 characters
            env.lines.append(f"{c.action} {c.key}" + (f" = {value}" if value not in (None, "") else ""))
        env.lines.append(f"backup: {backup}")
    if not session.written:
        env.lines.append("not written in this run")
    out.append(env)

    bucket = Section("The bucket")
    if a.bucket:
        bucket.lines.append(f"{a.bucket} ({a.provider}{', ' + a.region if a.region else ''}"
                            f"{', ' + a.endpoint if a.endpoint else ''}), {a.permission or 'default'} mode, "
                            f"media host {a.alias_host or 'none'}")
    setup = getattr(session, "bucket_setup", None)
    if setup:
        bucket.lines.append("set up here: " + ", ".join(f"{c.id} {c.status}" for c in setup))
    else:
        bucket.lines.append("bucket settings were not changed by this run")
    out.append(bucket)

    if getattr(session, "back_to_disk", False):
        media = Section("Media back to disk")
        for n, r in enumerate(session.to_disk_runs):
            media.lines.append(("copied" if n == 0 else "then the delta: copied")
                               + f" {r.copied} into {r.dest} on {r.host}, already on disk {r.skipped}, failed "
                               f"{len(r.failed)}" + (" (cancelled)" if r.cancelled else ""))
        if session.to_disk_runs:
            v = session.to_disk_runs[-1].verification
            if v is not None:
                media.lines.append(f"verified: {v.on_disk} of {v.listed} objects on disk with their size, owner and "
                                   f"mode; {v.sampled} compared byte for byte" + ("" if v.ok else " (NOT all passed)"))
            media.lines.append("the bucket is unchanged: delete it only once every check is green and other "
                               "servers' URLs answer from disk")
        else:
            media.lines.append("not copied in this run")
    elif session.copies:
        media = Section("Media already on disk")
        for n, (copy, _) in enumerate(session.copies):
            media.lines.append(("copied" if n == 0 else "then the delta: copied")
                               + f" {copy.copied}, already in the bucket {copy.skipped}, failed {len(copy.failed)}")
        last = session.copies[-1]
        _, v = last
        if v is not None:
            media.lines.append(f"verified: {v.listed} listed with their size, {v.public_checked} fetched anonymously, "
                               f"{v.private_checked} private ones refused"
                               + ("" if last.complete else " (NOT all passed)"))
        media.lines.append("the local files stay where they are: move them away only once every check is green")
    else:
        media = Section("Media already on disk")
        media.lines.append("not copied in this run")
    out.append(media)

    back = Section("How to roll back")
    ssh = f" --ssh {shlex.quote(a.ssh)}" if a.target == "ssh" and a.ssh else ""
    if session.written:
        first = session.written[0][1]           # the file as it was before this run
        back.lines.append(f"mastowizard rollback --env-file {shlex.quote(a.env_file)} --backup {shlex.quote(first)}"
                          f"{ssh}  (restores {first} byte for byte), then mastowizard restart{ssh}")
    back.lines.append("or in the wizard: Review > Roll back, then Restart")
    out.append(back)

    checks = Section("The checklist")
    if session.checks:
        checks.lines.append(verdict(session.checks).line())
        for c in session.checks:
            if c.status in ("fail", "warn"):
                checks.lines.append(f"{c.status}: {c.id}: {c.detail}" + (f" (fix: {c.fix})" if c.fix else ""))
            elif c.status == "skip":
                checks.lines.append(f"not verified: {c.title}: {c.detail}")
    else:
        checks.lines.append("not run in this run")
    out.append(checks)
    hidden = session.secrets()
    for s in out:
        s.lines = [scrub(line, hidden) for line in s.lines]
    return out


def markdown(session, now: float | None = None) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(now if now is not None else time.time()))
    parts = [f"# mastowizard report, {stamp}", ""]
    for s in sections(session):
        parts += [f"## {s.title}", ""] + [f"- {line}" for line in s.lines] + [""]
    return "\n".join(parts)


def save_markdown(session, directory: str | None = None) -> str:
    """Write the report (mode 0600: it names hosts and paths) in ~/mastowizard/ (or DIRECTORY) and
    return its absolute path."""
    from .session import saved_files_dir
    directory = os.path.abspath(directory or saved_files_dir())
    os.makedirs(directory, mode=0o700, exist_ok=True)
    path = os.path.join(directory, time.strftime("mastowizard-report-%Y%m%dT%H%M%SZ.md", time.gmtime()))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(markdown(session))
    return path
