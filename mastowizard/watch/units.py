"""What runs the watch on a timer, as text: a systemd service and timer (hardened, its inputs as
systemd credentials), a crontab line and a Compose service, from one WatchJob checked first. Pure:
writing the units on a host is install.py's.

The service reads what it needs as systemd credentials (LoadCredential=: the env file, the baseline,
the token, the CA bundle), so the service user (a DynamicUser by default) reads nothing else of the
host's and no secret reaches argv, the environment or the unit. The metrics are written in the
service's state directory and published into node_exporter's textfile directory by a privileged
ExecStopPost= (a DynamicUser cannot write there), atomically, even when the watch exits 1."""


from __future__ import annotations

import json
import posixpath
import re
import shlex
import zlib
from dataclasses import dataclass

from ..errors import InputError

SYSTEM_UNIT_DIR = "/etc/systemd/system"
SERVICE, TIMER = "mastowizard-watch.service", "mastowizard-watch.timer"
STATE = "mastowizard-watch"                  # StateDirectory=: /var/lib/mastowizard-watch
DEFAULT_METRICS = "/var/lib/prometheus/node-exporter/mastowizard.prom"
DEFAULT_TOKEN_DIR = "/etc/mastowizard"
TOKEN_NAME = "watch.token"
HOMES = ("/home/", "/root/", "/run/user/")
WROTE, KEEPS = "# mastowizard-wrote: ", "# mastowizard-keeps: "
# what a unit line, a crontab line and a YAML scalar all carry as it is: no quoting, no specifier,
# no variable, no cron `%`
_PLAIN = re.compile(r"[A-Za-z0-9_./:@+,=*\[\]-]+")
_USER = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class WatchJob:
    program: str                       # mastowizard's path on the host
    env_file: str
    baseline: str
    instance: str | None = None        # without it the watch makes no test upload, and needs no token
    token_file: str | None = None      # given by the admin, or where --install writes it
    read_only: bool = False
    metrics: str | None = None         # None: the systemd default; cron and Compose then write none / the default
    resolve: tuple[str, ...] = ()
    ca_bundle: str | None = None
    run_as: str | None = None          # None: a DynamicUser
    every: str = "hourly"
    cert_days: int | None = None       # None: the watch's default
    poll_timeout: float | None = None
    needs_home: bool = False           # the program (or its Python) lives under /home, /root or /run/user

    @property
    def uses_token(self) -> bool:
        return bool(self.instance) and not self.read_only


FLAGS = {"program": "--program", "env_file": "--env-file", "baseline": "--baseline", "token_file": "--token-file",
         "metrics": "--metrics", "ca_bundle": "--ca-bundle"}


def check(job: WatchJob) -> None:
    """Every value goes into unit, crontab and YAML lines as it is: refuse what would need quoting."""
    for name, flag in FLAGS.items():
        value = getattr(job, name)
        if value is None:
            continue
        if not value.startswith("/"):
            raise InputError(flag, f"{value!r} is not an absolute path", "give the full path on the host")
        if not _PLAIN.fullmatch(value):
            raise InputError(flag, f"{value!r} has a character a unit or crontab line cannot carry as it is "
                             "(such as a space, quote, $, % or ;)", "move or link the file to a plain path")
    if job.metrics is not None and not job.metrics.endswith(".prom"):
        raise InputError("--metrics", f"{job.metrics} does not end in .prom",
                         "node_exporter's textfile collector reads only FILE.prom files")
    for value, flag in [(r, "--resolve") for r in job.resolve] + [(job.instance, "--instance")]:
        if value is not None and not _PLAIN.fullmatch(value):
            raise InputError(flag, f"{value!r} has a character a unit or crontab line cannot carry as it is",
                             "give it without spaces, quotes, $, % or ;")
    if job.run_as is not None and not _USER.fullmatch(job.run_as):
        raise InputError("--run-as", f"{job.run_as!r} is not a user name", "give a user name, e.g. mastodon")
    if job.run_as in ("root", "nobody"):
        raise InputError("--run-as", f"{job.run_as} is no user for the watch (root would undo the sandbox; nobody "
                         "is shared by other daemons, and systemd calls it unsafe)",
                         "leave --run-as out for a DynamicUser, or give the instance's user, e.g. mastodon")
    if not job.every.strip() or any(c in job.every for c in "\n\r%\\\"'"):
        raise InputError("--every", f"{job.every!r} is not a calendar value", "give e.g. hourly, daily or *:0/15")
    if job.uses_token and not job.token_file:
        raise InputError("--token-file", "the watch's test upload needs its token file", "give --token-file FILE")


def watch_argv(job: WatchJob, *, env: str, baseline: str, token: str | None, ca: str | None,
               state: str | None, metrics: str | None, program: str | None = None) -> list[str]:
    """The watch's command line with the files where the runner sees them."""
    argv = [program or job.program, "watch", "--env-file", env, "--baseline", baseline]
    if job.uses_token and token:
        argv += ["--token-file", token]
    if job.ca_bundle and ca:
        argv += ["--ca-bundle", ca]
    for r in job.resolve:
        argv += ["--resolve", r]
    if job.instance:
        argv += ["--instance", job.instance]
    if job.read_only:
        argv.append("--read-only")
    if job.cert_days is not None:
        argv += ["--cert-days", str(job.cert_days)]
    if job.poll_timeout is not None:
        argv += ["--poll-timeout", f"{job.poll_timeout:g}"]
    if state:
        argv += ["--state", state]
    if metrics:
        argv += ["--metrics", metrics]
    return [*argv, "--quiet"]


# -- systemd -----------------------------------------------------------------------------------
HARDENING = """ProtectSystem=strict
ProtectHome={home}
PrivateTmp=yes
PrivateDevices=yes
NoNewPrivileges=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM
CapabilityBoundingSet=
UMask=0077
"""


def publish_command(source: str, target: str) -> str:
    """ExecStopPost=: publish SOURCE (in the service's state directory, which its user owns) as TARGET
    in node_exporter's textfile directory. It runs as root (`+`: the service's user may not write
    there), so it trusts nothing in SOURCE's place: a symlink or anything but a regular file is
    refused (dd's O_NOFOLLOW closes the race after the test), at most 4 MiB is read, within 10 s. The
    copy goes to a new random name beside TARGET (mktemp: O_EXCL, not *.prom, so node_exporter never
    reads it half written), 0644, then is renamed over TARGET (rename replaces a link, never follows
    it). A missing textfile directory is said in the journal and does not fail the run. `$$` is a `$`
    for the shell (systemd would expand `$NAME` itself)."""
    d = posixpath.dirname(target)
    base = posixpath.basename(target)
    script = ("src=" + source + "; dir=" + d + "; "
              "test -e $$src || exit 0; "
              "if test -L $$src || ! test -f $$src; then "
              "echo \"$$src is not a regular file: metrics not published\" >&2; exit 1; fi; "
              "test -d $$dir || { echo \"$$dir does not exist: metrics not published\" >&2; exit 0; }; "
              "t=$$(mktemp $$dir/." + base + ".XXXXXX) || exit 1; "
              "if timeout 10 dd if=$$src of=$$t bs=4M count=1 iflag=fullblock,nofollow status=none "
              "&& chmod 0644 $$t && mv -fT $$t $$dir/" + base + "; then exit 0; fi; "
              "rm -f $$t; echo \"metrics not published\" >&2; exit 1")
    return f"+/bin/sh -c '{script}'"


def systemd_units(job: WatchJob, wrote: tuple[str, ...] = ()) -> dict[str, str]:
    """The service and the timer. WROTE: what --install wrote besides them (the token file, its
    directory with a trailing /), recorded in the service for --uninstall."""
    check(job)
    metrics = job.metrics or DEFAULT_METRICS
    d, s = "%d", f"%S/{STATE}"
    exec_start = watch_argv(job, env=f"{d}/env", baseline=f"{d}/baseline", token=f"{d}/token", ca=f"{d}/ca",
                            state=f"{s}/state", metrics=f"{s}/mastowizard.prom")
    creds = [f"env:{job.env_file}", f"baseline:{job.baseline}"]
    if job.uses_token:
        creds.append(f"token:{job.token_file}")
    if job.ca_bundle:
        creds.append(f"ca:{job.ca_bundle}")
    user = f"User={job.run_as}" if job.run_as else "DynamicUser=yes"
    home = "read-only" if job.needs_home or job.program.startswith(HOMES) else "yes"
    header = ["# Written by `mastowizard watch --install`; `mastowizard watch --uninstall` removes it.",
              *(WROTE + w for w in wrote), KEEPS + metrics]
    service = "\n".join([
        *header, "[Unit]", "Description=mastowizard watch: the media storage checklist against its baseline",
        "Wants=network-online.target", "After=network-online.target", "",
        "[Service]", "Type=oneshot", user, *(f"LoadCredential={c}" for c in creds),
        f"StateDirectory={STATE}", f"ExecStart={' '.join(exec_start)}",
        f"ExecStopPost={publish_command(f'{s}/mastowizard.prom', metrics)}",
        "TimeoutStartSec=30min", "", HARDENING.format(home=home)])
    timer = "\n".join([
        "# Written by `mastowizard watch --install`; `mastowizard watch --uninstall` removes it.",
        "[Unit]", f"Description=Run mastowizard watch ({job.every})", "",
        "[Timer]", f"OnCalendar={job.every}", "RandomizedDelaySec=5min", "FixedRandomDelay=true", "Persistent=true",
        "", "[Install]", "WantedBy=timers.target", ""])
    return {SERVICE: service, TIMER: timer}


# -- cron and Compose ----------------------------------------------------------------------------
def interval_minutes(every: str) -> int:
    """--every as minutes, for cron and Compose: hourly, daily, or *:0/N (every N minutes)."""
    e = every.strip()
    if e in ("hourly", "daily"):
        return 60 if e == "hourly" else 1440
    m = re.fullmatch(r"\*:0?0/(\d+)(:00)?", e)
    if m and 1 <= int(m.group(1)) <= 59:
        return int(m.group(1))
    raise InputError("--every", f"{every!r} has no cron or Compose form here",
                     "give hourly, daily or *:0/N (every N minutes, N from 1 to 59)")


def cron_line(job: WatchJob) -> str:
    """One line for `crontab -e` of the instance's user: a fixed minute (not :00, spread by instance),
    --quiet so cron mails only a change or a failure, the token from a 0600 file."""
    check(job)
    minutes = interval_minutes(job.every)
    seed = zlib.crc32(f"{job.env_file}\0{job.baseline}".encode())
    minute = 1 + seed % 59
    if minutes == 60:
        when = f"{minute} * * * *"
    elif minutes == 1440:
        when = f"{minute} {seed // 59 % 24} * * *"
    else:
        when = "* * * * *" if minutes == 1 else f"{1 + seed % (minutes - 1)}-59/{minutes} * * * *"
    argv = watch_argv(job, env=job.env_file, baseline=job.baseline, token=job.token_file, ca=job.ca_bundle,
                      state=None, metrics=job.metrics)
    return f"{when} {shlex.join(argv)}"


def compose_service(job: WatchJob, wheels: str = "/opt/mastowizard/wheels") -> str:
    """A Compose file with the one service (and its secret and volume) to run beside Mastodon's."""
    check(job)
    seconds = interval_minutes(job.every) * 60
    metrics = job.metrics or DEFAULT_METRICS
    # directories, not single files: a file mount pins the inode, and `apply`, `rollback`, `watch --save` and
    # editors replace the file by a rename, which the container would never see. The env file's directory
    # also holds public/system, which the old URLs check samples.
    live, base_dir = posixpath.dirname(job.env_file), posixpath.dirname(job.baseline)
    env_in = f"/mastowizard/live/{posixpath.basename(job.env_file)}"
    baseline_in = (f"/mastowizard/live/{posixpath.basename(job.baseline)}" if base_dir == live
                   else f"/mastowizard/baseline/{posixpath.basename(job.baseline)}")
    mounts = [f"{wheels}:/wheels:ro", f"{live}:/mastowizard/live:ro"]
    if base_dir != live:
        mounts.append(f"{base_dir}:/mastowizard/baseline:ro")
    mounts += [f"{posixpath.dirname(metrics)}:/metrics", f"{STATE}:/state"]
    if job.ca_bundle:
        mounts.append(f"{job.ca_bundle}:/mastowizard/ca.pem:ro")
    argv = watch_argv(job, env=env_in, baseline=baseline_in,
                      token="/run/secrets/mastowizard_watch_token", ca="/mastowizard/ca.pem", state="/state/state",
                      metrics=f"/metrics/{posixpath.basename(metrics)}", program="mastowizard")
    q = json.dumps
    lines = [
        f"# mastowizard watch every {seconds // 60} min, compared with its baseline; its metrics go to",
        f"# {metrics} for node_exporter's textfile collector.",
        "# Save this as mastowizard-watch.yml beside Mastodon's docker-compose.yml and start it with",
        "#   docker compose -f docker-compose.yml -f mastowizard-watch.yml up -d mastowizard-watch",
        "# (or paste the service under services: and the secrets: and volumes: at the top level).",
        "# mastowizard may not be on PyPI: build the wheels of it and its dependencies once, from its source",
        "# directory (what the README's `pip install .` installs), in the image that runs them, so that",
        "# compiled dependencies match its Python:",
        f"#   docker run --rm -v /path/to/mastowizard:/src:ro -v {wheels}:/wheels python:3.12-slim \\",
        "#     sh -c 'cp -r /src /tmp/src && pip wheel --wheel-dir /wheels /tmp/src'",
        "# The container (the stock python:3.12-slim) installs them at each start, offline (--no-index).",
        "# To upgrade, rebuild the wheels and restart the service.",
    ]
    if job.uses_token:
        lines += ["# The access token (write:media) is a Compose secret; write it first, 0600, never in argv:",
                  f"#   (umask 077; mkdir -p {posixpath.dirname(job.token_file)}; cat > {job.token_file})"]
    lines += [
        "services:", "  mastowizard-watch:", "    image: python:3.12-slim", "    restart: unless-stopped",
        "    # root with only DAC_OVERRIDE: it reads the env file (0600, the instance's user's) and writes the",
        "    # textfile directory (root's). It can read all of the live directory mounted below, as anyone",
        "    # holding the env file's secrets already could reach the database: keep the wheels your own.",
        "    cap_drop: [ALL]", "    cap_add: [DAC_OVERRIDE]", "    security_opt: [\"no-new-privileges:true\"]",
        "    environment:", "      PIP_DISABLE_PIP_VERSION_CHECK: \"1\"", "      PIP_ROOT_USER_ACTION: ignore",
        "    volumes:", *(f"      - {q(m)}" for m in mounts)]
    if job.uses_token:
        lines += ["    secrets:", "      - mastowizard_watch_token"]
    lines += [
        "    entrypoint: [\"/bin/sh\", \"-c\"]", "    command:", "      - |",
        "        pip install --quiet --no-index --find-links /wheels mastowizard || exit 2",
        "        while true; do", f"          {shlex.join(argv)}", f"          sleep {seconds}", "        done"]
    if job.uses_token:
        lines += ["secrets:", "  mastowizard_watch_token:", f"    file: {q(job.token_file)}"]
    lines += ["volumes:", f"  {STATE}:", ""]
    return "\n".join(lines)


# -- install and uninstall -----------------------------------------------------------------------
