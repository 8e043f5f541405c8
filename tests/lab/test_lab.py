"""What the lab guarantees, checked on both servers: the ground the probe tests stand on."""

import json

import httpx
import pytest
from botocore.exceptions import ClientError

import mastowizard_lab as lab
from mastowizard_lab import buckets

pytestmark = pytest.mark.lab


def writer_client(srv, secret=None):
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url=srv.endpoint, region_name=srv.region,
                        aws_access_key_id=srv.writer_access_key,
                        aws_secret_access_key=secret or srv.writer_secret_key,
                        config=Config(request_checksum_calculation="when_required",
                                      response_checksum_validation="when_required",
                                      s3={"addressing_style": "path"}))


def make_public(bucket):
    s3 = bucket.admin_client
    if bucket.server.capabilities["default_block_public_access"]:
        s3.put_public_access_block(Bucket=bucket.name, PublicAccessBlockConfiguration={
            "BlockPublicAcls": False, "IgnorePublicAcls": False,
            "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    s3.put_bucket_policy(Bucket=bucket.name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket.name}/*"}]}))


def test_start_is_idempotent(s3server):
    assert lab.is_running(s3server.name)
    again = lab.start(s3server.name)
    assert again == s3server


def test_writer_signed_put_get(bucket):
    s3 = writer_client(bucket.server)
    s3.put_object(Bucket=bucket.name, Key="a/b.txt", Body=b"hello", ContentType="text/plain")
    assert s3.get_object(Bucket=bucket.name, Key="a/b.txt")["Body"].read() == b"hello"


def test_wrong_writer_secret_is_refused(bucket):
    with pytest.raises(ClientError) as e:
        writer_client(bucket.server, secret="wrong-secret-wrong-secret").list_objects_v2(Bucket=bucket.name)
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_private_object_is_not_public(bucket, anon_http):
    writer_client(bucket.server).put_object(Bucket=bucket.name, Key="p.txt", Body=b"secret")
    assert anon_http.get(f"{bucket.server.endpoint}/{bucket.name}/p.txt").status_code in (403, 404)
    assert anon_http.get(f"{bucket.media_http_base}/p.txt").status_code in (403, 404)


def test_public_object_through_media_host_http_and_https(bucket, anon_http):
    make_public(bucket)
    writer_client(bucket.server).put_object(Bucket=bucket.name, Key="m/x.png", Body=b"\x89PNG",
                                            ContentType="image/png",
                                            CacheControl="public, max-age=315576000, immutable")
    for base in (bucket.media_http_base, bucket.media_https_base):
        r = anon_http.get(f"{base}/m/x.png")
        assert r.status_code == 200 and r.content == b"\x89PNG"
        assert r.headers["content-type"] == "image/png"
        assert r.headers["cache-control"] == "public, max-age=315576000, immutable"
        assert not [h for h in r.headers if h.lower().startswith("x-amz-")]
    # The certificate is checked: without the lab CA the https request fails.
    from mastowizard.net import HttpOptions, client
    pin = f"*.media.test:{bucket.media_https_base.rsplit(':', 1)[1]}:127.0.0.1"
    with client(HttpOptions.build([pin])) as c, pytest.raises(httpx.ConnectError):
        c.get(f"{bucket.media_https_base}/m/x.png")


def test_media_host_root_does_not_list_with_get_only_policy(bucket, anon_http):
    make_public(bucket)
    writer_client(bucket.server).put_object(Bucket=bucket.name, Key="k.txt", Body=b"x")
    for path in ("/", "/?list-type=2"):
        r = anon_http.get(bucket.media_http_base + path)
        assert r.status_code in (403, 404) and "k.txt" not in r.text


def test_cors_passes_through_nginx(bucket, anon_http):
    make_public(bucket)
    bucket.admin_client.put_bucket_cors(Bucket=bucket.name, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"], "AllowedHeaders": ["*"]}]})
    writer_client(bucket.server).put_object(Bucket=bucket.name, Key="c.txt", Body=b"x")
    origin = "https://mastodon.example"
    r = anon_http.get(f"{bucket.media_http_base}/c.txt", headers={"Origin": origin})
    assert r.status_code == 200 and r.headers.get("access-control-allow-origin") in ("*", origin)
    pre = anon_http.options(f"{bucket.media_http_base}/c.txt",
                            headers={"Origin": origin, "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 200 and pre.headers.get("access-control-allow-origin") in ("*", origin)


def test_anonymous_put_through_nginx_is_refused(bucket, anon_http):
    make_public(bucket)
    r = anon_http.put(f"{bucket.media_http_base}/new.txt", content=b"x")
    assert r.status_code == 403
    keys = buckets.admin_client(bucket.server).list_objects_v2(Bucket=bucket.name).get("Contents", [])
    assert keys == []


def test_new_bucket_defaults_match_capabilities(bucket):
    caps = bucket.server.capabilities
    s3 = writer_client(bucket.server)
    if caps["default_acls_disabled"]:
        with pytest.raises(ClientError) as e:
            s3.put_object(Bucket=bucket.name, Key="acl.txt", Body=b"x", ACL="public-read")
        assert e.value.response["Error"]["Code"] == "AccessControlListNotSupported"
    else:
        s3.put_object(Bucket=bucket.name, Key="acl.txt", Body=b"x", ACL="public-read")
        assert httpx.get(f"{bucket.server.endpoint}/{bucket.name}/acl.txt").status_code == 200
    missing = httpx.get(f"{bucket.server.endpoint}/{bucket.name}/nope.txt")
    assert missing.status_code in (403, 404)
