"""Detached daemons with PID files: start, wait, stop (TERM, then KILL after 15 s). Never by name."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def read_pid(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None


def running(pidfile: Path) -> bool:
    pid = read_pid(pidfile)
    return bool(pid and alive(pid))


def spawn(argv: list[str], log: Path, pidfile: Path | None = None, env: dict | None = None,
          cwd: Path | None = None) -> int:
    """Start a process detached from us (own session), output to a log file."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True, env=env, cwd=cwd, close_fds=True)
    if pidfile is not None:
        pidfile.write_text(f"{p.pid}\n")
    return p.pid


def stop(pidfile: Path, grace: float = 15.0) -> bool:
    pid = read_pid(pidfile)
    if not pid or not alive(pid):
        pidfile.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.01)        # most end within milliseconds of TERM: a stop is in every test's teardown
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
        while alive(pid):
            time.sleep(0.05)
    pidfile.unlink(missing_ok=True)
    return True


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def wait_for(predicate, timeout: float, what: str, log: Path | None = None, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    tail = ""
    if log and log.exists():
        tail = "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-20:])
    raise RuntimeError(f"lab: {what} not ready after {timeout:.0f}s{tail}")


def run_logged(argv: list[str], what: str, env: dict | None = None, cwd: Path | None = None) -> None:
    """Run an install command with its output in the install log; a failure says where the log is
    and shows its last lines."""
    from .config import install_log
    log = install_log()
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(argv)}\n".encode())
        out.flush()
        r = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=cwd)
    if r.returncode:
        tail = "\n".join("    " + ln for ln in log.read_text(errors="replace").splitlines()[-12:])
        raise RuntimeError(f"lab: {what} failed (exit {r.returncode}); the whole log is {log}; its last lines:\n{tail}")


_apt_updated = False
POLICY_MARK = "# mastowizard lab: no service starts during package installs"


def debian_installed(packages: list[str]) -> bool:
    r = subprocess.run(["dpkg-query", "-W", "-f", "${db:Status-Status}\n", *packages], capture_output=True, text=True)
    return r.returncode == 0 and r.stdout.split() == ["installed"] * len(packages)


def ensure_debian(packages: list[str], binaries: list[str] | None = None) -> None:
    """Install Debian packages when one of their binaries is missing (without binaries: when dpkg
    does not list them all as installed)."""
    global _apt_updated
    if binaries and all(shutil.which(b) or Path(b).exists() for b in binaries):
        return
    if not binaries and debian_installed(packages):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Packages such as openssh-server and nginx start their system service on install (on every
    # interface); the lab runs its own copies on 127.0.0.1 only, so forbid that while installing.
    policy = Path("/usr/sbin/policy-rc.d")
    guard = not policy.exists()
    if guard:
        policy.write_text(f"#!/bin/sh\n{POLICY_MARK}\nexit 101\n")
        policy.chmod(0o755)
    try:
        what = f"apt-get install {' '.join(packages)}"
        for attempt in range(2):
            try:
                if attempt or not _apt_updated:
                    run_logged(["apt-get", "update", "-q"], "apt-get update", env)
                    _apt_updated = True
                run_logged(["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages], what, env)
                return
            except RuntimeError:
                if attempt:
                    raise
    finally:
        if guard:
            policy.unlink(missing_ok=True)


def reuse_or_reset(install, is_running, info, stop):
    """A lab server's start: install it, then the running one's info, or None once what is left of a
    stopped one is stopped too (the caller then starts it from scratch)."""
    install()
    if is_running():
        return info()
    stop()
    return None
