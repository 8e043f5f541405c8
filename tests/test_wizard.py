"""The Textual wizard driven with Textual's pilot through the whole happy path against the lab:
read the instance, test the bucket, apply the bucket policy, write the env file, restart, verify."""

import asyncio
import io
import json
import logging
import os
import pwd
import re

import pytest
from oauth_browser import authorize, works
from textual.widgets import Input, OptionList, RadioButton, Select, Static

import mastowizard_lab as lab
from mastowizard.session import Answers, Session, save_answers
from mastowizard_lab import sshd
from mastowizard_lab.nginx import media_host
from screens.app import WizardApp
from screens.checktable import CheckTable

pytestmark = pytest.mark.lab
TOKEN = "wizard-token"


@pytest.fixture
def instance(lab_info, monkeypatch):
    """The lab instance directory, with the systemctl stand-in on PATH (as on a source install)."""
    sshd.start()
    env = sshd.reset_instance("LOCAL_DOMAIN=lab.example\nS3_ENABLED=false\n"
                              "SECRET_KEY_BASE=wizardsecretkeybase0123456789\n")
    m = pwd.getpwnam(sshd.MASTODON_USER)
    system = env.parent / "public" / "system"
    from mastowizard_lab.media_tree import (
        make_tree,  # media from before the move, for Copy media
    )
    make_tree(system, 40, seed=3)
    for dirpath, dirnames, filenames in os.walk(system):
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), m.pw_uid, m.pw_gid)
    state = sshd.shared() / "state"
    (state / "lab.json").write_text(json.dumps({"tokens": {TOKEN: "read write"}}))
    monkeypatch.setenv("PATH", f"{sshd.shared() / 'bin'}:{os.environ['PATH']}")
    yield env
    (state / "lab.json").unlink()
    sshd.reset_instance()                # the shared instance as the next test expects it: no media


def walked(env):
    from mastowizard.migrate.inventory import walk
    return list(walk(str(env.parent / "public" / "system")))


async def wait(app, pilot):
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def press(app, pilot, selector):
    """Press a button as a click would (buttons below the fold of a scrolled form included)."""
    button = app.screen.query_one(selector)
    button.scroll_visible(animate=False)
    await pilot.pause()
    button.press()
    await pilot.pause()


def confirmation(app) -> str:
    """The text of the confirmation on screen (it must be one)."""
    assert app.screen.__class__.__name__ == "ConfirmScreen", app.screen
    return str(app.screen.query_one("#what", Static).render())


def status(app) -> str:
    return str(app.screen.query_one("#status", Static).render())


@pytest.mark.parametrize("s3server, where", [*[(name, "local") for name in lab.SERVERS],
                                              ("rgw", "ssh")],     # the SSH way does not depend on the S3 server
                         indirect=["s3server"])
def test_happy_path_to_a_green_checklist(s3server, bucket, lab_info, instance, where, tmp_path, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)     # every library's log (httpx, paramiko, botocore) must not hold the token
    srv = bucket.server
    answers = Answers(env_file=str(instance), resolve=lab_info.resolve(), ca_bundle=lab_info.ca_pem)
    if where == "ssh":
        kh = tmp_path / "known_hosts"
        kh.write_text(sshd.known_hosts_line())
        answers.known_hosts, answers.identity = str(kh), str(sshd.client_key())
    if where == "ssh":
        (tmp_path / "aws-credentials").write_text(f"[lab-admin]\naws_access_key_id = {srv.admin_access_key}\n"
                                                  f"aws_secret_access_key = {srv.admin_secret_key}\n")
        (tmp_path / "aws-config").write_text(f"[profile lab-admin]\nregion = {srv.region}\n")
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    session = Session(answers)
    app = WizardApp(session, save_profile=False)

    async def drive():
        async with app.run_test(size=(120, 60)) as pilot:
            # 1 Target: this machine, or the admin over SSH with sudo to the mastodon user
            if where == "ssh":
                app.screen.query_one("#ssh", RadioButton).value = True
                await pilot.pause()             # the SSH fields show on "Over SSH"
                app.screen.query_one("#ssh-target", Input).value = f"{sshd.ADMIN_USER}@127.0.0.1:{sshd.SSH_PORT}"
                app.screen.query_one("#sudo-user", Input).value = sshd.MASTODON_USER
                app.screen.query_one("#sudo-password", Input).value = sshd.ADMIN_PASSWORD
            await press(app, pilot, "#read")
            await wait(app, pilot)
            found = str(app.screen.query_one("#found", Static).render())
            assert "local disk" in found and "install: systemd" in found, found
            if where == "ssh":
                assert "via sudo" in found
            await press(app, pilot, "#next")
            await pilot.pause()
            # 2 Provider
            assert app.screen.STEP == "provider"
            app.session.answers.alias_host = bucket.media_https_base.split("://")[1]   # for the probes
            values = {"bucket": bucket.name, "endpoint": srv.endpoint, "region": srv.region,
                      "access_key_id": srv.writer_access_key}
            # choose the provider in the searchable list, as an operator would
            app.screen.query_one("#search", Input).value = "ceph" if srv.name == "rgw" else "other"
            await pilot.pause()
            providers = app.screen.query_one("#providers", OptionList)
            providers.highlighted = 0
            providers.action_select()
            await pilot.pause()
            assert app.session.answers.provider == ("ceph" if srv.name == "rgw" else "other")
            assert app.screen.query_one("#addressing", Input).value == "path"
            for k, v in values.items():
                app.screen.query_one(f"#{k}", Input).value = v
            app.screen.query_one("#secret", Input).value = srv.writer_secret_key
            await press(app, pilot, "#test")
            await wait(app, pilot)
            assert app.screen.query_one("#probes CheckTable", CheckTable).row_count >= 10
            await press(app, pilot, "#next")
            await pilot.pause()
            # 3 Permission: policy mode, applied with the admin credential
            assert app.screen.STEP == "permission"
            app.screen.query_one("#policy", RadioButton).value = True
            await pilot.pause()
            if where == "ssh":      # the admin key from an AWS profile, chosen by name
                await wait(app, pilot)
                select = app.screen.query_one("#admin-profile", Select)
                assert [str(o[0]) for o in select._options[1:]] == ["lab-admin"], select._options
                select.value = "lab-admin"
            else:                   # pasted
                app.screen.query_one("#admin-id", Input).value = srv.admin_access_key
                app.screen.query_one("#admin-secret", Input).value = srv.admin_secret_key
            await press(app, pilot, "#apply-bucket")     # it says what will change first, and with which key
            await wait(app, pilot)
            asked = confirmation(app)
            assert f"bucket {bucket.name} at {srv.endpoint}" in asked and "REPLACED" in asked, asked
            assert ("AWS profile lab-admin" if where == "ssh" else "pasted here") in asked, asked
            assert srv.admin_secret_key not in asked
            await pilot.press("y")
            await wait(app, pilot)
            assert "set up for this mode" in status(app), status(app)
            assert (app.session.admin_profile is not None) == (where == "ssh")
            await press(app, pilot, "#next")
            await pilot.pause()
            # 4 Media host: checked, with the snippets to paste
            assert app.screen.STEP == "mediahost"
            assert app.screen.query_one("#alias_host", Input).value == bucket.media_https_base.split("://")[1]
            await press(app, pilot, "#check-media")
            await wait(app, pilot)
            assert "media host pass" in status(app), status(app)
            await press(app, pilot, "#next")
            await pilot.pause()
            # 5 Copy media: the inventory and how the files come (over SSH: one tar stream), then the
            # copy and its verification
            assert app.screen.STEP == "copymedia"
            await wait(app, pilot)
            assert "files on disk" in status(app), status(app)
            shown = str(app.screen.query_one("#inventory", Static).render())
            assert ("one tar stream over one SSH channel" if where == "ssh" else "this machine's disk") in shown, shown
            await press(app, pilot, "#copy")
            await wait(app, pilot)
            assert "every file is in the bucket and verified" in status(app), \
                status(app) + " | " + str(app.screen.query_one("#copied", Static).render())
            copy, _ = app.session.copied
            assert copy.copied + copy.skipped == len(walked(instance)) and not copy.failed
            await press(app, pilot, "#next")
            await pilot.pause()
            # 6 Review: the masked diff, then write
            assert app.screen.STEP == "review"
            await wait(app, pilot)
            from rich.console import Console
            screen_text = Console(width=300, record=True, file=io.StringIO())
            screen_text.print(app.screen.query_one("#diff", Static).content)
            shown = screen_text.export_text()
            diff = app.session.plan.diff()
            assert "+S3_BUCKET=" in shown and "+S3_BUCKET=" in diff and srv.writer_secret_key not in shown + diff
            assert all(n[:60] in shown for n in app.session.plan.notes), (app.session.plan.notes, shown[-2000:])
            await press(app, pilot, "#write")          # a confirmation says exactly what will happen
            await wait(app, pilot)
            asked = confirmation(app)
            assert str(instance) in asked and ".before-s3" in asked and "S3_BUCKET" in asked, asked
            assert "S3_BUCKET=" not in instance.read_text()                # nothing written yet
            await pilot.press("y")
            await wait(app, pilot)
            assert "backup:" in status(app), status(app)
            await press(app, pilot, "#next")
            await pilot.pause()
            # 5 Restart through the systemctl stand-in, then the health wait
            assert app.screen.STEP == "restart"
            app.screen.query_one("#instance", Input).value = f"http://127.0.0.1:{sshd.MASTODON_PORT}"
            await press(app, pilot, "#restart")
            await wait(app, pilot)
            asked = confirmation(app)
            assert "systemctl restart" in asked and "mastodon-sidekiq" in asked, asked
            await pilot.press("y")
            await wait(app, pilot)
            assert "healthy" in status(app), status(app)
            await press(app, pilot, "#next")
            await pilot.pause()
            # 6 Verify: the live checklist
            assert app.screen.STEP == "verify"
            if where == "local":    # the token the OAuth way: authorize in "the browser", paste the code
                await press(app, pilot, "#get-token")
                await wait(app, pilot)
                shown = str(app.screen.query_one("#oauth-link Static", Static).render())
                url = re.search(r"(http://\S+/oauth/authorize\?\S+)", shown)[1]      # one line, whole
                await press(app, pilot, "#copy-url")
                assert app.clipboard == url                   # Copy gives exactly that URL
                app.screen.query_one("#code", Input).value = authorize(url)
                await press(app, pilot, "#use-code")
                await wait(app, pilot)
                assert "got a token with write:media" in status(app), status(app)
                token = app.session.token.reveal()
            else:                   # pasted by hand
                app.screen.query_one("#token", Input).value = TOKEN
                token = TOKEN
            await press(app, pilot, "#run")
            await wait(app, pilot)
            assert "every check passed" in status(app), [c.to_dict() for c in app.session.checks
                                                         if c.status == "fail"]
            # retry one check: its group reruns, the other rows stay
            before = {c.id: c for c in app.session.checks}
            table = app.screen.query_one("#checks", CheckTable)
            table.move_cursor(row=[c.id for c in app.session.checks].index("anon.list"))
            await pilot.pause()
            panel = str(app.screen.query_one("#detail-text", Static).render())
            assert panel.startswith("Nobody can list the bucket anonymously (pass)"), panel
            await press(app, pilot, "#retry")
            await wait(app, pilot)
            after = {c.id: c for c in app.session.checks}
            assert after.keys() == before.keys() and after["anon.list"] is not before["anon.list"]
            assert after["upload"] is before["upload"] and "every check passed" in status(app)
            # the profile never holds the token; one got here is revoked on request
            profile = tmp_path / "profile.json"
            save_answers(app.session.answers, profile)
            assert token not in profile.read_text()
            import subprocess
            assert token not in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
            secrets = [token]
            if where == "local":
                secrets.append(app.session.oauth_token.app.client_secret.reveal())
                await press(app, pilot, "#revoke")
                await wait(app, pilot)
                assert "revoked" in status(app) and works(f"http://127.0.0.1:{sshd.MASTODON_PORT}", token) == 401
            # the selected check's panel, the summary and its saved report: masked, as every log
            seen.append(app.export_screenshot())
            await press(app, pilot, "#next")
            await pilot.pause()
            assert app.screen.STEP == "summary" and "every check passed" in status(app), status(app)
            monkeypatch.chdir(tmp_path)
            await press(app, pilot, "#save-report")
            await wait(app, pilot)
            report = re.search(r"saved (\S+)", status(app))[1]
            seen.extend([app.export_screenshot(), (tmp_path / report).read_text()])
            logs = caplog.text
            assert "HTTP Request: POST" in logs     # the capture works: httpx logged the OAuth requests
            for secret in secrets:
                assert secret not in logs and not any(secret in text for text in seen)
    seen = []
    asyncio.run(drive())
    assert "S3_PERMISSION=\n" in instance.read_text() and f"S3_BUCKET={bucket.name}" in instance.read_text()
    assert media_host(srv.name, bucket.name) in instance.read_text()


def test_bad_input_is_one_line_in_the_form(tmp_path):
    env = tmp_path / ".env.production"
    env.write_text("LOCAL_DOMAIN=x.example\n")
    app = WizardApp(Session(Answers(env_file=str(env))), save_profile=False)

    async def drive():
        async with app.run_test(size=(100, 40)) as pilot:
            await press(app, pilot, "#read")
            await wait(app, pilot)
            await press(app, pilot, "#next")
            await pilot.pause()
            app.screen.query_one("#bucket", Input).value = "Bad_Bucket"
            await press(app, pilot, "#next")
            await pilot.pause()
            assert app.screen.STEP == "provider"
            assert status(app).startswith("Bucket: ") and "lowercase" in status(app)    # as the field is labelled
    asyncio.run(drive())


def test_unreachable_target_says_why(tmp_path):
    app = WizardApp(Session(Answers(target="ssh", ssh="nobody@127.0.0.1:1", env_file="/x/.env.production",
                                    known_hosts=str(tmp_path / "kh"))), save_profile=False)

    async def drive():
        async with app.run_test(size=(100, 40)) as pilot:
            await press(app, pilot, "#read")
            await wait(app, pilot)
            assert "connection refused" in status(app)
    asyncio.run(drive())


def test_failing_path_into_troubleshoot_and_rollback(bucket, lab_info, instance):
    """A change that breaks media (the media host serves another bucket): Troubleshoot explains it
    and rolls the env file back byte for byte, then restarts."""
    srv = bucket.server
    original = instance.read_bytes()
    wrong_alias = f"mw-nothere.{srv.name}.media.test:{lab_info.https_port}"
    answers = Answers(env_file=str(instance), resolve=lab_info.resolve(), ca_bundle=lab_info.ca_pem,
                      provider="ceph" if srv.name == "rgw" else "other", bucket=bucket.name, endpoint=srv.endpoint,
                      region=srv.region, alias_host=wrong_alias, permission="acl",
                      access_key_id=srv.writer_access_key, instance=f"http://127.0.0.1:{sshd.MASTODON_PORT}")
    from mastowizard.s3.credential import Credential
    from mastowizard.secrets import Secret
    session = Session(answers, secret_access_key=Secret(srv.writer_secret_key),
                      admin=Credential(srv.admin_access_key, Secret(srv.admin_secret_key)), token=Secret(TOKEN))
    session.connect()
    session.setup_bucket()
    session.make_plan()
    session.apply()
    session.restart()
    app = WizardApp(session, save_profile=False)

    async def drive():
        async with app.run_test(size=(120, 60)) as pilot:
            await pilot.press("ctrl+t")
            await pilot.pause()
            assert app.screen.__class__.__name__ == "TroubleshootScreen"
            await press(app, pilot, "#diagnose")
            await wait(app, pilot)
            diagnosis = str(app.screen.query_one("#diagnosis", Static).render())
            assert "does not serve this bucket" in diagnosis or "403 on media objects" in diagnosis, diagnosis
            await press(app, pilot, "#rollback")
            await wait(app, pilot)
            assert "byte for byte" in confirmation(app)
            await pilot.press("y")
            await wait(app, pilot)
            assert "restored from" in status(app)
            await press(app, pilot, "#restart")
            await wait(app, pilot)
            assert "systemctl restart" in confirmation(app)
            await pilot.press("y")
            await wait(app, pilot)
            assert "healthy" in status(app), status(app)
    asyncio.run(drive())
    assert instance.read_bytes() == original


def test_over_ssh_with_an_unknown_host_key_and_sudo(lab_sshd_instance, tmp_path):
    """Target over SSH: the unknown host key is shown and trusted only on the operator's press; the
    env file is read through sudo with the password typed in the form."""
    env = lab_sshd_instance
    answers = Answers(target="ssh", ssh=f"{sshd.ADMIN_USER}@127.0.0.1:{sshd.SSH_PORT}", sudo_user=sshd.MASTODON_USER,
                      env_file=str(env), known_hosts=str(tmp_path / "known_hosts"), identity=str(sshd.client_key()))
    app = WizardApp(Session(answers), save_profile=False)

    async def drive():
        async with app.run_test(size=(120, 50)) as pilot:
            app.screen.query_one("#sudo-password", Input).value = sshd.ADMIN_PASSWORD
            await press(app, pilot, "#read")
            await wait(app, pilot)
            assert sshd.host_key_fingerprint() in status(app)
            assert not (tmp_path / "known_hosts").exists()
            await press(app, pilot, "#trust")
            await wait(app, pilot)
            found = str(app.screen.query_one("#found", Static).render())
            assert "via sudo" in found and "local disk" in found, found
            assert sshd.ADMIN_PASSWORD not in found + status(app)
    asyncio.run(drive())
    assert (tmp_path / "known_hosts").read_text().startswith(f"[127.0.0.1]:{sshd.SSH_PORT} ssh-ed25519 ")


@pytest.fixture
def lab_sshd_instance():
    sshd.start()
    return sshd.reset_instance("LOCAL_DOMAIN=lab.example\nS3_ENABLED=false\n")


def test_over_ssh_with_a_login_password(lab_sshd_instance, tmp_path, monkeypatch):
    """A login that needs a password (the lab's admin, with no key and no agent here): without it the
    read says the login failed; typed in Login password it logs in, and the password shows nowhere."""
    kh = tmp_path / "known_hosts"
    kh.write_text(sshd.known_hosts_line())
    monkeypatch.setenv("MASTOWIZARD_LAB_DIR", str(sshd.root().parent))   # the lab's own files stay found
    monkeypatch.setenv("HOME", str(tmp_path))          # no ~/.ssh keys to try
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    answers = Answers(target="ssh", ssh=f"{sshd.ADMIN_USER}@127.0.0.1:{sshd.SSH_PORT}", sudo_user=sshd.MASTODON_USER,
                      env_file=str(lab_sshd_instance), known_hosts=str(kh))
    app = WizardApp(Session(answers), save_profile=False)

    async def drive():
        async with app.run_test(size=(80, 24)) as pilot:
            app.screen.query_one("#ssh", RadioButton).value = True
            await pilot.pause()
            app.screen.query_one("#sudo-password", Input).value = sshd.ADMIN_PASSWORD
            await press(app, pilot, "#read")
            await wait(app, pilot)
            assert "authentication failed" in status(app) and "or the Login password" in status(app), status(app)
            assert app.session.found is None
            app.screen.query_one("#ssh-password", Input).value = sshd.ADMIN_PASSWORD
            await press(app, pilot, "#read")
            await wait(app, pilot)
            found = str(app.screen.query_one("#found", Static).render())
            assert "via sudo" in found and "local disk" in found, (found, status(app))
            assert sshd.ADMIN_PASSWORD not in found + status(app) + app.export_screenshot()
    asyncio.run(drive())


def test_profile_keeps_answers_but_no_secret(tmp_path):
    from mastowizard.session import load_answers, save_answers
    a = Answers(provider="wasabi", bucket="files-example", access_key_id="AKIAEXAMPLE", step="review")
    path = save_answers(a, tmp_path / "profile.json")
    assert (path.stat().st_mode & 0o777) == 0o600
    text = path.read_text()
    assert "secret" not in text.lower() and "token" not in text.lower() and "password" not in text.lower()
    assert load_answers(path) == a
    assert load_answers(tmp_path / "missing.json") == Answers()


def test_command_palette_jumps_to_a_step_and_guards_incomplete_ones(tmp_path):
    app = WizardApp(Session(Answers(env_file=str(tmp_path / ".env.production"))), save_profile=False)

    async def drive():
        async with app.run_test(size=(100, 40)) as pilot:
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"step 3")
            await pilot.pause(0.5)
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen.STEP == "permission"
            assert "Complete the provider step first" in str(app.screen.query_one(".title").render())
            await pilot.press("ctrl+n")
            await pilot.pause()
            assert app.screen.STEP == "permission" and "provider step" in status(app)
    asyncio.run(drive())
