"""The switch without losing a file, as the wizard and docs/migration.md run it, against the lab's
Mastodon stand-in (which stores uploads on disk, then in S3 once restarted on the new env file):
copy while the instance runs on disk, an upload arrives, apply and restart, the final delta, and
every file that existed on disk before the switch is in the bucket."""

import json
import os
import subprocess
import sys

import httpx
from helpers.lab import on

from mastowizard.checklist.upload_chain import TEST_JPEG
from mastowizard.migrate.inventory import walk
from mastowizard_lab import mastodon as lab_mastodon

PORT = 17034
TOKEN = "cutover-token"


def cli(*args, bucket, tmp_path):
    srv = bucket.server
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_"))}
    env.update(AWS_ACCESS_KEY_ID=srv.writer_access_key, AWS_SECRET_ACCESS_KEY=srv.writer_secret_key,
               XDG_STATE_HOME=str(tmp_path / "state"))
    p = subprocess.run([sys.executable, "-m", "mastowizard", *args], env=env, capture_output=True, text=True,
                       timeout=300, stdin=subprocess.DEVNULL)
    assert "Traceback" not in p.stderr, p.stderr
    return p


def upload(url: str, seed: int) -> dict:
    r = httpx.post(f"{url}/api/v2/media", headers={"Authorization": f"Bearer {TOKEN}"},
                   files={"file": (f"p{seed}.jpg", TEST_JPEG, "image/jpeg")}, timeout=20)
    assert r.status_code in (200, 202), r.text
    return r.json()


@on("rgw")        # the stand-in's S3 uploads send an ACL: RGW's default bucket takes it
def test_an_upload_during_the_switch_is_in_the_bucket_after_the_final_delta(bucket, lab_info, tmp_path):
    srv = bucket.server
    live = tmp_path / "live"
    live.mkdir()
    env_file = live / ".env.production"
    env_file.write_text("LOCAL_DOMAIN=lab.example\nS3_ENABLED=false\n")
    settings = ["--env-file", str(env_file), "--provider", "ceph", "--endpoint", srv.endpoint, "--region", srv.region,
                "--addressing", "path", "--permission", "acl", "--bucket", bucket.name,
                "--alias-host", bucket.media_http_base.split("://")[1], "--protocol", "http"]
    pins = [a for r in lab_info.resolve() for a in ("--resolve", r)]
    run = lab_mastodon.start(env_file, PORT, tmp_path / "web", {TOKEN: "write:media"},
                             base_url=f"http://127.0.0.1:{PORT}", processing_seconds=0)
    try:
        upload(run.url, 1)                                    # media from before the move
        p = cli("migrate", *settings, "--yes", "--json", "--verify", "none", bucket=bucket, tmp_path=tmp_path)
        first = json.loads(p.stdout)
        assert p.returncode == 0 and first["copied"] == first["files"] > 0, first
        upload(run.url, 2)                                    # arrives after the copy, before the switch
        late = len(list(walk(str(live / "public" / "system")))) - first["files"]
        p = cli("apply", *settings, "--yes", bucket=bucket, tmp_path=tmp_path)
        assert p.returncode == 2 and f"--accept-missing-media {late} " in p.stderr, p.stderr   # named, not written
        assert b"S3_ENABLED=false" in env_file.read_bytes()
        p = cli("apply", *settings, "--yes", "--accept-missing-media", str(late), bucket=bucket, tmp_path=tmp_path)
        assert p.returncode == 0, p.stderr                    # the admin chose: the final delta copies them
        assert f"warning: {late} of {first['files'] + late} file(s)" in p.stdout, p.stdout
        run = lab_mastodon.start(env_file, PORT, tmp_path / "web", {TOKEN: "write:media"},
                                 base_url=f"http://127.0.0.1:{PORT}", processing_seconds=0)   # the restart
        after = upload(run.url, 3)                            # now straight into the bucket
        assert after["url"].startswith(bucket.media_http_base + "/media_attachments/")
        on_disk = [f.rel for f in walk(str(live / "public" / "system"))]
        # the final delta
        p = cli("migrate", *settings[:2], *pins, "--yes", "--json", bucket=bucket, tmp_path=tmp_path)
        final = json.loads(p.stdout)
        assert p.returncode == 0 and final["ok"], final
        assert final["copied"] == len(on_disk) - first["files"] > 0     # only what arrived in between
    finally:
        run.stop()
    keys = {o["Key"] for page in bucket.admin_client.get_paginator("list_objects_v2").paginate(Bucket=bucket.name)
            for o in page.get("Contents", [])}
    assert set(on_disk) <= keys, sorted(set(on_disk) - keys)
