"""SSH against a real OpenSSH sshd on 127.0.0.1: host keys, authentication, sudo, timeouts, and the
env-file host interface over SFTP and sudo, including a connection dropped mid-write."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import paramiko
import pytest

from mastowizard.env.apply import apply_plan, rollback
from mastowizard.env.plan import EnvFile, make_plan
from mastowizard.errors import MastowizardError, TargetError
from mastowizard.host.ssh import SshOptions, UnknownHostKey, connect, parse_target, run
from mastowizard.host.sshhost import SshHost
from mastowizard.secrets import Secret
from mastowizard.settings import Settings
from mastowizard_lab import sshd

PORT = sshd.SSH_PORT
MASTODON = f"{sshd.MASTODON_USER}@127.0.0.1:{PORT}"
ADMIN = f"{sshd.ADMIN_USER}@127.0.0.1:{PORT}"


@pytest.fixture(scope="module")
def lab_sshd():
    sshd.start()
    return sshd


@pytest.fixture
def known_hosts(tmp_path, lab_sshd):
    f = tmp_path / "known_hosts"
    f.write_text(sshd.known_hosts_line())
    return str(f)


@pytest.fixture
def env_path(lab_sshd):
    """The instance's env file, reset to a known text for each test (no backups, no media on disk)."""
    return str(sshd.reset_instance())


def opts(known_hosts, **kw):
    kw.setdefault("identity_file", str(sshd.client_key()))
    return SshOptions(known_hosts=known_hosts, use_agent=kw.pop("use_agent", False), **kw)


# -- host keys -------------------------------------------------------------------------------
def test_unknown_host_key_is_never_trusted_silently(tmp_path, lab_sshd):
    kh = tmp_path / "known_hosts"
    with pytest.raises(UnknownHostKey) as e:
        connect(parse_target(MASTODON), opts(str(kh)))
    assert e.value.fingerprint == sshd.host_key_fingerprint()
    assert f"--accept-host-key {e.value.fingerprint}" in str(e.value)
    assert not kh.exists()
    # a fingerprint that is not the server's is not trusted either
    wrong = "SHA256:" + "A" * 43
    with pytest.raises(UnknownHostKey):
        connect(parse_target(MASTODON), opts(str(kh), accept_host_key=wrong))
    # the right one is, and is remembered
    c = connect(parse_target(MASTODON), opts(str(kh), accept_host_key=sshd.host_key_fingerprint()))
    c.close()
    assert f"[127.0.0.1]:{PORT} ssh-ed25519 " in kh.read_text()
    connect(parse_target(MASTODON), opts(str(kh))).close()


def test_operator_confirms_unknown_key_by_prompt(tmp_path, lab_sshd):
    asked = []

    class Yes:
        def secret(self, prompt):
            return None

        def confirm_host_key(self, host, key_type, fingerprint):
            asked.append((host, fingerprint))
            return True
    connect(parse_target(MASTODON), opts(str(tmp_path / "kh"), prompt=Yes())).close()
    assert asked == [(f"[127.0.0.1]:{PORT}", sshd.host_key_fingerprint())]


def test_changed_host_key_is_refused(tmp_path, lab_sshd):
    other = paramiko.Ed25519Key.from_private_key_file(str(sshd.client_key()))   # any other ed25519 key
    kh = tmp_path / "known_hosts"
    kh.write_text(f"[127.0.0.1]:{PORT} ssh-ed25519 {other.get_base64()}\n")
    with pytest.raises(TargetError) as e:
        connect(parse_target(MASTODON), opts(str(kh), accept_host_key=sshd.host_key_fingerprint()))
    assert "CHANGED" in str(e.value) and "ssh-keygen -R" in e.value.fix
    assert kh.read_text().count("\n") == 1


# -- authentication --------------------------------------------------------------------------
def test_key_with_passphrase(known_hosts):
    t = parse_target(MASTODON)
    c = connect(t, opts(known_hosts, identity_file=str(sshd.client_key(True)),
                        key_passphrase=Secret(sshd.KEY_PASSPHRASE)))
    assert run(c, "id -un").stdout.decode().strip() == sshd.MASTODON_USER
    c.close()
    with pytest.raises(TargetError) as e:
        connect(t, opts(known_hosts, identity_file=str(sshd.client_key(True)), key_passphrase=Secret("wrong")))
    assert "passphrase" in str(e.value)


def test_agent_auth(known_hosts, tmp_path):
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not sock.exists():
            assert time.monotonic() < deadline and agent.poll() is None, "ssh-agent's socket never appeared"
            time.sleep(0.05)
        env = dict(os.environ, SSH_AUTH_SOCK=str(sock))
        subprocess.run(["ssh-add", "-q", str(sshd.client_key())], env=env, check=True)
        old = os.environ.get("SSH_AUTH_SOCK")
        os.environ["SSH_AUTH_SOCK"] = str(sock)
        try:
            c = connect(parse_target(MASTODON), SshOptions(known_hosts=known_hosts, use_agent=True))
            assert run(c, "id -un").stdout.decode().strip() == sshd.MASTODON_USER
            c.close()
        finally:
            if old is None:
                os.environ.pop("SSH_AUTH_SOCK")
            else:
                os.environ["SSH_AUTH_SOCK"] = old
    finally:
        agent.terminate()
        agent.wait(5)


def test_password_auth_and_wrong_password(known_hosts):
    t = parse_target(ADMIN)
    c = connect(t, SshOptions(known_hosts=known_hosts, use_agent=False, identity_file="/nonexistent",
                              password=Secret(sshd.ADMIN_PASSWORD)))
    assert run(c, "id -un").stdout.decode().strip() == sshd.ADMIN_USER
    c.close()
    with pytest.raises(TargetError) as e:
        connect(t, SshOptions(known_hosts=known_hosts, use_agent=False, identity_file="/nonexistent",
                              password=Secret("not-the-password")))
    assert "authentication failed" in str(e.value) and "not-the-password" not in str(e.value)


def test_proxy_jump_from_ssh_config(known_hosts, tmp_path):
    cfg = tmp_path / "config"
    cfg.write_text(f"Host labjump\n  HostName 127.0.0.1\n  Port {PORT}\n  User {sshd.MASTODON_USER}\n"
                   f"  IdentityFile {sshd.client_key()}\n"
                   f"Host labtarget\n  HostName 127.0.0.1\n  Port {PORT}\n  User {sshd.ADMIN_USER}\n"
                   f"  IdentityFile {sshd.client_key()}\n  ProxyJump labjump\n")
    t = parse_target("labtarget", config_path=str(cfg))
    assert (t.hostname, t.port, t.user, t.proxy_jump) == ("127.0.0.1", PORT, sshd.ADMIN_USER, "labjump")
    c = connect(t, SshOptions(known_hosts=known_hosts, use_agent=False, ssh_config=str(cfg)))
    assert run(c, "id -un").stdout.decode().strip() == sshd.ADMIN_USER
    c.close()


# -- dead hosts, hangs, floods ---------------------------------------------------------------
def test_dead_and_wrong_hosts_give_one_clear_line(known_hosts):
    with pytest.raises(TargetError) as e:
        connect(parse_target("mw-mastodon@127.0.0.1:1"), opts(known_hosts))
    assert "connection refused" in str(e.value)
    from mastowizard_lab import nginx
    from mastowizard_lab.config import NGINX_HTTP_PORT
    nginx.start()
    with pytest.raises(TargetError) as e:
        connect(parse_target(f"mw-mastodon@127.0.0.1:{NGINX_HTTP_PORT}"), opts(known_hosts, timeout=3))
    assert "SSH server" in str(e.value) or "timed out" in str(e.value)
    with pytest.raises(MastowizardError):
        parse_target("not a host name")


def test_hanging_command_is_stopped(known_hosts):
    c = connect(parse_target(MASTODON), opts(known_hosts))
    t0 = time.monotonic()
    with pytest.raises(TargetError) as e:
        run(c, "sleep 30", timeout=0.5)
    assert "did not finish" in str(e.value) and time.monotonic() - t0 < 25    # stopped, not after the 30 s
    assert run(c, "echo still-usable").stdout == b"still-usable\n"
    c.close()


def test_output_sent_after_the_exit_status_is_kept_whole(known_hosts):
    """sshd sends a command's exit status when its process ends, and the output still in its pipes
    after it (here a child writes on after the shell has exited): a read ends at the channel's EOF,
    never at the exit status, or a `sudo cat` of a file comes back cut short."""
    c = connect(parse_target(MASTODON), opts(known_hosts))
    r = run(c, "sh -c '(sleep 0.5; head -c 1000000 /dev/zero; echo end) & exit 0'", timeout=60)
    assert r.ok and len(r.stdout) == 1000004 and r.stdout.endswith(b"end\n"), (r.status, len(r.stdout))
    c.close()


def test_a_command_that_closes_its_output_but_runs_on_is_stopped_at_its_deadline(known_hosts):
    """The output's EOF comes at once, the exit status never: the deadline still stops it, and says so."""
    c = connect(parse_target(MASTODON), opts(known_hosts))
    with pytest.raises(TargetError) as e:
        run(c, "sh -c 'exec >&- 2>&-; sleep 30'", timeout=0.5)
    assert "did not finish" in str(e.value), e.value
    assert run(c, "echo still-usable").stdout == b"still-usable\n"
    c.close()


def test_flooding_command_streams_with_bounded_memory(known_hosts):
    c = connect(parse_target(MASTODON), opts(known_hosts))
    count = [0]
    r = run(c, "seq 1 300000; seq 1 1000 >&2", on_line=lambda _: count.__setitem__(0, count[0] + 1),
            keep_stdout=False, timeout=60)
    assert r.ok and r.stdout == b"" and count[0] == 301000 and r.lines_seen == 301000
    assert len(r.stderr_tail) == 50 and r.stderr_tail[-1] == "1000"
    c.close()


# -- the env file over SSH -------------------------------------------------------------------
SETTINGS = Settings.build(bucket="media-ssh", provider="aws", alias_host="m.example.com").with_credentials(
    "AKIASSHTEST", "ssh/test+secret0123456789")


@pytest.mark.parametrize("mode", ["sftp", "sudo"])
def test_plan_apply_rollback_over_ssh(known_hosts, env_path, mode):
    if mode == "sftp":
        t = parse_target(MASTODON)
        host = SshHost(connect(t, opts(known_hosts)), t)
    else:
        t = parse_target(ADMIN)
        host = SshHost(connect(t, opts(known_hosts)), t, sudo_user=sshd.MASTODON_USER,
                       sudo_password=Secret(sshd.ADMIN_PASSWORD))
    original = Path(env_path).read_bytes()
    before = os.stat(env_path)
    result = apply_plan(make_plan(EnvFile.read(host, env_path), SETTINGS))
    after = os.stat(env_path)
    assert Path(result.backup).read_bytes() == original
    assert (after.st_uid, after.st_gid, after.st_mode) == (before.st_uid, before.st_gid, before.st_mode)
    assert os.stat(result.backup).st_uid == before.st_uid and (os.stat(result.backup).st_mode & 0o777) == 0o600
    assert b"S3_BUCKET=media-ssh\n" in Path(env_path).read_bytes()
    rollback(host, env_path)
    assert Path(env_path).read_bytes() == original and os.stat(env_path).st_uid == before.st_uid
    assert not [f for f in os.listdir(os.path.dirname(env_path)) if f.endswith(".tmp")]
    host.close()


def test_wrong_sudo_password(known_hosts, env_path):
    t = parse_target(ADMIN)
    with pytest.raises(TargetError) as e:
        SshHost(connect(t, opts(known_hosts)), t, sudo_user=sshd.MASTODON_USER, sudo_password=Secret("bad-sudo-pw"))
    assert "sudo refused the password" in str(e.value) and "bad-sudo-pw" not in str(e.value)
    with pytest.raises(TargetError) as e:
        SshHost(connect(t, opts(known_hosts)), t, sudo_user=sshd.MASTODON_USER)
    assert "MASTOWIZARD_SUDO_PASSWORD" in e.value.fix


def test_connection_dropped_during_write_keeps_the_old_file(known_hosts, env_path):
    t = parse_target(MASTODON)
    host = SshHost(connect(t, opts(known_hosts)), t)
    original = Path(env_path).read_bytes()
    big = b"# padding\n" * 4_000_000       # 40 MB: the write takes a while
    errors = []

    def write():
        try:
            host.write_atomic(env_path, big, 0o600, os.stat(env_path).st_uid, os.stat(env_path).st_gid)
        except MastowizardError as e:
            errors.append(e)
    th = threading.Thread(target=write)
    th.start()
    # wait until the temp file grows, then kill this connection's sshd processes
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        tmps = [f for f in os.listdir(os.path.dirname(env_path)) if f.endswith(".tmp")]
        if tmps and os.path.getsize(os.path.join(os.path.dirname(env_path), tmps[0])) > 1_000_000:
            break
        time.sleep(0.01)
    # this connection's sshd processes only (found by the connection's own port): never another
    # session of the lab's sshd
    mine = host.client.get_transport().sock.getsockname()[1]
    listed = subprocess.run(["ss", "-Htnp", f"sport = :{sshd.SSH_PORT} and dport = :{mine}"], capture_output=True,
                            text=True).stdout
    children = set(re.findall(r"pid=(\d+)", listed))
    assert children, f"no sshd process holds the connection from port {mine}: {listed!r}"
    for pid in children:
        os.kill(int(pid), signal.SIGKILL)
    th.join(30)
    assert errors and "connection" in str(errors[0]).lower()
    assert Path(env_path).read_bytes() == original
    # the next apply, on a new connection, clears the temp file and works
    host = SshHost(connect(t, opts(known_hosts)), t)
    apply_plan(make_plan(EnvFile.read(host, env_path), SETTINGS))
    assert not [f for f in os.listdir(os.path.dirname(env_path)) if f.endswith(".tmp")]
    host.close()


def test_a_connection_already_closed_is_said_as_such_and_nothing_is_written(known_hosts, env_path):
    """paramiko raises a bare OSError ("Socket is closed", no errno) on a closed channel: the write says
    the connection broke, never an unexpected error."""
    t = parse_target(MASTODON)
    host = SshHost(connect(t, opts(known_hosts)), t)
    original = Path(env_path).read_bytes()
    assert host.sftp is not None                  # the SFTP session opened, then the connection gone
    host.client.get_transport().close()
    with pytest.raises(MastowizardError) as err:
        host.write_atomic(env_path, b"X=1\n", 0o600, os.stat(env_path).st_uid, os.stat(env_path).st_gid)
    assert "connection broke" in str(err.value) and "unchanged" in str(err.value), err.value
    assert Path(env_path).read_bytes() == original


def test_cli_over_ssh_with_sudo(known_hosts, env_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_"))}
    env.update(MASTOWIZARD_SUDO_PASSWORD=sshd.ADMIN_PASSWORD, AWS_ACCESS_KEY_ID="AKIACLISSH",
               AWS_SECRET_ACCESS_KEY="cli/ssh+secret0123456789")
    common = ["--ssh", ADMIN, "--identity", str(sshd.client_key()), "--known-hosts", known_hosts,
              "--sudo-user", sshd.MASTODON_USER, "--env-file", env_path]
    original = Path(env_path).read_bytes()

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "mastowizard", *args], capture_output=True, text=True,
                              env=env, stdin=subprocess.DEVNULL, timeout=60)
    p = cli("apply", *common, "--bucket", "media-cli", "--alias-host", "m.example.com", "--yes")
    assert p.returncode == 0, p.stderr
    assert "backup: " in p.stdout and "+S3_BUCKET=media-cli" in p.stdout
    p2 = cli("rollback", *common, "--yes")
    assert p2.returncode == 0, p2.stderr
    assert Path(env_path).read_bytes() == original
    for out in (p.stdout + p.stderr, p2.stdout + p2.stderr):
        assert sshd.ADMIN_PASSWORD not in out and "cli/ssh+secret" not in out
