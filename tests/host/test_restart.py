"""Restart over SSH (and here) with the lab's systemctl and docker stand-ins, which really restart the
lab's Mastodon stand-in: it re-reads the env file, so the restart is visible."""

import json
import os
import pwd
import subprocess
import sys
import time

import httpx
import pytest

from mastowizard.env.apply import apply_plan
from mastowizard.env.plan import EnvFile, make_plan
from mastowizard.errors import TargetError
from mastowizard.host.restart import detect, restart, restart_argv
from mastowizard.host.ssh import SshOptions, connect, parse_target
from mastowizard.host.sshhost import SshHost
from mastowizard.secrets import Secret
from mastowizard.settings import Settings
from mastowizard_lab import sshd

INSTANCE = f"http://127.0.0.1:{sshd.MASTODON_PORT}"
STATE = sshd.shared() / "state"
CALLS = sshd.shared() / "calls.log"


@pytest.fixture(scope="module")
def lab_sshd():
    sshd.start()
    yield sshd
    from mastowizard_lab import procs
    procs.stop(STATE / "web.pid", grace=5)


@pytest.fixture
def admin_host(lab_sshd, tmp_path):
    kh = tmp_path / "known_hosts"
    kh.write_text(sshd.known_hosts_line())
    t = parse_target(f"{sshd.ADMIN_USER}@127.0.0.1:{sshd.SSH_PORT}")
    c = connect(t, SshOptions(known_hosts=str(kh), identity_file=str(sshd.client_key()), use_agent=False))
    host = SshHost(c, t, sudo_user=sshd.MASTODON_USER, sudo_password=Secret(sshd.ADMIN_PASSWORD))
    yield host
    host.close()


def _clean_flags():
    for f in STATE.glob("failed-*"):
        f.unlink()


@pytest.fixture(autouse=True)
def clean_state(lab_sshd):
    env = sshd.env_file()
    env.write_text("LOCAL_DOMAIN=lab.example\nS3_ENABLED=false\n")
    m = pwd.getpwnam(sshd.MASTODON_USER)
    os.chown(env, m.pw_uid, m.pw_gid)
    for f in STATE.glob("failed-*"):
        f.unlink()
    for f in env.parent.iterdir():
        if f.name.startswith(("docker-compose", ".env.production.")):
            f.unlink()
    CALLS.write_text("")
    yield
    _clean_flags()            # a service made to fail here must not fail another module's test


def started_with() -> dict:
    return httpx.get(f"{INSTANCE}/lab/env", timeout=5).json()


def test_apply_then_restart_over_ssh_picks_up_the_change(admin_host):
    path = str(sshd.env_file())
    s = Settings.build(bucket="media-restart", provider="aws", alias_host="m.example.com").with_credentials(
        "AKIARESTART", "restart/secret+0123456789")
    apply_plan(make_plan(EnvFile.read(admin_host, path), s))
    install = detect(admin_host, path)
    assert install.kind == "systemd"
    assert install.services == ["mastodon-sidekiq", "mastodon-streaming", "mastodon-web"]
    lines = []
    report = restart(admin_host, install, INSTANCE, on_line=lines.append, health_timeout=20)
    assert report.ok, [c.to_dict() for c in report.checks]
    assert lines[0] == "$ systemctl restart mastodon-sidekiq mastodon-streaming mastodon-web"
    assert "started web" in lines
    assert started_with()["S3_BUCKET"] == "media-restart" and started_with()["S3_ENABLED"] == "true"
    assert "root systemctl restart mastodon-sidekiq mastodon-streaming mastodon-web" in CALLS.read_text()
    assert sshd.ADMIN_PASSWORD not in CALLS.read_text()


def test_failed_service_is_named_with_its_log(admin_host):
    (STATE / "failed-mastodon-sidekiq").write_text("sidekiq: Aws::S3::Errors::AccessDenied: Access Denied\n")
    install = detect(admin_host, str(sshd.env_file()))
    report = restart(admin_host, install, INSTANCE, health_timeout=5)
    checks = {c.id: c for c in report.checks}
    assert not report.ok
    command = checks["restart.command"]
    assert command.status == "fail" and "mastodon-sidekiq.service failed" in command.detail
    side = checks["service.mastodon-sidekiq"]
    assert side.status == "fail" and "failed" in side.detail
    assert any("AccessDenied" in line for line in side.evidence["log"])
    assert checks["service.mastodon-streaming"].status == "pass"


def test_web_that_does_not_come_back(admin_host):
    env = sshd.env_file()
    env.write_text(env.read_text() + "LAB_FAIL_START=true\n")
    install = detect(admin_host, str(env))
    t0 = time.monotonic()
    # web gave up: the restart says so at once, never waiting out its health timeout (here longer than the
    # test's own timeout) for a /health that cannot come back
    report = restart(admin_host, install, INSTANCE, health_timeout=3600)
    checks = {c.id: c for c in report.checks}
    assert checks["service.mastodon-web"].status == "fail"
    assert any("refusing to start" in line for line in checks["service.mastodon-web"].evidence["log"])
    assert checks["instance.health"].status == "fail" and time.monotonic() - t0 < 30


def test_compose_install_is_recreated_not_restarted(admin_host):
    live = sshd.env_file().parent
    compose = live / "docker-compose.yml"
    compose.write_text("services:\n  db:\n    image: postgres\n  web:\n    image: mastodon\n"
                       "    env_file: .env.production\n  streaming:\n    image: mastodon\n"
                       "  sidekiq:\n    image: mastodon\n")
    install = detect(admin_host, str(sshd.env_file()))
    assert (install.kind, install.compose_file) == ("compose", str(compose))
    assert restart_argv(install) == ["docker", "compose", "-f", str(compose), "up", "-d", "--force-recreate",
                                     "web", "sidekiq", "streaming"]
    report = restart(admin_host, install, INSTANCE, health_timeout=20)
    assert report.ok, [c.to_dict() for c in report.checks]
    assert f"root docker compose -f {compose} up -d --force-recreate web sidekiq streaming" in CALLS.read_text()
    (STATE / "failed-mastodon-streaming").write_text("streaming: ECONNREFUSED redis\n")
    # web comes back, streaming exits and stays down: the restart says so at once, never waiting out
    # its health timeout (here longer than the test's own timeout) for a container that stopped
    report = restart(admin_host, install, INSTANCE, health_timeout=3600)
    bad = {c.id for c in report.checks if c.status == "fail"}
    assert bad == {"service.streaming"}


def test_local_runner_and_cli(lab_sshd, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", f"{sshd.shared() / 'bin'}:{os.environ['PATH']}")
    from mastowizard.host.local import LocalHost
    install = detect(LocalHost(), str(sshd.env_file()))
    report = restart(LocalHost(), install, INSTANCE, health_timeout=20)
    assert report.ok
    kh = tmp_path / "kh"
    kh.write_text(sshd.known_hosts_line())
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTOWIZARD_")}
    env["MASTOWIZARD_SUDO_PASSWORD"] = sshd.ADMIN_PASSWORD
    p = subprocess.run([sys.executable, "-m", "mastowizard", "restart", "--ssh",
                        f"{sshd.ADMIN_USER}@127.0.0.1:{sshd.SSH_PORT}", "--identity", str(sshd.client_key()),
                        "--known-hosts", str(kh), "--env-file", str(sshd.env_file()), "--instance", INSTANCE,
                        "--json"], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    doc = json.loads(p.stdout)
    assert doc["ok"] and doc["install"]["kind"] == "systemd"
    assert sshd.ADMIN_PASSWORD not in p.stdout + p.stderr


def test_restart_needs_a_sudo_password(lab_sshd, tmp_path):
    kh = tmp_path / "kh"
    kh.write_text(sshd.known_hosts_line())
    t = parse_target(f"{sshd.ADMIN_USER}@127.0.0.1:{sshd.SSH_PORT}")
    host = SshHost(connect(t, SshOptions(known_hosts=str(kh), identity_file=str(sshd.client_key()),
                                         use_agent=False)), t)
    install = detect(host, str(sshd.env_file()))
    with pytest.raises(TargetError) as e:
        restart(host, install, INSTANCE, health_timeout=2)
    assert "MASTOWIZARD_SUDO_PASSWORD" in e.value.fix


def test_env_file_found_from_the_web_unit(admin_host, tmp_path):
    from mastowizard.host.restart import locate_env_file
    assert locate_env_file(admin_host, "/home/nobody/live/.env.production") == str(sshd.env_file())
    kh = tmp_path / "kh"
    kh.write_text(sshd.known_hosts_line())
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTOWIZARD_")}
    env["MASTOWIZARD_SUDO_PASSWORD"] = sshd.ADMIN_PASSWORD
    p = subprocess.run([sys.executable, "-m", "mastowizard", "show", "--json", "--ssh",
                        f"{sshd.ADMIN_USER}@127.0.0.1:{sshd.SSH_PORT}", "--identity", str(sshd.client_key()),
                        "--known-hosts", str(kh), "--sudo-user", sshd.MASTODON_USER],
                       capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=60)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["path"] == str(sshd.env_file()) and doc["storage"] == "local" and doc["local_domain"] == "lab.example"
