"""A fleet of Mastodon app servers on loopback, for the sharded copy (`migrate --plan-shards`): one
OpenSSH sshd per "host", each on its own port with its own host keys and its own login user with its
own home (so its own journals, as another machine has), all reading one media directory as app
servers read an NFS mount. The users share one uid, as NFS needs the instance's user to have the same
uid on every server, so each can read the 0600 files of suspended accounts.

mastowizard runs there as users install it: from a wheel of this checkout, in a venv of Debian's
python3 at FLEET_VENV (kept by `clean`, like the lab's other tools; the checkout's code is
reinstalled into it whenever it changed). The driver reaches the hosts by the names host1..hostN of
an ssh config with their known host keys: nothing is trusted on first use."""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import procs, sshd
from .config import HOST, port

FLEET_PORT = port("FLEET", 17041)          # host K listens on FLEET_PORT + K - 1
HOSTS = 3
USER = "mw-fleet{}"
PACKAGES = ["openssh-server", "openssh-client", "python3-venv", "parallel"]


def venv() -> Path:
    return Path(os.environ.get("MASTOWIZARD_LAB_FLEET_VENV") or "/var/cache/mastowizard-lab/fleet-venv")


def root() -> Path:
    return sshd.root() / "fleet"


def media() -> Path:
    """The media every host mounts (public/system), as the instance's user owns it."""
    return sshd.shared() / "fleet" / "system"


@dataclass(frozen=True)
class Host:
    k: int

    @property
    def name(self) -> str:
        return f"host{self.k}"

    @property
    def user(self) -> str:
        return USER.format(self.k)

    @property
    def port(self) -> int:
        return FLEET_PORT + self.k - 1

    @property
    def dir(self) -> Path:
        return root() / self.name

    @property
    def home(self) -> Path:
        return Path(pwd.getpwnam(self.user).pw_dir)

    def is_running(self) -> bool:
        return procs.running(self.dir / "sshd.pid") and procs.port_open(self.port)


def hosts(n: int = HOSTS) -> list[Host]:
    return [Host(k) for k in range(1, n + 1)]


def _source_root() -> Path:
    return Path(__file__).resolve().parent.parent


def _source_digest(src: Path) -> str:
    h = hashlib.sha256()
    for top in ("pyproject.toml", "mastowizard", "screens", "mastowizard_lab"):
        base = src / top
        paths = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file()
                                                     and "__pycache__" not in p.parts)
        for p in paths:
            h.update(str(p.relative_to(src)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def install() -> Path:
    """Debian's packages, the venv and this checkout's mastowizard in it (again when it changed)."""
    procs.ensure_debian(PACKAGES, ["/usr/sbin/sshd", "parallel"])
    src = _source_root()
    if not (src / "pyproject.toml").exists():
        raise RuntimeError(f"the fleet installs mastowizard from its checkout; {src} has no pyproject.toml")
    v = venv()
    pip = v / "bin" / "pip"
    if not pip.exists():
        v.parent.mkdir(parents=True, exist_ok=True)
        procs.run_logged(["/usr/bin/python3", "-m", "venv", str(v)], "python3 -m venv (the fleet's mastowizard)")
    marker = v / "mastowizard-source"
    digest = _source_digest(src)
    if not marker.exists() or marker.read_text() != digest:
        have_deps = (v / "bin" / "mastowizard").exists()
        procs.run_logged([str(pip), "install", "--quiet", *(["--no-deps", "--force-reinstall"] if have_deps else []),
                          str(src)], "pip install mastowizard into the fleet's venv")
        marker.write_text(digest)
    for d in (v.parent, v):
        d.chmod(0o755)
    return v / "bin" / "mastowizard"


def _users(hs: list[Host]) -> None:
    first = None
    for h in hs:
        try:
            pwd.getpwnam(h.user)
        except KeyError:
            extra = [] if first is None else ["--non-unique", "--uid", str(first), "--gid", str(first)]
            subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", *extra, h.user], check=True)
        subprocess.run(["usermod", "-p", "*", h.user], check=True)      # key login only, not locked
        if first is None:
            first = pwd.getpwnam(h.user).pw_uid


def setup(n: int = HOSTS) -> list[Host]:
    """Everything the fleet needs: created from nothing, left as it is when it exists."""
    sshd.setup()                    # the lab's client key and the shared directory
    install()
    hs = hosts(n)
    _users(hs)
    auth = sshd.shared() / "authorized_keys"
    pub = sshd.client_key().with_suffix(".pub").read_text()
    uid = pwd.getpwnam(hs[0].user).pw_uid
    m = media()
    m.mkdir(parents=True, exist_ok=True)
    for d in (m.parent, m):
        os.chown(d, uid, uid)
        d.chmod(0o755)
    bin_path = f"{venv() / 'bin'}:/usr/local/bin:/usr/bin:/bin"
    for h in hs:
        (auth / h.user).write_text(pub)
        (auth / h.user).chmod(0o644)
        h.dir.mkdir(parents=True, exist_ok=True)
        key = h.dir / "ssh_host_ed25519_key"
        if not key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        (h.dir / "sshd_config").write_text(f"""Port {h.port}
ListenAddress {HOST}
HostKey {key}
PidFile {h.dir}/sshd.pid
AuthorizedKeysFile {auth}/%u
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers {h.user}
SetEnv PATH={bin_path}
LogLevel VERBOSE
""")
    return hs


def start(n: int = HOSTS) -> list[Host]:
    hs = setup(n)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    for h in hs:
        if h.is_running():
            continue
        procs.stop(h.dir / "sshd.pid")
        conf = h.dir / "sshd_config"
        subprocess.run(["/usr/sbin/sshd", "-t", "-f", str(conf)], check=True)
        procs.spawn(["/usr/sbin/sshd", "-D", "-e", "-f", str(conf)], h.dir / "sshd.log", h.dir / "sshd.pid")
    for h in hs:
        procs.wait_for(h.is_running, 20, f"the fleet's sshd of {h.name}", h.dir / "sshd.log")
    return hs


def processes(h: Host) -> list[int]:
    """HOST's sshd and every process started through it (its descendants), from /proc."""
    pid = procs.read_pid(h.dir / "sshd.pid")
    if pid is None:
        return []
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            kids.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += kids.get(p, [])
    return found


def kill(h: Host) -> list[int]:
    """HOST dies: its sshd, and every session and process started through it, end at once (SIGKILL),
    as when a machine loses power. The processes killed."""
    import signal
    doomed = processes(h)
    for p in doomed:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    procs.wait_for(lambda: not any(procs.alive(p) for p in doomed), 20, f"{h.name}'s processes to end")
    return doomed


def running_shards(h: Host) -> list[str]:
    """The shards (K/N) HOST is running now: `migrate --shard K/N` among its sshd's descendants."""
    found = []
    for p in processes(h):
        try:
            argv = Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"migrate" in argv and b"--shard" in argv:
            found.append(argv[argv.index(b"--shard") + 1].decode())
    return found


def ssh_config(hs: list[Host], home: Path) -> Path:
    """An ssh config and known_hosts in HOME/.ssh naming each host (host1 ...), as an admin's: the
    lab's client key, the host's real key pinned (StrictHostKeyChecking yes), never a password."""
    d = home / ".ssh"
    d.mkdir(parents=True, exist_ok=True)
    d.chmod(0o700)
    known = "".join(f"[{HOST}]:{h.port} {' '.join((h.dir / 'ssh_host_ed25519_key.pub').read_text().split()[:2])}\n"
                    for h in hs)
    (d / "known_hosts").write_text(known)
    cfg = "".join(f"Host {h.name}\n  HostName {HOST}\n  Port {h.port}\n  User {h.user}\n"
                  f"  IdentityFile {sshd.client_key()}\n  IdentitiesOnly yes\n  BatchMode yes\n"
                  f"  StrictHostKeyChecking yes\n  UserKnownHostsFile {d / 'known_hosts'}\n" for h in hs)
    (d / "config").write_text(cfg)
    (d / "config").chmod(0o600)
    return d / "config"


def stop() -> None:
    for h in hosts():
        procs.stop(h.dir / "sshd.pid", grace=5)


def remove(everything: bool = False) -> list[str]:
    """Undo setup(): the hosts' users (their processes and homes), their sshd and files, and with
    EVERYTHING the venv too."""
    stop()
    removed = []
    for h in reversed(hosts()):
        try:
            pwd.getpwnam(h.user)
        except KeyError:
            continue
        subprocess.run(["pkill", "-KILL", "-f", f"sshd: {h.user}"], capture_output=True)
        subprocess.run(["userdel", "--remove", h.user], capture_output=True)
        removed.append(f"user {h.user}")
    if everything and venv().exists():
        shutil.rmtree(venv())
        removed.append(str(venv()))
    return removed
