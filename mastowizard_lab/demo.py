"""The demo lab: everything a newcomer needs to walk the wizard's whole path on one machine.

Starts Ceph RGW, nginx and the SSH lab's instance (`/var/lib/mastowizard-lab/instance/live`, with
some existing media on disk and the systemctl stand-in that restarts the Mastodon stand-in on
127.0.0.1:17030), creates a demo bucket served at https://demo-media.rgw.media.test:17443, and
returns a wizard session prefilled with it, the lab's throwaway credentials included (held as
secrets: the wizard shows them masked).
"""

from __future__ import annotations

import json
import os
import pwd
import time

from . import buckets, install, nginx, rgw, sshd
from .config import NGINX_HTTPS_PORT

BUCKET = "demo-media"
TOKEN = "demo-token-write-media"
PARTS = ("rgw", "nginx", "sshd")


def _timed(say, label: str, start):
    t = time.monotonic()
    result = start()
    say(f"  {label}: running ({time.monotonic() - t:.0f}s)")
    return result


def prepare(say=print):
    """Install and start what the demo needs (a line each), and the wizard's session for it."""
    from mastowizard.s3.credential import Credential
    from mastowizard.secrets import Secret
    from mastowizard.session import Answers, Session

    if os.geteuid() != 0:
        raise RuntimeError("the demo lab needs root (it installs Debian packages and creates two local users): "
                           "run it with sudo")
    install(PARTS, say)
    say("lab: starting on 127.0.0.1")
    srv = _timed(say, "Ceph RGW, the S3 API (:17480)", rgw.start)
    _timed(say, f"nginx, the media host (https://{nginx.media_host('rgw', BUCKET)}:{NGINX_HTTPS_PORT})", nginx.start)
    _timed(say, f"sshd with a Mastodon instance (:{sshd.SSH_PORT}, {sshd.env_file().parent})", sshd.start)
    try:
        buckets.create_bucket(srv, BUCKET)
    except Exception:  # noqa: BLE001 - it exists from an earlier demo
        pass
    env = sshd.env_file()
    if "S3_ENABLED=true" not in env.read_text():
        env.write_text("# demo instance\nLOCAL_DOMAIN=demo.example\nS3_ENABLED=false\n"
                       "SECRET_KEY_BASE=demosecretkeybase0123456789abcdef0123456789\n")
    system = env.parent / "public" / "system"
    marker = env.parent / ".mastowizard-demo-media"
    if not marker.exists():   # media from before the move: every kind, some private
        from .media_tree import make_tree
        make_tree(system, 300, seed=42)
        marker.write_text("made by mastowizard's demo\n")
    m = pwd.getpwnam(sshd.MASTODON_USER)
    for root, dirs, files in os.walk(env.parent):
        for name in dirs + files:
            os.chown(os.path.join(root, name), m.pw_uid, m.pw_gid)
    os.chown(env, m.pw_uid, m.pw_gid)
    (sshd.shared() / "state" / "lab.json").write_text(json.dumps({"tokens": {TOKEN: "read write"}}))
    os.environ["PATH"] = f"{sshd.shared() / 'bin'}:{os.environ.get('PATH', '')}"
    answers = Answers(env_file=str(env), provider="ceph", bucket=BUCKET, endpoint=srv.endpoint, region=srv.region,
                      alias_host=f"{nginx.media_host('rgw', BUCKET)}:{NGINX_HTTPS_PORT}", protocol="https",
                      access_key_id=srv.writer_access_key, instance=f"http://127.0.0.1:{sshd.MASTODON_PORT}",
                      resolve=[f"*.media.test:{NGINX_HTTPS_PORT}:127.0.0.1"], ca_bundle=str(nginx.ca_pem()))
    return Session(answers, secret_access_key=Secret(srv.writer_secret_key),
                   admin=Credential(srv.admin_access_key, Secret(srv.admin_secret_key)),
                   admin_from="the demo lab's admin key", token=Secret(TOKEN))


def smoke(say=print) -> bool:
    """The demo without a terminal: every wizard step through the same session the screens use, to a
    green checklist, then the env file rolled back so the next demo starts on local disk again."""
    session = prepare(say)
    steps = [
        ("Target", lambda: session.connect() and session.read_instance() and "read the instance"),
        # a new bucket has no CORS yet: the probes say so, and the Permission step sets it up
        ("Provider", lambda: _verdict(session.probe(), informational=True)),
        ("Permission", lambda: _verdict(session.setup_bucket())),
        ("Media host", lambda: _verdict([session.media_host()[0]])),
        ("Copy media", lambda: _copied(session.copy_media())),
        ("Review", lambda: session.make_plan() and f"backup {session.apply()}"),
        ("Restart", lambda: _verdict(session.restart().checks)),
        ("Verify", lambda: _verdict(session.verify())),
    ]
    ok = True
    for name, run in steps:
        try:
            said = run()
        except Exception as e:  # noqa: BLE001 - the step's own one-line message
            said = f"failed: {e}"
        ok = ok and not said.startswith("failed")
        say(f"  {name}: {said}")
        if not ok:
            break
    if session.backup:
        session.rollback()
        say("  the env file is rolled back: the next demo starts on local disk again")
    return ok


def _copied(report) -> str:
    copy = report.copy
    if not report.complete:
        return f"failed: {len(copy.failed)} failed, {copy.aborted or 'verification failed'}"
    return f"copied {copy.copied}, {copy.skipped} already there, verified"


def _verdict(checks, informational: bool = False) -> str:
    bad = [c for c in checks if c.status == "fail"]
    if bad and informational:
        return f"{len(checks)} probes, {len(bad)} to fix: " + ", ".join(c.id for c in bad)
    if bad:
        return "failed: " + "; ".join(f"{c.id}: {c.detail}" for c in bad[:3])
    return f"{len(checks)} checks, none failed"


def down(say=print) -> None:
    """Stop the lab and remove what it left on the machine (its users, sudoers file, state)."""
    from .clean import clean
    removed = clean()
    say(f"lab: stopped and removed {len(removed)} item(s); Debian packages and MiniStack's venv stay")
