"""The admin credential from an AWS profile, read with botocore's own loading (no server needed)."""

import pytest

from mastowizard.errors import InputError
from mastowizard.s3 import profiles
from mastowizard.settings import Settings


@pytest.fixture
def aws(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    for var in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
                "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def test_keys_token_region_and_an_s3_endpoint_from_a_services_section(aws):
    (aws / "credentials").write_text("[wasabi-admin]\naws_access_key_id = AKIAADMIN\n"
                                     "aws_secret_access_key = s3cr3t-admin-value\n"
                                     "aws_session_token = t0ken-value-123\n")
    (aws / "config").write_text("[profile wasabi-admin]\nregion = eu-central-1\nservices = wasabi\n\n"
                                "[services wasabi]\ns3 =\n  endpoint_url = https://s3.eu-central-1.wasabisys.com\n")
    p = profiles.load("wasabi-admin")
    assert p.credential.access_key_id == "AKIAADMIN" and p.credential.secret_access_key.reveal() == "s3cr3t-admin-value"
    assert p.credential.session_token.reveal() == "t0ken-value-123"
    assert (p.region, p.endpoint_url) == ("eu-central-1", "https://s3.eu-central-1.wasabisys.com")
    assert "s3cr3t" not in repr(p)
    assert profiles.list_profiles() == ["wasabi-admin"]
    # the settings' own values win; the profile fills what they leave empty
    s = Settings.build(bucket="media", provider="wasabi", region="us-east-1", endpoint="https://s3.wasabisys.com")
    assert (p.fill(s).endpoint, p.fill(s).region) == ("https://s3.wasabisys.com", "us-east-1")
    bare = Settings.build(bucket="media", provider="aws", region="eu-west-1")
    assert p.fill(bare).endpoint == "https://s3.eu-central-1.wasabisys.com"


def test_a_global_endpoint_url_and_a_profile_without_keys(aws):
    (aws / "config").write_text("[profile garage]\nendpoint_url = http://127.0.0.1:3900\n"
                                "aws_access_key_id = GKadmin\naws_secret_access_key = garage-secret-1\n"
                                "[profile empty]\nregion = garage\n")
    assert profiles.load("garage").endpoint_url == "http://127.0.0.1:3900"
    with pytest.raises(InputError) as e:
        profiles.load("empty")
    assert e.value.field == "--admin-profile" and "'empty'" in str(e.value) and "no credential" in str(e.value)


def test_a_missing_profile_names_it_the_files_and_the_profiles_there(aws):
    (aws / "credentials").write_text("[one]\naws_access_key_id = A\naws_secret_access_key = B\n")
    with pytest.raises(InputError) as e:
        profiles.load("two")
    text = str(e.value)
    assert "'two'" in text and str(aws / "config") in text and str(aws / "credentials") in text and "one" in text
