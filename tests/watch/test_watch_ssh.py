"""`watch --ssh`: the env file is the instance's host's, and so are the baseline, its state and the
metrics, written as the env file's owner (where its timer will run): the lab's sshd, as an admin who
sudoes to the instance's user. Nothing is written on this machine."""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
import sys

import pytest
from helpers.checklist import Lab

from mastowizard_lab import sshd

pytestmark = pytest.mark.lab


@pytest.fixture
def remote(tmp_path, rgw_bucket, lab_info):
    sshd.start()
    lab = Lab(tmp_path, rgw_bucket, lab_info, "policy")
    lab.setup()                                  # the bucket set up, and the env file's text
    env = sshd.reset_instance(lab.env_file.read_text())
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line())
    pins = [a for r in lab_info.resolve() for a in ("--resolve", r)]
    flags = ["--ssh", f"{sshd.ADMIN_USER}@127.0.0.1:{sshd.SSH_PORT}", "--known-hosts", str(known), "--identity",
             str(sshd.client_key()), "--sudo-user", sshd.MASTODON_USER, "--env-file", str(env),
             "--baseline", str(env.parent / "mastowizard-baseline.json"), "--read-only", *pins,
             "--ca-bundle", lab_info.ca_pem]
    # as Debian's adduser leaves an instance user's home: 0700, closed to the admin who logs in
    mode = env.parent.stat().st_mode & 0o777
    env.parent.chmod(0o700)
    yield env, flags
    env.parent.chmod(mode)
    for name in ("mastowizard-baseline.json", "mastowizard-baseline.json.state", "mastowizard.prom"):
        (env.parent / name).unlink(missing_ok=True)
    sshd.reset_instance()


def run(flags, *more, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_", "MASTODON_"))}
    env["MASTOWIZARD_SUDO_PASSWORD"] = sshd.ADMIN_PASSWORD
    return subprocess.run([sys.executable, "-m", "mastowizard", "watch", *flags, *more], capture_output=True,
                          text=True, env=env, timeout=180, stdin=subprocess.DEVNULL, cwd=cwd)


def test_over_ssh_the_baseline_state_and_metrics_are_the_hosts_and_the_instance_users(remote, tmp_path):
    env, flags = remote
    here = tmp_path / "here"
    here.mkdir()
    owner = pwd.getpwnam(sshd.MASTODON_USER).pw_uid
    p = run(flags, "--save", cwd=here)
    assert p.returncode == 0, p.stdout + p.stderr
    baseline = env.parent / "mastowizard-baseline.json"
    st = os.stat(baseline)
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (owner, 0o600)
    assert sshd.ADMIN_PASSWORD not in baseline.read_text()

    prom = env.parent / "mastowizard.prom"
    p = run(flags, "--metrics", str(prom), cwd=here)
    assert p.returncode == 0 and p.stdout.startswith("watch: ok: "), p.stdout + p.stderr
    for path, mode in ((prom, 0o644), (env.parent / "mastowizard-baseline.json.state", 0o600)):
        st = os.stat(path)
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (owner, mode), path
    assert 'mastowizard_watch_ok{domain="lab.example"} 1' in prom.read_text().splitlines()
    assert os.listdir(here) == [], "nothing is written on this machine"

    p = run(flags, "--metrics", "relative.prom", cwd=here)
    assert p.returncode == 2 and p.stderr.startswith("mastowizard: --metrics: 'relative.prom' is a relative path"), \
        p.stderr
    p = run([f if f != str(env.parent / "mastowizard-baseline.json") else "/nowhere/b.json" for f in flags], cwd=here)
    assert p.returncode == 2 and "--baseline: /nowhere on mw-admin@127.0.0.1:" in p.stderr, p.stderr
    assert "is not a directory (create it, or give a path in one that exists)" in p.stderr
