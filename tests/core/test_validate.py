"""Every settings field rejects bad input with the field named and a fix."""

import pytest

from mastowizard import validate
from mastowizard.errors import InputError


@pytest.mark.parametrize("name", ["mastodon-media", "abc", "a" * 63, "media.example.com", "files-01"])
def test_good_bucket_names(name):
    assert validate.bucket_name(name) == name


@pytest.mark.parametrize("name,why", [
    ("", "empty"),
    ("ab", "characters long"),
    ("a" * 64, "characters long"),
    ("Mastodon", "uppercase"),
    ("my_bucket", "characters"),
    ("-media", "characters"),
    ("media-", "characters"),
    ("me..dia", "dot next to"),
    ("me.-dia", "dot next to"),
    ("192.168.1.10", "IP address"),
    ("xn--media", "reserves"),
    ("media-s3alias", "reserves"),
    ("https://s3.example.com/media", "URL"),
    ("media/files", "URL or a path"),
])
def test_bad_bucket_names(name, why):
    with pytest.raises(InputError) as e:
        validate.bucket_name(name)
    assert e.value.field == "bucket"
    assert why.split()[0].lower() in str(e.value).lower() or why in e.value.message
    assert e.value.fix


@pytest.mark.parametrize("value,expected", [
    ("media.example.com", "media.example.com"),
    ("Media.Example.COM.", "media.example.com"),
    ("media.example.com:8443", "media.example.com:8443"),
    ("127.0.0.1:9000", "127.0.0.1:9000"),
    ("[::1]:8080", "[::1]:8080"),
])
def test_good_hosts(value, expected):
    assert validate.host_name(value, field="alias-host") == expected


@pytest.mark.parametrize("value,fragment", [
    ("https://media.example.com", "is a URL"),
    ("media.example.com/bucket", "has a path"),
    ("media_example.com", "bad label"),
    ("-media.example.com", "bad label"),
    ("media.example.com:0", "invalid port"),
    ("media.example.com:http", "invalid port"),
    ("", "is empty"),
    ("a" * 64 + ".com", "bad label"),
])
def test_bad_hosts(value, fragment):
    with pytest.raises(InputError) as e:
        validate.host_name(value, field="alias-host")
    assert e.value.field == "alias-host"
    assert fragment in e.value.message
    assert e.value.fix


def test_url_as_host_suggests_the_host():
    with pytest.raises(InputError) as e:
        validate.host_name("https://files.example.org", field="alias-host")
    assert "files.example.org" in e.value.fix


@pytest.mark.parametrize("value,expected", [
    ("https://s3.eu-central-1.wasabisys.com", "https://s3.eu-central-1.wasabisys.com"),
    ("https://s3.eu-central-1.wasabisys.com/", "https://s3.eu-central-1.wasabisys.com"),
    ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
    ("HTTPS://Fsn1.Your-ObjectStorage.com", "https://fsn1.your-objectstorage.com"),
])
def test_good_endpoints(value, expected):
    assert validate.endpoint_url(value) == expected


@pytest.mark.parametrize("value,fragment", [
    ("s3.example.com", "no scheme"),
    ("ftp://s3.example.com", "uses 'ftp'"),
    ("https://s3.example.com/mybucket", "has a path"),
    ("https://key:secret@s3.example.com", "credentials"),
    ("https://s3.example.com?x=1", "query"),
    ("https://s3.example.com:99999", "invalid port"),
    ("https://s3_example.com", "bad label"),
    ("", "is empty"),
])
def test_bad_endpoints(value, fragment):
    with pytest.raises(InputError) as e:
        validate.endpoint_url(value)
    assert e.value.field == "endpoint"
    assert fragment in e.value.message
    assert "secret" not in str(e.value) or "credentials" in e.value.message


def test_endpoint_with_credentials_never_echoes_them():
    with pytest.raises(InputError) as e:
        validate.endpoint_url("https://AKIAXXXX:SuperSecretValue@s3.example.com")
    assert "SuperSecretValue" not in str(e.value)


@pytest.mark.parametrize("value", ["us-east-1", "auto", "fr-par", "garage", "us-west-004"])
def test_good_regions(value):
    assert validate.region(value) == value


@pytest.mark.parametrize("value", ["", "US East", "us-east-1/", "eu central", "-x"])
def test_bad_regions(value):
    with pytest.raises(InputError) as e:
        validate.region(value)
    assert e.value.field == "region" and e.value.fix


@pytest.mark.parametrize("value,ok", [("media", True), ("a/b", True), ("/media", False), ("media/", False),
                                      ("a//b", False), ("a/../b", False), ("a b", False), ("", True)])
def test_key_prefix(value, ok):
    if ok:
        assert validate.key_prefix(value) == (value or None)
    else:
        with pytest.raises(InputError) as e:
            validate.key_prefix(value)
        assert e.value.field == "key-prefix"


def test_choice_names_field_and_options():
    with pytest.raises(InputError) as e:
        validate.choice("public", "permission", ("acl", "policy"))
    assert e.value.field == "permission" and "acl, policy" in e.value.fix


def test_secret_errors_never_echo_the_secret():
    with pytest.raises(InputError) as e:
        validate.secret_value(" abcdefSECRET123 ")
    assert "SECRET123" not in str(e.value)
