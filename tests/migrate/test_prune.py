"""`mastowizard prune-cache`: Mastodon's `tootctl media remove --days N` run on the lab's Mastodon
host (sshd, a real instance directory; bin/tootctl is the lab's stand-in, which deletes cached
remote attachments older than N days by mtime) as the install needs, only when confirmed."""

import json
import os
import pwd
import subprocess
import sys
import time

import pytest

from mastowizard_lab import sshd

OLD = "cache/media_attachments/files/110/000/000/000/000/001/original/old.jpg"
NEW = "cache/media_attachments/files/110/000/000/000/000/002/original/new.jpg"
LOCAL = "media_attachments/files/109/000/000/000/000/003/original/ours.jpg"


@pytest.fixture
def cache_tree():
    sshd.start()
    system = sshd.instance_dir() / "live" / "public" / "system"
    m = pwd.getpwnam(sshd.MASTODON_USER)
    made = []
    for rel, age_days in ((OLD, 30), (NEW, 1), (LOCAL, 30)):
        p = system / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"\xff\xd8" + rel.encode())
        t = time.time() - age_days * 86400
        os.utime(p, (t, t))
        made.append(p)
        d = p
        while d != system:
            os.chown(d, m.pw_uid, m.pw_gid)
            d = d.parent
    yield system
    for p in made:
        p.unlink(missing_ok=True)
    for top in ("cache", "media_attachments"):
        subprocess.run(["find", str(system / top), "-depth", "-type", "d", "-empty", "-delete"], check=False)


def prune(tmp_path, user, *extra, stdin=subprocess.DEVNULL):
    kh = tmp_path / "known_hosts"
    kh.write_text(sshd.known_hosts_line())
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTOWIZARD_")}
    env["MASTOWIZARD_SUDO_PASSWORD"] = sshd.ADMIN_PASSWORD
    argv = [sys.executable, "-m", "mastowizard", "prune-cache", "--ssh", f"{user}@127.0.0.1:{sshd.SSH_PORT}",
            "--identity", str(sshd.client_key()), "--known-hosts", str(kh),
            "--env-file", str(sshd.env_file()), *extra]
    p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, stdin=stdin, check=False)
    assert "Traceback" not in p.stderr, p.stderr
    return p


def calls() -> list[str]:
    return (sshd.shared() / "calls.log").read_text().splitlines()


def test_a_source_install_runs_tootctl_as_the_instance_user_in_its_live_directory(cache_tree, tmp_path):
    before = len(calls())
    p = prune(tmp_path, sshd.MASTODON_USER, "--systemd", "--days", "7", "--yes", "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["ok"] and "Removed 1 media attachments" in " ".join(doc["output"])
    assert not (cache_tree / OLD).exists() and (cache_tree / NEW).exists() and (cache_tree / LOCAL).exists()
    live = sshd.env_file().parent
    assert [c for c in calls()[before:] if " tootctl " in c] == [
        f"{sshd.MASTODON_USER} tootctl RAILS_ENV=production cwd={live} media remove --days 7"]


def test_the_cache_size_shown_is_under_paperclip_root_path(cache_tree, tmp_path):
    env = sshd.env_file()
    saved = env.read_bytes()
    try:
        p = prune(tmp_path, sshd.MASTODON_USER, "--systemd", "--yes", "--json")
        assert json.loads(p.stdout)["cache_bytes_before"] > 0
        env.write_bytes(saved + b"\nPAPERCLIP_ROOT_PATH=:rails_root/elsewhere/system\n")
        p = prune(tmp_path, sshd.MASTODON_USER, "--systemd", "--yes", "--json")
        assert json.loads(p.stdout)["cache_bytes_before"] is None, p.stdout      # nothing under elsewhere/
    finally:
        env.write_bytes(saved)


def test_an_admin_login_runs_it_through_sudo_as_the_instance_user(cache_tree, tmp_path):
    before = len(calls())
    p = prune(tmp_path, sshd.ADMIN_USER, "--systemd", "--days", "14", "--yes")
    assert p.returncode == 0, p.stderr
    assert "(as mw-mastodon)" in p.stdout and "Removed 1 media attachments" in p.stdout
    assert sshd.ADMIN_PASSWORD not in p.stdout + p.stderr
    assert not (cache_tree / OLD).exists() and (cache_tree / NEW).exists()
    assert calls()[before:][-1].startswith(f"{sshd.MASTODON_USER} tootctl RAILS_ENV=production")


def test_a_compose_install_runs_it_in_a_one_off_web_container(cache_tree, tmp_path):
    compose = sshd.env_file().parent / "docker-compose.yml"
    compose.write_text("services:\n  web:\n    image: mastodon\n  sidekiq:\n    image: mastodon\n")
    try:
        before = len(calls())
        p = prune(tmp_path, sshd.ADMIN_USER, "--compose", str(compose.parent), "--yes")
        assert p.returncode == 0, p.stderr
        assert f"docker compose -f {compose} run --rm web bin/tootctl media remove --days 7" in p.stdout
        assert any(c.startswith("root docker compose -f ") and " run --rm web bin/tootctl media remove --days 7" in c
                   for c in calls()[before:])
        assert not (cache_tree / OLD).exists() and (cache_tree / NEW).exists()
    finally:
        compose.unlink()


def test_nothing_runs_without_a_confirmation_and_bad_days_are_one_line(cache_tree, tmp_path):
    before = len(calls())
    p = prune(tmp_path, sshd.MASTODON_USER, "--systemd")
    assert p.returncode == 2 and "--yes" in p.stderr and "tootctl" in p.stderr
    p = prune(tmp_path, sshd.MASTODON_USER, "--systemd", "--days", "seven", "--yes")
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "--days" in p.stderr
    assert (cache_tree / OLD).exists() and not any("tootctl" in c for c in calls()[before:])


def test_the_wizard_offers_it_before_the_copy_and_runs_it_only_on_a_second_press(cache_tree, tmp_path):
    """Copy media step, over SSH as an admin (tootctl goes through sudo as the instance user): the
    first press shows the exact command and where it runs, changing the days asks again, only the
    press after that runs it; the inventory is read again afterwards."""
    import asyncio

    from textual.widgets import Button, Input, Static

    from mastowizard.secrets import Secret
    from mastowizard.session import Answers, Session
    from screens.app import WizardApp

    kh = tmp_path / "known_hosts"
    kh.write_text(sshd.known_hosts_line())
    answers = Answers(target="ssh", ssh=f"{sshd.ADMIN_USER}@127.0.0.1:{sshd.SSH_PORT}", known_hosts=str(kh),
                      sudo_user=sshd.MASTODON_USER,
                      identity=str(sshd.client_key()), env_file=str(sshd.env_file()), provider="ceph",
                      bucket="prune-test", endpoint="http://127.0.0.1:9", addressing="path")
    session = Session(answers)
    session.sudo_password = Secret(sshd.ADMIN_PASSWORD)
    session.connect()
    session.read_instance()

    class AtCopyMedia(WizardApp):
        def start(self, step: str = "target") -> None:
            super().start("copymedia")

    def tootctl_calls(before):
        return [c for c in calls()[before:] if " tootctl " in c]

    async def drive():
        app = AtCopyMedia(session, save_profile=False)
        async with app.run_test(size=(80, 24)) as pilot:
            async def settle():
                await pilot.pause()
                await app.workers.wait_for_complete()
                await pilot.pause()

            def text(sel):
                return str(app.screen.query_one(sel, Static).render())

            async def press_prune():
                app.screen.query_one("#prune", Button).press()
                await settle()
            await settle()
            assert not app.screen.query_one("#prune-box").has_class("hidden")
            assert "cache/ holds" in text("#prune-about"), text("#prune-about")
            before = len(calls())
            await press_prune()
            assert "press the button again" in text("#status"), text("#status")
            button = app.screen.query_one("#prune", Button)       # its label is read whole at 80 columns
            assert str(button.label) == "Run tootctl (--days 7)" and button.size.width >= len(str(button.label))
            shown = text("#pruned")
            assert "tootctl media remove --days 7" in shown and "(as mw-mastodon)" in shown, shown
            app.screen.query_one("#days", Input).value = "10"
            await pilot.pause()
            assert str(app.screen.query_one("#prune", Button).label) == "Remove old cached media"
            await press_prune()                      # the new days are shown, not run
            assert "--days 10" in text("#pruned") and not tootctl_calls(before)
            assert (cache_tree / OLD).exists()
            await press_prune()
            assert "Removed 1 media attachments" in text("#pruned"), text("#pruned")
            assert [c.split(" media remove ")[1] for c in tootctl_calls(before)] == ["--days 10"]
            assert not (cache_tree / OLD).exists() and (cache_tree / NEW).exists()
            assert sshd.ADMIN_PASSWORD not in text("#pruned") + text("#status")
    try:
        asyncio.run(drive())
    finally:
        session.host.close()


def test_count_orphans_runs_tootctl_s_dry_run_as_the_instance_user_and_deletes_nothing(cache_tree, tmp_path):
    """After a switch between buckets: `count-orphans` runs `tootctl media remove-orphans --dry-run`
    on the host as the instance's user (an admin login goes through sudo), and shows what it said."""
    before = len(calls())
    kh = tmp_path / "known_hosts"
    kh.write_text(sshd.known_hosts_line())
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTOWIZARD_")}
    env["MASTOWIZARD_SUDO_PASSWORD"] = sshd.ADMIN_PASSWORD
    p = subprocess.run([sys.executable, "-m", "mastowizard", "count-orphans", "--ssh",
                        f"{sshd.ADMIN_USER}@127.0.0.1:{sshd.SSH_PORT}", "--identity", str(sshd.client_key()),
                        "--known-hosts", str(kh), "--env-file", str(sshd.env_file()), "--systemd"],
                       env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    assert "read-only (--dry-run)" in p.stdout and "| Removed 0 orphans (approx. 0 Bytes) (DRY RUN)" in p.stdout
    live = sshd.env_file().parent
    assert [c for c in calls()[before:] if " tootctl " in c] == [
        f"{sshd.MASTODON_USER} tootctl RAILS_ENV=production cwd={live} media remove-orphans --dry-run"]
    assert (cache_tree / OLD).exists() and (cache_tree / LOCAL).exists()
