"""SIGKILL the writer at many random points during apply: the env file is always the whole old
file or the whole new one, and the backup is intact."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from mastowizard.env.apply import apply_plan
from mastowizard.env.plan import EnvFile, make_plan
from mastowizard.host.local import LocalHost
from mastowizard.settings import Settings

CHILD = r"""
import os, sys, time
from mastowizard.env.apply import apply_plan
from mastowizard.env.plan import EnvFile, make_plan
from mastowizard.host.local import LocalHost
from mastowizard.settings import Settings

s = Settings.build(bucket="media-kill", provider="wasabi", region="eu-central-1", alias_host="m.example.com")
s = s.with_credentials("AKIAKILLTEST", "kill/test+secret0123456789")
plan = make_plan(EnvFile.read(LocalHost(), sys.argv[1]), s)
# Slow the real system calls down (small writes, pauses) so a kill can land anywhere inside them.
real_write, real_fsync, real_rename, real_link = os.write, os.fsync, os.rename, os.link
def write(fd, data):
    time.sleep(0.0004)
    return real_write(fd, bytes(data[:512]))
def pause(fn):
    def run(*a, **k):
        time.sleep(0.003)
        r = fn(*a, **k)
        time.sleep(0.003)
        return r
    return run
os.write, os.fsync, os.rename, os.link = write, pause(real_fsync), pause(real_rename), pause(real_link)
print("ready", flush=True)
sys.stdin.readline()
apply_plan(plan)
print("done", flush=True)
"""


def original_text() -> bytes:
    lines = ["# a production env file\n", "LOCAL_DOMAIN=kill.example\n", "S3_ENABLED=false\n"]
    lines += [f"SETTING_{i}='value number {i}'\n" for i in range(400)]
    return "".join(lines).encode()


def expected_new(tmp: Path, old: bytes) -> bytes:
    f = tmp / "reference.env"
    f.write_bytes(old)
    s = Settings.build(bucket="media-kill", provider="wasabi", region="eu-central-1", alias_host="m.example.com")
    s = s.with_credentials("AKIAKILLTEST", "kill/test+secret0123456789")
    return make_plan(EnvFile.read(LocalHost(), str(f)), s).new_bytes


def start_child(path: Path) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    assert p.stdout.readline() == b"ready\n", p.stderr.read()
    return p


def test_sigkill_during_apply_never_leaves_a_half_file(tmp_path):
    old = original_text()
    new = expected_new(tmp_path, old)
    # How long one apply takes in the slowed child.
    d = tmp_path / "timing"
    d.mkdir()
    (d / ".env.production").write_bytes(old)
    p = start_child(d / ".env.production")
    t0 = time.monotonic()
    p.stdin.write(b"go\n")
    p.stdin.flush()
    assert p.stdout.readline() == b"done\n"
    window = time.monotonic() - t0
    p.wait(10)
    assert (d / ".env.production").read_bytes() == new

    rng = random.Random(20261125)
    seen = {"old": 0, "new": 0}
    for i in range(40):
        d = tmp_path / f"run{i}"
        d.mkdir()
        env = d / ".env.production"
        env.write_bytes(old)
        env.chmod(0o600)
        p = start_child(env)
        p.stdin.write(b"go\n")
        p.stdin.flush()
        time.sleep(rng.uniform(0, window * 1.1))
        p.send_signal(signal.SIGKILL)
        p.wait(10)
        state = env.read_bytes()
        assert state in (old, new), f"run {i}: the env file is neither the old nor the new one"
        seen["old" if state == old else "new"] += 1
        for backup in d.glob(".env.production.before-s3*"):
            assert backup.read_bytes() == old, f"run {i}: {backup.name} is not the old file"
        assert (env.stat().st_mode & 0o777) == 0o600
        if state == new:
            assert list(d.glob(".env.production.before-s3*")), "new file without a backup"
        # The next apply finishes the job and clears a killed write's temp file.
        s = Settings.build(bucket="media-kill", provider="wasabi", region="eu-central-1",
                           alias_host="m.example.com").with_credentials("AKIAKILLTEST", "kill/test+secret0123456789")
        apply_plan(make_plan(EnvFile.read(LocalHost(), str(env)), s))
        assert env.read_bytes() == new
        assert not [f for f in os.listdir(d) if f.endswith(".tmp")]
        assert next(d.glob(".env.production.before-s3*")).read_bytes() == old
    assert seen["old"] and seen["new"], seen   # the kills landed before and after the rename
