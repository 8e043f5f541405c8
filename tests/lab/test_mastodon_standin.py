"""The lab's Mastodon stand-in, checked with Mastodon.py (a real client) against real S3 servers:
it stores and addresses media the way Mastodon does, so the checklist tested on it means something."""

import struct
import zlib

import httpx
import pytest
from mastodon import Mastodon
from mastodon.errors import MastodonAPIError, MastodonUnauthorizedError

from mastowizard.s3.bucket_setup import setup_bucket
from mastowizard.s3.credential import Credential
from mastowizard.secrets import Secret
from mastowizard.settings import Settings
from mastowizard_lab import mastodon as lab_mastodon

PORT = 17031
TOKENS = {"writer-token": "read write", "media-token": "read:accounts write:media",
          "read-token": "read"}


def png(seed: int = 0) -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes([0, seed % 256, 0, 0]))) + chunk(b"IEND", b""))


def client(url, token="writer-token"):
    return Mastodon(access_token=token, api_base_url=url, mastodon_version="4.4.0", request_timeout=10)


@pytest.fixture
def local_instance(tmp_path):
    live = tmp_path / "live"
    live.mkdir()
    (live / ".env.production").write_text("LOCAL_DOMAIN=lab.example\nS3_ENABLED=false\n")
    run = lab_mastodon.start(live / ".env.production", PORT, tmp_path / "state", TOKENS,
                             base_url=f"http://127.0.0.1:{PORT}", processing_seconds=1)
    yield run, live
    run.stop()


def s3_instance(tmp_path, bucket, permission, **lab):
    srv = bucket.server
    alias = bucket.media_http_base.split("://")[1]
    env = (f"LOCAL_DOMAIN=lab.example\nS3_ENABLED=true\nS3_BUCKET={bucket.name}\nS3_REGION={srv.region}\n"
           f"S3_ENDPOINT={srv.endpoint}\nS3_HOSTNAME={srv.endpoint.split('://')[1]}\nS3_PROTOCOL=http\n"
           f"S3_ALIAS_HOST={alias}\nS3_PERMISSION={'public-read' if permission == 'acl' else ''}\n"
           f"AWS_ACCESS_KEY_ID={srv.writer_access_key}\nAWS_SECRET_ACCESS_KEY={srv.writer_secret_key}\n")
    extra = lab.pop("extra_env", {})
    for k, v in extra.items():
        env += f"{k}={v}\n"
    live = tmp_path / "live"
    live.mkdir(exist_ok=True)
    (live / ".env.production").write_text(env)
    s = Settings.build(bucket=bucket.name, provider="ceph" if srv.name == "rgw" else "other", endpoint=srv.endpoint,
                       permission=permission, alias_host=alias, protocol="http", key_prefix=extra.get("S3_KEY_PREFIX"))
    setup_bucket(s, Credential(srv.admin_access_key, Secret(srv.admin_secret_key)))
    return lab_mastodon.start(live / ".env.production", PORT, tmp_path / "state", TOKENS, **lab)


def test_local_storage_upload_and_delete(local_instance):
    run, live = local_instance
    api = client(run.url)
    media = api.media_post(png(1), mime_type="image/png", description="a test image")
    assert media.type == "image" and media.description == "a test image"
    assert media.url.startswith(f"{run.url}/system/media_attachments/files/")
    key = media.url.split("/system/", 1)[1]
    parts = key.split("/")
    assert parts[:2] == ["media_attachments", "files"] and parts[-2] == "original"
    assert "".join(parts[2:-2]) == media.id.zfill(len("".join(parts[2:-2])))   # the id partition
    assert (live / "public" / "system" / key).read_bytes() == png(1)
    assert httpx.get(media.url).content == png(1)
    assert api.media(media.id).url == media.url
    r = api.session.delete(f"{run.url}/api/v1/media/{media.id}", headers={"Authorization": "Bearer writer-token"})
    assert r.status_code == 200 and not (live / "public" / "system" / key).exists()


def test_video_is_processed_later(local_instance):
    run, _ = local_instance
    api = client(run.url)
    r = httpx.post(f"{run.url}/api/v2/media", headers={"Authorization": "Bearer writer-token"},
                   files={"file": ("clip.mp4", b"\0\0\0\x18ftypmp42", "video/mp4")})
    assert r.status_code == 202 and r.json()["url"] is None and r.json()["type"] == "video"
    assert httpx.get(f"{run.url}/api/v1/media/{r.json()['id']}",
                     headers={"Authorization": "Bearer writer-token"}).status_code == 206
    done = api.media_post(b"\0\0\0\x18ftypmp42", mime_type="video/mp4", synchronous=False)
    assert done.url is None
    import time
    deadline = time.monotonic() + 15          # processing_seconds=1: polled as a client does, until it is done
    while (seen := api.media(done.id)).url is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seen.url and seen.url.endswith(".mp4"), f"awaited the video processed (a url) within 15 s; saw {seen}"


def test_tokens_and_scopes_like_mastodon(local_instance):
    run, _ = local_instance
    with pytest.raises(MastodonUnauthorizedError):
        client(run.url, "no-such-token").media_post(png(), mime_type="image/png")
    with pytest.raises(MastodonAPIError) as e:
        client(run.url, "read-token").media_post(png(), mime_type="image/png")
    assert "outside the authorized scopes" in str(e.value)
    assert client(run.url, "media-token").media_post(png(), mime_type="image/png").url
    assert client(run.url, "media-token").account_verify_credentials().username == "admin"
    r = httpx.post(f"{run.url}/api/v2/media", headers={"Authorization": "Bearer writer-token"},
                   files={"file": ("x.txt", b"text", "text/plain")})
    assert r.status_code == 422 and "content type is invalid" in r.json()["error"]
    inst = httpx.get(f"{run.url}/api/v2/instance").json()
    assert inst["configuration"]["media_attachments"]["image_size_limit"] > 0


def test_media_attached_to_a_status_cannot_be_deleted(local_instance):
    run, _ = local_instance
    api = client(run.url)
    media = api.media_post(png(2), mime_type="image/png")
    api.status_post("with media", media_ids=[media.id])
    r = api.session.delete(f"{run.url}/api/v1/media/{media.id}", headers={"Authorization": "Bearer writer-token"})
    assert r.status_code == 422 and "used by a status" in r.json()["error"]


@pytest.mark.parametrize("permission", ["acl", "policy"])
def test_s3_upload_like_mastodon(tmp_path, bucket, anon_http, permission):
    run = s3_instance(tmp_path, bucket, permission, extra_env={"S3_KEY_PREFIX": "inst1"})
    try:
        media = client(run.url).media_post(png(3), mime_type="image/png")
    finally:
        run.stop()
    assert media.url.startswith(f"{bucket.media_http_base}/inst1/media_attachments/files/")
    assert bucket.name not in media.url.split("://", 1)[1].split("/", 1)[1]
    s3 = bucket.admin_client
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket.name)["Contents"])
    original = media.url.split("/", 3)[3]
    small = media.preview_url.split("/", 3)[3]
    assert keys == sorted([original, small]) and "/small/" in small
    head = s3.head_object(Bucket=bucket.name, Key=original)
    assert head["ContentType"] == "image/png" and head["CacheControl"] == "public, max-age=315576000, immutable"
    r = anon_http.get(media.url)
    assert r.status_code == 200 and r.content == png(3)
    if permission == "acl" and bucket.server.capabilities["acl"]:
        grants = s3.get_object_acl(Bucket=bucket.name, Key=original)["Grants"]
        assert any(g["Grantee"].get("URI", "").endswith("AllUsers") for g in grants)


def test_s3_without_alias_host_uses_s3_hostname(tmp_path, bucket):
    srv = bucket.server
    run = s3_instance(tmp_path, bucket, "acl")
    run.stop()
    env = (tmp_path / "live" / ".env.production").read_text().replace(
        f"S3_ALIAS_HOST={bucket.media_http_base.split('://')[1]}\n", "")
    (tmp_path / "live" / ".env.production").write_text(env)
    run = lab_mastodon.start(tmp_path / "live" / ".env.production", PORT, tmp_path / "state", TOKENS)
    try:
        media = client(run.url).media_post(png(4), mime_type="image/png")
    finally:
        run.stop()
    assert media.url.startswith(f"http://{srv.endpoint.split('://')[1]}/{bucket.name}/media_attachments/")


def test_sidekiq_s_jobs_go_through_mastodon_s_code(tmp_path, rgw_bucket, anon_http):
    """The stand-in's /lab/jobs routes run Mastodon's own code on the media it stored: a suspension
    makes every style private (UpdateMediaAttachmentsPermissionsService, PutObjectAcl), lifting it
    makes them public again, a thumbnail's read (copy_to_local_file) gets the original, and a batch
    delete (DeleteObjects) removes every style."""
    bucket = rgw_bucket                                       # RGW: it keeps object ACLs
    run = s3_instance(tmp_path, bucket, "acl")
    try:
        media = client(run.url).media_post(png(5), mime_type="image/png")
        assert anon_http.get(media.url).status_code == 200
        r = httpx.post(f"{run.url}/lab/jobs/suspend/{media.id}")
        assert r.status_code == 200 and len(r.json()["keys"]) == 2, r.text
        assert [anon_http.get(u).status_code for u in (media.url, media.preview_url)] == [403, 403]
        httpx.post(f"{run.url}/lab/jobs/unsuspend/{media.id}").raise_for_status()
        assert [anon_http.get(u).status_code for u in (media.url, media.preview_url)] == [200, 200]
        read = httpx.post(f"{run.url}/lab/jobs/read/{media.id}").json()
        assert read["copied"] and read["size"] == len(png(5)), read
        gone = httpx.post(f"{run.url}/lab/jobs/delete/{media.id}").json()
        assert gone["calls"] == 1 and len(gone["keys"]) == 2, gone
        assert bucket.admin_client.list_objects_v2(Bucket=bucket.name).get("KeyCount") == 0
    finally:
        run.stop()
