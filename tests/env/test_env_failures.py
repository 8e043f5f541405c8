"""A malformed file, an unreadable one, one owned by someone else, a read-only directory and a full
disk each give one clear line from the real CLI, and leave everything as it was."""

import contextlib
import io
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from mastowizard import cli

SECRET = "FailureTestSecret/0123456789abcdef"
ENV = {"AWS_ACCESS_KEY_ID": "AKIAFAILTEST", "AWS_SECRET_ACCESS_KEY": SECRET}
ARGS = ["--provider", "aws", "--region", "eu-west-1", "--bucket", "media-fail", "--alias-host", "m.example.com"]
TEXT = "LOCAL_DOMAIN=fail.example\nS3_ENABLED=false\n" + "".join(f"K{i}='v {i}'\n" for i in range(300))


def snapshot(d: Path) -> dict:
    return {p.name: (p.read_bytes() if p.is_file() else None, p.stat().st_mode, p.stat().st_uid)
            for p in sorted(d.iterdir())}


def run_cli(argv, uid=None, gid=None) -> tuple[int, str, str]:
    """The real CLI's main(), in a forked process (optionally as another user), stdin not a tty."""
    r_out, w_out = os.pipe()
    r_err, w_err = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.dup2(w_out, 1)
            os.dup2(w_err, 2)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            if gid is not None:
                os.setgroups([])
                os.setgid(gid)
            if uid is not None:
                os.setuid(uid)
            os.environ.update(ENV)
            sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", closefd=False), write_through=True)
            sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", closefd=False), write_through=True)
            sys.stdin = open(os.devnull)     # noqa: SIM115 - the forked child ends with os._exit
            code = cli.main(argv)
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException as e:  # noqa: BLE001
            os.write(2, f"CHILD CRASH {e!r}".encode())
            code = 99
        os._exit(code)
    os.close(w_out)
    os.close(w_err)
    with os.fdopen(r_out) as o, os.fdopen(r_err) as e:
        out, err = o.read(), e.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out, err


def one_line(code, out, err, *fragments):
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for f in fragments:
        assert f in lines[0], lines[0]
    assert SECRET not in out + err
    return lines[0]


@pytest.fixture(scope="module")
def other_user():
    if os.geteuid() != 0:
        pytest.skip("needs root to act as another user")
    name = "mwtest"
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
    u = pwd.getpwnam(name)
    return u.pw_uid, u.pw_gid


@pytest.fixture
def instance():
    """An instance directory another user can reach (pytest's own tmp dirs are root-only)."""
    base = Path(tempfile.mkdtemp(prefix="mw-failures-", dir="/tmp"))
    base.chmod(0o755)
    d = base / "live"
    d.mkdir()
    f = d / ".env.production"
    f.write_text(TEXT)
    f.chmod(0o600)
    yield d, f
    d.chmod(0o755)
    shutil.rmtree(base)


def test_malformed_file(instance):
    d, f = instance
    f.write_text(TEXT + "S3_BUCKET='unclosed\nAWS_SECRET_ACCESS_KEY=" + SECRET + "\n")
    before = snapshot(d)
    one_line(*run_cli(["apply", "--env-file", str(f), "--yes", *ARGS]), "line 303", "quot")
    assert snapshot(d) == before


def test_unreadable_file(instance, other_user):
    d, f = instance
    os.chown(d, *other_user)        # the directory is theirs, the file root's and 0600
    before = snapshot(d)
    one_line(*run_cli(["plan", "--env-file", str(f), *ARGS], *other_user), "permission denied", "sudo")
    assert snapshot(d) == before


def test_file_owned_by_someone_else(instance, other_user):
    """Readable by us, but it and its directory belong to root: we may not replace it."""
    d, f = instance
    f.chmod(0o644)
    before = snapshot(d)
    code, out, err = run_cli(["apply", "--env-file", str(f), "--yes", *ARGS], *other_user)
    one_line(code, out, err, "belongs to root", "sudo -u root")
    assert snapshot(d) == before


def test_read_only_directory(instance, other_user):
    """The file is ours and writable, the directory is not: no temp file, no backup, no change."""
    d, f = instance
    os.chown(f, *other_user)
    d.chmod(0o555)
    before = snapshot(d)
    one_line(*run_cli(["apply", "--env-file", str(f), "--yes", *ARGS], *other_user),
             "permission denied", "temporary file")
    assert snapshot(d) == before


def test_full_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs")
    d = tmp_path / "full"
    d.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(d)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        f = d / ".env.production"
        f.write_text(TEXT)
        filler = d / "filler"
        with open(filler, "wb", buffering=0) as out, contextlib.suppress(OSError):
            while True:
                out.write(b"\0" * 1024)
                out.flush()
        with contextlib.suppress(OSError):
            os.truncate(filler, os.path.getsize(filler) - 2048)   # 2 KiB free: less than the file
        before = snapshot(d)
        one_line(*run_cli(["apply", "--env-file", str(f), "--yes", *ARGS]), "no space left", "nothing was changed")
        assert snapshot(d) == before
    finally:
        subprocess.run(["umount", str(d)])


def test_no_terminal_and_no_yes_asks_for_yes(instance):
    d, f = instance
    before = snapshot(d)
    one_line(*run_cli(["apply", "--env-file", str(f), *ARGS]), "--yes")
    assert snapshot(d) == before
