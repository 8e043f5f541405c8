"""The wizard on an instance that already stores its media in a bucket: when the Provider step names
another bucket, Copy media copies from the old one (and asks what becomes of private attachments
when the old bucket is mostly private); when it names the same bucket, Copy media offers to repair
that bucket's permissions, a survey first and the changes only on a second press."""

from helpers.migrate import ALL_USERS, env_file, rclone_copy, settings_for
from helpers.wizard import AtStep, drive, press, status, until
from helpers.wizard_lab import at, lab_answers
from textual.widgets import RadioButton, Static

from mastowizard.s3.bucket_setup import setup_bucket
from mastowizard.s3.credential import Credential
from mastowizard.secrets import Secret
from mastowizard.session import Session
from mastowizard_lab.media_tree import make_tree

SIZE = (120, 60)


def shown(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def old_bucket(rgw_bucket, tmp_path):
    srv = rgw_bucket.server
    setup_bucket(settings_for(rgw_bucket, "acl"), Credential(srv.admin_access_key, Secret(srv.admin_secret_key)))
    return env_file(tmp_path, rgw_bucket, "acl")


def test_copy_media_moves_a_suspect_bucket_to_another_provider_as_chosen(rgw_bucket, ministack_bucket, lab_info,
                                                                          tmp_path):
    env = old_bucket(rgw_bucket, tmp_path)
    tree = make_tree(tmp_path / "system", 30, suspended=0)
    rclone_copy(tree.root, rgw_bucket)                         # everything private, as rclone leaves it
    session = at("copymedia", Session(lab_answers(env, lab_info, "local", tmp_path)), ministack_bucket)
    session.answers.permission = "acl"                  # the new bucket with ACLs: private media can stay private
    srv = ministack_bucket.server
    setup_bucket(settings_for(ministack_bucket, "acl"), Credential(srv.admin_access_key, Secret(srv.admin_secret_key)))

    async def steps(app, pilot):
        await until(app, pilot, "the old bucket's inventory", lambda: "in the old bucket" in status(app),
                    lambda: shown(app, "#inventory"))
        assert f"media in the old bucket: s3://{rgw_bucket.name}" in shown(app, "#inventory")
        assert "suspect" in shown(app, "#inventory") and not app.screen.query_one("#private-box").has_class("hidden")
        await press(app, pilot, "#copy")                      # refused until the private media is decided
        assert "choose what becomes of the private media attachments first" in status(app), status(app)
        assert "Contents" not in ministack_bucket.admin_client.list_objects_v2(Bucket=ministack_bucket.name)
        app.screen.query_one("#keep", RadioButton).value = True
        await pilot.pause()
        await press(app, pilot, "#copy")
        await until(app, pilot, "the copy, verified", lambda: "every file is in the bucket and verified" in status(app),
                    lambda: shown(app, "#copied"))
    drive(AtStep("copymedia", session), steps, SIZE)
    assert session.private_media == "keep"
    copy, _ = session.copied
    assert copy.copied == len(tree.files) and not copy.failed, copy
    _, nginx, _, _ = session.media_host()         # the Media host step's block: the new bucket, then the old
    assert "proxy_intercept_errors on;" in nginx and "old-bucket" in nginx and rgw_bucket.name in nginx, nginx


def test_copy_media_repairs_the_bucket_in_place_only_on_the_second_press(rgw_bucket, lab_info, tmp_path):
    env = old_bucket(rgw_bucket, tmp_path)
    tree = make_tree(tmp_path / "system", 30, suspended=0)
    rclone_copy(tree.root, rgw_bucket)
    session = Session(lab_answers(env, lab_info, "local", tmp_path))
    session.connect()
    session.read_instance()                     # the answers from the env file: the same bucket
    admin = rgw_bucket.admin_client
    avatar = next(r for r in tree.files if r.startswith("accounts/"))

    def public(key):
        grants = admin.get_object_acl(Bucket=rgw_bucket.name, Key=key)["Grants"]
        return any(g["Grantee"].get("URI") == ALL_USERS and g["Permission"] == "READ" for g in grants)

    async def steps(app, pilot):
        await until(app, pilot, "the media on disk read", lambda: "nothing on disk" in status(app))
        assert not app.screen.query_one("#repair-box").has_class("hidden")
        app.screen.query_one("#public", RadioButton).value = True
        await pilot.pause()
        await press(app, pilot, "#repair")
        await until(app, pilot, "the survey", lambda: "press again" in status(app), lambda: shown(app, "#repaired"))
        assert "to make readable by anyone" in shown(app, "#repaired") and not public(avatar)   # nothing changed yet
        await press(app, pilot, "#repair")
        await until(app, pilot, "the repair", lambda: "the bucket is repaired" in status(app),
                    lambda: shown(app, "#repaired"))
    drive(AtStep("copymedia", session), steps, SIZE)
    assert public(avatar)
    assert not public(next(r for r in tree.files if r.startswith("backups/")))


def test_the_wizard_brings_the_bucket_back_to_disk_and_switches_only_once_it_is_there(rgw_bucket, lab_info,
                                                                                      tmp_path):
    """Target offers the way back; Provider, Permission and Media host are skipped; Copy media writes
    every object into public/system with Mastodon's modes and gives the media host's nginx block;
    Review writes only S3_ENABLED=false; Verify checks the disk, the sizes and the old media URLs."""
    from helpers.migrate import copy_as_mastodon

    env = old_bucket(rgw_bucket, tmp_path)
    tree = make_tree(tmp_path / "source", 30, suspended=2)
    copy_as_mastodon(rgw_bucket, settings_for(rgw_bucket, "acl"), tree)
    system = env.parent / "public" / "system"
    before = env.read_text()
    session = Session(lab_answers(env, lab_info, "local", tmp_path))

    async def steps(app, pilot):
        await press(app, pilot, "#read")
        await until(app, pilot, "the instance read", lambda: "choose where its media goes" in status(app))
        assert not app.screen.query_one("#move-box").has_class("hidden")
        app.screen.query_one("#to-disk", RadioButton).value = True
        await pilot.pause()
        assert session.back_to_disk and "skipped" in status(app)
        app.screen.action_next()
        await until(app, pilot, "Copy media, the Provider step skipped", lambda: app.screen.STEP == "copymedia"
                    and "to copy to disk" in status(app), lambda: shown(app, "#inventory"))
        assert f"bucket {rgw_bucket.name}: {len(tree.files)} object(s)" in shown(app, "#inventory")
        await press(app, pilot, "#copy")
        await until(app, pilot, "the copy to disk, verified", lambda: "every object is on disk and verified"
                    in status(app), lambda: shown(app, "#copied"))
        assert f"copied {len(tree.files)} file(s)" in shown(app, "#copied")
        assert "server {" in app.screen.nginx and not app.screen.query_one("#nginx-box").has_class("hidden")
        app.screen.action_next()
        await until(app, pilot, "Review's plan", lambda: app.screen.STEP == "review" and session.plan is not None)
        assert not app.screen.query_one("#announce").display
        await press(app, pilot, "#write")
        await until(app, pilot, "the confirmation", lambda: type(app.screen).__name__ == "ConfirmScreen")
        assert f"all {len(tree.files)} object(s) of bucket {rgw_bucket.name}" in shown(app, "#what")
        await pilot.press("y")
        await until(app, pilot, "the write", lambda: "backup:" in status(app))
        app.goto("verify")
        await until(app, pilot, "Verify", lambda: app.screen.STEP == "verify")
        assert not app.screen.query("#token")                    # nothing is uploaded: no token asked
        await press(app, pilot, "#run")
        await until(app, pilot, "the disk's checklist", lambda: "passed" in status(app) and len(session.checks) == 4)
        return {c.id: c for c in session.checks}

    checks = drive(AtStep("target", session), steps, SIZE)
    assert env.read_text() == before.replace("S3_ENABLED=true", "S3_ENABLED=false")
    for rel in tree.files:
        st = (system / rel).stat()
        assert (system / rel).read_bytes() == (tree.root / rel).read_bytes(), rel
        assert st.st_mode & 0o777 == (0o600 if rel in tree.private else 0o644), (rel, oct(st.st_mode))
    assert {cid: c.status for cid, c in checks.items()} == {
        "disk.settings": "pass", "disk.files": "pass", "disk.served": "skip", "disk.media_host": "pass"}, checks
    assert f"all {len(tree.files)} object(s)" in checks["disk.files"].detail
    assert "no instance URL" in checks["disk.served"].detail
