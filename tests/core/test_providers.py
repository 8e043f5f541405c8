"""The provider catalog is complete, consistent, and agrees with Mastodon's docs where they speak."""

import pytest

from mastowizard.errors import InputError
from mastowizard.providers import (
    ACL_KINDS,
    all_providers,
    get_provider,
    guess_provider,
    region_from_endpoint,
    search_providers,
)
from mastowizard.validate import endpoint_url

REQUIRED = {"aws", "r2", "b2", "wasabi", "digitalocean", "scaleway", "ovh", "exoscale", "linode", "hetzner",
            "idrive", "gcs", "minio", "garage", "seaweedfs", "ceph", "other"}


def test_every_required_provider_is_there_once():
    ids = [p.id for p in all_providers()]
    assert set(ids) >= REQUIRED and len(ids) == len(set(ids))
    names = [a for p in all_providers() for a in (p.id, *p.aliases)]
    assert len(names) == len(set(names)), "an alias is shared by two providers"


@pytest.mark.parametrize("p", all_providers(), ids=lambda p: p.id)
def test_entry_fields(p):
    assert p.object_acls in ACL_KINDS
    assert p.default_permission in ("acl", "policy")
    assert set(p.addressing) <= {"path", "virtual"} and p.default_addressing in p.addressing
    assert p.cors in ("api", "console", "none")
    assert p.sources and p.public_read_how and p.region_value_note
    assert p.default_region and (not p.regions_complete or p.default_region in p.regions)
    if p.object_acls in ("no", "ignored", "bucket-level", "fine-grained-only"):
        assert p.default_permission == "policy", "ACL mode recommended where ACLs do not work"
    assert set(p.mastodon_env) <= {"S3_FORCE_SINGLE_REQUEST", "S3_PERMISSION", "S3_BATCH_DELETE_LIMIT",
                                   "S3_ENABLE_CHECKSUM_MODE", "S3_STORAGE_CLASS", "S3_MULTIPART_THRESHOLD"}
    if p.id != "aws":
        assert p.checksum_when_required


@pytest.mark.parametrize("p", [p for p in all_providers() if p.endpoint_pattern], ids=lambda p: p.id)
def test_patterns_fill_to_valid_urls_and_round_trip(p):
    values = {k: "abc123" for k in p.endpoint_placeholders}
    if p.id == "idrive":
        values = {"endpoint_host": "x0y1.par.idrivee2-12.com"}
    ep = p.endpoint_for(p.default_region, **values)
    assert endpoint_url(ep) == ep and ep.startswith("https://")
    assert guess_provider(ep).id == p.id
    if "{region}" in p.endpoint_pattern:
        assert region_from_endpoint(p, ep) == p.default_region


def test_missing_placeholder_names_it():
    with pytest.raises(InputError) as e:
        get_provider("r2").endpoint_for("auto")
    assert e.value.field == "account-id" and "--endpoint" in e.value.fix


def test_lookup_by_alias_and_unknown():
    assert get_provider("Cloudflare").id == "r2" and get_provider("SPACES").id == "digitalocean"
    assert get_provider("rgw").id == "ceph" and get_provider("Amazon S3").id == "aws"
    with pytest.raises(InputError) as e:
        get_provider("nimbus")
    assert e.value.field == "provider" and "wasabi" in e.value.fix


def test_guess_from_endpoints():
    assert guess_provider(None).id == "aws"
    assert guess_provider("https://s3.eu-central-2.wasabisys.com").id == "wasabi"
    assert guess_provider("https://s3.gra.cloud.ovh.net").id == "ovh"
    assert guess_provider("https://minio.example.net:9000").id == "other"


def test_search():
    assert [p.id for p in search_providers("ocean")] == ["digitalocean"]
    assert "r2" in [p.id for p in search_providers("cloud")]


def test_mastodon_docs_facts():
    assert get_provider("wasabi").mastodon_env["S3_FORCE_SINGLE_REQUEST"] == "true"
    assert get_provider("exoscale").mastodon_env["S3_FORCE_SINGLE_REQUEST"] == "true"
    for pid in ("r2", "garage"):
        p = get_provider(pid)
        assert p.default_permission == "policy" and p.mastodon_env.get("S3_PERMISSION") == ""
    assert any("DeleteObjects" in q for q in get_provider("gcs").quirks)
    aws = get_provider("aws")
    assert aws.default_permission == "acl" and any("suspended" in q for q in aws.quirks)


def test_provider_docs_are_generated_from_the_catalog():
    from pathlib import Path

    from mastowizard.checklist.provider_docs import render
    page = Path(__file__).resolve().parents[2] / "docs" / "providers.md"
    assert page.read_text() == render(), "run: python3 scripts/generate_docs.py"


@pytest.mark.parametrize("provider, extra, expected", [
    ("wasabi", {}, {"S3_MULTIPART_THRESHOLD": "52428800", "S3_FORCE_SINGLE_REQUEST": "true"}),
    ("scaleway", {}, {"S3_MULTIPART_THRESHOLD": "5242880000"}),
    ("linode", {}, {"S3_OVERRIDE_PATH_STYLE": "true"}),
    ("b2", {}, {"S3_PERMISSION": ""}),
    ("r2", {"endpoint": "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com"}, {"S3_PERMISSION": ""}),
    ("digitalocean", {"region": "fra1"}, {"S3_HOSTNAME": "fra1.digitaloceanspaces.com"}),
])
def test_what_admins_hit_per_provider_is_in_the_env_it_writes(provider, extra, expected):
    """provider-quirks.md, as the env file gets it (each fact's source is in the catalog entry)."""
    from mastowizard.settings import Settings
    p = get_provider(provider)
    kw = {"region": p.default_region} if p.default_region else {}
    kw.update(extra)
    s = Settings.build(bucket="media-example", provider=provider, alias_host="files.example.com", **kw)
    env = s.to_env(include_secrets=False)
    for key, value in expected.items():
        assert env.get(key) == value, (provider, key, env.get(key))
    assert env["AWS_REQUEST_CHECKSUM_CALCULATION"] == "WHEN_REQUIRED"
    assert any("mastodon" in src or "http" in src for src in p.sources)


def test_garage_is_path_style_only_and_hetzner_says_it_has_no_custom_domains():
    assert get_provider("garage").addressing == ("path",) or list(get_provider("garage").addressing) == ["path"]
    assert any("no custom domains" in q for q in get_provider("hetzner").quirks)
    assert any("mc anonymous set download" in q for q in get_provider("minio").quirks)
