"""Plan and apply on a corpus of env files: only the intended keys change, shown by comparing bytes."""

import difflib
import os
import re
from pathlib import Path

import pytest

from mastowizard.env.apply import apply_plan, list_backups, rollback
from mastowizard.env.doc import EnvDocument
from mastowizard.env.plan import EnvFile, describe, make_plan
from mastowizard.errors import MastowizardError
from mastowizard.host.local import LocalHost
from mastowizard.settings import Settings
from mastowizard_lab import parsers

CORPUS = sorted((Path(__file__).parent / "env_corpus").glob("*.env"))
SECRET = "NEW/secret+value=0123456789abcdefABCDEF"

SETTINGS = {
    "aws-acl": lambda: Settings.build(bucket="files-example", provider="aws", region="eu-central-1",
                                      alias_host="files.example.com", permission="acl"),
    "wasabi-policy": lambda: Settings.build(bucket="media-01", provider="wasabi", region="eu-central-2",
                                            alias_host="media.example.com", permission="policy"),
    "self-hosted-virtual": lambda: Settings.build(bucket="mastodon", provider="ceph", permission="acl",
                                                  endpoint="https://rgw.example.net:7480", addressing="virtual",
                                                  alias_host="m.example.net", key_prefix="inst1"),
}


def with_creds(s):
    return s.with_credentials("AKIANEWKEY000000", SECRET)


def key_of(line: str) -> str | None:
    m = re.match(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=", line.lstrip("\ufeff"))
    return m.group(1) if m else None


def assert_only_intended_lines_changed(old: bytes, new: bytes, changed: set[str]) -> None:
    a = old.decode().splitlines(keepends=True)
    b = new.decode().splitlines(keepends=True)
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        for line in a[i1:i2]:
            # A removed or replaced line is an assignment of a changed key, or the last line that
            # only gained a line ending before an appended block.
            assert key_of(line) in changed or not line.endswith(("\n", "\r")), line
        for line in b[j1:j2]:
            assert key_of(line) in changed or line.strip() in ("", "# Object storage (written by mastowizard)") \
                or any(line.startswith(x) for x in a[i1:i2]), line


@pytest.mark.parametrize("flavour", SETTINGS)
@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_corpus_round_trip(tmp_path, path, flavour):
    target = tmp_path / ".env.production"
    original = path.read_bytes()
    target.write_bytes(original)
    target.chmod(0o640)
    env = EnvFile.read(LocalHost(), str(target))
    before = env.doc.values()
    plan = make_plan(env, with_creds(SETTINGS[flavour]()))
    changed = {c.key for c in plan.changes}
    result = apply_plan(plan)
    new = target.read_bytes()

    # the backup is the old file, byte for byte, with its mode
    assert Path(result.backup).read_bytes() == original
    assert (os.stat(result.backup).st_mode & 0o777) == 0o640 == (target.stat().st_mode & 0o777)
    # only the intended keys changed, every other byte stayed
    assert_only_intended_lines_changed(original, new, changed)
    if b"\r\n" in original:
        assert new.count(b"\n") == new.count(b"\r\n"), "CRLF kept on every line"
    assert new.startswith(b"\xef\xbb\xbf") == original.startswith(b"\xef\xbb\xbf")
    after = EnvDocument.from_bytes(new).values()
    for key in set(before) | set(after):
        if key not in changed:
            assert after.get(key) == before.get(key), key
    # the S3 values read back as intended, in all three readers
    wanted = {c.key: c.new for c in plan.changes}
    text = new.decode().lstrip("\ufeff")
    for reader in (lambda t: EnvDocument(t).values(), parsers.ruby_parse, parsers.node_parse, parsers.compose_parse):
        got = reader(text)
        for key, value in wanted.items():
            assert got.get(key) == value, (key, reader)
    # rollback restores the old file byte for byte
    rb = rollback(LocalHost(), str(target))
    assert target.read_bytes() == original and Path(rb.saved_current).read_bytes() == new


@pytest.fixture(scope="module", autouse=True)
def _readers():
    parsers.install()


def test_duplicates_change_the_last_and_remove_all(tmp_path):
    target = tmp_path / ".env.production"
    target.write_bytes((Path(__file__).parent / "env_corpus" / "unicode-dupes.env").read_bytes())
    env = EnvFile.read(LocalHost(), str(target))
    plan = make_plan(env, with_creds(SETTINGS["aws-acl"]()))
    text = plan.new_text
    assert "S3_BUCKET=first-bucket\n" in text and "S3_BUCKET=files-example\n" in text
    assert "S3_CLOUDFRONT_HOST" not in text and "S3_HOSTNAME" not in text
    assert text.count("S3_ALIAS_HOST=") == 2 and text.endswith("S3_HOSTNAME=s3.example\n") is False
    assert any("S3_BUCKET is set 2 times" in n for n in plan.notes)
    assert EnvDocument(text).values()["S3_ALIAS_HOST"] == "files.example.com"


def test_moving_to_aws_removes_the_endpoint(tmp_path):
    target = tmp_path / ".env.production"
    target.write_bytes((Path(__file__).parent / "env_corpus" / "crlf.env").read_bytes())
    plan = make_plan(EnvFile.read(LocalHost(), str(target)), SETTINGS["aws-acl"]())
    actions = {c.key: c.action for c in plan.changes}
    assert actions["S3_ENDPOINT"] == "remove" and actions["S3_CLOUDFRONT_HOST"] == "remove"
    assert actions["S3_BUCKET"] == "change" and actions["S3_ALIAS_HOST"] == "add"
    # no credentials given: the file's own stay as they are
    assert "AWS_SECRET_ACCESS_KEY" not in actions and "AWS_ACCESS_KEY_ID" not in actions


def test_very_long_file(tmp_path):
    lines = []
    for i in range(30000):
        lines.append(f"# comment {i}\n" if i % 7 == 0 else f"KEY_{i}='value {i} # with hash'\n")
    lines.insert(15000, "S3_ENABLED=false\n")
    original = "".join(lines).encode()
    target = tmp_path / ".env.production"
    target.write_bytes(original)
    plan = make_plan(EnvFile.read(LocalHost(), str(target)), with_creds(SETTINGS["wasabi-policy"]()))
    apply_plan(plan)
    new = target.read_bytes()
    assert_only_intended_lines_changed(original, new, {c.key for c in plan.changes})
    assert len(new) - len(original) < 600


def test_nothing_to_change_writes_nothing(tmp_path):
    target = tmp_path / ".env.production"
    target.write_text("LOCAL_DOMAIN=x.example\n")
    s = with_creds(SETTINGS["aws-acl"]())
    apply_plan(make_plan(EnvFile.read(LocalHost(), str(target)), s))
    first = target.read_bytes()
    result = apply_plan(make_plan(EnvFile.read(LocalHost(), str(target)), s))
    assert result.changed is False and result.backup is None and target.read_bytes() == first
    assert len(list_backups(LocalHost(), str(target))) == 1


def test_backup_is_never_overwritten(tmp_path):
    target = tmp_path / ".env.production"
    target.write_text("LOCAL_DOMAIN=x.example\n")
    first = with_creds(SETTINGS["aws-acl"]())
    second = with_creds(SETTINGS["wasabi-policy"]())
    r1 = apply_plan(make_plan(EnvFile.read(LocalHost(), str(target)), first))
    mid = target.read_bytes()
    r2 = apply_plan(make_plan(EnvFile.read(LocalHost(), str(target)), second))
    assert r1.backup.endswith(".env.production.before-s3")
    assert r2.backup != r1.backup and r2.backup.startswith(r1.backup + ".")
    assert Path(r1.backup).read_text() == "LOCAL_DOMAIN=x.example\n" and Path(r2.backup).read_bytes() == mid
    assert list_backups(LocalHost(), str(target))[0] == r2.backup
    rollback(LocalHost(), str(target), r1.backup)
    assert target.read_text() == "LOCAL_DOMAIN=x.example\n"


def test_file_changed_since_read_is_refused(tmp_path):
    target = tmp_path / ".env.production"
    target.write_text("LOCAL_DOMAIN=x.example\n")
    plan = make_plan(EnvFile.read(LocalHost(), str(target)), with_creds(SETTINGS["aws-acl"]()))
    target.write_text("LOCAL_DOMAIN=x.example\nEDITED=by someone else\n")
    with pytest.raises(MastowizardError) as e:
        apply_plan(plan)
    assert "changed since it was read" in str(e.value)
    assert target.read_text().endswith("EDITED=by someone else\n")
    assert list(tmp_path.iterdir()) == [target]


def test_describe_reports_what_the_instance_uses(tmp_path):
    target = tmp_path / ".env.production"
    target.write_bytes((Path(__file__).parent / "env_corpus" / "unicode-dupes.env").read_bytes())
    info = describe(EnvFile.read(LocalHost(), str(target)))
    assert info["storage"] == "s3" and info["local_domain"] == "ünïcode.example"
    notes = " ".join(info["notes"])
    assert "S3_CLOUDFRONT_HOST is ignored" in notes and "S3_BUCKET is set 2 times" in notes
    target.write_bytes((Path(__file__).parent / "env_corpus" / "quoting.env").read_bytes())
    info = describe(EnvFile.read(LocalHost(), str(target)))
    assert info["s3"]["AWS_SECRET_ACCESS_KEY"] == "****ue==" and "DOLLAR contains $" in " ".join(info["notes"])


def test_every_provider_but_aws_gets_the_sdk_checksums_only_when_required(tmp_path):
    """aws-sdk-core 3.216+ checksums broke uploads to B2, R2 and others: the plan writes both
    switches for every S3-compatible provider, says why in its notes, and leaves AWS alone."""
    env = tmp_path / ".env.production"
    env.write_text("LOCAL_DOMAIN=example.org\n")
    for name, make in SETTINGS.items():
        plan = make_plan(EnvFile.read(LocalHost(), str(env)), with_creds(make()))
        added = {c.key: c.new for c in plan.changes}
        if name == "aws-acl":
            assert "AWS_REQUEST_CHECKSUM_CALCULATION" not in added and not any("checksum" in n for n in plan.notes)
        else:
            assert added["AWS_REQUEST_CHECKSUM_CALCULATION"] == added["AWS_RESPONSE_CHECKSUM_VALIDATION"] \
                == "WHEN_REQUIRED", (name, added)
            assert any("B2 and R2 rejected" in n for n in plan.notes), plan.notes


def _worker_settings(env_path) -> dict:
    """What Mastodon's own code (paperclip.rb on dotenv 3.1.8, the lab's worker) makes of an env file."""
    from mastowizard_lab.mastodon_storage import MastodonStorage
    code = MastodonStorage(str(env_path))
    try:
        return code.settings()
    finally:
        code.close()


def test_a_threshold_written_in_megabytes_is_written_in_bytes_and_mastodon_reads_it_so(tmp_path):
    """S3_MULTIPART_THRESHOLD=15 means 15 bytes to Mastodon (every upload under 5 MiB then fails):
    the plan writes 15728640 and says why; timeouts of a fraction of a second (read as 0) are removed."""
    target = tmp_path / ".env.production"
    target.write_text("LOCAL_DOMAIN=example.org\nS3_ENABLED=true\nS3_BUCKET=files-example\n"
                      "S3_MULTIPART_THRESHOLD=15\nS3_READ_TIMEOUT=0.5\n")
    s = with_creds(SETTINGS["aws-acl"]())
    s = Settings(**{**s.__dict__, "extra_env": {"S3_MULTIPART_THRESHOLD": "15", "S3_READ_TIMEOUT": "0.5"}})
    plan = make_plan(EnvFile.read(LocalHost(), str(target)), s)
    changed = {c.key: (c.action, c.new) for c in plan.changes}
    assert changed["S3_MULTIPART_THRESHOLD"] == ("change", "15728640")
    assert changed["S3_READ_TIMEOUT"] == ("remove", None)
    assert any("S3_MULTIPART_THRESHOLD=15 is read as 15 bytes" in n and "written as 15728640" in n for n in plan.notes)
    assert any("S3_READ_TIMEOUT=0.5 is read as 0 s" in n for n in plan.notes)
    before = _worker_settings(target)
    target.write_text(plan.new_text)
    after = _worker_settings(target)
    assert (before["s3_headers"]["X-Amz-Multipart-Threshold"], before["http_read_timeout"]) == (15, 0)
    assert (after["s3_headers"]["X-Amz-Multipart-Threshold"], after["http_read_timeout"]) == (15728640, 5)


def test_what_the_jobs_checks_measured_is_written_with_its_reason(tmp_path):
    from mastowizard.results import Check
    from mastowizard.s3.jobs import measured
    checks = [Check("jobs.read_back", "t").failed("a ranged GET answered 200 with Content-Range missing", "fix",
                                                  suggest={"S3_FORCE_SINGLE_REQUEST": "true"}),
              Check("jobs.latency", "t").warned("slowest answer 3000 ms", "fix",
                                                suggest={"S3_READ_TIMEOUT": "10", "S3_RETRY_LIMIT": "2"}),
              Check("jobs.batch_delete", "t").passed("deleted 3 probe objects")]
    target = tmp_path / ".env.production"
    target.write_text("LOCAL_DOMAIN=example.org\nS3_ENABLE_CHECKSUM_MODE=true\n")
    plan = make_plan(EnvFile.read(LocalHost(), str(target)), with_creds(SETTINGS["aws-acl"]()), measured(checks))
    added = {c.key: c.new for c in plan.changes}
    assert added["S3_FORCE_SINGLE_REQUEST"] == "true" and added["S3_READ_TIMEOUT"] == "10"
    assert added["S3_RETRY_LIMIT"] == "2"
    assert any(n.startswith("S3_FORCE_SINGLE_REQUEST=true: measured by jobs.read_back: a ranged GET")
               for n in plan.notes), plan.notes
    code = _worker_settings_after(target, plan)
    assert (code["http_read_timeout"], code["retry_limit"]) == (10, 2)


def _worker_settings_after(target, plan) -> dict:
    target.write_text(plan.new_text)
    return _worker_settings(target)
