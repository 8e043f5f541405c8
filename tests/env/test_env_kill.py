"""SIGKILL the writer before each disk call apply makes: the env file is always the whole old file
or the whole new one, and the backup is intact."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from mastowizard.env.apply import apply_plan
from mastowizard.env.plan import EnvFile, make_plan
from mastowizard.host.local import LocalHost
from mastowizard.settings import Settings

CHILD = r"""
import os, signal, sys
from mastowizard.env.apply import apply_plan
from mastowizard.env.plan import EnvFile, make_plan
from mastowizard.host.local import LocalHost
from mastowizard.settings import Settings

s = Settings.build(bucket="media-kill", provider="wasabi", region="eu-central-1", alias_host="m.example.com")
s = s.with_credentials("AKIAKILLTEST", "kill/test+secret0123456789")
plan = make_plan(EnvFile.read(LocalHost(), sys.argv[1]), s)
# Every system call that changes the disk is counted, and the process SIGKILLs itself just before
# call number KILL_AT (0: never): every point between two of them is reached, whatever the speed.
# Writes go in 4 KiB pieces, so a file can be cut between them.
KILL_AT, calls = int(sys.argv[2]), [0]
def counted(fn):
    def run(*a, **k):
        calls[0] += 1
        if calls[0] == KILL_AT:
            os.kill(os.getpid(), signal.SIGKILL)
        return fn(*a, **k)
    return run
real_write = os.write
os.write = counted(lambda fd, data: real_write(fd, bytes(data[:4096])))
for name in ("fsync", "rename", "link", "unlink", "fchmod", "fchown", "close"):
    setattr(os, name, counted(getattr(os, name)))
apply_plan(plan)
print(calls[0], flush=True)
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


def run_child(path: Path, kill_at: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHILD, str(path), str(kill_at)], capture_output=True, text=True,
                          timeout=60)


def test_sigkill_during_apply_never_leaves_a_half_file(tmp_path):
    """Killed before each of the disk calls apply makes, in turn (not at random times): the env file
    is the old one or the new one, never anything else."""
    old = original_text()
    new = expected_new(tmp_path, old)
    d = tmp_path / "count"
    d.mkdir()
    (d / ".env.production").write_bytes(old)
    p = run_child(d / ".env.production", 0)
    assert p.returncode == 0, p.stderr
    calls = int(p.stdout)
    assert (d / ".env.production").read_bytes() == new and calls > 6, calls

    seen = {"old": 0, "new": 0}
    for i in range(1, calls + 1):
        d = tmp_path / f"run{i}"
        d.mkdir()
        env = d / ".env.production"
        env.write_bytes(old)
        env.chmod(0o600)
        p = run_child(env, i)
        assert p.returncode == -signal.SIGKILL, (i, p.returncode, p.stderr)
        state = env.read_bytes()
        assert state in (old, new), f"killed before call {i}: the env file is neither the old nor the new one"
        seen["old" if state == old else "new"] += 1
        for backup in d.glob(".env.production.before-s3*"):
            assert backup.read_bytes() == old, f"killed before call {i}: {backup.name} is not the old file"
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
