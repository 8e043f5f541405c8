"""Switching before the copy: `apply` and `restart`, and the wizard's Write and Restart, say how many
files on disk are not in the bucket yet and what that does, and go ahead only when that count is
typed (never on `y` or a bare --yes). The bucket is a real one (Ceph RGW); the files are counted by
listing it."""

import asyncio
import os
import subprocess
import sys

import pytest
from textual.widgets import Input, Static

from mastowizard.session import Answers, Session
from mastowizard_lab import sshd
from mastowizard_lab.media_tree import make_tree
from screens.app import WizardApp

FILES = 24


@pytest.fixture
def instance(tmp_path):
    live = tmp_path / "live"
    tree = make_tree(live / "public" / "system", FILES, seed=5)
    env = live / ".env.production"
    env.write_text("LOCAL_DOMAIN=example.org\nS3_ENABLED=false\n")
    return env, tree


def flags(bucket, lab_info):
    srv = bucket.server
    return ["--provider", "ceph", "--bucket", bucket.name, "--endpoint", srv.endpoint, "--region", srv.region,
            "--addressing", "path", "--permission", "acl", "--alias-host", bucket.media_https_base.split("://")[1]]


def run(bucket, tmp_path, *args):
    srv = bucket.server
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_"))}
    env.update(AWS_ACCESS_KEY_ID=srv.writer_access_key, AWS_SECRET_ACCESS_KEY=srv.writer_secret_key,
               XDG_STATE_HOME=str(tmp_path / "state"), PATH=f"{sshd.shared() / 'bin'}:{os.environ['PATH']}")
    p = subprocess.run([sys.executable, "-m", "mastowizard", *args], capture_output=True, text=True, env=env,
                       timeout=180, stdin=subprocess.DEVNULL)
    assert "Traceback" not in p.stderr, p.stderr
    return p


def test_apply_refuses_to_switch_until_the_count_is_typed_or_the_media_copied(rgw_bucket, lab_info, instance,
                                                                                 tmp_path):
    env, tree = instance
    before = env.read_bytes()
    settings = flags(rgw_bucket, lab_info)
    p = run(rgw_bucket, tmp_path, "apply", "--env-file", str(env), *settings, "--yes")
    assert p.returncode == 2, p.stdout + p.stderr
    assert f"{len(tree.files)} of {len(tree.files)} file(s) under {env.parent / 'public' / 'system'}" in p.stdout
    assert "answer 404" in p.stdout
    err = p.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mastowizard: --accept-missing-media: ")
    assert f"give --accept-missing-media {len(tree.files)}" in err[0], err
    assert env.read_bytes() == before and not list(env.parent.glob(".env.production.*"))

    p = run(rgw_bucket, tmp_path, "apply", "--env-file", str(env), *settings, "--yes",
            "--accept-missing-media", str(len(tree.files) - 1))           # not the count shown
    assert p.returncode == 2 and "--accept-missing-media" in p.stderr
    assert env.read_bytes() == before

    # copy all but one file: the count drops to one, and names it
    one = tree.files[-1]
    kept = (env.parent / "public" / "system" / one).read_bytes()
    os.unlink(env.parent / "public" / "system" / one)
    p = run(rgw_bucket, tmp_path, "migrate", "--env-file", str(env), *settings, "--yes", "--verify", "none",
            "--ca-bundle", lab_info.ca_pem, *[a for r in lab_info.resolve() for a in ("--resolve", r)])
    assert p.returncode == 0, p.stdout + p.stderr
    (env.parent / "public" / "system" / one).write_bytes(kept)
    p = run(rgw_bucket, tmp_path, "apply", "--env-file", str(env), *settings, "--yes", "--json")
    assert p.returncode == 2 and "--accept-missing-media 1 " in p.stderr, p.stderr
    assert env.read_bytes() == before

    p = run(rgw_bucket, tmp_path, "apply", "--env-file", str(env), *settings, "--yes", "--json",
            "--accept-missing-media", "1")
    assert p.returncode == 0, p.stdout + p.stderr
    assert '"missing": 1' in p.stdout and one in p.stdout
    assert b"S3_ENABLED=true" in env.read_bytes()

    # restart: the env file now stores media in S3 and one file is still only on disk
    calls = sshd.shared() / "calls.log"
    sshd.start()
    seen = calls.read_text()
    p = run(rgw_bucket, tmp_path, "restart", "--env-file", str(env), "--systemd")
    assert p.returncode == 2, p.stdout + p.stderr
    assert "warning: 1 of" in p.stdout and "--accept-missing-media 1" in p.stderr
    new = calls.read_text()[len(seen):]
    assert "systemctl restart" not in new, f"nothing may be restarted before the count is typed: {new}"


def test_apply_says_nothing_is_missing_once_everything_is_copied(rgw_bucket, lab_info, instance, tmp_path):
    env, tree = instance
    settings = flags(rgw_bucket, lab_info)
    p = run(rgw_bucket, tmp_path, "migrate", "--env-file", str(env), *settings, "--yes", "--verify", "none")
    assert p.returncode == 0, p.stdout + p.stderr
    p = run(rgw_bucket, tmp_path, "apply", "--env-file", str(env), *settings, "--yes")
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"media: all {len(tree.files)} file(s) under" in p.stdout


class AtStep(WizardApp):
    first = "review"

    def start(self, step: str = "target") -> None:
        super().start(self.first)


def test_the_wizard_asks_for_the_count_before_writing_and_restarting(rgw_bucket, lab_info, instance, tmp_path,
                                                                     monkeypatch):
    env, tree = instance
    before = env.read_bytes()
    srv = rgw_bucket.server
    sshd.start()
    monkeypatch.setenv("PATH", f"{sshd.shared() / 'bin'}:{os.environ['PATH']}")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    session = Session(Answers(env_file=str(env), provider="ceph", bucket=rgw_bucket.name, region=srv.region,
                              endpoint=srv.endpoint, addressing="path", permission="acl",
                              alias_host=rgw_bucket.media_https_base.split("://")[1],
                              access_key_id=srv.writer_access_key, resolve=lab_info.resolve(),
                              ca_bundle=lab_info.ca_pem))
    from mastowizard.secrets import Secret
    session.secret_access_key = Secret(srv.writer_secret_key)
    session.connect()
    session.read_instance()
    app = AtStep(session, save_profile=False)
    n = len(tree.files)

    async def drive():
        async with app.run_test(size=(80, 24)) as pilot:
            async def settle():
                await pilot.pause()
                await app.workers.wait_for_complete()
                await pilot.pause()

            def shown(selector="#what"):
                return str(app.screen.query_one(selector, Static).render())
            await settle()
            app.screen.query_one("#write").press()
            await settle()
            assert app.screen.__class__.__name__ == "ConfirmScreen", app.screen
            assert f"{n} of {n} file(s)" in shown() and "answer 404" in shown()
            assert f"type {n}" in str(app.screen.query_one("#typed-row Label").render())
            await pilot.press("y")                       # one key is not enough
            await settle()
            assert app.screen.__class__.__name__ == "ConfirmScreen"
            assert f"type {n} exactly" in shown("#refused")
            app.screen.query_one("#typed", Input).value = str(n + 1)
            app.screen.query_one("#yes").press()
            await settle()
            assert app.screen.__class__.__name__ == "ConfirmScreen" and env.read_bytes() == before
            app.screen.query_one("#alternative").press()          # Copy media first
            await settle()
            assert app.screen.STEP == "copymedia"
            assert env.read_bytes() == before
            app.screen.query_one("#copy").press()
            await settle()
            assert "every file is in the bucket and verified" in shown("#status")
            # back to Review: the copy is complete, so Write asks the usual question
            app.goto("review")
            await settle()
            # one file arrives after the copy: Write names it and asks for 1
            extra = env.parent / "public" / "system" / "accounts" / "avatars" / "late.png"
            extra.parent.mkdir(parents=True, exist_ok=True)
            extra.write_bytes(b"\x89PNG late")
            app.screen.query_one("#write").press()
            await settle()
            assert f"1 of {n + 1} file(s)" in shown() and "late.png" in shown()
            assert app.focused.id == "alternative"          # the safe way has the focus
            await pilot.press("tab", "tab")                    # past Cancel, the count field: type it, enter
            assert app.focused.id == "typed", app.focused
            await pilot.press("1", "enter")
            await settle()
            assert "backup:" in shown("#status"), shown("#status")
            assert b"S3_ENABLED=true" in env.read_bytes()
            # Restart: the same, and Esc cancels with nothing restarted
            app.goto("restart")
            await settle()
            calls = (sshd.shared() / "calls.log").read_text()
            app.screen.query_one("#restart").press()
            await settle()
            assert app.screen.__class__.__name__ == "ConfirmScreen"
            assert "Restart before the media is copied?" in str(app.screen.query_one(".title").render())
            assert f"1 of {n + 1} file(s)" in shown()
            await pilot.press("escape")
            await settle()
            assert "not restarted" in shown("#status")
            # "Copy them first" copies the late file; then Restart asks only y
            app.screen.query_one("#restart").press()
            await settle()
            app.screen.query_one("#alternative").press()
            await settle()
            app.screen.query_one("#restart").press()
            await settle()
            assert "Restart Mastodon?" in str(app.screen.query_one(".title").render())
            assert f"all {n + 1} file(s)" in shown()
            await pilot.press("n")
            await settle()
            new = (sshd.shared() / "calls.log").read_text()[len(calls):]
            assert "systemctl restart" not in new, new
    asyncio.run(drive())


def test_a_switch_to_another_bucket_says_which_objects_it_leaves_behind(rgw_bucket, ministack_bucket, lab_info,
                                                                       tmp_path):
    """From one bucket to another (no media on disk): `apply` lists both and refuses on --yes alone
    while objects of the old bucket are not in the new one, names the count to type, and writes
    nothing; `restart` afterwards measures the same gap from the backup `apply` made."""
    from helpers.migrate import env_file

    from mastowizard.host.local import LocalHost
    from mastowizard.migrate.gap import gap_before_restart
    old, new = rgw_bucket, ministack_bucket
    env = env_file(tmp_path, old, "acl")
    for i in range(3):
        old.admin_client.put_object(Bucket=old.name, Key=f"media_attachments/files/{i}/original/{i}.png", Body=b"x")
    new.admin_client.put_object(Bucket=new.name, Key="media_attachments/files/0/original/0.png", Body=b"x")
    srv = new.server
    to_new = ["apply", "--env-file", str(env), "--provider", "other", "--bucket", new.name, "--endpoint", srv.endpoint,
              "--region", srv.region, "--addressing", "path", "--permission", "acl", "--yes"]
    before = env.read_bytes()
    p = run(new, tmp_path, *to_new)
    assert p.returncode == 2 and "2 of 3 object(s) of bucket" in p.stdout and "--accept-missing-media 2" in p.stderr, \
        (p.stdout, p.stderr)
    assert env.read_bytes() == before                                  # nothing written
    p = run(new, tmp_path, *to_new, "--accept-missing-media", "2")
    assert p.returncode == 0, p.stderr
    gap = gap_before_restart(LocalHost(), str(env))
    assert gap is not None and gap.kind == "bucket" and (gap.files, gap.missing) == (3, 2), gap
