"""`watch --install`, `--uninstall`, `--cron-line`, `--compose-service`: the units as systemd 252 reads
them (`systemd-analyze verify`, and its offline security score), the metrics publishing command run as
systemd runs it, Python under MemoryDenyWriteExecute, the CLI end to end here and over SSH to the
lab's sshd, the Compose service as Debian's docker-compose reads it merged into a Mastodon-like file,
and the crontab line field by field."""

from __future__ import annotations

import json
import os
import pwd
import re
import shlex
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from mastowizard.cli import build_parser
from mastowizard.watch import install as engine
from mastowizard.watch import units as uf
from mastowizard.watch.units import WatchJob

PROGRAM = shutil.which("mastowizard", path=os.path.dirname(sys.executable)) or shutil.which("mastowizard")
TOKEN = "watch-token-Zq8v3LmN0pR7sT2uW5xY"


def job(**kw) -> WatchJob:
    base = dict(program=PROGRAM, env_file="/home/mastodon/live/.env.production",
                baseline="/etc/mastowizard/baseline.json", instance="https://mastodon.example",
                token_file="/etc/mastowizard/watch.token")
    return WatchJob(**{**base, **kw})


JOBS = {
    "dynamic-user": job(),
    "run-as": job(run_as="mastodon", every="*:0/15", metrics="/srv/textfile/mastowizard.prom"),
    "read-only": job(read_only=True, token_file=None, instance=None),
    "ca-and-resolve": job(ca_bundle="/etc/ssl/lab-ca.pem", resolve=("*.media.test:443:127.0.0.1", "s3.lab:9000:::1"),
                          cert_days=30, poll_timeout=90.0, every="Mon..Fri 06:00"),
}


def verify(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["systemd-analyze", "verify", *map(str, paths)], capture_output=True, text=True, timeout=60)


def write_units(directory: Path, units: dict[str, str]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in units.items():
        (directory / name).write_text(text)
    return [directory / name for name in units]


def directives(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def watch_args(argv: list[str]):
    """ARGV (after the program) as the real `mastowizard watch` parser reads it."""
    assert argv[0] == "watch", argv
    return build_parser().parse_args(argv)


# -- the units ---------------------------------------------------------------------------------------
def test_verify_reports_what_is_wrong(tmp_path):
    """The check the unit tests rely on: systemd-analyze verify says so on stderr (even where it exits 0)."""
    units = uf.systemd_units(JOBS["dynamic-user"])
    bad = {uf.SERVICE: units[uf.SERVICE].replace("ProtectHome=yes", "ProtectHome=maybe").replace(
        "ProtectHome=read-only", "ProtectHome=maybe"), uf.TIMER: units[uf.TIMER]}
    p = verify(*write_units(tmp_path / "bad", bad))
    assert "ProtectHome" in p.stderr or "protect home" in p.stderr, p.stderr
    missing = {uf.SERVICE: units[uf.SERVICE].replace(f"ExecStart={PROGRAM}", "ExecStart=/nonexistent/mw"),
               uf.TIMER: units[uf.TIMER]}
    p = verify(*write_units(tmp_path / "missing", missing))
    assert p.returncode != 0 and "/nonexistent/mw" in p.stderr


@pytest.mark.parametrize("name", JOBS)
def test_units_verify_clean_and_say_what_they_must(tmp_path, name):
    j = JOBS[name]
    units = uf.systemd_units(j)
    p = verify(*write_units(tmp_path, units))
    assert p.returncode == 0 and p.stderr == "", p.stderr
    service, timer = directives(units[uf.SERVICE]), directives(units[uf.TIMER])
    assert service["Type"] == ["oneshot"] and service["StateDirectory"] == ["mastowizard-watch"]
    assert (service.get("User"), service.get("DynamicUser")) == ((["mastodon"], None) if j.run_as else (None, ["yes"]))
    creds = dict(c.split(":", 1) for c in service["LoadCredential"])
    expected = {"env": j.env_file, "baseline": j.baseline}
    if not j.read_only:
        expected["token"] = j.token_file
    if j.ca_bundle:
        expected["ca"] = j.ca_bundle
    assert creds == expected
    for key, value in {"ProtectSystem": "strict", "PrivateTmp": "yes", "PrivateDevices": "yes",
                       "NoNewPrivileges": "yes", "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
                       "ProtectKernelLogs": "yes", "ProtectControlGroups": "yes", "RestrictNamespaces": "yes",
                       "LockPersonality": "yes", "MemoryDenyWriteExecute": "yes",
                       "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "SystemCallFilter": "@system-service",
                       "CapabilityBoundingSet": "", "UMask": "0077"}.items():
        assert service[key] == [value], key
    # a program under /root or /home is readable only with ProtectHome=read-only; elsewhere home is hidden
    assert service["ProtectHome"] == ["read-only" if PROGRAM.startswith(("/root/", "/home/")) else "yes"]
    assert timer["OnCalendar"] == [j.every] and timer["Persistent"] == ["true"] and "RandomizedDelaySec" in timer
    assert timer["WantedBy"] == ["timers.target"]
    # ExecStart: the credentials where systemd puts them, read by the real watch parser
    argv = shlex.split(service["ExecStart"][0])
    assert argv[0] == PROGRAM
    a = watch_args(argv[1:])
    assert (a.env_file, a.baseline, a.state, a.metrics) == ("%d/env", "%d/baseline", "%S/mastowizard-watch/state",
                                                            "%S/mastowizard-watch/mastowizard.prom")
    assert a.quiet and a.read_only == j.read_only and a.resolve == list(j.resolve) and a.instance == j.instance
    assert a.token_file == (None if j.read_only else "%d/token") and a.ca_bundle == ("%d/ca" if j.ca_bundle else None)
    assert a.cert_days == (j.cert_days or 14) and a.poll_timeout == (j.poll_timeout or 60.0)
    assert service["ExecStopPost"][0].startswith("+/bin/sh -c ")
    target = j.metrics or uf.DEFAULT_METRICS
    assert f"dir={os.path.dirname(target)};" in service["ExecStopPost"][0]
    assert f"$$dir/{os.path.basename(target)};" in service["ExecStopPost"][0]


@pytest.mark.parametrize("name", JOBS)
def test_the_sandbox_scores_ok_offline(tmp_path, name):
    service = write_units(tmp_path, uf.systemd_units(JOBS[name]))[0]
    p = subprocess.run(["systemd-analyze", "security", "--offline=true", str(service)], capture_output=True,
                       text=True, timeout=60)
    level = re.search(r"Overall exposure level for \S+: ([0-9.]+)", p.stdout)
    assert level, p.stdout + p.stderr
    assert float(level.group(1)) <= 2.0, p.stdout


def stop_command(tmp_path, target):
    """The ExecStopPost= argv as systemd runs it: %S replaced, `$$` made `$`."""
    service = directives(uf.systemd_units(job(metrics=str(target)))[uf.SERVICE])
    line = service["ExecStopPost"][0].removeprefix("+")
    return [a.replace("%S", str(tmp_path / "lib")).replace("$$", "$") for a in shlex.split(line)]


def test_metrics_are_published_as_systemd_runs_the_stop_command(tmp_path):
    """ExecStopPost= with %S replaced as systemd does: a 0644 copy renamed over the target, no temporary
    file left; a missing textfile directory is said and does not fail the run; no metrics, nothing done."""
    textfile = tmp_path / "textfile"
    target = textfile / "mastowizard.prom"
    argv = stop_command(tmp_path, target)
    state = tmp_path / "lib" / "mastowizard-watch"
    state.mkdir(parents=True)

    def publish() -> subprocess.CompletedProcess:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30, env={"PATH": "/usr/bin:/bin"})
    p = publish()
    assert p.returncode == 0 and not textfile.exists()
    (state / "mastowizard.prom").write_text("mastowizard_ok 1\n")
    (state / "mastowizard.prom").chmod(0o600)
    p = publish()
    assert p.returncode == 0 and "does not exist" in p.stderr and not textfile.exists()
    textfile.mkdir()
    target.write_text("mastowizard_ok 0\n")
    p = publish()
    assert p.returncode == 0, p.stderr
    assert target.read_text() == "mastowizard_ok 1\n" and (target.stat().st_mode & 0o777) == 0o644
    assert sorted(x.name for x in textfile.iterdir()) == ["mastowizard.prom"]


def test_the_root_publish_step_never_copies_what_the_service_user_points_it_at(tmp_path):
    """The stop command runs as root over a directory the service's user owns (--run-as): a symlink or
    a FIFO put in the metrics' place is refused and nothing is published; a symlink put at the target
    in the textfile directory is replaced, never followed."""
    textfile = tmp_path / "textfile"
    textfile.mkdir()
    target = textfile / "mastowizard.prom"
    target.write_text("mastowizard_watch_ok 1\n")
    argv = stop_command(tmp_path, target)
    state = tmp_path / "lib" / "mastowizard-watch"
    state.mkdir(parents=True)
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$secret-hash:19000::::::\n")
    secret.chmod(0o600)
    src = state / "mastowizard.prom"

    def publish() -> subprocess.CompletedProcess:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30, env={"PATH": "/usr/bin:/bin"})
    src.symlink_to(secret)
    p = publish()
    assert p.returncode == 1 and "is not a regular file: metrics not published" in p.stderr, p.stderr
    assert target.read_text() == "mastowizard_watch_ok 1\n" and sorted(os.listdir(textfile)) == ["mastowizard.prom"]
    src.unlink()
    os.mkfifo(src)
    p = publish()
    assert p.returncode == 1 and "is not a regular file" in p.stderr, p.stderr
    src.unlink()
    src.write_text("mastowizard_watch_ok 0\n")
    target.unlink()
    target.symlink_to(secret)                      # someone who may write the textfile directory
    p = publish()
    assert p.returncode == 0, p.stderr
    assert not target.is_symlink() and target.read_text() == "mastowizard_watch_ok 0\n"
    assert secret.read_text() == "root:$6$secret-hash:19000::::::\n" and (secret.stat().st_mode & 0o777) == 0o600


MDWE = """
import ctypes, mmap, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(65, 1, 0, 0, 0) != 0:          # PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN: kept across execve
    sys.exit(77)
os.execv(sys.executable, [sys.executable, "-c", sys.argv[1]])
"""
UNDER_MDWE = """
import mmap, datetime
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    raise SystemExit("MemoryDenyWriteExecute is not in force")
except PermissionError:
    pass
import importlib, pkgutil, ssl
import mastowizard.cli.main, mastowizard.cli.watch_run, mastowizard.checklist, mastowizard.s3, mastowizard.watch
for pkg in (mastowizard.checklist, mastowizard.s3, mastowizard.watch):
    for m in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"{pkg.__name__}.{m.name}")
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
key = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "media.test")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256()))
ssl.create_default_context().load_verify_locations(cadata=cert.public_bytes(
    __import__("cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.PEM).decode())
import httpx
httpx.Client(verify=ssl.create_default_context()).close()
print("ok")
"""


def test_python_and_the_watch_run_under_memory_deny_write_execute():
    """MemoryDenyWriteExecute=yes is the kernel's MDWE (prctl PR_SET_MDWE, Linux 6.3+): the watch's
    modules, TLS and the certificate code must work without writable-and-executable memory."""
    p = subprocess.run([sys.executable, "-c", MDWE, UNDER_MDWE], capture_output=True, text=True, timeout=120)
    if p.returncode == 77:
        pytest.skip("this kernel has no PR_SET_MDWE (Linux 6.3+)")
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stdout + p.stderr


@pytest.mark.parametrize("value,flag", [
    ("relative/baseline.json", "--baseline"), ("/srv/my baseline.json", "--baseline"),
    ("/srv/100%.json", "--baseline"), ("/srv/$HOME.json", "--baseline")])
def test_paths_a_unit_line_cannot_carry_are_refused(value, flag):
    from mastowizard.errors import InputError
    with pytest.raises(InputError) as e:
        uf.systemd_units(job(baseline=value))
    assert e.value.field == flag
    with pytest.raises(InputError) as e:
        uf.systemd_units(job(metrics="/srv/metrics.txt"))
    assert e.value.field == "--metrics" and ".prom" in e.value.fix


class ChrootHost:
    """This machine with ROOT as its /, as root, where systemd runs: its commands recorded in one log
    with the removals (systemctl answers FAIL's status for the commands in it), mkdir and rmdir done."""

    def __init__(self, root: Path, fail: dict[str, int] | None = None):
        from mastowizard.host.local import LocalHost
        self.root, self.local, self.fail, self.log = root, LocalHost(), fail or {}, []

    def _p(self, path: str) -> str:
        return str(self.root) + path

    def describe(self) -> str:
        return "the test's root"

    def user(self):
        return 0, "root"

    def exists(self, path):
        return self.local.exists(self._p(path))

    def read_bytes(self, path):
        return self.local.read_bytes(self._p(path))

    def list_dir(self, path):
        return self.local.list_dir(self._p(path))

    def write_atomic(self, path, data, mode, uid, gid, *, exclusive=False):
        self.log.append(("write", path))
        self.local.write_atomic(self._p(path), data, mode, os.geteuid(), os.getegid(), exclusive=exclusive)

    def remove(self, path):
        self.log.append(("remove", path))
        self.local.remove(self._p(path))

    def run(self, argv, *, root=False, timeout=120.0, on_line=None):
        from mastowizard.host.interface import CommandResult
        self.log.append(("run", shlex.join(argv), root))
        if argv[0] == "id":
            return CommandResult(0, b"0\n", [], 1)
        if argv[0] in ("mkdir", "rmdir"):
            (os.mkdir(self._p(argv[-1]), 0o700) if argv[0] == "mkdir" else os.rmdir(self._p(argv[-1])))
        status = self.fail.get(shlex.join(argv), 0)
        return CommandResult(status, b"", ["Failed: lab says no"] if status else [], 1)

    def close(self):
        pass


@pytest.fixture
def systemd_root(tmp_path):
    for d in ("run/systemd/system", "etc/systemd/system", "var/lib/prometheus/node-exporter"):
        (tmp_path / d).mkdir(parents=True)
    return tmp_path


def test_where_systemd_runs_install_enables_the_timer_and_uninstall_disables_it_first(systemd_root):
    from mastowizard.secrets import Secret
    host, units = ChrootHost(systemd_root), uf.SYSTEM_UNIT_DIR
    r = engine.install(host, job(), units, Secret(TOKEN))
    assert r.ok and r.to_run == [] and r.run == ["systemctl daemon-reload", f"systemctl enable --now {uf.TIMER}"]
    assert [e for e in host.log if e[0] != "run" or not e[1].startswith("id ")] == [
        ("run", "mkdir -m 0700 -- /etc/mastowizard", True), ("write", "/etc/mastowizard/watch.token"),
        ("write", f"{units}/{uf.SERVICE}"), ("write", f"{units}/{uf.TIMER}"),
        ("run", "systemctl daemon-reload", True), ("run", f"systemctl enable --now {uf.TIMER}", True)]
    host.log.clear()
    u = engine.uninstall(host, units)
    assert u.ok and u.to_run == [] and u.removed == [f"{units}/{uf.TIMER}", f"{units}/{uf.SERVICE}",
                                                     "/etc/mastowizard/watch.token", "/etc/mastowizard/"]
    assert [e[:2] for e in host.log if e[0] != "run" or not e[1].startswith(("id ", "rmdir "))] == [
        ("run", f"systemctl disable --now {uf.TIMER}"), ("remove", f"{units}/{uf.TIMER}"),
        ("remove", f"{units}/{uf.SERVICE}"), ("remove", "/etc/mastowizard/watch.token"),
        ("run", "systemctl daemon-reload")]
    assert any("/etc/mastowizard/baseline.json" in k for k in u.kept)
    assert sorted(p.name for p in (systemd_root / "etc").iterdir()) == ["systemd"]


def test_a_failed_systemctl_is_said_and_what_is_left_is_listed(systemd_root):
    from mastowizard.secrets import Secret
    host, units = ChrootHost(systemd_root, {"systemctl daemon-reload": 1}), uf.SYSTEM_UNIT_DIR
    r = engine.install(host, job(), units, Secret(TOKEN))
    assert not r.ok and "systemctl daemon-reload" in r.failed and "lab says no" in r.failed
    assert r.to_run == [f"systemctl enable --now {uf.TIMER}"] and TOKEN not in json.dumps(r.to_json())
    host.fail = {f"systemctl disable --now {uf.TIMER}": 1}
    u = engine.uninstall(host, units)
    assert not u.ok and u.removed == [] and (systemd_root / "etc/systemd/system" / uf.TIMER).exists()


def test_without_a_running_systemd_uninstall_removes_the_enable_link_too(systemd_root):
    from mastowizard.secrets import Secret
    (systemd_root / "run/systemd/system").rmdir()
    host, units = ChrootHost(systemd_root), uf.SYSTEM_UNIT_DIR
    r = engine.install(host, job(read_only=True), units, Secret(TOKEN))
    assert r.run == [] and r.to_run == ["systemctl daemon-reload", f"systemctl enable --now {uf.TIMER}"]
    assert not (systemd_root / "etc/mastowizard").exists()               # read-only: no token written
    wants = systemd_root / "etc/systemd/system/timers.target.wants"
    wants.mkdir()
    (wants / uf.TIMER).symlink_to(f"{units}/{uf.TIMER}")        # what `systemctl enable` leaves offline
    u = engine.uninstall(host, units)
    assert u.run == [] and u.to_run == ["systemctl daemon-reload"]
    assert not (wants / uf.TIMER).is_symlink() and list((systemd_root / "etc/systemd/system").rglob("*")) == [wants]


# -- cron ----------------------------------------------------------------------------------------------
RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def cron_fields(line: str) -> tuple[list[str], list[str]]:
    fields = line.split(None, 5)
    assert len(fields) == 6, line
    for field, (low, high) in zip(fields[:5], RANGES, strict=True):
        m = re.fullmatch(r"\*|(\d+)(?:-(\d+)/(\d+))?", field)
        assert m, (field, line)
        if m.group(1):
            assert all(low <= int(x) <= high for x in m.groups() if x), (field, line)
    return fields[:5], shlex.split(fields[5])


@pytest.mark.parametrize("every,minutes", [("hourly", 60), ("daily", 1440), ("*:0/15", 15), ("*:00/5", 5),
                                           ("*:0/1", 1)])
def test_cron_line_parses_and_never_runs_at_the_hour(every, minutes):
    j = job(every=every, token_file="/home/mastodon/.config/mastowizard/watch.token",
            resolve=("*.media.test:443:127.0.0.1",), metrics="/var/lib/node/mastowizard.prom")
    line = uf.cron_line(j)
    assert line == uf.cron_line(j)                                   # a fixed minute
    when, argv = cron_fields(line)
    assert "%" not in line and TOKEN not in line
    if minutes == 60:
        assert when[1:] == ["*"] * 4 and when[0] != "0"
    elif minutes == 1440:
        assert when[2:] == ["*"] * 3 and when[0] != "0" and when[1] != "*"
    elif minutes > 1:
        start, step = re.fullmatch(r"(\d+)-59/(\d+)", when[0]).groups()
        assert int(step) == minutes and 0 < int(start) < minutes
    a = watch_args(argv[1:])
    assert argv[0] == PROGRAM and a.quiet and a.token_file == j.token_file and a.metrics == j.metrics
    assert a.resolve == list(j.resolve) and a.env_file == j.env_file and a.baseline == j.baseline


def test_cron_refuses_what_it_cannot_say():
    from mastowizard.errors import InputError
    with pytest.raises(InputError) as e:
        uf.cron_line(job(every="Mon..Fri 06:00"))
    assert e.value.field == "--every"


# -- Compose ---------------------------------------------------------------------------------------------
MASTODON_COMPOSE = """services:
  db:
    image: postgres:14-alpine
    networks: [internal_network]
  redis:
    image: redis:7-alpine
    networks: [internal_network]
  web:
    image: ghcr.io/mastodon/mastodon:v4.3.0
    restart: always
    env_file: .env.production
    command: bundle exec puma -C config/puma.rb
    networks: [external_network, internal_network]
    depends_on: [db, redis]
    volumes:
      - ./public/system:/mastodon/public/system
  sidekiq:
    image: ghcr.io/mastodon/mastodon:v4.3.0
    env_file: .env.production
    command: bundle exec sidekiq
    networks: [external_network, internal_network]
networks:
  external_network:
  internal_network:
    internal: true
"""


@pytest.fixture(scope="module")
def docker_compose() -> str:
    from mastowizard_lab import procs
    procs.ensure_debian(["docker-compose"], ["docker-compose"])
    return shutil.which("docker-compose")


def compose_config(tool: str, directory: Path, *files: Path) -> subprocess.CompletedProcess:
    argv = [tool, "--project-directory", str(directory)]
    for f in files:
        argv += ["-f", str(f)]
    env = {"PATH": os.environ["PATH"], "HOME": str(directory)}
    return subprocess.run([*argv, "config"], capture_output=True, text=True, timeout=60, env=env, cwd=directory)


def the_watch_command(service: dict) -> list[str]:
    script = service["command"][0]
    line = next(x.strip() for x in script.splitlines() if x.strip().startswith("mastowizard watch"))
    return shlex.split(line)


@pytest.mark.parametrize("j", [job(ca_bundle="/etc/ssl/lab-ca.pem", resolve=("*.media.test:443:127.0.0.1",)),
                               job(read_only=True, instance=None, token_file=None, every="*:0/15")],
                         ids=["token", "read-only"])
def test_compose_service_merges_into_a_mastodon_compose_file(tmp_path, docker_compose, j):
    (tmp_path / ".env.production").write_text("LOCAL_DOMAIN=mastodon.example\n")
    base = tmp_path / "docker-compose.yml"
    base.write_text(MASTODON_COMPOSE)
    ours = tmp_path / "mastowizard-watch.yml"
    text = uf.compose_service(j)
    ours.write_text(text)
    assert TOKEN not in text
    p = compose_config(docker_compose, tmp_path, base, ours)                 # docker compose -f ... -f ...
    assert p.returncode == 0, p.stderr
    merged = yaml.safe_load(p.stdout)
    # and pasted by hand: the service under services:, the secrets and volumes at the top level
    pasted_doc, block = yaml.safe_load(MASTODON_COMPOSE), yaml.safe_load(text)
    pasted_doc["services"].update(block["services"])
    for key in ("secrets", "volumes"):
        if key in block:
            pasted_doc[key] = block[key]
    pasted = tmp_path / "pasted.yml"
    pasted.write_text(yaml.safe_dump(pasted_doc))
    p = compose_config(docker_compose, tmp_path, pasted)
    assert p.returncode == 0, p.stderr
    assert set(merged["services"]) == {"db", "redis", "web", "sidekiq", "mastowizard-watch"}
    w = merged["services"]["mastowizard-watch"]
    assert w["restart"] == "unless-stopped" and w["image"].startswith("python:")
    mounts = {}                                         # docker-compose 1.29 says them as SOURCE:TARGET:MODE
    for v in w["volumes"]:
        source, target, mode = v.split(":")
        mounts[target] = (source, mode)
    # directories, so that a file replaced by a rename (apply, rollback, --save) is seen by the container
    assert mounts["/mastowizard/live"] == (os.path.dirname(j.env_file), "ro")
    assert mounts["/mastowizard/baseline"] == (os.path.dirname(j.baseline), "ro")
    assert mounts["/metrics"] == (os.path.dirname(uf.DEFAULT_METRICS), "rw")
    assert mounts["/state"] == ("mastowizard-watch", "rw") and "mastowizard-watch" in merged["volumes"]
    assert mounts["/wheels"][1] == "ro"
    a = watch_args(the_watch_command(w)[1:])
    assert (a.env_file, a.baseline, a.state, a.metrics, a.quiet) == (
        f"/mastowizard/live/{os.path.basename(j.env_file)}", f"/mastowizard/baseline/{os.path.basename(j.baseline)}",
        "/state/state", "/metrics/mastowizard.prom", True)
    sleep = re.search(r"sleep (\d+)", w["command"][0])
    assert sleep and int(sleep.group(1)) == uf.interval_minutes(j.every) * 60
    if j.read_only:
        assert "secrets" not in w and a.token_file is None and a.read_only
    else:
        assert [s["source"] for s in w["secrets"]] == ["mastowizard_watch_token"]
        assert merged["secrets"]["mastowizard_watch_token"]["file"] == j.token_file
        assert a.token_file == "/run/secrets/mastowizard_watch_token" and a.ca_bundle == "/mastowizard/ca.pem"
        assert mounts["/mastowizard/ca.pem"] == (j.ca_bundle, "ro")


# -- the CLI, here ---------------------------------------------------------------------------------------------
def cli(*args, env=None, cwd=None):
    e = {k: v for k, v in os.environ.items()
         if not k.startswith(("AWS_", "MASTOWIZARD_")) and k != "MASTODON_ACCESS_TOKEN"}
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "mastowizard", "watch", *args], capture_output=True, text=True,
                          env=e, timeout=120, stdin=subprocess.DEVNULL, cwd=cwd)


def tree(root: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p.relative_to(root)): (p.stat().st_mode & 0o7777, p.read_bytes() if p.is_file() else b"")
            for p in sorted(root.rglob("*"))}


@pytest.fixture
def instance(tmp_path):
    """An instance's files on this machine: the env file, a baseline, the unit and token places."""
    live = tmp_path / "live"
    live.mkdir()
    (live / ".env.production").write_text("LOCAL_DOMAIN=mastodon.example\nS3_ENABLED=true\n")
    (live / ".env.production").chmod(0o600)
    (tmp_path / "baseline.json").write_text("{}\n")
    (tmp_path / "units").mkdir()
    return tmp_path


def install_args(root: Path, *more: str) -> list[str]:
    return ["--install", "--unit-dir", str(root / "units"), "--credential-dir", str(root / "etc-mastowizard"),
            "--env-file", str(root / "live" / ".env.production"), "--baseline", str(root / "baseline.json"),
            "--instance", "https://mastodon.example", "--program", PROGRAM, *more]


def test_install_writes_the_units_and_the_token_and_uninstall_removes_exactly_that(instance):
    before = tree(instance)
    p = cli(*install_args(instance, "--yes"), env={"MASTODON_ACCESS_TOKEN": TOKEN})
    assert p.returncode == 0, p.stderr
    units, token = instance / "units", instance / "etc-mastowizard" / "watch.token"
    assert sorted(x.name for x in units.iterdir()) == [uf.SERVICE, uf.TIMER]
    for unit in units.iterdir():
        assert unit.stat().st_mode & 0o777 == 0o644 and TOKEN not in unit.read_text()
    assert token.read_text() == TOKEN + "\n" and token.stat().st_mode & 0o777 == 0o600
    assert token.stat().st_uid == os.geteuid() and token.parent.stat().st_mode & 0o777 == 0o700
    assert TOKEN not in p.stdout + p.stderr
    for path in (units / uf.SERVICE, units / uf.TIMER, token):
        assert f"wrote {path} (mode" in p.stdout
    assert "systemctl enable --now mastowizard-watch.timer" in p.stdout      # left to run: not the system's dir
    service = directives((units / uf.SERVICE).read_text())
    exec_start = shlex.split(service["ExecStart"][0])
    assert TOKEN not in " ".join(exec_start) and watch_args(exec_start[1:]).token_file == "%d/token"
    assert f"token:{token}" in service["LoadCredential"]
    v = verify(units / uf.SERVICE, units / uf.TIMER)
    assert v.returncode == 0 and v.stderr == "", v.stderr

    p = cli("--uninstall", "--unit-dir", str(units), "--yes")
    assert p.returncode == 0, p.stderr
    assert tree(instance) == before
    assert f"removed {token}" in p.stdout and f"kept {instance / 'baseline.json'}: the baseline" in p.stdout
    p = cli("--uninstall", "--unit-dir", str(units), "--yes")
    assert p.returncode == 0 and "nothing to remove" in p.stdout


def test_a_second_install_keeps_the_token_and_uninstall_still_removes_it(instance):
    before = tree(instance)
    assert cli(*install_args(instance, "--yes"), env={"MASTODON_ACCESS_TOKEN": TOKEN}).returncode == 0
    p = cli(*install_args(instance, "--yes", "--every", "daily", "--json"))        # no token given this time
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["ok"] and [w["path"] for w in doc["written"]] == [str(instance / "units" / uf.SERVICE),
                                                                  str(instance / "units" / uf.TIMER)]
    assert (instance / "etc-mastowizard" / "watch.token").read_text() == TOKEN + "\n"
    assert "OnCalendar=daily" in (instance / "units" / uf.TIMER).read_text()
    p = cli("--uninstall", "--unit-dir", str(instance / "units"), "--yes", "--json")
    assert p.returncode == 0 and json.loads(p.stdout)["ok"]
    assert tree(instance) == before


def test_a_reinstall_read_only_still_lets_uninstall_remove_the_first_token(instance):
    """Installed with a token, then again with --read-only (no token used): the first install's token
    file is still recorded, and --uninstall removes it, leaving no token behind."""
    before = tree(instance)
    assert cli(*install_args(instance, "--yes"), env={"MASTODON_ACCESS_TOKEN": TOKEN}).returncode == 0
    p = cli(*install_args(instance, "--yes", "--read-only"))
    assert p.returncode == 0, p.stderr
    assert "LoadCredential=token:" not in (instance / "units" / uf.SERVICE).read_text()
    p = cli("--uninstall", "--unit-dir", str(instance / "units"), "--yes")
    assert p.returncode == 0, p.stderr
    assert f"removed {instance / 'etc-mastowizard' / 'watch.token'}" in p.stdout
    assert tree(instance) == before


def test_nothing_is_written_without_a_confirmation(instance):
    before = tree(instance)
    p = cli(*install_args(instance), env={"MASTODON_ACCESS_TOKEN": TOKEN})
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "--yes" in p.stderr, p.stderr
    assert tree(instance) == before and TOKEN not in p.stdout + p.stderr
    assert cli(*install_args(instance, "--yes"), env={"MASTODON_ACCESS_TOKEN": TOKEN}).returncode == 0
    installed = tree(instance)
    p = cli("--uninstall", "--unit-dir", str(instance / "units"))
    assert p.returncode == 2 and "--yes" in p.stderr and tree(instance) == installed


@pytest.mark.parametrize("change,flag,fragment", [
    (lambda a, r: a[:a.index("--baseline") + 1] + [str(r / "missing.json")] + a[a.index("--baseline") + 2:],
     "--baseline", "mastowizard watch"),
    (lambda a, r: [*a, "--every", "hourlyy"], "--every", "hourly"),
    (lambda a, r: [*a, "--ca-bundle", str(r / "no-ca.pem")], "--ca-bundle", "PEM"),
    (lambda a, r: [*a, "--metrics", str(r / "metrics.txt")], "--metrics", ".prom"),
    (lambda a, r: [*a, "--run-as", "no-such-user-here"], "--run-as", "DynamicUser"),
    (lambda a, r: [*a, "--run-as", "nobody"], "--run-as", "DynamicUser"),
    (lambda a, r: [x if x != str(r / "units") else str(r / "no-units") for x in a], "--unit-dir", "create"),
])
def test_bad_input_is_one_line_and_writes_nothing(instance, change, flag, fragment):
    before = tree(instance)
    p = cli(*change(install_args(instance, "--yes"), instance), env={"MASTODON_ACCESS_TOKEN": TOKEN})
    assert p.returncode == 2, p.stdout + p.stderr
    line = p.stderr.strip()
    assert "\n" not in line and flag in line and fragment in line and "Traceback" not in line, line
    assert tree(instance) == before


def test_no_token_anywhere_is_refused_naming_how_to_give_one(instance):
    before = tree(instance)
    p = cli(*install_args(instance, "--yes"))
    assert p.returncode == 2 and "MASTODON_ACCESS_TOKEN" in p.stderr and "--read-only" in p.stderr
    assert tree(instance) == before
    p = cli(*install_args(instance, "--yes", "--read-only"))
    assert p.returncode == 0, p.stderr
    assert "token" not in directives((instance / "units" / uf.SERVICE).read_text())["ExecStart"][0]
    assert not (instance / "etc-mastowizard").exists()


def test_cron_line_and_compose_service_from_the_cli(instance):
    token = instance / "watch.token"
    token.write_text(TOKEN + "\n")
    token.chmod(0o600)
    common = ["--env-file", str(instance / "live" / ".env.production"), "--baseline", str(instance / "baseline.json"),
              "--instance", "https://mastodon.example", "--program", PROGRAM]
    before = tree(instance)
    p = cli("--cron-line", *common, "--token-file", str(token), env={"MASTODON_ACCESS_TOKEN": TOKEN})
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("\n") == 1 and TOKEN not in p.stdout + p.stderr
    _, argv = cron_fields(p.stdout.strip())
    assert watch_args(argv[1:]).token_file == str(token)
    p = cli("--cron-line", *common)
    assert p.returncode == 2 and "--token-file" in p.stderr
    token.chmod(0o644)
    p = cli("--cron-line", *common, "--token-file", str(token))
    assert p.returncode == 2 and "chmod 600" in p.stderr
    p = cli("--compose-service", *common, "--json")
    assert p.returncode == 0 and "mastowizard-watch:" in json.loads(p.stdout)["compose"]
    token.chmod(0o600)
    assert tree(instance) == before


# -- over SSH, to the lab's sshd ----------------------------------------------------------------------------------
@pytest.fixture(params=["instance-user", "admin-with-sudo-root"])
def remote(request, tmp_path):
    """A directory in a lab user's home, with a baseline and a unit dir in it, and mastowizard's script
    linked in (the same path on both ends of the SSH login: it is this machine). The instance's user
    writes as itself; the admin logs in and writes as root through sudo, with its password."""
    from mastowizard_lab import sshd
    sshd.start()
    admin = request.param == "admin-with-sudo-root"
    login = sshd.ADMIN_USER if admin else sshd.MASTODON_USER
    user = pwd.getpwnam(login)
    root = Path(user.pw_dir) / f"mw-watch-test-{uuid.uuid4().hex[:8]}"
    (root / "units").mkdir(parents=True)
    (root / "bin").mkdir()
    (root / "bin" / "mastowizard").symlink_to(PROGRAM)
    (root / "baseline.json").write_text("{}\n")
    for p in (root, root / "units", root / "bin", root / "baseline.json"):
        os.lchown(p, user.pw_uid, user.pw_gid)
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(sshd.known_hosts_line())
    ssh = ["--ssh", f"{login}@127.0.0.1:{sshd.SSH_PORT}", "--known-hosts", str(known_hosts),
           "--identity", str(sshd.client_key()), *(["--sudo-user", "root"] if admin else [])]
    env = {"MASTOWIZARD_SUDO_PASSWORD": sshd.ADMIN_PASSWORD} if admin else {}
    yield root, ssh, env, (0 if admin else user.pw_uid), sshd
    shutil.rmtree(root)


def test_install_and_uninstall_over_ssh(remote, tmp_path):
    root, ssh, env, owner, sshd = remote
    from mastowizard.host.ssh import SshOptions, connect, parse_target
    from mastowizard.host.sshhost import SshHost
    before = tree(root)
    args = ["--install", *ssh, "--unit-dir", str(root / "units"), "--credential-dir", str(root / "private"),
            "--env-file", str(sshd.env_file()), "--baseline", str(root / "baseline.json"),
            "--instance", "https://mastodon.example", "--program", str(root / "bin" / "mastowizard"), "--yes"]
    p = cli(*args, env={**env, "MASTODON_ACCESS_TOKEN": TOKEN})
    assert p.returncode == 0, p.stdout + p.stderr
    assert TOKEN not in p.stdout + p.stderr and "lives under a home directory" in p.stdout
    token = root / "private" / "watch.token"
    assert (token.stat().st_uid, token.stat().st_mode & 0o777) == (owner, 0o600)
    assert token.parent.stat().st_mode & 0o777 == 0o700 and token.read_text() == TOKEN + "\n"
    # read back over SSH, as written there, and verified here
    target = parse_target(ssh[1])
    host = SshHost(connect(target, SshOptions(known_hosts=ssh[3], identity_file=ssh[5], use_agent=False)), target)
    try:
        units = {name: host.read_bytes(str(root / "units" / name)).decode() for name in (uf.SERVICE, uf.TIMER)}
    finally:
        host.close()
    v = verify(*write_units(tmp_path / "read-back", units))
    assert v.returncode == 0 and v.stderr == "", v.stderr
    service = directives(units[uf.SERVICE])
    assert f"env:{sshd.env_file()}" in service["LoadCredential"] and service["ProtectHome"] == ["read-only"]
    assert f"token:{token}" in service["LoadCredential"] and all(TOKEN not in t for t in units.values())
    assert sorted(x.name for x in (root / "units").iterdir()) == [uf.SERVICE, uf.TIMER]
    assert all((x.stat().st_uid, x.stat().st_mode & 0o777) == (owner, 0o644) for x in (root / "units").iterdir())

    p = cli("--uninstall", *ssh, "--unit-dir", str(root / "units"), "--yes", env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert tree(root) == before
