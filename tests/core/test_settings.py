"""Settings to Mastodon's variables and back, with Mastodon's semantics."""

import pytest

from mastowizard.env.file import parse_values
from mastowizard.errors import InputError
from mastowizard.secrets import Secret
from mastowizard.settings import Settings, from_env


def test_aws_defaults_to_virtual_and_acl():
    s = Settings.build(bucket="media", provider="aws", region="eu-west-1", alias_host="files.example.com")
    env = s.to_env(include_secrets=False)
    assert env["S3_ENABLED"] == "true" and env["S3_BUCKET"] == "media" and env["S3_REGION"] == "eu-west-1"
    assert env["S3_ENDPOINT"] is None and env["S3_OVERRIDE_PATH_STYLE"] is None and env["S3_HOSTNAME"] is None
    assert env["S3_PERMISSION"] == "public-read" and env["S3_ALIAS_HOST"] == "files.example.com"
    assert env["S3_CLOUDFRONT_HOST"] is None
    assert s.public_url("media_attachments/x.png") == "https://files.example.com/media_attachments/x.png"


def test_aws_path_style_without_endpoint_is_refused():
    with pytest.raises(InputError) as e:
        Settings.build(bucket="media", provider="aws", addressing="path")
    assert e.value.field == "addressing" and "endpoint" in e.value.fix


def test_compatible_provider_fills_endpoint_and_extras():
    s = Settings.build(bucket="media", provider="wasabi", region="eu-central-1")
    env = s.to_env(include_secrets=False)
    assert env["S3_ENDPOINT"] == "https://s3.eu-central-1.wasabisys.com"
    assert env["S3_HOSTNAME"] == "s3.eu-central-1.wasabisys.com"
    assert env["S3_FORCE_SINGLE_REQUEST"] == "true"


def test_virtual_addressing_with_endpoint_sets_override():
    s = Settings.build(bucket="media", provider="other", endpoint="https://s3.example.net", addressing="virtual",
                       permission="policy")
    env = s.to_env(include_secrets=False)
    assert env["S3_OVERRIDE_PATH_STYLE"] == "true" and env["S3_PERMISSION"] == ""


def test_policy_mode_sends_no_acl():
    s = Settings.build(bucket="media", provider="other", endpoint="http://127.0.0.1:9000", permission="policy")
    assert s.acl == "" and s.to_env(include_secrets=False)["S3_PERMISSION"] == ""


def test_acl_mode_refused_where_provider_has_no_object_acls():
    with pytest.raises(InputError) as e:
        Settings.build(bucket="media", provider="r2", permission="acl", placeholders={"account_id": "abc123"})
    assert e.value.field == "permission" and "policy" in e.value.fix


def test_secret_is_masked_everywhere():
    s = Settings.build(bucket="media", access_key_id="AKIAEXAMPLE", secret_access_key="wJalrXUtnFEMI/K7MDENG")
    assert "wJalrXUtnFEMI" not in repr(s) and "wJalrXUtnFEMI" not in str(s.secret_access_key)
    assert f"{s.secret_access_key}" == "Secret(****DENG)"
    assert s.to_env()["AWS_SECRET_ACCESS_KEY"] == "wJalrXUtnFEMI/K7MDENG"


def test_key_prefix_applies_to_keys():
    s = Settings.build(bucket="media", key_prefix="inst", alias_host="m.example")
    assert s.key("a/b.png") == "inst/a/b.png"


@pytest.mark.parametrize("field,kwargs", [
    ("bucket", {"bucket": "Bad_Bucket"}),
    ("provider", {"bucket": "media", "provider": "nosuchcloud"}),
    ("region", {"bucket": "media", "region": "US East"}),
    ("endpoint", {"bucket": "media", "provider": "other", "endpoint": "s3.example.com"}),
    ("addressing", {"bucket": "media", "provider": "other", "endpoint": "http://x.example", "addressing": "dns"}),
    ("permission", {"bucket": "media", "permission": "public"}),
    ("alias-host", {"bucket": "media", "alias_host": "https://files.example.com/"}),
    ("protocol", {"bucket": "media", "protocol": "ftp"}),
    ("key-prefix", {"bucket": "media", "key_prefix": "/x/"}),
])
def test_every_field_names_itself(field, kwargs):
    with pytest.raises(InputError) as e:
        Settings.build(**kwargs)
    assert e.value.field == field and e.value.fix


# -- from an env file, as Mastodon reads it --------------------------------------------------
SAMPLE = """\
LOCAL_DOMAIN=example.com
S3_ENABLED=true
S3_BUCKET=files-example
AWS_ACCESS_KEY_ID=AKIAEXAMPLE
AWS_SECRET_ACCESS_KEY="abc/def+ghi"
S3_ALIAS_HOST=files.example.com
S3_REGION=us-west-2
"""


def test_reads_aws_instance():
    r = from_env(parse_values(SAMPLE))
    s = r.settings
    assert r.enabled and s.bucket == "files-example" and s.region == "us-west-2" and s.endpoint is None
    assert s.addressing == "virtual" and s.permission == "acl" and s.provider == "aws"
    assert s.secret_access_key == Secret("abc/def+ghi") and r.notes == ()


def test_local_storage():
    r = from_env(parse_values("LOCAL_DOMAIN=example.com\nS3_ENABLED=false\n"))
    assert not r.enabled and r.settings is None


def test_s3_enabled_must_be_exactly_true():
    r = from_env({"S3_ENABLED": "True", "S3_BUCKET": "x"})
    assert not r.enabled and "exactly 'true'" in r.notes[0]


def test_endpoint_means_path_style_unless_overridden():
    base = {"S3_ENABLED": "true", "S3_BUCKET": "media", "S3_ENDPOINT": "https://s3.fr-par.scw.cloud",
            "S3_REGION": "fr-par", "S3_ALIAS_HOST": "m.example"}
    assert from_env(base).settings.addressing == "path"
    assert from_env({**base, "S3_OVERRIDE_PATH_STYLE": "true"}).settings.addressing == "virtual"
    assert from_env(base).settings.provider == "scaleway"


def test_empty_permission_is_policy_mode_and_private_is_noted():
    base = {"S3_ENABLED": "true", "S3_BUCKET": "media"}
    assert from_env({**base, "S3_PERMISSION": ""}).settings.permission == "policy"
    r = from_env({**base, "S3_PERMISSION": "private"})
    assert r.settings.acl == "private" and "bucket policy" in r.notes[0]


def test_cloudfront_host_old_name_and_precedence():
    base = {"S3_ENABLED": "true", "S3_BUCKET": "media"}
    r = from_env({**base, "S3_CLOUDFRONT_HOST": "cdn.example.com"})
    assert r.settings.alias_host == "cdn.example.com" and "rename" in r.notes[0]
    r = from_env({**base, "S3_CLOUDFRONT_HOST": "old.example.com", "S3_ALIAS_HOST": "new.example.com"})
    assert r.settings.alias_host == "new.example.com" and "ignored" in r.notes[0]


def test_endpoint_without_alias_or_hostname_points_urls_at_aws():
    r = from_env({"S3_ENABLED": "true", "S3_BUCKET": "media", "S3_ENDPOINT": "https://s3.example.net"})
    assert "amazonaws.com" in r.notes[0]
    assert r.settings.public_url("k") == "https://s3.example.net/media/k"
    r = from_env({"S3_ENABLED": "true", "S3_BUCKET": "media", "S3_ENDPOINT": "https://s3.example.net",
                  "S3_HOSTNAME": "s3.example.net"})
    assert r.notes == () and r.settings.public_url("k") == "https://s3.example.net/media/k"


@pytest.mark.parametrize("env,field", [
    ({"S3_ENABLED": "true"}, "S3_BUCKET"),
    ({"S3_ENABLED": "true", "S3_BUCKET": "media", "S3_ENDPOINT": ""}, "S3_ENDPOINT"),
    ({"S3_ENABLED": "true", "S3_BUCKET": "media", "S3_ENDPOINT": "s3.example.net"}, "S3_ENDPOINT"),
    ({"S3_ENABLED": "true", "S3_BUCKET": "media", "S3_ALIAS_HOST": ""}, "S3_ALIAS_HOST"),
    ({"S3_ENABLED": "true", "S3_BUCKET": "media", "S3_ALIAS_HOST": "https://m.example"}, "S3_ALIAS_HOST"),
    ({"S3_ENABLED": "true", "S3_BUCKET": "media", "S3_REGION": ""}, "S3_REGION"),
    ({"S3_ENABLED": "true", "S3_BUCKET": "media", "S3_PROTOCOL": "ftp"}, "S3_PROTOCOL"),
])
def test_bad_env_values_name_the_variable(env, field):
    with pytest.raises(InputError) as e:
        from_env(env)
    assert e.value.field == field and e.value.fix


def test_unparseable_line_names_the_line():
    with pytest.raises(InputError) as e:
        parse_values("A=1\nB='unclosed\nC=3\n", source=".env.production")
    assert e.value.field == ".env.production line 2"


def test_round_trip_settings_env_settings():
    s = Settings.build(bucket="media", provider="digitalocean", region="ams3", alias_host="m.example",
                       permission="acl", key_prefix="inst", access_key_id="DO00KEY",
                       secret_access_key="s3cr3t-value-long")
    env = {k: v for k, v in s.to_env().items() if v is not None}
    back = from_env(env).settings
    for name in ("bucket", "provider", "region", "endpoint", "addressing", "permission", "alias_host",
                 "protocol", "key_prefix", "access_key_id", "secret_access_key"):
        assert getattr(back, name) == getattr(s, name), name


def test_an_r2_env_file_with_s3_permission_private_is_told_and_planned_empty():
    from mastowizard.settings import from_env
    r = from_env({"S3_ENABLED": "true", "S3_BUCKET": "media-files", "S3_REGION": "auto",
                  "S3_ENDPOINT": "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com",
                  "S3_PERMISSION": "private", "S3_ALIAS_HOST": "files.example.com"})
    assert r.settings.provider == "r2"
    assert any("must be empty" in n for n in r.notes), r.notes
    assert r.settings.to_env(include_secrets=False)["S3_PERMISSION"] == ""
    assert r.settings.acl == "private"          # the checks still see what the running Mastodon sends
