"""`watch --install` and `--uninstall` on a host (this machine or one over SSH), through the host
interface only: the units units.py renders, the token file, systemctl where systemd runs there."""

from __future__ import annotations

import posixpath
import shlex
from dataclasses import dataclass, field

from ..errors import InputError, TargetError
from ..host.interface import Host
from ..secrets import Secret
from .units import (
    DEFAULT_METRICS,
    HOMES,
    KEEPS,
    SERVICE,
    STATE,
    SYSTEM_UNIT_DIR,
    TIMER,
    TOKEN_NAME,
    WROTE,
    WatchJob,
    check,
    systemd_units,
)


@dataclass
class InstallResult:
    written: list[tuple[str, int]] = field(default_factory=list)     # (path, mode)
    run: list[str] = field(default_factory=list)                     # commands run, in order
    to_run: list[str] = field(default_factory=list)                  # commands left for the admin
    notes: list[str] = field(default_factory=list)
    failed: str | None = None                                        # the command that failed, and why

    @property
    def ok(self) -> bool:
        return self.failed is None

    def to_json(self) -> dict:
        return {"ok": self.ok, "written": [{"path": p, "mode": f"{m:04o}"} for p, m in self.written],
                "run": self.run, "to_run": self.to_run, "notes": self.notes, "failed": self.failed}


@dataclass
class UninstallResult:
    removed: list[str] = field(default_factory=list)
    run: list[str] = field(default_factory=list)
    to_run: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)                    # what stays, and why
    failed: str | None = None

    @property
    def ok(self) -> bool:
        return self.failed is None

    def to_json(self) -> dict:
        return {"ok": self.ok, "removed": self.removed, "run": self.run, "to_run": self.to_run,
                "kept": self.kept, "failed": self.failed}


def _ids(host: Host) -> tuple[int, int]:
    """Who writes on HOST (the sudo user, when there is one): uid and primary gid."""
    uid, name = host.user()
    r = host.run(["id", "-g", "--", name], timeout=30)
    text = r.stdout.decode().strip()
    return uid, int(text) if r.ok and text.isdigit() else uid


def _systemd_here(host: Host, unit_dir: str) -> bool:
    return posixpath.normpath(unit_dir) == SYSTEM_UNIT_DIR and host.exists("/run/systemd/system")


def _commands(host: Host, argvs: list[list[str]], result) -> None:
    """Run ARGVS as root in order; at the first failure the rest are left for the admin."""
    for i, argv in enumerate(argvs):
        r = host.run(argv, root=True, timeout=120)
        result.run.append(shlex.join(argv))
        if not r.ok:
            result.failed = f"`{shlex.join(argv)}` exited {r.status}: {' '.join(r.stderr_tail[-2:])}".strip()
            result.to_run += [shlex.join(a) for a in argvs[i + 1:]]
            return


def _need_root(host: Host, unit_dir: str, uid: int) -> None:
    if not host.exists(unit_dir):
        raise InputError("--unit-dir", f"{unit_dir} does not exist on {host.describe()}", "create it or give another")
    if posixpath.normpath(unit_dir) == SYSTEM_UNIT_DIR and uid != 0:
        raise InputError("--unit-dir", f"changing {SYSTEM_UNIT_DIR} needs root, and {host.describe()} works as uid "
                         f"{uid}", "run it as root (sudo), over SSH add --sudo-user root, or give --unit-dir DIR and "
                         "install the files yourself")


def plan(host: Host, job: WatchJob, unit_dir: str, writes_token: bool) -> list[tuple[str, int, str | None]]:
    """What install writes, in order: (path, mode, text), text None for the token and for a directory
    (a trailing /). The service records what install wrote besides the units, now or at an earlier
    install to the same place, for --uninstall."""
    check(job)
    before, wrote, files = _markers(host, unit_dir)[0], [], []
    if job.uses_token:
        directory = posixpath.dirname(job.token_file)
        make_dir = writes_token and not host.exists(directory)
        if writes_token or job.token_file in before:
            wrote = [job.token_file] + ([directory + "/"] if make_dir or directory + "/" in before else [])
        files += ([(directory + "/", 0o700, None)] if make_dir else []) + (
            [(job.token_file, 0o600, None)] if writes_token else [])
    # what an earlier install wrote and this one no longer uses (a token before --read-only or --token-file)
    # stays recorded while it is there, so that --uninstall still removes it
    wrote += [p for p in before if p not in wrote and host.exists(p.rstrip("/"))]
    units = systemd_units(job, tuple(wrote))
    return files + [(posixpath.join(unit_dir, name), 0o644, text) for name, text in units.items()]


def install(host: Host, job: WatchJob, unit_dir: str, token: Secret | None, enable: bool = True) -> InstallResult:
    """Write TOKEN (when given) to job.token_file (0600, its directory made 0700 when missing), the
    service and the timer to UNIT_DIR (0644), then, where UNIT_DIR is systemd's and systemd runs on
    HOST, reload and enable the timer; else say what is left to run."""
    uid, gid = _ids(host)
    _need_root(host, unit_dir, uid)
    result = InstallResult()
    for path, mode, text in plan(host, job, unit_dir, token is not None):
        if path.endswith("/"):
            r = host.run(["mkdir", "-m", f"{mode:04o}", "--", path.rstrip("/")], root=uid == 0, timeout=30)
            if not r.ok:
                raise TargetError(path, "cannot be created: " + " ".join(r.stderr_tail[-1:]),
                                  "create it (mode 0700), or give --token-file FILE")
        else:
            data = text.encode() if text is not None else token.reveal().encode() + b"\n"
            host.write_atomic(path, data, mode, uid, gid)
        result.written.append((path, mode))
    commands = [["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", TIMER]]
    if enable and _systemd_here(host, unit_dir):
        _commands(host, commands, result)
    else:
        if posixpath.normpath(unit_dir) != SYSTEM_UNIT_DIR:
            result.to_run.append(shlex.join(["install", "-m", "0644", "-t", SYSTEM_UNIT_DIR,
                                             posixpath.join(unit_dir, SERVICE), posixpath.join(unit_dir, TIMER)]))
        else:
            result.notes.append(f"systemd does not run on {host.describe()} (no /run/systemd/system): the timer is "
                                "not enabled")
        result.to_run += [shlex.join(c) for c in commands]
    result.notes += _install_notes(host, job)
    return result


def _install_notes(host: Host, job: WatchJob) -> list[str]:
    notes = []
    if job.run_as is None and (job.needs_home or job.program.startswith(HOMES)):
        notes.append(f"{job.program} (or its Python) lives under a home directory: a DynamicUser reads it only if "
                     "every directory above it lets others in; --run-as its owner, or install mastowizard "
                     "system-wide (e.g. under /opt), if the service cannot start it")
    textfile_dir = posixpath.dirname(job.metrics or DEFAULT_METRICS)
    if not host.exists(textfile_dir):
        notes.append(f"{textfile_dir} does not exist: the metrics are published once it does (node_exporter's "
                     "textfile directory; or give --metrics)")
    return [*notes, f"run it once now: systemctl start {SERVICE}; its output: journalctl -u {SERVICE}"]


def installed(host: Host, unit_dir: str) -> list[str]:
    """What --uninstall removes in UNIT_DIR and beside it: the units, the token file and directory
    --install wrote, and the timer's enable link where no systemd runs to remove it (those present)."""
    wrote = _markers(host, unit_dir)[0]
    paths = [posixpath.join(unit_dir, TIMER), posixpath.join(unit_dir, SERVICE),
             *(w for w in wrote if posixpath.basename(w) == TOKEN_NAME), *(w for w in wrote if w.endswith("/"))]
    if posixpath.normpath(unit_dir) == SYSTEM_UNIT_DIR and not host.exists("/run/systemd/system"):
        paths.append(posixpath.join(SYSTEM_UNIT_DIR, "timers.target.wants", TIMER))
    return [p for p in paths if host.exists(p.rstrip("/"))]


def _markers(host: Host, unit_dir: str) -> tuple[list[str], list[str], str | None]:
    """What an installed service records: the paths --install wrote, the metrics it keeps, the baseline."""
    path = posixpath.join(unit_dir, SERVICE)
    if not host.exists(path):
        return [], [], None
    text = host.read_bytes(path).decode("utf-8", "replace")
    lines = text.splitlines()
    wrote = [x[len(WROTE):].strip() for x in lines if x.startswith(WROTE)]
    keeps = [x[len(KEEPS):].strip() for x in lines if x.startswith(KEEPS)]
    cred = "LoadCredential=baseline:"
    base = next((x[len(cred):] for x in lines if x.startswith(cred)), None)
    return wrote, keeps, base


def uninstall(host: Host, unit_dir: str, enable: bool = True) -> UninstallResult:
    """Stop and disable the timer where systemd runs, remove both units and what --install wrote
    besides them (its token file, and the token's directory when empty), reload; keep the baseline,
    the state and the metrics, and say where they are."""
    result = UninstallResult()
    uid = host.user()[0]
    _need_root(host, unit_dir, uid)
    wrote, keeps, baseline = _markers(host, unit_dir)
    system = posixpath.normpath(unit_dir) == SYSTEM_UNIT_DIR
    here = enable and _systemd_here(host, unit_dir)
    if here and host.exists(posixpath.join(unit_dir, TIMER)):
        _commands(host, [["systemctl", "disable", "--now", TIMER]], result)
        if not result.ok:
            return result                     # nothing removed while the timer may still run
    for path in installed(host, unit_dir):
        if not path.endswith("/"):
            host.remove(path)
            result.removed.append(path)
        elif not host.list_dir(path.rstrip("/")) and host.run(["rmdir", "--", path.rstrip("/")], root=uid == 0,
                                                              timeout=30).ok:
            result.removed.append(path)
    if here:
        _commands(host, [["systemctl", "daemon-reload"]], result)
    elif system and result.removed:
        result.to_run.append("systemctl daemon-reload")
    if baseline:
        result.kept.append(f"{baseline}: the baseline")
    if result.removed:
        result.kept.append(f"/var/lib/{STATE}: the watch's state (remove it to forget first-seen times)")
    result.kept += [f"{m}: the last metrics (node_exporter reports them until the file is removed)" for m in keeps]
    return result
