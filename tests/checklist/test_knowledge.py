"""Every failing check links to a troubleshooting entry, the page has every entry, logs are matched."""

from pathlib import Path

import pytest

from mastowizard.checklist import knowledge, titles
from mastowizard.results import Check
from mastowizard.s3 import probe_run

ROOT = Path(__file__).resolve().parents[2]


def test_docs_are_generated_from_the_knowledge_base():
    page = (ROOT / "docs" / "troubleshooting.md").read_text()
    assert page == knowledge.render_docs(), "run: python3 scripts/generate_docs.py"
    for e in knowledge.ENTRIES:
        assert f'<a id="{e.id}"></a>' in page


@pytest.mark.parametrize("cid", [c for c in titles.TITLES] + [c for c, _ in probe_run.ALL_PROBES])
def test_every_check_that_can_fail_has_an_entry(cid):
    entry = knowledge.for_check(Check(cid, "t", "fail", "something failed", "fix"))
    assert entry is not None or cid in ("permission.mode", "writer.credentials", "bucket.ownership", "anon.read",
                                        "bucket.cors", "writer.acl", "bucket.public_access_block",
                                        "bucket.policy"), cid


@pytest.mark.parametrize("code,entry", [
    ("AccessControlListNotSupported", "acl-not-supported"), ("SignatureDoesNotMatch", "signature"),
    ("InvalidAccessKeyId", "access-key"), ("PermanentRedirect", "wrong-region"),
    ("AuthorizationHeaderMalformed", "wrong-region"), ("NoSuchBucket", "no-such-bucket"),
    ("XAmzContentSHA256Mismatch", "checksum"),
])
def test_error_codes_find_their_entry(code, entry):
    c = Check("writer.bucket", "t", "fail", f"refused: {code}", "fix", {"error": code})
    assert knowledge.for_check(c).id == entry


def test_log_lines_are_matched_most_frequent_first():
    lines = ["E, [2026-11-25] ERROR -- : Aws::S3::Errors::AccessControlListNotSupported: "
             "The bucket does not allow ACLs",
             "I, [2026-11-25] INFO -- : Completed 200 OK",
             "E, ERROR -- : Seahorse::Client::NetworkingError: Failed to open TCP connection to s3.example:443",
             "E, ERROR -- : Aws::S3::Errors::AccessControlListNotSupported: The bucket does not allow ACLs"]
    found = knowledge.match_logs(lines, "mastodon-sidekiq")
    assert [(f.entry.id, f.count) for f in found] == [("acl-not-supported", 2), ("network", 1)]
    assert found[0].source == "mastodon-sidekiq" and "does not allow ACLs" in found[0].sample
