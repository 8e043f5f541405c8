"""`mastowizard migrate` from one bucket to another, as an admin moving providers runs it: the old
bucket (Ceph RGW) filled by Mastodon's own storage code (uploads, a suspension), the new one on
RGW (server-side copy: same endpoint) or MiniStack (streamed: another provider). Every object is
then checked independently in the new bucket: bytes, headers, ACL, and what a stranger gets."""

import json
import os
import signal
import subprocess
import sys
import time
from urllib.parse import unquote, urlsplit

from helpers.lab import on
from helpers.migrate import ALL_USERS, env_file, journal_keys, rclone_copy, settings_for

from mastowizard.migrate.objects import CACHE_CONTROL, content_type
from mastowizard.s3.bucket_setup import setup_bucket
from mastowizard.s3.credential import Credential
from mastowizard.secrets import Secret
from mastowizard_lab.mastodon_storage import MastodonStorage
from mastowizard_lab.media_tree import make_tree

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5f0000000049454e44ae426082")


def old_bucket(rgw_bucket, tmp_path, permission="acl"):
    """The instance's current bucket on Ceph RGW, set up for PERMISSION, and its env file."""
    srv = rgw_bucket.server
    setup_bucket(settings_for(rgw_bucket, permission), Credential(srv.admin_access_key, Secret(srv.admin_secret_key)))
    return env_file(tmp_path / "old", rgw_bucket, permission)


def fill_as_mastodon(env, rgw_bucket, videos=1):
    """Uploads through Mastodon's code (each with its small style), two of them then suspended
    (UpdateMediaAttachmentsPermissionsService), a video above the multipart threshold, an avatar and
    a user's archive as Mastodon stores them. Returns {key: private}."""
    code = MastodonStorage(str(env))
    keys: dict[str, bool] = {}
    try:
        for i in range(12):
            rec = code.store(str(110_000_000_000_000_000 + i), f"{i:04x}.png", PNG, "image/png")
            record = {"id": str(110_000_000_000_000_000 + i), "file_name": rec["file_name"],
                      "content_type": rec["content_type"]}
            private = i < 2
            if private:
                code.permissions(record, "private")
            keys.update({k: private for k in rec["keys"].values()})
        for i in range(videos):
            big = os.urandom(16 * 1024 * 1024)
            rec = code.store(str(111_000_000_000_000_000 + i), "clip.mp4", big, "video/mp4")
            keys.update({k: False for k in rec["keys"].values()})
    finally:
        code.close()
    admin = rgw_bucket.admin_client
    avatar = "accounts/avatars/000/000/001/original/5f3a.png"
    admin.put_object(Bucket=rgw_bucket.name, Key=avatar, Body=PNG, ContentType="image/png", ACL="public-read",
                     CacheControl=CACHE_CONTROL)
    archive = "backups/dumps/000/000/001/original/archive-20261201.zip"
    admin.put_object(Bucket=rgw_bucket.name, Key=archive, Body=b"PK\x05\x06" + bytes(18), ACL="private",
                     ContentType="application/zip")
    keys.update({avatar: False, archive: True})
    return keys


def move(old_env, target, lab_info, tmp_path, *extra, endpoint=None, wait=True):
    """`mastowizard migrate --env-file OLD` with the new provider's flags and key (AWS_*)."""
    srv = target.server
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_"))}
    env.update(AWS_ACCESS_KEY_ID=srv.writer_access_key, AWS_SECRET_ACCESS_KEY=srv.writer_secret_key,
               XDG_STATE_HOME=str(tmp_path / "state"))
    args = [sys.executable, "-m", "mastowizard", "migrate", "--env-file", str(old_env), "--bucket", target.name,
            "--provider", "ceph" if srv.name == "rgw" else "other", "--endpoint", endpoint or srv.endpoint,
            "--region", srv.region, "--addressing", "path", "--permission", "acl",
            "--alias-host", target.media_https_base.split("://")[1], "--ca-bundle", lab_info.ca_pem,
            *[a for r in lab_info.resolve() for a in ("--resolve", r)], *extra]
    if not wait:
        return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True)
    p = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert "Traceback" not in p.stderr, p.stderr
    return p, (json.loads(p.stdout) if "--json" in extra and p.stdout.strip() else None)


def check_moved(old, new, keys, anon_http):
    """Every object of the old bucket is in the new one with its bytes, Mastodon's headers and ACL,
    and a stranger reads exactly the public ones through the new media host."""
    src, dst = old.admin_client, new.admin_client
    for key, private in keys.items():
        body = src.get_object(Bucket=old.name, Key=key)["Body"].read()
        obj = dst.get_object(Bucket=new.name, Key=key)
        assert obj["Body"].read() == body, key
        assert obj["ContentType"] == content_type(key) and obj["CacheControl"] == CACHE_CONTROL, (key, obj)
        assert obj["Metadata"] == {}, (key, obj["Metadata"])
        grants = dst.get_object_acl(Bucket=new.name, Key=key)["Grants"]
        public = any(g["Grantee"].get("URI") == ALL_USERS and g["Permission"] == "READ" for g in grants)
        assert public == (not private), (key, grants)
        r = anon_http.get(f"{new.media_https_base}/{key}")
        assert r.status_code == (403 if private else 200), (key, r.status_code)


def test_a_bucket_mastodon_filled_moves_to_another_bucket_exactly(rgw_bucket, bucket, lab_info, prepared, anon_http,
                                                                 tmp_path):
    prepared("acl")
    old_env = old_bucket(rgw_bucket, tmp_path)
    keys = fill_as_mastodon(old_env, rgw_bucket)
    p, doc = move(old_env, bucket, lab_info, tmp_path, "--yes", "--json")
    assert p.returncode == 0 and doc["ok"], (doc["failed"], json.dumps(doc["verified"]), p.stderr[-2000:])
    private = sum(keys.values())            # two suspended uploads (two styles each) and the archive
    assert doc["copied"] == len(keys) and doc["private"] == private == 5 and doc["verified"]["ok"], doc
    assert doc["verified"]["public_checked"] >= 10 and doc["verified"]["private_checked"] == private
    same_endpoint = bucket.server.name == "rgw"
    assert ("copied by the server" in doc["reading"]) == same_endpoint, doc["reading"]
    check_moved(rgw_bucket, bucket, keys, anon_http)
    p, again = move(old_env, bucket, lab_info, tmp_path, "--yes", "--json")
    assert p.returncode == 0 and again["copied"] == 0 and again["skipped"] == len(keys), again
    p, _ = move(old_env, bucket, lab_info, tmp_path, "--dry-run")
    assert "media in the old bucket: s3://" in p.stdout and "15 files" not in p.stdout, p.stdout


def test_a_source_rclone_left_private_is_suspect_and_copied_only_as_chosen(rgw_bucket, ministack_bucket, lab_info,
                                                                           tmp_path, anon_http):
    """The old bucket was filled with rclone (everything private): the move names it as suspect and
    asks; with keep, avatars become public in the new bucket (Mastodon never makes them private)
    and private attachments stay private."""
    target = ministack_bucket
    setup_bucket(settings_for(target, "acl"), Credential(target.server.admin_access_key,
                                                        Secret(target.server.admin_secret_key)))
    old_env = old_bucket(rgw_bucket, tmp_path)
    tree = make_tree(tmp_path / "system", 40, suspended=0)
    rclone_copy(tree.root, rgw_bucket)
    p, _ = move(old_env, target, lab_info, tmp_path, "--yes")
    assert p.returncode == 2 and "--private-media" in p.stderr and "suspect" in p.stdout, (p.stdout, p.stderr)
    assert "Contents" not in target.admin_client.list_objects_v2(Bucket=target.name)       # nothing copied
    p, doc = move(old_env, target, lab_info, tmp_path, "--private-media", "keep", "--yes", "--json")
    assert p.returncode == 0 and doc["ok"], (doc, p.stderr[-2000:])
    for rel in tree.files:
        attachment = rel.startswith(("media_attachments/", "cache/media_attachments/"))
        private = attachment or rel.startswith(("backups/", "imports/"))
        r = anon_http.get(f"{target.media_https_base}/{rel}")
        assert r.status_code == (403 if private else 200), (rel, r.status_code)


def test_a_move_killed_midway_resumes_without_writing_anything_twice(rgw_bucket, bucket, lab_info, prepared,
                                                                     tmp_path):
    """Killed once 10 objects are stored in the new bucket and the 11th is held on its way (a proxy
    in front of the new provider: awaited, never guessed); the rerun completes and writes none of
    them again."""
    from mastowizard_lab.faultproxy import FaultProxy
    prepared("acl")
    old_env = old_bucket(rgw_bucket, tmp_path)
    keys = fill_as_mastodon(old_env, rgw_bucket, videos=0)
    single_put = lambda r: r.method == "PUT" and not r.query          # noqa: E731

    def stored(proxy) -> list[str]:
        return [unquote(urlsplit(t).path).split("/", 2)[2] for m, t, st in proxy.log.forwarded
                if m == "PUT" and st == 200 and not urlsplit(t).query]

    with FaultProxy(urlsplit(bucket.server.endpoint).port) as proxy:
        proxy.rule(single_put, "request", after=10)
        proc = move(old_env, bucket, lab_info, tmp_path, "--yes", "--jobs", "4", endpoint=proxy.endpoint,
                    wait=False)
        proxy.wait_held(1, alive=lambda: proc.poll() is None)
        proxy.wait_idle()
        want, deadline = set(stored(proxy)), time.monotonic() + 60
        while missing := want - journal_keys(tmp_path / "state"):
            assert time.monotonic() < deadline and proc.poll() is None, f"{sorted(missing)} awaited in the journal"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        assert len(want) == 10
        proxy.clear()
        p, doc = move(old_env, bucket, lab_info, tmp_path, "--yes", "--json", endpoint=proxy.endpoint)
        assert p.returncode == 0 and doc["ok"] and doc["skipped"] == 10, (doc, p.stderr[-2000:])
        written = stored(proxy)
        assert len(written) == len(set(written)) == len(keys), "an object was written twice"


def cli(*args, env_extra=None, timeout=300):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_"))}
    env.update(env_extra or {})
    p = subprocess.run([sys.executable, "-m", "mastowizard", *args], env=env, capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    assert "Traceback" not in p.stderr, p.stderr
    return p


def test_the_switch_with_an_upload_in_the_window_loses_nothing(rgw_bucket, ministack_bucket, lab_info, anon_http,
                                                               tmp_path):
    """The move as the docs tell it: copy while the old bucket serves; the media host keeps its name
    and asks the new bucket first, the old one second; Mastodon stores an upload in the old bucket
    meanwhile; `apply` refuses to switch until that is accepted by its count; after the restart
    uploads go to the new bucket; the last copy (from the backup `apply` made) brings the window's
    upload over; then every object answers from the new bucket, and the restart guard is quiet."""
    import shutil
    import tempfile
    from pathlib import Path

    from helpers.lab import lab_site

    from mastowizard.host.local import LocalHost
    from mastowizard.migrate.gap import gap_before_restart
    from mastowizard_lab import nginx
    old, new = rgw_bucket, ministack_bucket
    srv = new.server
    setup_bucket(settings_for(new, "acl"), Credential(srv.admin_access_key, Secret(srv.admin_secret_key)))
    alias = f"switch-{new.name}.lab.test"
    old_env = old_bucket(old, tmp_path)
    text = old_env.read_text()
    old_env.write_text(text.replace(f"S3_ALIAS_HOST={old.media_https_base.split('://')[1]}",
                                    f"S3_ALIAS_HOST={alias}:{lab_info.https_port}"))
    keys = fill_as_mastodon(old_env, old, videos=0)
    new_flags = ["--bucket", new.name, "--provider", "other", "--endpoint", srv.endpoint, "--region", srv.region,
                 "--addressing", "path", "--permission", "acl", "--alias-host", f"{alias}:{lab_info.https_port}"]
    new_key = {"AWS_ACCESS_KEY_ID": srv.writer_access_key, "AWS_SECRET_ACCESS_KEY": srv.writer_secret_key,
               "XDG_STATE_HOME": str(tmp_path / "state")}
    http = ["--ca-bundle", lab_info.ca_pem, *[a for r in lab_info.resolve() for a in ("--resolve", r)]]

    p = cli("migrate", "--env-file", str(old_env), *new_flags, *http, "--yes", "--json", env_extra=new_key)
    assert p.returncode == 0 and json.loads(p.stdout)["copied"] == len(keys), p.stdout[-2000:] + p.stderr[-2000:]
    assert any("keeps its name" in line for line in json.loads(p.stdout)["next_steps"]), p.stdout[-2000:]

    p = cli("media-host", "--env-file", str(old_env), *new_flags, "--fallback")
    assert p.returncode == 0 and "error_page 403 404 = @old_bucket;" in p.stdout, p.stderr
    cache = Path(tempfile.mkdtemp(prefix="mw-nginx-cache-"))       # nginx's workers run as nobody
    cache.chmod(0o777)
    site = nginx.root() / "sites" / f"switch-{new.name}.conf"
    site.write_text(lab_site(p.stdout, lab_info, cache))
    base = f"https://{alias}:{lab_info.https_port}"
    try:
        nginx.reload()
        code = MastodonStorage(str(old_env))                 # Mastodon, still on the old bucket
        try:
            window = code.store("112000000000000000", "late.png", PNG, "image/png")["keys"]
        finally:
            code.close()
        for key in window.values():
            r = anon_http.get(f"{base}/{key}")
            assert r.status_code == 200 and r.headers.get("x-served-from") == "old-bucket", (key, r.status_code)

        p = cli("apply", "--env-file", str(old_env), *new_flags, "--yes", "--json", env_extra=new_key)
        assert p.returncode == 2 and "--accept-missing-media 2" in p.stderr, p.stderr    # never on --yes alone
        assert f"S3_BUCKET={old.name}" in old_env.read_text()                              # nothing written
        p = cli("apply", "--env-file", str(old_env), *new_flags, "--accept-missing-media", "2", "--yes", "--json",
                env_extra=new_key)
        assert p.returncode == 0, p.stderr
        backup = json.loads(p.stdout)["backup"]
        assert json.loads(p.stdout)["media_gap"]["kind"] == "bucket"

        code = MastodonStorage(str(old_env))                 # the restart: Mastodon reads the new settings
        try:
            after = code.store("113000000000000000", "new.png", PNG, "image/png")["keys"]
        finally:
            code.close()
        assert new.admin_client.head_object(Bucket=new.name, Key=after["original"])["ContentLength"] == len(PNG)

        p = cli("migrate", "--env-file", str(old_env), "--source-env", backup, *http, "--yes", "--json",
                env_extra={"XDG_STATE_HOME": str(tmp_path / "state")})
        doc = json.loads(p.stdout)
        assert p.returncode == 0 and doc["ok"] and doc["copied"] == len(window), (doc, p.stderr[-2000:])
        assert doc["skipped"] == len(keys)
        for key in [*keys, *window.values(), *after.values()]:
            r = anon_http.get(f"{base}/{key}")
            private = keys.get(key, False)
            assert r.status_code == (403 if private else 200), (key, r.status_code)
            if not private:          # a private one is refused by both buckets
                assert r.headers.get("x-served-from") is None, key             # the new bucket answered
        gap = gap_before_restart(LocalHost(), str(old_env))
        assert gap is not None and gap.kind == "bucket" and gap.safe, gap
    finally:
        site.unlink()
        nginx.reload()
        shutil.rmtree(cache, ignore_errors=True)


@on("rgw")
def test_an_object_the_old_bucket_will_not_say_who_may_read_is_a_failure_not_a_skip(s3server, rgw_bucket, bucket,
                                                                                    lab_info, prepared, tmp_path):
    """The old provider answers one object's anonymous HEAD with an error (a proxy in front of it):
    whether that object is private is unknown, so it is not copied, and the move is not complete:
    exit 1, the object named. Never green with an object left out."""
    from mastowizard_lab.faultproxy import FaultProxy
    prepared("acl")
    old_env = old_bucket(rgw_bucket, tmp_path)
    keys = fill_as_mastodon(old_env, rgw_bucket, videos=0)
    victim = sorted(keys)[3]
    with FaultProxy(urlsplit(rgw_bucket.server.endpoint).port) as proxy:
        old_env.write_text(old_env.read_text().replace(rgw_bucket.server.endpoint, proxy.endpoint))
        proxy.rule(lambda r: r.method == "HEAD" and r.path.endswith(victim), "answer", answer=400,
                   code="InvalidRequest")
        p, doc = move(old_env, bucket, lab_info, tmp_path, "--yes", "--json")
    assert p.returncode == 1 and not doc["ok"], (doc, p.stderr[-2000:])
    assert [f["key"] for f in doc["failed"]] == [victim], doc["failed"]
    assert "could not be asked who may read it" in doc["failed"][0]["error"]
    assert doc["copied"] == len(keys) - 1
