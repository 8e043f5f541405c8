"""The watch's judgement without a lab: which differences from the baseline are named, how, and
which of them matter (exit 1); first-seen times kept across runs; the metrics as Prometheus'
own parser reads them."""

from __future__ import annotations

import copy
import time

from prometheus_client.parser import text_string_to_metric_families

from mastowizard.results import Check
from mastowizard.watch import metrics, seen
from mastowizard.watch.certificate import Certificate
from mastowizard.watch.compare import compare
from mastowizard.watch.snapshot import Snapshot

NOW = time.time()
POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::media/*"}]}


def snap(**changes) -> Snapshot:
    s = Snapshot(taken_at=NOW - 86400, settings={"S3_BUCKET": "media", "S3_ALIAS_HOST": "files.example"},
                 writer_key="abc", bucket={"policy": copy.deepcopy(POLICY), "cors": [], "versioning": None,
                                           "public_access_block": {"BlockPublicPolicy": True, "BlockPublicAcls": True},
                                           "lifecycle": None, "ownership": ["BucketOwnerEnforced"]},
                 certificate=Certificate("files.example", "CN=R11,O=Let's Encrypt,C=US", "CN=files.example",
                                         NOW + 60 * 86400, "f" * 64),
                 verdicts={"anon.put": "pass", "cors": "pass", "jobs.latency": "pass", "upload": "pass"})
    for k, v in changes.items():
        setattr(s, k, v)
    return s


def checks(**status) -> list[Check]:
    base = {"anon.put": "pass", "cors": "pass", "jobs.latency": "pass", "upload": "pass"}
    base.update(status)
    return [Check(cid, f"title of {cid}", st, f"detail of {cid}", "the fix" if st in ("fail", "warn") else "")
            for cid, st in base.items()]


def lines(changes):
    return {c.item: (c.line(), c.matters) for c in compare(snap(), changes[0], changes[1], cert_days=14, at=NOW)}


def test_nothing_changed_is_nothing_said():
    assert compare(snap(), snap(taken_at=NOW), checks(), cert_days=14, at=NOW) == []


def test_each_bucket_setting_is_said_as_an_admin_reads_it_and_matters():
    now = snap(taken_at=NOW)
    now.bucket["policy"]["Statement"].append({"Effect": "Allow", "Principal": {"AWS": "*"},
                                              "Action": ["s3:ListBucket"], "Resource": "arn:aws:s3:::media"})
    now.bucket["public_access_block"]["BlockPublicPolicy"] = False
    now.bucket["versioning"] = "Enabled"
    now.bucket["ownership"] = ["ObjectWriter"]
    now.settings = {"S3_BUCKET": "media", "S3_ALIAS_HOST": "cdn.example", "S3_READ_TIMEOUT": "10"}
    got = lines((now, checks()))
    assert got["policy"] == ("CHANGED policy: bucket policy statement added: Allow * s3:ListBucket on "
                             "arn:aws:s3:::media", True)
    assert got["public_access_block"][0] == ("CHANGED public_access_block: Block Public Access BlockPublicPolicy: "
                                             "true -> false")
    assert got["versioning"][0] == "CHANGED versioning: versioning appeared: Enabled"
    assert got["ownership"][0] == "CHANGED ownership: object ownership ObjectWriter (was BucketOwnerEnforced)"
    assert got["settings"] == ("CHANGED settings: the env file's storage settings S3_ALIAS_HOST: files.example -> "
                               "cdn.example; S3_READ_TIMEOUT: (unset) -> 10", True)
    assert all(matters for _, matters in got.values())


def test_news_that_breaks_nothing_is_said_but_does_not_fail_the_watch():
    now = snap(taken_at=NOW, writer_key="def")
    renewed = snap(taken_at=NOW)
    renewed.certificate = Certificate("files.example", "CN=E6,O=Let's Encrypt,C=US", "CN=files.example",
                                      NOW + 80 * 86400, "e" * 64)
    assert compare(snap(), renewed, checks(), cert_days=14, at=NOW) == [], \
        "Let's Encrypt signing with E6 instead of R11 is the same authority: no change"
    now.certificate = Certificate("files.example", "CN=Sectigo RSA DV,O=Sectigo Limited,C=GB", "CN=files.example",
                                  NOW + 80 * 86400, "e" * 64)
    got = lines((now, checks(**{"jobs.latency": "warn", "cors": "pass"})))
    assert got["writer_key"] == ("CHANGED writer_key: the writer key is another key now (its ID's fingerprint def, "
                                 "was abc): a rotated key; the checks say whether it can do what Mastodon needs", False)
    assert got["certificate_issuer"] == ("CHANGED certificate_issuer: the media host certificate's issuer Sectigo "
                                         "Limited (was Let's Encrypt)", False)
    assert got["check:jobs.latency"] == ("WARN check:jobs.latency: title of jobs.latency: detail of jobs.latency "
                                         "(was pass); fix: the fix", False)


def test_a_setting_that_can_no_longer_be_read_matters():
    now = snap(taken_at=NOW)
    now.bucket["policy"] = {"unreadable": "AccessDenied"}
    got = lines((now, checks()))
    assert got["policy"] == ("CHANGED policy: bucket policy can no longer be read with the writer key "
                             "(AccessDenied), so it is not watched", True)


def test_verdicts_a_failure_and_a_check_no_longer_verified_matter_a_read_only_run_skips_the_upload():
    got = lines((snap(taken_at=NOW), checks(**{"anon.put": "fail", "cors": "skip", "upload": "skip"})))
    assert got["check:anon.put"][1] and got["check:anon.put"][0].startswith("FAIL check:anon.put: title of anon.put")
    assert got["check:cors"] == ("NOT-VERIFIED check:cors: title of cors: detail of cors (was pass)", True)
    assert got["check:upload"][1]
    read_only = lines((snap(taken_at=NOW, read_only=True), checks(upload="skip")))
    assert "check:upload" not in read_only, "a read-only watch makes no upload: its skip is no change"


def test_a_certificate_near_its_end_matters_and_an_expired_one_is_said_so():
    near = snap(taken_at=NOW)
    near.certificate = Certificate("files.example", "CN=R11", "CN=files.example", NOW + 3 * 86400, "a" * 64)
    (c,) = [x for x in compare(snap(), near, checks(), cert_days=14, at=NOW) if x.item == "certificate"]
    assert c.matters and c.line().startswith("EXPIRES certificate: files.example's certificate expires in 3.0 days")
    assert not [x for x in compare(snap(), near, checks(), cert_days=2, at=NOW) if x.item == "certificate"]
    near.certificate = Certificate("files.example", "CN=R11", "CN=files.example", NOW - 3600, "a" * 64)
    (c,) = [x for x in compare(snap(), near, checks(), cert_days=14, at=NOW) if x.item == "certificate"]
    assert c.matters and c.label == "EXPIRED"


def test_first_seen_is_kept_while_the_change_lasts_and_forgotten_after(tmp_path):
    now = snap(taken_at=NOW)
    now.bucket["lifecycle"] = [{"ID": "x", "Status": "Enabled", "Expiration": {"Days": 7}}]
    state = tmp_path / "state"
    first = compare(snap(), now, checks(), cert_days=14, at=NOW)
    seen.save(str(state), seen.update(seen.load(str(state)), first, NOW - 3600, ok=False))
    again = compare(snap(), now, checks(), cert_days=14, at=NOW)
    kept = seen.update(seen.load(str(state)), again, NOW, ok=False)
    assert again[0].first_seen == NOW - 3600 and "(first seen " in again[0].line()
    assert kept.last_success is None
    healed = seen.update(kept, [], NOW + 60, ok=True)
    assert healed.first_seen == {} and healed.last_success == NOW + 60
    assert oct(state.stat().st_mode & 0o777) == "0o600"


def test_the_metrics_are_what_prometheus_parses_with_every_label_escaped():
    now = snap(taken_at=NOW)
    now.bucket["cors"] = None
    cs = checks(cors="fail")
    cs[2].evidence = {"samples_s": [0.02, 0.05, 0.3], "read_timeout_s": 5, "open_timeout_s": 5}
    cs[2].seconds = 0.4
    changes = compare(snap(), now, cs, cert_days=14, at=NOW)
    seen.update(seen.Seen(), changes, NOW, ok=False)
    text = metrics.render(metrics.Reading(cs, changes, now, snap(), False, NOW, 2.5, None,
                                          bucket="media", media_host='odd"host\\name\n', mode="policy",
                                          domain="example.social"))
    got = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge" and family.documentation
        for s in family.samples:
            labels = dict(s.labels)
            assert labels.pop("domain") == "example.social", "every series says whose it is"
            got[(s.name, tuple(sorted(labels.items())))] = s.value
    assert got[("mastowizard_watch_ok", ())] == 0
    assert got[("mastowizard_drift", (("item", "cors"),))] == 1
    assert got[("mastowizard_drift_matters", (("item", "cors"),))] == 1
    assert got[("mastowizard_drift", (("item", "policy"),))] == 0
    assert got[("mastowizard_drift_first_seen_timestamp_seconds", (("item", "cors"),))] == NOW
    assert got[("mastowizard_check_status", (("check", "cors"), ("status", "fail")))] == 1
    assert got[("mastowizard_check_status", (("check", "cors"), ("status", "pass")))] == 0
    assert got[("mastowizard_check_duration_seconds", (("check", "jobs.latency"),))] == 0.4
    assert got[("mastowizard_s3_latency_max_seconds", ())] == 0.3
    assert got[("mastowizard_s3_latency_median_seconds", ())] == 0.05
    expiry = got[("mastowizard_certificate_expiry_timestamp_seconds", (("host", "files.example"),))]
    assert abs(expiry - (NOW + 60 * 86400)) < 1
    info = [k for k in got if k[0] == "mastowizard_watch_info"]
    assert dict(info[0][1])["media_host"] == 'odd"host\\name\n'
    assert ("mastowizard_watch_last_success_timestamp_seconds", ()) not in got


def test_a_setting_unreadable_at_the_baseline_and_readable_now_is_said_whatever_it_became():
    """The key could not read the policy when the baseline was saved, and the bucket has none (or some)."""
    base = snap()
    base.bucket.update(policy={"unreadable": "AccessDenied"}, cors={"unreadable": "AccessDenied"})
    now = snap(taken_at=NOW)
    now.bucket.update(policy=None, cors=[{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}])
    got = {c.item: c.line() for c in compare(base, now, checks(), cert_days=14, at=NOW)}
    assert got["policy"] == "CHANGED policy: bucket policy readable now (was AccessDenied): not set"
    assert got["cors"] == "CHANGED cors: CORS rules readable now (was AccessDenied): GET from *"


def test_a_setting_not_read_this_run_is_said_and_does_not_fail_the_watch():
    now = snap(taken_at=NOW)
    now.bucket["policy"] = {"error": "ServiceUnavailable"}
    (c,) = compare(snap(), now, checks(), cert_days=14, at=NOW)
    assert (c.item, c.label, c.matters) == ("policy", "UNREAD", False)
    assert c.text == "bucket policy could not be read this run (ServiceUnavailable, 3 tries): compared again next run"


def test_a_read_only_run_against_a_full_baseline_excuses_what_only_an_upload_can_judge():
    """The Summary's baseline has the upload; the timer runs --read-only: the upload's checks and the
    browser's CORS answer are not run, which is no change. A CORS failure still is."""
    now = snap(taken_at=NOW, read_only=True)
    skipped = {cid: "skip" for cid in ("upload", "cors")}
    assert compare(snap(), now, checks(**skipped), cert_days=14, at=NOW) == []
    (c,) = compare(snap(), now, checks(upload="skip", cors="fail"), cert_days=14, at=NOW)
    assert c.label == "FAIL" and c.item == "check:cors" and c.matters


def test_a_change_that_cannot_be_read_for_one_run_still_counts_and_keeps_its_first_seen_time():
    """A lifecycle rule appeared (matters); the next run's read times out: that run is no success,
    the alert stays, and the time the rule was first seen is not forgotten."""
    from mastowizard.watch.run import _unread_after_a_change
    changed = snap(taken_at=NOW)
    changed.bucket["lifecycle"] = [{"ID": "tidy", "Status": "Enabled", "Expiration": {"Days": 30}}]
    first = compare(snap(), changed, checks(), cert_days=14, at=NOW - 3600)
    state = seen.update(seen.Seen(), first, NOW - 3600, ok=False)
    unread = snap(taken_at=NOW)
    unread.bucket["lifecycle"] = {"error": "RequestTimeout"}
    now = compare(snap(), unread, checks(), cert_days=14, at=NOW)
    kept = _unread_after_a_change(now, state)
    (c,) = now
    assert c.label == "UNREAD" and c.matters and "still counts as changed" in c.text
    after = seen.update(state, now, NOW, ok=False, keep=kept)
    assert state.first_seen.items() <= after.first_seen.items(), "the rule's first-seen time is kept"
    # with no change before it, a read that times out is only said
    fresh = compare(snap(), unread, checks(), cert_days=14, at=NOW)
    assert _unread_after_a_change(fresh, seen.Seen()) == [] and not fresh[0].matters
