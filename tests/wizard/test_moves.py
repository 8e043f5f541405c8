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
