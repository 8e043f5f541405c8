"""A real systemd (Debian's /lib/systemd/systemd) as PID 1 of its own PID, mount, UTS, IPC and cgroup
namespaces, for running the watch's units as systemd runs them on a host that has no systemd of its own.

The box shares the host's network (the lab's servers on 127.0.0.1) and its /tmp (where tests write what
the box reads and read what it publishes). Inside it: a fresh cgroup2 hierarchy (a group of its own
under the host's cgroup2), /proc/sys and /sys read-only, /run, /var/lib, /var/log, /var/cache,
/var/tmp, /etc/systemd/system and the generator directory on tmpfs, a /dev of its own (its console a
log file), every unit the distribution's targets pull in masked but journald's: systemd boots
mastowizard-box.target (basic.target and journald), nothing of the host's starts, nothing binds a port.

    box = start()
    box.install_unit("x.service", text); box.systemctl("start", "x.service")
    box.path("/var/lib/private/x/state").read_text()     # a file of the box, read from the host
    box.stop()                                             # idempotent; also at exit

Needs root with full capabilities and a kernel that mounts cgroup2 in a cgroup namespace; start()
says which step failed otherwise."""

from __future__ import annotations

import atexit
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .procs import alive, wait_for

SYSTEMD = "/lib/systemd/systemd"
TARGET = "mastowizard-box.target"
UNIT_DIR = "/etc/systemd/system"
SYSTEM_UNITS = Path("/lib/systemd/system")
KEEP = {"systemd-journald.service", "systemd-journald.socket", "systemd-journald-dev-log.socket"}
# pulled in by name rather than by a .wants directory, or by what a service's dependencies name
ALSO_MASKED = (
    "dbus.socket", "dbus.service", "systemd-journald-audit.socket", "systemd-udevd.service",
    "systemd-udevd-control.socket", "systemd-udevd-kernel.socket", "systemd-udev-trigger.service",
    "systemd-udev-settle.service", "systemd-logind.service", "systemd-networkd.service", "systemd-networkd.socket",
    "systemd-networkd-wait-online.service", "systemd-resolved.service", "systemd-timesyncd.service",
    "getty@.service", "serial-getty@.service", "console-getty.service", "container-getty@.service",
    "systemd-tmpfiles-clean.timer", "systemd-journal-flush.service", "systemd-sysctl.service",
)
TMPFS = ("/run", UNIT_DIR, "/usr/lib/systemd/system-generators", "/var/lib", "/var/log", "/var/cache", "/var/tmp")
DEV_NODES = ("null", "zero", "full", "random", "urandom", "tty")

# Run as PID 1 of the new namespaces, before it becomes systemd. Each step names itself, so that a
# refusal says which.
INNER = r"""
step() {
  err=$("$@" 2>&1) && return 0
  printf '%s: %s\n' "$*" "$(printf '%s' "$err" | grep -v 'dmesg(1)' | tr -s ' \n' ' ')" >"$BOX/failed"; exit 1
}
step umount -R -l /sys/fs/cgroup
step mount -t cgroup2 cgroup2 /sys/fs/cgroup
step mount -o remount,bind,ro /sys
step mount -t proc proc /proc
step mount --bind /proc/sys /proc/sys
step mount -o remount,bind,ro /proc/sys
for p in $EXPOSE; do
  top=/$(echo "$p" | cut -d/ -f2); n=$(echo "$p" | tr / _)
  step mkdir -p "$BOX/expose/$n"; step mount --rbind "$p" "$BOX/expose/$n"
  grep -q " $top tmpfs " /proc/self/mounts || step mount -t tmpfs -o mode=755 tmpfs "$top"
  step mkdir -p "$p"; step mount --move "$BOX/expose/$n" "$p"
done
for d in $TMPFS; do step mount -t tmpfs -o mode=755 tmpfs "$d"; done
step cp -a "$BOX/units/." /etc/systemd/system/
step mkdir -p /run/systemd/journald.conf.d
printf '[Journal]\nStorage=volatile\n' > /run/systemd/journald.conf.d/box.conf
step mount -t tmpfs -o mode=755,nosuid tmpfs "$BOX/dev"
for n in $DEV_NODES; do step touch "$BOX/dev/$n"; step mount --bind "/dev/$n" "$BOX/dev/$n"; done
step touch "$BOX/dev/console"; step mount --bind "$BOX/console.log" "$BOX/dev/console"
step mkdir "$BOX/dev/pts" "$BOX/dev/shm"
step mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$BOX/dev/pts"
step ln -s pts/ptmx "$BOX/dev/ptmx"; step ln -s /proc/self/fd "$BOX/dev/fd"
step mount --move "$BOX/dev" /dev
# systemd in a container leaves / as it finds it; a service's credentials and namespaces are set up
# in mount namespaces of their own and must propagate back: shared, as systemd-nspawn leaves it
step mount --make-rshared /
exec "$SYSTEMD" --unit="$TARGET"
"""


def _cgroup2_root() -> Path | None:
    """Where the host mounts its cgroup2 (unified) hierarchy, if it does."""
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        if right.split(" ", 1)[0] == "cgroup2":
            return Path(left.split()[4])
    return None


def _own_cgroup2() -> str:
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        if line.startswith("0::"):
            return line[3:]
    return "/"


@dataclass
class Box:
    pid: int                                  # the box's systemd, as the host sees it
    state: Path                               # the host directory of the box's files
    cgroup: Path                              # the box's cgroup2 group on the host
    launcher: subprocess.Popen
    mounted_cgroup2: Path | None = None       # a cgroup2 mount start() made on the host, unmounted at stop
    stopped: bool = field(default=False)

    def run(self, argv: list[str], timeout: float = 120, check: bool = False, **kw) -> subprocess.CompletedProcess:
        """ARGV inside the box (all its namespaces), as root; output captured as text."""
        if self.stopped or self.pid <= 0 or not alive(self.pid):
            raise RuntimeError(f"systemd box: not running (PID {self.pid}){self._console_tail()}")
        r = subprocess.run(["nsenter", "-t", str(self.pid), "-a", *argv], capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL, **kw)
        if check and r.returncode:
            raise RuntimeError(f"systemd box: `{shlex.join(argv)}` exited {r.returncode}: {r.stderr.strip()}")
        return r

    def systemctl(self, *args: str, check: bool = False, timeout: float = 120) -> subprocess.CompletedProcess:
        return self.run(["systemctl", "--no-pager", *args], check=check, timeout=timeout)

    def show(self, unit: str, *props: str) -> dict[str, str]:
        r = self.systemctl("show", unit, *(f"--property={p}" for p in props), check=True)
        return dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)

    def journal(self, unit: str) -> str:
        return self.run(["journalctl", "--no-pager", "-o", "cat", "-u", unit]).stdout

    def path(self, p: str) -> Path:
        """A path of the box, for the host to read or write (through the box's /proc/PID/root)."""
        return Path(f"/proc/{self.pid}/root") / p.lstrip("/")

    def install_unit(self, name: str, text: str) -> None:
        """Write NAME into the box's /etc/systemd/system (tmpfs) and reload."""
        target = self.path(f"{UNIT_DIR}/{name}")
        target.write_text(text)
        target.chmod(0o644)
        self.systemctl("daemon-reload", check=True)

    def _console_tail(self) -> str:
        try:
            lines = (self.state / "console.log").read_text(errors="replace").splitlines()[-15:]
        except OSError:
            return ""
        return "\n" + "\n".join(lines) if lines else ""

    def stop(self) -> None:
        """Stop the box's services (so their PrivateTmp= directories in the shared /tmp go), kill its
        PID 1 (the kernel then kills every process of the box and its mounts go with its mount
        namespace), remove its cgroup and its state directory. Idempotent."""
        if self.stopped:
            return
        if self.pid > 0 and alive(self.pid):      # 0 until start() found it: never kill(0), our own group
            r = subprocess.run(["nsenter", "-t", str(self.pid), "-a", "systemctl", "list-units", "--type=service",
                                "--state=active,activating,deactivating", "--plain", "--no-legend"],
                               capture_output=True, text=True, timeout=30)
            units = [ln.split()[0] for ln in r.stdout.splitlines() if ln.split()]
            if units:
                subprocess.run(["nsenter", "-t", str(self.pid), "-a", "systemctl", "stop", *units],
                               capture_output=True, timeout=120)
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.launcher.poll() is None:
            try:
                self.launcher.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.launcher.kill()
                self.launcher.wait(timeout=30)
        wait_for(lambda: _remove_cgroup(self.cgroup), 30, f"removal of the box's cgroup {self.cgroup}")
        if self.mounted_cgroup2 is not None:
            subprocess.run(["umount", str(self.mounted_cgroup2)], check=False)
            self.mounted_cgroup2.rmdir()
        shutil.rmtree(self.state, ignore_errors=True)
        self.stopped = True


def _remove_cgroup(group: Path) -> bool:
    """rmdir GROUP and the groups under it, deepest first; True once it is gone."""
    if not group.exists():
        return True
    for d in sorted((p for p in group.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        try:
            d.rmdir()
        except OSError:
            return False
    try:
        group.rmdir()
    except OSError:
        return False
    return True


def _masked_units() -> list[str]:
    names = {u.name for d in SYSTEM_UNITS.glob("*.wants") for u in d.iterdir()}
    return sorted((names | set(ALSO_MASKED)) - KEEP)


def start(expose: tuple[str, ...] = (), timeout: float = 60) -> Box:
    """Boot the box and wait until `systemctl is-system-running` says running (or degraded, said in
    the error otherwise). EXPOSE: directories under a closed top directory (e.g. /root/.pyenv under
    /root, 0700) that the box's services must reach: the box shows that top directory as a 0755 tmpfs
    holding only them."""
    if os.geteuid() != 0:
        raise RuntimeError("systemd box: needs root (mounts, namespaces, cgroups)")
    for tool in ("unshare", "nsenter", "systemctl"):
        if not shutil.which(tool):
            raise RuntimeError(f"systemd box: {tool} is not installed")
    if not os.access(SYSTEMD, os.X_OK):
        raise RuntimeError(f"systemd box: {SYSTEMD} is not installed (apt-get install systemd)")
    for p in expose:
        if not p.startswith("/") or p.count("/") < 2 or any(c.isspace() for c in p) or not os.path.isdir(p):
            raise RuntimeError(f"systemd box: cannot expose {p!r}: give an existing directory below a top directory")

    state = Path(tempfile.mkdtemp(prefix="mastowizard-box-"))
    mounted = None
    root = _cgroup2_root()
    if root is None:
        mounted = state.parent / f"{state.name}-cgroup2"
        mounted.mkdir()
        r = subprocess.run(["mount", "-t", "cgroup2", "cgroup2", str(mounted)], capture_output=True, text=True)
        if r.returncode:
            mounted.rmdir()
            shutil.rmtree(state)
            raise RuntimeError(f"systemd box: this kernel refuses a cgroup2 mount: {r.stderr.strip()}")
        root = mounted
    cgroup = root / _own_cgroup2().lstrip("/") / state.name
    try:
        cgroup.mkdir()
    except OSError as e:
        shutil.rmtree(state)
        raise RuntimeError(f"systemd box: cannot create the cgroup2 group {cgroup}: {e}") from e

    (state / "dev").mkdir()
    (state / "console.log").touch()
    units = state / "units"
    units.mkdir()
    for name in _masked_units():
        (units / name).symlink_to("/dev/null")
    (units / TARGET).write_text("[Unit]\nDescription=mastowizard box\nRequires=basic.target\nAfter=basic.target\n"
                                "Wants=systemd-journald.service\n")
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
           "container": "mastowizard-box", "SYSTEMD_LOG_TARGET": "journal",
           "SYSTEMD_PROC_CMDLINE": f"systemd.unit={TARGET} systemd.unified_cgroup_hierarchy=1 systemd.show_status=0",
           "BOX": str(state), "SYSTEMD": SYSTEMD, "TARGET": TARGET, "EXPOSE": " ".join(expose),
           "TMPFS": " ".join(d for d in TMPFS if os.path.isdir(d)), "DEV_NODES": " ".join(DEV_NODES)}
    # the launcher joins the box's group first, so the cgroup namespace (and systemd's root) is that group
    launch = (f"echo $$ > {shlex.quote(str(cgroup / 'cgroup.procs'))} && exec unshare --pid --mount --uts --ipc "
              f"--cgroup --fork --propagation private --kill-child sh -c {shlex.quote(INNER)}")
    with open(state / "launch.log", "ab") as out:
        launcher = subprocess.Popen(["sh", "-c", launch], stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=env, start_new_session=True, close_fds=True)
    box = Box(0, state, cgroup, launcher, mounted)
    atexit.register(box.stop)

    def failure(what: str) -> RuntimeError:
        failed = state / "failed"
        detail = failed.read_text().strip() if failed.exists() else ""
        log = (state / "launch.log").read_text(errors="replace").strip()
        console = box._console_tail() if box.pid else ""
        box.stop()
        hint = ""
        if "cgroup2" in detail:
            hint = " (this kernel refuses cgroup2 in a namespace)"
        elif "unshare" in log:
            hint = " (this kernel or its seccomp refuses new namespaces)"
        return RuntimeError(f"systemd box: {what}{hint}: {'failed: ' + detail if detail else log or 'no output'}"
                            f"{console}")

    def systemd_pid() -> bool:
        if launcher.poll() is not None:
            raise failure(f"the launcher exited {launcher.returncode} before systemd ran")
        for line in Path(cgroup / "cgroup.procs").read_text().split():
            pid = int(line)
            try:
                if os.readlink(f"/proc/{pid}/exe") == os.path.realpath(SYSTEMD):
                    box.pid = pid
                    return True
            except OSError:
                continue
        for sub in cgroup.glob("init.scope/cgroup.procs"):
            for line in sub.read_text().split():
                box.pid = int(line)
                return True
        return False

    wait_for(systemd_pid, timeout, "the systemd box's PID 1", state / "launch.log", interval=0.05)
    answer = []

    def booted() -> bool:
        if not alive(box.pid):
            raise failure("systemd exited while booting")
        r = subprocess.run(["nsenter", "-t", str(box.pid), "-a", "systemctl", "is-system-running"],
                           capture_output=True, text=True, timeout=30)
        answer[:] = [r.stdout.strip()]
        return answer[0] in ("running", "degraded")

    try:
        wait_for(booted, timeout, "the systemd box's boot", state / "console.log", interval=0.1)
    except RuntimeError as e:
        box.stop()
        raise RuntimeError(f"{e} (is-system-running: {answer[0] if answer else 'no answer'})") from e
    if answer[0] == "degraded":
        failed = box.systemctl("--failed", "--plain", "--no-legend").stdout.strip()
        box.stop()
        raise RuntimeError(f"systemd box: booted degraded: {failed}")
    return box
