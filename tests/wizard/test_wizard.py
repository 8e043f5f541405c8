"""The Textual wizard against the lab, driven with Textual's pilot. Each step is opened on its own
(helpers.AtStep) with a Session the engine brought there as the steps before it would have
(wizard_lab.at): read the instance, choose the provider and test the bucket, apply the bucket policy,
check the media host, copy the media, write the env file, restart, verify, the summary. One short
walk presses Next through every step to a green checklist. Then the failing path, SSH, the profile
and the command palette."""

import asyncio
import io
import json
import logging
import os
import pwd
import re
import shlex
import stat
import subprocess
import sys

import pytest
from helpers.oauth_browser import authorize, works
from helpers.wizard import AtStep, confirmation, drive, on_screen, press, settle, status, until
from helpers.wizard_lab import INSTANCE_URL, at, kind, lab_answers, media_host, over_ssh
from textual.command import CommandList
from textual.widgets import Input, OptionList, RadioButton, Select, Static

from mastowizard.session import Answers, Session, save_answers
from mastowizard_lab import nginx, sshd
from screens import steps
from screens.app import WizardApp
from screens.checktable import CheckTable

pytestmark = pytest.mark.lab
TOKEN = "wizard-token"
SIZE = (120, 60)
WHERE = pytest.mark.parametrize("where", ["local", "ssh"])     # the SSH way: the admin, sudo to the instance's user


@pytest.fixture
def instance(lab_info, monkeypatch):
    """The lab instance's env file, no media on disk, with the systemctl stand-in on PATH (as on a
    source install) and TOKEN known to the Mastodon stand-in."""
    sshd.start()
    env = sshd.reset_instance("LOCAL_DOMAIN=lab.example\nS3_ENABLED=false\n"
                              "SECRET_KEY_BASE=wizardsecretkeybase0123456789\n")
    state = sshd.shared() / "state"
    (state / "lab.json").write_text(json.dumps({"tokens": {TOKEN: "read write"}}))
    monkeypatch.setenv("PATH", f"{sshd.shared() / 'bin'}:{os.environ['PATH']}")
    yield env
    (state / "lab.json").unlink()
    sshd.reset_instance()                # the shared instance as the next test expects it: no media


@pytest.fixture
def media(instance):
    """Media from before the move on the instance's disk (40 files, the instance user's): what Copy
    media copies, and what the checklist's old /system/ URLs sample. The env file's path."""
    from mastowizard_lab.media_tree import make_tree
    m = pwd.getpwnam(sshd.MASTODON_USER)
    system = instance.parent / "public" / "system"
    make_tree(system, 40, seed=3)
    for dirpath, dirnames, filenames in os.walk(system):
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), m.pw_uid, m.pw_gid)
    return instance


def walked(env):
    from mastowizard.migrate.inventory import walk
    return list(walk(str(env.parent / "public" / "system")))


def shown(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def printed(app, selector: str) -> str:
    """The text of a Static holding rich renderables (a diff and its notes), printed 300 columns wide."""
    from rich.console import Console
    console = Console(width=300, record=True, file=io.StringIO())
    console.print(app.screen.query_one(selector, Static).content)
    return console.export_text()


def aws_profile(tmp_path, monkeypatch, srv) -> None:
    """The admin key as the AWS profile lab-admin (~/.aws's files, here in TMP_PATH)."""
    (tmp_path / "aws-credentials").write_text(f"[lab-admin]\naws_access_key_id = {srv.admin_access_key}\n"
                                              f"aws_secret_access_key = {srv.admin_secret_key}\n")
    (tmp_path / "aws-config").write_text(f"[profile lab-admin]\nregion = {srv.region}\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))


async def next_step(app, pilot, step: str) -> None:
    """Next, and the wizard is on STEP."""
    await press(app, pilot, "#next")
    await until(app, pilot, f"Next to hand over to {step}", lambda: getattr(app.screen, "STEP", "") == step)


async def provider_form(app, pilot, bucket) -> None:
    """The Provider step's form as an operator fills it: the provider chosen in the searchable list,
    then the bucket's fields and the writer key."""
    srv = bucket.server
    app.screen.query_one("#search", Input).value = kind(bucket)
    providers = app.screen.query_one("#providers", OptionList)
    await until(app, pilot, f"the search to list {kind(bucket)} first",
                lambda: providers.option_count and providers.get_option_at_index(0).id == kind(bucket),
                lambda: f"options {[providers.get_option_at_index(i).id for i in range(providers.option_count)]}")
    providers.highlighted = 0
    providers.action_select()
    await until(app, pilot, f"{kind(bucket)} picked", lambda: app.session.answers.provider == kind(bucket),
                lambda: f"provider {app.session.answers.provider}")
    values = {"bucket": bucket.name, "endpoint": srv.endpoint, "region": srv.region,
              "access_key_id": srv.writer_access_key, "secret": srv.writer_secret_key}
    for name, value in values.items():
        app.screen.query_one(f"#{name}", Input).value = value


# 1 Target: this machine, or the admin over SSH with sudo to the instance's user

@WHERE
def test_target_reads_the_instance(instance, lab_info, where, tmp_path):
    session = Session(lab_answers(instance, lab_info, where, tmp_path))

    async def steps(app, pilot):
        if where == "ssh":
            app.screen.query_one("#ssh", RadioButton).value = True
            await until(app, pilot, "the SSH fields on Over SSH", lambda: app.screen.query("#ssh-target"))
            app.screen.query_one("#ssh-target", Input).value = f"{sshd.ADMIN_USER}@127.0.0.1:{sshd.SSH_PORT}"
            app.screen.query_one("#sudo-user", Input).value = sshd.MASTODON_USER
            app.screen.query_one("#sudo-password", Input).value = sshd.ADMIN_PASSWORD
        await press(app, pilot, "#read")
        await until(app, pilot, "the instance read", lambda: status(app) == "read the instance",
                    lambda: shown(app, "#found"))
        found = shown(app, "#found")
        assert "local disk" in found and "install: systemd" in found, found
        if where == "ssh":
            assert "via sudo" in found, found
    drive(AtStep("target", session), steps, SIZE)


# 2 Provider: chosen in the searchable list, then Test the bucket (each S3 server)

def test_provider_is_searched_and_the_bucket_tested(bucket, lab_info, instance, tmp_path):
    session = at("provider", Session(lab_answers(instance, lab_info, "local", tmp_path,
                                                 alias_host=media_host(bucket))), bucket)   # for the probes

    async def steps(app, pilot):
        await provider_form(app, pilot, bucket)
        assert app.session.answers.provider == kind(bucket)
        assert app.screen.query_one("#addressing", Input).value == "path"
        await press(app, pilot, "#test")
        probes = app.screen.query_one("#probes CheckTable", CheckTable)
        await until(app, pilot, "the bucket's probes (10 rows or more)", lambda: probes.row_count >= 10,
                    lambda: f"{probes.row_count} rows")
    drive(AtStep("provider", session), steps, SIZE)


# 3 Permission: policy mode, applied with the admin key pasted, or from an AWS profile chosen by name

@pytest.mark.parametrize("s3server, admin", [*[(name, "pasted") for name in ("rgw", "ministack")],
                                             ("rgw", "profile")],      # the profile does not depend on the server
                         indirect=["s3server"])
def test_permission_applies_the_bucket_policy_on_confirmation(bucket, lab_info, instance, admin, tmp_path,
                                                              monkeypatch):
    srv = bucket.server
    if admin == "profile":
        aws_profile(tmp_path, monkeypatch, srv)
    session = at("permission", Session(lab_answers(instance, lab_info, "local", tmp_path)), bucket)

    async def steps(app, pilot):
        app.screen.query_one("#policy", RadioButton).value = True
        await until(app, pilot, "policy mode chosen", lambda: app.session.answers.permission == "policy")
        if admin == "profile":
            select = app.screen.query_one("#admin-profile", Select)
            await until(app, pilot, "the AWS profiles listed", lambda: len(select._options) > 1,
                        lambda: f"options {select._options}")
            assert [str(o[0]) for o in select._options[1:]] == ["lab-admin"], select._options
            select.value = "lab-admin"
        else:
            app.screen.query_one("#admin-id", Input).value = srv.admin_access_key
            app.screen.query_one("#admin-secret", Input).value = srv.admin_secret_key
        await press(app, pilot, "#apply-bucket")     # it says what will change first, and with which key
        asked = await confirmation(app, pilot, "the confirmation of Apply to the bucket")
        assert f"bucket {bucket.name} at {srv.endpoint}" in asked and "REPLACED" in asked, asked
        assert ("AWS profile lab-admin" if admin == "profile" else "pasted here") in asked, asked
        assert srv.admin_secret_key not in asked
        await pilot.press("y")
        await until(app, pilot, "the bucket set up", lambda: "set up for this mode" in status(app))
        assert (app.session.admin_profile is not None) == (admin == "profile")
    drive(AtStep("permission", session), steps, SIZE)


# 4 Media host: checked, with the snippets to paste (each S3 server)

def test_media_host_is_checked(bucket, lab_info, instance, tmp_path):
    session = at("mediahost", Session(lab_answers(instance, lab_info, "local", tmp_path)), bucket)

    async def steps(app, pilot):
        assert app.screen.query_one("#alias_host", Input).value == media_host(bucket)
        await press(app, pilot, "#check-media")
        await until(app, pilot, "the media host's check to pass", lambda: "media host pass" in status(app))
    drive(AtStep("mediahost", session), steps, SIZE)


# 5 Copy media: the inventory and how the files come (over SSH: one tar stream), then the copy and
# its verification (each S3 server here; over SSH once)

@pytest.mark.parametrize("s3server, where", [*[(name, "local") for name in ("rgw", "ministack")], ("rgw", "ssh")],
                         indirect=["s3server"])
def test_copy_media_copies_and_verifies_every_file(bucket, lab_info, media, where, tmp_path):
    session = Session(lab_answers(media, lab_info, where, tmp_path))
    session = at("copymedia", over_ssh(session) if where == "ssh" else session, bucket)

    async def steps(app, pilot):
        await until(app, pilot, "the inventory of the media on disk", lambda: "files on disk" in status(app),
                    lambda: shown(app, "#inventory"))
        inventory = shown(app, "#inventory")
        assert ("one tar stream over one SSH channel" if where == "ssh" else "this machine's disk") in inventory, \
            inventory
        await press(app, pilot, "#copy")
        await until(app, pilot, "the copy, verified", lambda: "every file is in the bucket and verified" in status(app),
                    lambda: shown(app, "#copied"))
        copy, _ = app.session.copied
        assert copy.copied + copy.skipped == len(walked(media)) and not copy.failed, (copy, len(walked(media)))
    drive(AtStep("copymedia", session), steps, SIZE)


# 6 Review: the masked diff with its notes, then Write with its confirmation and backup

@WHERE
def test_review_shows_the_masked_diff_and_writes_with_a_backup(rgw_bucket, lab_info, instance, where, tmp_path):
    srv = rgw_bucket.server
    session = Session(lab_answers(instance, lab_info, where, tmp_path))
    # the bucket tested on this machine, so that what it measured is among the notes; over SSH the same plan
    session = at("review", over_ssh(session) if where == "ssh" else session, rgw_bucket, probe=where == "local")

    async def steps(app, pilot):
        await until(app, pilot, "the plan's diff", lambda: "+S3_BUCKET=" in printed(app, "#diff"),
                    lambda: printed(app, "#diff"))
        diff_shown = printed(app, "#diff")
        diff = app.session.plan.diff()
        assert "+S3_BUCKET=" in diff_shown and "+S3_BUCKET=" in diff, diff_shown
        assert srv.writer_secret_key not in diff_shown + diff
        assert all(n[:60] in diff_shown for n in app.session.plan.notes), (app.session.plan.notes, diff_shown[-2000:])
        await press(app, pilot, "#write")          # a confirmation says exactly what will happen
        asked = await confirmation(app, pilot, "the confirmation of Write")
        assert str(instance) in asked and ".before-s3" in asked and "S3_BUCKET" in asked, asked
        assert "S3_BUCKET=" not in instance.read_text()                # nothing written yet
        await pilot.press("y")
        await until(app, pilot, "the env file written", lambda: "backup:" in status(app))
    drive(AtStep("review", session), steps, SIZE)
    written = instance.read_text()
    assert "S3_PERMISSION=\n" in written and f"S3_BUCKET={rgw_bucket.name}" in written, written
    assert nginx.media_host(srv.name, rgw_bucket.name) in written, written


# 7 Restart through the systemctl stand-in over SSH, through sudo, then the health wait (on this machine
# the walk below restarts through the same screen, and the later steps' sessions through the engine)

def test_restart_over_ssh_asks_then_waits_until_healthy(rgw_bucket, lab_info, instance, tmp_path):
    session = at("restart", over_ssh(Session(lab_answers(instance, lab_info, "ssh", tmp_path))), rgw_bucket)

    async def steps(app, pilot):
        app.screen.query_one("#instance", Input).value = INSTANCE_URL
        await press(app, pilot, "#restart")
        asked = await confirmation(app, pilot, "the confirmation of Restart")
        assert "systemctl restart" in asked and "mastodon-sidekiq" in asked, asked
        await pilot.press("y")
        await until(app, pilot, "Mastodon back and healthy", lambda: "healthy" in status(app))
    drive(AtStep("restart", session), steps, SIZE)


# 8 Verify: a token the OAuth way (authorize in "the browser", paste the code), the checklist green,
# one check retried, the token kept out of the profile, ps and every log, then revoked

def test_verify_gets_a_token_and_the_checklist_is_green(rgw_bucket, lab_info, media, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)     # every library's log (httpx, paramiko, botocore) must not hold the token
    session = at("verify", Session(lab_answers(media, lab_info, "local", tmp_path)), rgw_bucket, copy=True)
    seen = []

    async def steps(app, pilot):
        await press(app, pilot, "#get-token")
        await until(app, pilot, "the authorize URL", lambda: "/oauth/authorize?" in shown(app, "#oauth-link Static"))
        url = re.search(r"(http://\S+/oauth/authorize\?\S+)", shown(app, "#oauth-link Static"))[1]   # one line, whole
        await press(app, pilot, "#copy-url")
        assert app.clipboard == url                   # Copy gives exactly that URL
        app.screen.query_one("#code", Input).value = authorize(url)
        await press(app, pilot, "#use-code")
        await until(app, pilot, "the token got", lambda: "got a token with write:media" in status(app))
        token = app.session.token.reveal()
        await press(app, pilot, "#run")
        await until(app, pilot, "the checklist green", lambda: "every check passed" in status(app),
                    lambda: str([c.to_dict() for c in app.session.checks if c.status == "fail"]))
        # retry one check: its group reruns, the other rows stay
        before = {c.id: c for c in app.session.checks}
        table = app.screen.query_one("#checks", CheckTable)
        table.move_cursor(row=[c.id for c in app.session.checks].index("anon.list"))
        await until(app, pilot, "anon.list's panel", lambda: app.screen.selected == "anon.list")
        panel = shown(app, "#detail-text")
        assert panel.startswith("Nobody can list the bucket anonymously (pass)"), panel
        await press(app, pilot, "#retry")

        def rerun():
            return {c.id: c for c in app.session.checks}["anon.list"] is not before["anon.list"]
        await until(app, pilot, "anon.list rerun, the checklist still green",
                    lambda: rerun() and "every check passed" in status(app))
        after = {c.id: c for c in app.session.checks}
        assert after.keys() == before.keys() and after["upload"] is before["upload"]
        # the profile never holds the token; one got here is revoked on request
        profile = tmp_path / "profile.json"
        save_answers(app.session.answers, profile)
        assert token not in profile.read_text()
        assert token not in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        secrets = [token, app.session.oauth_token.app.client_secret.reveal()]
        await press(app, pilot, "#revoke")
        await until(app, pilot, "the token revoked", lambda: "revoked" in status(app))
        assert works(INSTANCE_URL, token) == 401
        seen.append(app.export_screenshot())       # the selected check's panel, masked, as every log
        return secrets
    secrets = drive(AtStep("verify", session), steps, SIZE)
    logs = caplog.text
    assert "HTTP Request: POST" in logs     # the capture works: httpx logged the OAuth requests
    for secret in secrets:
        assert secret not in logs and not any(secret in text for text in seen)


def test_verify_over_ssh_is_green(rgw_bucket, lab_info, media, tmp_path):
    """The checklist over SSH: the env file read through sudo, old /system/ URLs sampled on the host."""
    session = at("verify", over_ssh(Session(lab_answers(media, lab_info, "ssh", tmp_path))), rgw_bucket, copy=True)
    url, _, _ = session.start_token(open_browser=False)
    session.finish_token(authorize(url))

    async def steps(app, pilot):
        await press(app, pilot, "#run")
        await until(app, pilot, "the checklist green over SSH", lambda: "every check passed" in status(app),
                    lambda: str([c.to_dict() for c in app.session.checks if c.status == "fail"]))
        assert "old_urls" in {c.id for c in app.session.checks}
    drive(AtStep("verify", session), steps, SIZE)


# 9 Summary: what the run did, and its report saved, secrets masked like every log

def test_summary_saves_its_report_without_secrets(rgw_bucket, lab_info, media, tmp_path, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("MASTOWIZARD_FILES", str(tmp_path / "saved"))
    session = at("summary", Session(lab_answers(media, lab_info, "local", tmp_path)), rgw_bucket, copy=True)
    secrets = [session.token.reveal(), session.oauth_token.app.client_secret.reveal()]

    baseline = os.path.join(os.path.dirname(session.answers.env_file), "mastowizard-baseline.json")
    try:
        watched_from_the_summary(session, baseline, secrets, caplog)
    finally:            # the lab's instance directory is shared: leave no baseline for the next test
        for leftover in (baseline, baseline + ".state"):
            if os.path.exists(leftover):
                os.unlink(leftover)


def watched_from_the_summary(session, baseline, secrets, caplog):
    async def steps(app, pilot):
        assert "every check passed" in status(app), on_screen(app)
        await press(app, pilot, "#save-report")
        await until(app, pilot, "the report saved", lambda: "saved " in status(app))
        report = re.search(r"saved (\S+)", status(app))[1]
        with open(report) as f:
            saved = [app.export_screenshot(), f.read()]
        # keep watching: a baseline beside the env file, and the commands that compare with it
        await press(app, pilot, "#keep-watching")
        await until(app, pilot, "the baseline saved", lambda: "baseline saved:" in status(app))
        commands = app.screen.query_one("#watch-commands").text.splitlines()
        saved.append(app.export_screenshot())
        with open(baseline, "rb") as f:
            first = f.read()
        await press(app, pilot, "#keep-watching")           # again: the saved one is not replaced unasked
        await confirmation(app, pilot, "the confirmation of Replace the baseline")
        await pilot.press("n")
        await until(app, pilot, "the baseline kept", lambda: "the baseline was kept" in status(app))
        with open(baseline, "rb") as f:
            assert f.read() == first, "the baseline was replaced although the operator said no"
        return saved, commands
    (seen, commands) = drive(AtStep("summary", session), steps, SIZE)
    logs = caplog.text
    assert "HTTP Request: POST" in logs     # the capture works: httpx logged the OAuth requests
    assert stat.S_IMODE(os.stat(baseline).st_mode) == 0o600
    with open(baseline) as f:
        seen.append(f.read())
    for secret in secrets + [session.secret_access_key.reveal()]:
        assert secret not in logs and not any(secret in text for text in seen)
    # the wizard's first command, run as the admin would paste it: the setup is as in the baseline
    # run as the env file's owner (the baseline is theirs, 0600); the test runs it as root, which may read it
    owner = pwd.getpwuid(os.stat(session.answers.env_file).st_uid).pw_name
    as_owner = [] if owner == "root" else ["sudo", "-u", owner]
    argv = shlex.split(commands[0])
    assert argv[:len(as_owner) + 4] == [*as_owner, "mastowizard", "watch", "--env-file", session.answers.env_file]
    assert commands[1].startswith("sudo mastowizard watch ") and commands[1].endswith(" --install")
    p = subprocess.run([sys.executable, "-m", *argv[len(as_owner):]], capture_output=True, text=True,
                       timeout=180, stdin=subprocess.DEVNULL,
                       env={**os.environ, "MASTODON_ACCESS_TOKEN": session.token.reveal()})
    assert p.returncode == 0 and p.stdout.startswith("watch: ok:"), p.stdout + p.stderr


# The walk: Next through every screen, each step done as an operator would, to a green checklist and
# the summary saying so

@pytest.mark.parametrize("s3server", ["ministack"], indirect=True)
def test_next_walks_every_step_to_a_green_checklist(bucket, lab_info, media, tmp_path):
    srv = bucket.server
    session = Session(lab_answers(media, lab_info, "local", tmp_path, alias_host=media_host(bucket)))

    async def steps(app, pilot):
        await press(app, pilot, "#read")
        await until(app, pilot, "the instance read", lambda: status(app) == "read the instance")
        await next_step(app, pilot, "provider")
        await provider_form(app, pilot, bucket)
        await next_step(app, pilot, "permission")
        app.screen.query_one("#policy", RadioButton).value = True
        app.screen.query_one("#admin-id", Input).value = srv.admin_access_key
        app.screen.query_one("#admin-secret", Input).value = srv.admin_secret_key
        await press(app, pilot, "#apply-bucket")
        await confirmation(app, pilot, "the confirmation of Apply to the bucket")
        await pilot.press("y")
        await until(app, pilot, "the bucket set up", lambda: "set up for this mode" in status(app))
        await next_step(app, pilot, "mediahost")
        await next_step(app, pilot, "copymedia")
        await until(app, pilot, "the inventory", lambda: "files on disk" in status(app))
        await press(app, pilot, "#copy")
        await until(app, pilot, "the copy, verified", lambda: "verified" in status(app))
        await next_step(app, pilot, "review")
        await until(app, pilot, "the plan", lambda: app.session.plan is not None)
        await press(app, pilot, "#write")
        await confirmation(app, pilot, "the confirmation of Write")
        await pilot.press("y")
        await until(app, pilot, "the env file written", lambda: "backup:" in status(app))
        await next_step(app, pilot, "restart")
        app.screen.query_one("#instance", Input).value = INSTANCE_URL
        await press(app, pilot, "#restart")
        await confirmation(app, pilot, "the confirmation of Restart")
        await pilot.press("y")
        await until(app, pilot, "Mastodon back and healthy", lambda: "healthy" in status(app))
        await next_step(app, pilot, "verify")
        app.screen.query_one("#token", Input).value = TOKEN       # pasted by hand
        await press(app, pilot, "#run")
        await until(app, pilot, "the checklist green", lambda: "every check passed" in status(app),
                    lambda: str([c.to_dict() for c in app.session.checks if c.status != "pass"]))
        await next_step(app, pilot, "summary")
        assert "every check passed" in status(app), on_screen(app)
    drive(WizardApp(session, save_profile=False), steps, SIZE)


def test_bad_input_is_one_line_in_the_form(tmp_path):
    env = tmp_path / ".env.production"
    env.write_text("LOCAL_DOMAIN=x.example\n")
    app = WizardApp(Session(Answers(env_file=str(env))), save_profile=False)

    async def drive():
        async with app.run_test(size=(100, 40)) as pilot:
            await press(app, pilot, "#read")
            await settle(app, pilot)
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
            await settle(app, pilot)
            assert "connection refused" in status(app)
    asyncio.run(drive())


def test_failing_path_into_troubleshoot_and_rollback(bucket, lab_info, instance, media):
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
            await settle(app, pilot)
            diagnosis = str(app.screen.query_one("#diagnosis", Static).render())
            assert "does not serve this bucket" in diagnosis or "403 on media objects" in diagnosis, diagnosis
            await press(app, pilot, "#rollback")
            await settle(app, pilot)
            assert "byte for byte" in await confirmation(app, pilot, "the confirmation of Roll back")
            await pilot.press("y")
            await settle(app, pilot)
            assert "restored from" in status(app)
            await press(app, pilot, "#restart")
            await settle(app, pilot)
            assert "systemctl restart" in await confirmation(app, pilot, "the confirmation of Restart")
            await pilot.press("y")
            await settle(app, pilot)
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
            await settle(app, pilot)
            assert sshd.host_key_fingerprint() in status(app)
            assert not (tmp_path / "known_hosts").exists()
            await press(app, pilot, "#trust")
            await settle(app, pilot)
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
            await settle(app, pilot)
            assert "authentication failed" in status(app) and "or the Login password" in status(app), status(app)
            assert app.session.found is None
            app.screen.query_one("#ssh-password", Input).value = sshd.ADMIN_PASSWORD
            await press(app, pilot, "#read")
            await settle(app, pilot)
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
            number = steps.get("permission").number
            await pilot.press(*f"step {number}")     # as the palette numbers it
            hits = app.screen.query_one(CommandList)

            def highlighted() -> str:
                return str(hits.get_option_at_index(hits.highlighted).prompt) if hits.highlighted is not None else ""
            await until(app, pilot, f"the palette to highlight step {number}",
                        lambda: highlighted().startswith(f"Go to step {number}: Permission"),
                        lambda: f"hits {[str(hits.get_option_at_index(i).prompt) for i in range(hits.option_count)]}")
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen.STEP == "permission"
            assert "Complete the provider step first" in str(app.screen.query_one(".title").render())
            await pilot.press("ctrl+n")
            await pilot.pause()
            assert app.screen.STEP == "permission" and "provider step" in status(app)
    asyncio.run(drive())
