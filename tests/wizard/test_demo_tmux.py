"""The demo in a real terminal: tmux runs `mastowizard demo`, keys are sent with send-keys, the screen
is read with capture-pane, step by step to a green checklist."""

import os
import pwd
import re
import shutil
import subprocess
import sys
import time

import pytest

from mastowizard_lab import buckets, rgw, sshd
from mastowizard_lab.demo import BUCKET

pytestmark = pytest.mark.lab
SESSION = "mw-demo-test"
SERVER = f"mw-test-{os.getpid()}"       # a tmux server of its own: no other session, no user's tmux.conf


def tmux(*args) -> str:
    return subprocess.run(["tmux", "-L", SERVER, "-f", "/dev/null", *args], capture_output=True, text=True,
                          timeout=30).stdout


def screen() -> str:
    return tmux("capture-pane", "-p", "-t", f"={SESSION}:")


def wait_for(text: str | tuple, timeout: float = 60) -> str:
    texts = text if isinstance(text, tuple) else (text,)
    deadline = time.monotonic() + timeout
    shown = ""
    while time.monotonic() < deadline:
        shown = screen()
        if any(t in shown for t in texts):
            return shown
        time.sleep(0.05)                # capture-pane is cheap: look often, not 0.3 s late each step
    raise AssertionError(f"{text!r} never appeared; the screen was:\n{shown}")


def key(*keys: str) -> None:
    tmux("send-keys", "-t", f"={SESSION}:", *keys)


@pytest.fixture
def fresh_demo():
    if not shutil.which("tmux"):
        from mastowizard_lab import procs
        procs.ensure_debian(["tmux"], ["tmux"])
    srv = rgw.start()
    buckets.empty_and_delete_bucket(srv, BUCKET)
    sshd.start()
    env = sshd.env_file()
    env.write_text("LOCAL_DOMAIN=demo.example\nS3_ENABLED=false\n")
    # the instance directory is shared with other tests: the demo makes its own media anew
    shutil.rmtree(env.parent / "public" / "system", ignore_errors=True)
    (env.parent / ".mastowizard-demo-media").unlink(missing_ok=True)
    m = pwd.getpwnam(sshd.MASTODON_USER)
    os.chown(env, m.pw_uid, m.pw_gid)
    tmux("kill-server")
    yield env
    tmux("kill-server")
    env.write_text("LOCAL_DOMAIN=demo.example\nS3_ENABLED=false\n")


def test_demo_walks_to_a_green_checklist(fresh_demo):
    cmd = f"cd {os.getcwd()} && {sys.executable} -m screens.launch demo"
    tmux("new-session", "-d", "-s", SESSION, "-x", "120", "-y", "45", cmd)
    wait_for("1 Target", 120)
    # a fresh bucket has no CORS yet: the provider step's probes say so, the permission step fixes it
    # each step: what shows when it is ready for ctrl+r (its title is not enough: the step bar names
    # every step at 120 columns, and a step may still be reading), then what shows when it is done
    steps = [("Target", "Where does Mastodon run?", "media storage: local disk"),
             ("Provider", "Provider, bucket and the writer key", ("every probe passed", "probe(s) failed")),
             ("Permission", "How is media made public?", "the bucket is set up for this mode"),
             ("Media host", "Public media host", "media host pass"),
             ("Copy media", "files on disk: ctrl+r copies them", "every file is in the bucket and verified"),
             ("Review", "(planned)", "backup:"),
             ("Restart", "Restart Mastodon so it reads the new env file", "Mastodon is back and healthy"),
             ("Verify", "Verify from the outside", "every check passed")]
    for name, ready, done in steps:
        wait_for(ready, 60)
        if name == "Copy media":
            # an admin who skips the copy: Write names the files not in the bucket, `y` does nothing,
            # and the safe way (Copy media first, focused) leads back here
            key("C-n")
            wait_for("(planned)", 60)
            key("C-r")
            shown = wait_for("Switch before the media is copied?", 60)
            assert "are NOT in bucket" in shown, shown
            count = re.search(r"To go ahead anyway, type (\d+):", shown)
            assert count and f"{count[1]} of {count[1]} file(s)" in shown.replace("\n", " "), shown
            key("y")
            wait_for(f"type {count[1]} exactly", 30)
            assert "S3_ENABLED=false" in fresh_demo.read_text()
            key("Enter")                           # Copy media first
            wait_for(ready, 60)
        key("C-r")
        if name in ("Permission", "Review", "Restart"):   # changes ask first, saying what will happen
            wait_for("(y)", 60)
            key("y")
        wait_for(done, 120)
        key("C-n")
    wait_for("What this run did", 60)
    final = screen()                              # the summary: what changed, and the checklist green
    assert "backup:" in final and "every check passed" in final, final
    assert "S3_ENABLED=true" in fresh_demo.read_text() and f"S3_BUCKET={BUCKET}" in fresh_demo.read_text()
    key("C-q")
