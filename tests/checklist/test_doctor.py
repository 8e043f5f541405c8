"""`mastowizard doctor` over SSH: the checklist, the service logs read with journalctl through sudo,
and a diagnosis that names the known errors with cause and fix."""

import json
import os
import subprocess
import sys

import pytest

from mastowizard_lab import sshd


@pytest.fixture
def lab_sshd(tmp_path):
    sshd.start()
    sshd.reset_instance("LOCAL_DOMAIN=lab.example\nS3_ENABLED=false\n")
    failed = sshd.shared() / "state" / "failed-mastodon-sidekiq"
    failed.write_text(
        "E, [2026-11-25T03:00:00] ERROR -- : Aws::S3::Errors::AccessControlListNotSupported: "
        "The bucket does not allow ACLs\n"
        "E, [2026-11-25T03:00:05] ERROR -- : Aws::S3::Errors::AccessControlListNotSupported: "
        "The bucket does not allow ACLs\n"
        "E, [2026-11-25T03:00:09] ERROR -- : Seahorse::Client::NetworkingError: Failed to open TCP connection\n")
    kh = tmp_path / "kh"
    kh.write_text(sshd.known_hosts_line())
    yield kh
    failed.unlink()


def test_doctor_reads_the_logs_and_explains(lab_sshd):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MASTOWIZARD_", "MASTODON_", "AWS_"))}
    env["MASTOWIZARD_SUDO_PASSWORD"] = sshd.ADMIN_PASSWORD
    p = subprocess.run([sys.executable, "-m", "mastowizard", "doctor", "--json", "--ssh",
                        f"{sshd.ADMIN_USER}@127.0.0.1:{sshd.SSH_PORT}", "--identity", str(sshd.client_key()),
                        "--known-hosts", str(lab_sshd), "--sudo-user", sshd.MASTODON_USER],
                       capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120)
    assert p.returncode == 1, p.stderr
    doc = json.loads(p.stdout)
    diagnosis = doc["diagnosis"]
    logs = [d for d in diagnosis if "log" in d]
    assert [(d["entry"], d["log"], d["count"]) for d in logs] == [
        ("acl-not-supported", "mastodon-sidekiq", 2), ("network", "mastodon-sidekiq", 1)]
    assert "ObjectWriter" in logs[0]["fix"] and logs[0]["doc"] == "docs/troubleshooting.md#acl-not-supported"
    settings = next(d for d in diagnosis if d.get("check") == "settings")
    assert settings["entry"] == "not-switched"     # the env file keeps media on disk: not a missed restart
    assert sshd.ADMIN_PASSWORD not in p.stdout + p.stderr
    # the human form says the same
    p = subprocess.run([sys.executable, "-m", "mastowizard", "doctor", "--ssh",
                        f"{sshd.ADMIN_USER}@127.0.0.1:{sshd.SSH_PORT}", "--identity", str(sshd.client_key()),
                        "--known-hosts", str(lab_sshd), "--sudo-user", sshd.MASTODON_USER],
                       capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120)
    assert "diagnosis:" in p.stdout and "- AccessControlListNotSupported (mastodon-sidekiq log, 2 line(s))" in p.stdout
