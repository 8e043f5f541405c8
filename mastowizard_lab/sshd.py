"""OpenSSH's sshd from Debian on 127.0.0.1, as the lab's Mastodon host.

Its own port, config, host keys and authorized keys live in the lab directory. Two users:
- `mw-mastodon` owns the instance directory (`<lab>/instance/live/.env.production`,
  `public/system/`), like the `mastodon` user of a source install; key login only.
- `mw-admin` logs in with a key or a password and may `sudo` with that password, like an admin.
Stand-ins for `systemctl` and `docker` on their PATH record their calls (`calls.log`). What the
lab users must reach lives in `/var/lib/mastowizard-lab` (`MASTOWIZARD_LAB_SHARED`).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

from . import procs
from .config import HOST, home, port

SSH_PORT = port("SSH", 17022)
PACKAGES = ["openssh-server", "openssh-client", "sudo"]
SUDOERS = Path("/etc/sudoers.d/mastowizard-lab")
MASTODON_USER = "mw-mastodon"
ADMIN_USER = "mw-admin"
ADMIN_PASSWORD = "lab-admin-password-1"
KEY_PASSPHRASE = "lab-key-passphrase"


def root() -> Path:
    return home() / "ssh"


def shared() -> Path:
    """What the lab users must reach (instance, stand-ins, their records): outside root's home."""
    return Path(os.environ.get("MASTOWIZARD_LAB_SHARED") or "/var/lib/mastowizard-lab")


def instance_dir() -> Path:
    return shared() / "instance"


def env_file() -> Path:
    return instance_dir() / "live" / ".env.production"


def client_key(passphrase: bool = False) -> Path:
    return root() / ("client_key_pass" if passphrase else "client_key")


def install() -> None:
    from . import mastodon
    procs.ensure_debian(PACKAGES, ["/usr/sbin/sshd", "ssh-keygen", "ssh-agent", "sudo"])
    mastodon.install()          # the instance's stand-in stores media through Mastodon's code


def _user(name: str, password: str | None) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True)
    if password:
        # SHA-512 with its fewest rounds, not Debian's yescrypt: sudo checks the password at every
        # command a test runs through it (-k), and yescrypt costs about 20 ms of that each time. The
        # password is the lab's own, written above, on 127.0.0.1 only.
        subprocess.run(["chpasswd", "-c", "SHA512", "-s", "1000"], input=f"{name}:{password}\n".encode(), check=True)
    else:  # key login only, but not a locked account (sshd refuses locked ones)
        subprocess.run(["usermod", "-p", "*", name], check=True)


def _keygen(path: Path, passphrase: str = "") -> None:
    if not path.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", "mastowizard-lab",
                        "-f", str(path)], check=True)


MASTODON_PORT = port("MASTODON", 17030)

STANDIN = """#!/bin/sh
# mastowizard lab stand-in for {name}: records the call and acts like the real one for Mastodon's
# services. mastodon-web (compose service web) is the lab's Mastodon stand-in, really restarted;
# the other services follow flag files: state/failed-UNIT makes one fail.
echo "$(id -un) {name} $*" >> {calls}
state={state}
running() {{ [ -d "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }}
restart_web() {{
  if [ -f "$state/web.pid" ]; then
    old=$(cat "$state/web.pid")
    if grep -q mastodon_standin "/proc/$old/cmdline" 2>/dev/null; then
      kill "$old" 2>/dev/null
      # gone: its port is free. A zombie holds no port: it counts as gone (this machine's init reaps
      # orphans only every second or two, and a restart would wait for that)
      i=0; while running "$old" && [ $i -lt 1000 ]; do sleep 0.02; i=$((i + 1)); done
    fi
    rm -f "$state/web.pid"
  fi
  nohup /usr/bin/python3 {standin} {envfile} {port} "$state/web.pid" "$state/lab.json" >> "$state/web.log" 2>&1 &
  echo $! > "$state/web.launch"
  echo "started web"
}}
web_up() {{ [ -f "$state/web.pid" ] && grep -q mastodon_standin "/proc/$(cat "$state/web.pid")/cmdline" 2>/dev/null; }}
# still starting, as systemd says "activating": launched, not serving yet, and not dead
web_starting() {{ [ -f "$state/web.launch" ] &&
  grep -q mastodon_standin "/proc/$(cat "$state/web.launch")/cmdline" 2>/dev/null; }}
unit_ok() {{
  case "$1" in
    mastodon-web|mastodon-web.service|web) web_up;;
    *) u=${{1%.service}}; [ ! -e "$state/failed-$u" ] && [ ! -e "$state/failed-mastodon-$u" ];;
  esac
}}
unit_starting() {{
  case "$1" in mastodon-web|mastodon-web.service|web) web_starting;; *) false;; esac
}}
args=" $* "
case "{name}" in
  systemctl)
    cmd=$1; shift
    case "$cmd" in
      is-active) st=0; for u in "$@"; do case "$u" in -*) continue;; esac
                   if unit_ok "$u"; then echo active; elif unit_starting "$u"; then echo activating; st=3;
                   else echo failed; st=3; fi; done; exit $st;;
      restart|start|reload-or-restart)
        for u in "$@"; do case "$u" in -*) continue;; esac
          case "$u" in mastodon-web*) restart_web;; esac
          if [ -e "$state/failed-${{u%.service}}" ]; then
            echo "Job for ${{u%.service}}.service failed because the control process exited with error code." >&2
            exit 1; fi
        done; exit 0;;
      list-units) cat "$state/units"; exit 0;;
      show) echo "{live}"; exit 0;;
      *) exit 0;;
    esac;;
  journalctl)
    case "$args" in
      *mastodon-web*) tail -n 20 "$state/web.log" 2>/dev/null;;
      *) echo "-- lab journal: $* --"; for f in "$state"/failed-*; do [ -e "$f" ] && cat "$f"; done;;
    esac; exit 0;;
  docker)
    case "$args" in
      *" compose "*" up "*) restart_web; for s in sidekiq streaming; do
          if ! unit_ok "$s"; then echo "container $s exited with code 1" >&2; fi; done; exit 0;;
      *" compose "*" ps "*) for s in web sidekiq streaming; do
          if unit_ok "$s"; then st=running; h=healthy; elif unit_starting "$s"; then st=running; h=starting;
          else st=exited; h=unhealthy; fi
          printf '{{"Service":"%s","State":"%s","Health":"%s"}}\\n' "$s" "$st" "$h"; done; exit 0;;
      *" compose "*" logs "*) tail -n 20 "$state/web.log" 2>/dev/null; for f in "$state"/failed-*; do
          [ -e "$f" ] && cat "$f"; done; exit 0;;
      *" compose "*" version"*) echo "Docker Compose version v2.lab"; exit 0;;
      *" compose "*" run "*" bin/tootctl "*) while [ "$1" != "bin/tootctl" ]; do shift; done; shift
          cd {live} && RAILS_ENV=production exec ./bin/tootctl "$@";;
    esac; exit 0;;
esac
exit 0
"""


TOOTCTL = """#!/bin/sh
# mastowizard lab stand-in for bin/tootctl: `media remove [--days N]` deletes the cached copies of
# remote media attachments older than N days (tootctl decides by the attachment's creation, the
# stand-in by the file's mtime) and says so as tootctl does; `media remove-orphans --dry-run` says it
# found none, as tootctl's dry run does. Other commands are only recorded.
echo "$(id -un) tootctl RAILS_ENV=$RAILS_ENV cwd=$(pwd) $*" >> {calls}
[ "$RAILS_ENV" = production ] || {{ echo "RAILS_ENV is not production" >&2; exit 1; }}
if [ "$1 $2" = "media remove" ]; then
  days=7; shift 2
  while [ $# -gt 0 ]; do case "$1" in --days) days=$2; shift 2;; --days=*) days=${{1#--days=}}; shift;;
    *) shift;; esac; done
  dir=public/system/cache/media_attachments
  n=0; bytes=0
  if [ -d "$dir" ]; then
    for f in $(find "$dir" -type f -mmin +$((days * 1440))); do
      bytes=$((bytes + $(stat -c %s "$f"))); rm -f "$f"; n=$((n + 1)); done
  fi
  echo "Removed $n media attachments (approx. $bytes bytes)"
fi
if [ "$1 $2 $3" = "media remove-orphans --dry-run" ]; then
  echo "Removed 0 orphans (approx. 0 Bytes) (DRY RUN)"
fi
exit 0
"""


def _standins() -> Path:
    bin_dir = shared() / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    shared().chmod(0o755)
    state = shared() / "state"
    state.mkdir(exist_ok=True)
    calls = shared() / "calls.log"
    calls.touch()
    calls.chmod(0o666)
    state.chmod(0o1777)
    standin = shared() / "mastodon_standin.py"
    here = Path(__file__).parent
    for name in ("mastodon_standin.py", "mastodon_storage.py"):     # the stand-in and Mastodon's code it runs
        shutil.copyfile(here / name, shared() / name)
        (shared() / name).chmod(0o644)
    code = shared() / "mastodon_code"
    shutil.rmtree(code, ignore_errors=True)
    shutil.copytree(here / "mastodon_code", code, ignore=shutil.ignore_patterns("__pycache__"))
    for d, _, files in os.walk(code):
        os.chmod(d, 0o755)
        for f in files:
            os.chmod(os.path.join(d, f), 0o644)
    for name in ("systemctl", "docker", "journalctl"):
        f = bin_dir / name
        f.write_text(STANDIN.format(name=name, calls=calls, state=state, envfile=env_file(), port=MASTODON_PORT,
                                    standin=standin, live=env_file().parent))
        f.chmod(0o755)
    (state / "units").write_text("mastodon-web.service loaded active running\n"
                                 "mastodon-sidekiq.service loaded active running\n"
                                 "mastodon-streaming.service loaded active running\n")
    return bin_dir


def _instance() -> None:
    live = instance_dir() / "live"
    (live / "public" / "system").mkdir(parents=True, exist_ok=True)
    if not env_file().exists():
        env_file().write_text("LOCAL_DOMAIN=lab.example\nS3_ENABLED=false\nSECRET_KEY_BASE="
                              "labsecretkeybase0123456789abcdef0123456789\n")
    m = pwd.getpwnam(MASTODON_USER)
    for p in [instance_dir(), live, live / "public", live / "public" / "system", env_file()]:
        os.chown(p, m.pw_uid, m.pw_gid)
    env_file().chmod(0o600)
    os.chmod(instance_dir(), 0o755)
    (live / "bin").mkdir(exist_ok=True)
    tootctl = live / "bin" / "tootctl"
    tootctl.write_text(TOOTCTL.format(calls=shared() / "calls.log"))
    tootctl.chmod(0o755)
    for p in (live / "bin", tootctl):
        os.chown(p, m.pw_uid, m.pw_gid)


def reset_instance(env_text: str = "# lab instance\nLOCAL_DOMAIN=lab.example\nS3_ENABLED=false\n") -> Path:
    """The shared lab instance as a test that owns it needs it: ENV_TEXT in the env file (0600, the
    instance's user), no backups or temp files beside it, and no media on disk (public/system empty).
    A test that wants media makes its own after this. The env file's path."""
    import shutil
    env = env_file()
    env.write_text(env_text)
    for f in env.parent.iterdir():
        if f.name.startswith(".env.production.") or f.name.endswith(".tmp"):
            f.unlink()
    system = env.parent / "public" / "system"
    shutil.rmtree(system, ignore_errors=True)
    system.mkdir(parents=True)
    (env.parent / ".mastowizard-demo-media").unlink(missing_ok=True)
    m = pwd.getpwnam(MASTODON_USER)
    for p in (env, system):
        os.chown(p, m.pw_uid, m.pw_gid)
    env.chmod(0o600)
    return env


def _config(bin_dir: Path) -> Path:
    d = root()
    path = f"{bin_dir}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
    conf = d / "sshd_config"
    conf.write_text(f"""Port {SSH_PORT}
ListenAddress {HOST}
HostKey {d}/ssh_host_ed25519_key
HostKey {d}/ssh_host_rsa_key
PidFile {d}/sshd.pid
AuthorizedKeysFile {shared()}/authorized_keys/%u
StrictModes no
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers {MASTODON_USER} {ADMIN_USER}
SetEnv PATH={path}
AllowTcpForwarding yes
Subsystem sftp internal-sftp
LogLevel VERBOSE
""")
    SUDOERS.parent.mkdir(parents=True, exist_ok=True)
    sudoers = SUDOERS
    sudoers.write_text(f"Defaults:{ADMIN_USER} secure_path=\"{path}\"\n"
                       f"Defaults:{ADMIN_USER} !lecture, passwd_tries=1, timestamp_timeout=0\n"
                       f"{ADMIN_USER} ALL=(ALL:ALL) ALL\n")
    sudoers.chmod(0o440)
    return conf


def setup() -> Path:
    """Everything the SSH lab needs, created from nothing and left as it is when it exists."""
    install()
    d = root()
    d.mkdir(parents=True, exist_ok=True)
    shared().mkdir(parents=True, exist_ok=True)
    _user(MASTODON_USER, None)
    _user(ADMIN_USER, ADMIN_PASSWORD)
    for kind in ("ed25519", "rsa"):
        key = d / f"ssh_host_{kind}_key"
        if not key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", str(key)], check=True)
    _keygen(client_key())
    _keygen(client_key(True), KEY_PASSPHRASE)
    auth = shared() / "authorized_keys"
    auth.mkdir(exist_ok=True)
    pubs = client_key().with_suffix(".pub").read_text() + client_key(True).with_suffix(".pub").read_text()
    for user in (MASTODON_USER, ADMIN_USER):
        (auth / user).write_text(pubs)
        (auth / user).chmod(0o644)
    _instance()
    return _config(_standins())


def host_key_fingerprint(kind: str = "ed25519") -> str:
    out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(root() / f"ssh_host_{kind}_key.pub")],
                         capture_output=True, text=True, check=True).stdout
    return out.split()[1]


def known_hosts_line(kind: str = "ed25519") -> str:
    pub = (root() / f"ssh_host_{kind}_key.pub").read_text().split()
    return f"[{HOST}]:{SSH_PORT} {pub[0]} {pub[1]}\n"


def is_running() -> bool:
    return procs.running(root() / "sshd.pid") and procs.port_open(SSH_PORT)


def start() -> None:
    conf = setup()
    if is_running():
        return
    stop()
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)   # privilege separation directory
    subprocess.run(["/usr/sbin/sshd", "-t", "-f", str(conf)], check=True)
    procs.spawn(["/usr/sbin/sshd", "-D", "-e", "-f", str(conf)], root() / "sshd.log", root() / "sshd.pid")
    procs.wait_for(lambda: procs.port_open(SSH_PORT), 20, "sshd", root() / "sshd.log")


def stop() -> None:
    procs.stop(root() / "sshd.pid")
    procs.stop(shared() / "state" / "web.pid", grace=5)   # the Mastodon stand-in a restart started


def remove() -> list[str]:
    """Undo setup(): the lab users (their processes, homes and mail), the sudoers file, the shared
    directory and the SSH lab's own files. What was removed, for the report."""
    removed = []
    for user in (ADMIN_USER, MASTODON_USER):
        try:
            uid = pwd.getpwnam(user).pw_uid
        except KeyError:
            continue
        subprocess.run(["pkill", "-KILL", "-U", str(uid)], capture_output=True)
        subprocess.run(["userdel", "--remove", user], capture_output=True)
        removed.append(f"user {user}")
    if SUDOERS.exists():
        SUDOERS.unlink()
        removed.append(str(SUDOERS))
    for d in (shared(), root()):
        if d.exists():
            shutil.rmtree(d)
            removed.append(str(d))
    return removed
