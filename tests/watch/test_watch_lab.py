"""`mastowizard watch` against the lab, as a timer runs it: a baseline saved from a working setup
(Ceph RGW, nginx as the media host, the Mastodon stand-in storing media through Mastodon's own
code), then the setup broken the ways it breaks in production, each run asserted by its exit
status, its lines and its metrics (read back with prometheus_client's own parser)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import uuid

import pytest
from helpers.checklist import TOKENS, Lab
from prometheus_client.parser import text_string_to_metric_families

from mastowizard_lab import mastodon as lab_mastodon
from mastowizard_lab import nginx
from mastowizard_lab.config import EXTRA_ZONE, NGINX_HTTPS_PORT, RGW_PORT

pytestmark = pytest.mark.lab
PORT = 17036


def run(*args, token="good-token"):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTOWIZARD_", "MASTODON_"))}
    if token:
        env["MASTODON_ACCESS_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "mastowizard", "watch", *args], capture_output=True, text=True,
                          env=env, timeout=180, stdin=subprocess.DEVNULL)


def metrics(path, domain="lab.example") -> dict[tuple[str, tuple], float]:
    """Every sample of the textfile, as prometheus_client's parser reads it: (name, labels) -> value.
    Every series carries the instance's LOCAL_DOMAIN (two watches on one node_exporter never collide);
    checked here, then left out of the keys."""
    out = {}
    with open(path) as f:
        families = list(text_string_to_metric_families(f.read()))
    for family in families:
        for s in family.samples:
            labels = dict(s.labels)
            assert labels.pop("domain", None) == domain, (s.name, s.labels)
            out[(s.name, tuple(sorted(labels.items())))] = s.value
    return out


def value(m, name, **labels):
    key = (name, tuple(sorted(labels.items())))
    assert key in m, f"awaited metric {name}{labels}; the file has {sorted({k[0] for k in m})}"
    return m[key]


class Watch:
    def __init__(self, tmp_path, bucket, lab_info, alias=None):
        self.lab = Lab(tmp_path, bucket, lab_info, "policy")
        self.lab.setup(alias=alias)
        self.lab.run = lab_mastodon.start(self.lab.env_file, PORT, tmp_path / "state", TOKENS)
        self.baseline = tmp_path / "baseline.json"
        self.metrics = tmp_path / "mastowizard.prom"
        self.admin = bucket.admin_client
        self.bucket = bucket
        pins = [a for r in lab_info.resolve() for a in ("--resolve", r)]
        self.common = ["--env-file", str(self.lab.env_file), "--instance", self.lab.run.url,
                       "--baseline", str(self.baseline), *pins, "--ca-bundle", lab_info.ca_pem, "--poll-timeout", "20"]

    def save(self, *extra, **kw):
        return run(*self.common, "--save", *extra, **kw)

    def watch(self, *extra, **kw):
        return run(*self.common, "--metrics", str(self.metrics), *extra, **kw)


@pytest.fixture
def watched(tmp_path, rgw_bucket, lab_info):
    w = Watch(tmp_path, rgw_bucket, lab_info)
    yield w
    w.lab.stop()


def test_a_working_setup_is_saved_then_watched_quietly_with_its_metrics(watched):
    p = watched.save()
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"baseline saved to {watched.baseline} (mode 0600, no secrets)" in p.stdout
    assert "recorded: the bucket's policy, cors" in p.stdout
    assert stat.S_IMODE(os.stat(watched.baseline).st_mode) == 0o600
    text = watched.baseline.read_text()
    srv = watched.bucket.server
    for secret in (srv.writer_secret_key, srv.writer_access_key, "good-token"):
        assert secret not in text
    doc = json.loads(text)
    assert doc["verdicts"]["upload"] == "pass" and doc["bucket"]["cors"], doc["verdicts"]

    # as cron runs it: nothing on stdout or stderr when all is as in the baseline, exit 0
    p = watched.watch("--quiet")
    assert (p.returncode, p.stdout, p.stderr) == (0, "", ""), p.stdout + p.stderr
    m = metrics(watched.metrics)
    assert value(m, "mastowizard_watch_ok") == 1
    assert value(m, "mastowizard_check_status", check="upload", status="pass") == 1
    assert value(m, "mastowizard_check_status", check="anon.put", status="fail") == 0
    assert value(m, "mastowizard_check_duration_seconds", check="public_fetch") > 0
    assert all(value(m, "mastowizard_drift", item=i) == 0 for i in ("policy", "cors", "lifecycle", "settings"))
    assert value(m, "mastowizard_watch_last_success_timestamp_seconds") == pytest.approx(time.time(), abs=120)
    assert value(m, "mastowizard_s3_read_timeout_seconds") == 5
    assert 0 < value(m, "mastowizard_s3_latency_max_seconds") < 5
    host = watched.bucket.media_https_base.split("://")[1]
    days = (value(m, "mastowizard_certificate_expiry_timestamp_seconds", host=host) - time.time()) / 86400
    assert 700 < days < 826, days          # the lab CA's media certificate: 825 days
    assert stat.S_IMODE(os.stat(watched.metrics).st_mode) == 0o644

    p = watched.watch()
    # no media on disk in this lab instance: the old URLs are not verified, and said so
    assert p.returncode == 0 and p.stdout.startswith("watch: ok: 23 passed, 1 not verified"), p.stdout + p.stderr
    assert "; nothing changed since the baseline of " in p.stdout


def test_a_timer_that_sees_only_a_copy_of_the_env_file_still_asks_the_old_urls_of_the_baseline(watched, tmp_path):
    """systemd hands the watch the env file as a credential (%d/env), away from public/system: the
    old /system/ URLs sampled when the baseline was saved are asked again, not reported as unverified."""
    media = watched.lab.live / "public" / "system" / "media_attachments" / "files" / "000" / "000" / "001"
    (media / "original").mkdir(parents=True)
    (media / "original" / "old.png").write_bytes(b"\x89PNG old media")
    p = watched.save()
    assert p.returncode == 0 and "24 passed" in p.stdout, p.stdout + p.stderr
    sampled = json.loads(watched.baseline.read_text())["old_urls"]
    assert sampled == ["media_attachments/files/000/000/001/original/old.png"]
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "env").write_bytes(watched.lab.env_file.read_bytes())
    args = [a if a != str(watched.lab.env_file) else str(credentials / "env") for a in watched.common]
    p = run(*args, "--metrics", str(watched.metrics), "--json")
    assert p.returncode == 0, p.stdout + p.stderr
    old = next(c for c in json.loads(p.stdout)["checks"] if c["id"] == "old_urls")
    assert old["status"] == "pass" and "/system/media_attachments/files/000/000/001/original/old.png -> 200" in \
        old["detail"], old


def test_a_policy_made_public_writable_fails_the_watch_and_keeps_its_first_seen_time(watched):
    assert watched.save().returncode == 0
    policy = json.loads(watched.admin.get_bucket_policy(Bucket=watched.bucket.name)["Policy"])
    policy["Statement"].append({"Sid": "oops", "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
                                "Resource": f"arn:aws:s3:::{watched.bucket.name}/*"})
    watched.admin.put_bucket_policy(Bucket=watched.bucket.name, Policy=json.dumps(policy))
    p = watched.watch("--quiet")
    assert p.returncode == 1, p.stdout + p.stderr
    lines = p.stderr.splitlines()
    drift = [x for x in lines if x.startswith("CHANGED policy: bucket policy statement added: Allow * s3:PutObject on "
                                              f"arn:aws:s3:::{watched.bucket.name}/*")]
    assert drift and "(first seen " in drift[0], lines
    assert any(x.startswith("FAIL check:anon.put: Nobody can upload") for x in lines), lines
    m = metrics(watched.metrics)
    assert value(m, "mastowizard_watch_ok") == 0
    assert value(m, "mastowizard_drift", item="policy") == 1 and value(m, "mastowizard_drift_matters", item="policy")
    assert value(m, "mastowizard_check_status", check="anon.put", status="fail") == 1
    first = value(m, "mastowizard_drift_first_seen_timestamp_seconds", item="policy")
    assert not any(k[0] == "mastowizard_watch_last_success_timestamp_seconds" for k in m), "no run has succeeded"

    # the next run: the same change keeps the time it was first seen, in the line and the metric
    p = watched.watch("--json")
    assert p.returncode == 1
    doc = json.loads(p.stdout)
    assert doc["ok"] is False and any(x.startswith("CHANGED policy:") for x in doc["matters"]), doc["matters"]
    change = next(c for c in doc["changes"] if c["item"] == "policy")
    assert change["first_seen"] == first and change["matters"] is True
    assert value(metrics(watched.metrics), "mastowizard_drift_first_seen_timestamp_seconds", item="policy") == first


def test_cors_removed_and_a_lifecycle_rule_added_are_each_named(watched):
    assert watched.save("--read-only").returncode == 0
    name = watched.bucket.name
    rules = watched.admin.get_bucket_cors(Bucket=name)["CORSRules"]
    watched.admin.delete_bucket_cors(Bucket=name)
    p = watched.watch("--read-only", "--quiet")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "CHANGED cors: CORS rules removed: browsers on the instance's pages can no longer read media" in p.stderr
    m = metrics(watched.metrics)
    assert value(m, "mastowizard_drift_matters", item="cors") == 1 and value(m, "mastowizard_drift", item="policy") == 0

    watched.admin.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
    watched.admin.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [
        {"ID": "tidy", "Status": "Enabled", "Filter": {"Prefix": "media_attachments/"}, "Expiration": {"Days": 30}}]})
    p = watched.watch("--read-only", "--quiet")
    assert p.returncode == 1, p.stdout + p.stderr
    assert ("CHANGED lifecycle: lifecycle rules appeared: tidy (Enabled) under 'media_attachments/': expires "
            "objects after 30 days") in p.stderr, p.stderr
    m = metrics(watched.metrics)
    assert value(m, "mastowizard_drift_matters", item="lifecycle") == 1
    assert value(m, "mastowizard_drift", item="cors") == 0, "the CORS rules put back as they were are no drift"


def test_a_read_only_watch_makes_no_upload_and_needs_no_token(watched):
    """The token given here may not upload media: a watch that uploaded would fail instance.token."""
    assert watched.save("--read-only", token="no-media-token").returncode == 0
    p = watched.watch("--read-only", "--json", token="no-media-token")
    assert p.returncode == 0, p.stdout + p.stderr
    doc = json.loads(p.stdout)
    checks = {c["id"]: c for c in doc["checks"]}
    assert checks["upload"]["status"] == "skip"
    assert checks["upload"]["detail"] == "read-only watch: no test upload through the API"
    assert checks["instance.health"]["status"] == "pass" and checks["anon.put"]["status"] == "pass"
    assert doc["changes"] == []
    assert value(metrics(watched.metrics), "mastowizard_watch_info", bucket=watched.bucket.name,
                 media_host=watched.bucket.media_https_base.split("://")[1], mode="policy", read_only="true") == 1


@pytest.fixture
def own_certificate(tmp_path, rgw_bucket, lab_info):
    """A media host with a certificate of its own from the lab's CA, to make expire."""
    host = f"watch-{uuid.uuid4().hex[:6]}.{EXTRA_ZONE}"
    site = f"test-{host}"
    certs = nginx.root() / "certs"

    def serve(days_left: float) -> None:
        now = time.time()
        nginx.add_site(site, host, f"http://127.0.0.1:{RGW_PORT}/{rgw_bucket.name}",
                       nginx.issue_certificate(host, now - 100 * 86400, now + days_left * 86400, certs))
    serve(90)
    w = Watch(tmp_path, rgw_bucket, lab_info, alias=f"{host}:{NGINX_HTTPS_PORT}")
    yield w, serve, f"{host}:{NGINX_HTTPS_PORT}"
    w.lab.stop()
    nginx.remove_site(site)
    for f in certs.glob(f"{host}.*"):
        f.unlink()


def test_a_certificate_about_to_expire_then_expired_is_said_before_and_after(own_certificate):
    watched, serve, alias = own_certificate
    p = watched.save("--read-only")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "certificate from CN=mastowizard lab CA, expires" in p.stdout
    serve(2)
    p = watched.watch("--read-only", "--quiet")
    assert p.returncode == 1, p.stdout + p.stderr
    line = next((x for x in p.stderr.splitlines() if x.startswith("EXPIRES certificate: ")), None)
    assert line and ("expires in 2.0 days" in line or "expires in 1.9 days" in line), p.stderr
    days = (value(metrics(watched.metrics), "mastowizard_certificate_expiry_timestamp_seconds",
                  host=alias) - time.time()) / 86400
    assert 1.9 < days < 2.01
    p = watched.watch("--read-only", "--quiet", "--cert-days", "1")
    assert p.returncode == 0 and p.stderr == "", "2 days left with --cert-days 1 is not yet a problem: " + p.stderr

    serve(-1)
    p = watched.watch("--read-only", "--quiet")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "EXPIRED certificate: " in p.stderr and "browsers refuse every media file" in p.stderr, p.stderr
    assert "FAIL check:media_host:" in p.stderr, p.stderr


def test_news_is_mailed_once_and_a_read_only_timer_keeps_the_full_baseline(watched):
    """A change that does not matter (old URLs now verified) is said on the run it is first seen and
    not again under --quiet (cron mails it once); a --read-only timer compared with the Summary's full
    baseline reports nothing for what only an upload can judge."""
    assert watched.save().returncode == 0
    media = watched.lab.live / "public" / "system" / "accounts" / "avatars" / "000" / "000" / "001" / "original"
    media.mkdir(parents=True)
    (media / "me.png").write_bytes(b"\x89PNG an avatar")
    p = watched.watch("--quiet")
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert p.stdout.startswith("BETTER check:old_urls: Old /system/ URLs still answer: now pass (was skip)"), p.stdout
    p = watched.watch("--quiet")
    assert (p.returncode, p.stdout, p.stderr) == (0, "", ""), "said once, not every hour: " + p.stdout + p.stderr
    p = watched.watch("--read-only", "--quiet", token=None)
    assert (p.returncode, p.stderr) == (0, ""), p.stderr


def test_a_run_that_cannot_compare_says_so_in_the_metrics(watched):
    """Exit 2 (here: a baseline that is no longer one) must not leave the last good run's ok 1 behind."""
    assert watched.save().returncode == 0
    assert watched.watch().returncode == 0
    assert value(metrics(watched.metrics), "mastowizard_watch_ok") == 1
    good = value(metrics(watched.metrics), "mastowizard_watch_last_success_timestamp_seconds")
    watched.baseline.write_text("{not json")
    p = watched.watch("--quiet")
    assert p.returncode == 2 and p.stderr.startswith("mastowizard: --baseline: "), p.stderr
    m = metrics(watched.metrics)
    assert value(m, "mastowizard_watch_ok") == 0 and value(m, "mastowizard_watch_error", kind="bad_input") == 1
    assert value(m, "mastowizard_watch_last_success_timestamp_seconds") == good


def test_install_keeps_on_disk_only_a_token_that_uploads_media_and_nothing_else(watched, tmp_path):
    """The timer's token is kept in a file for months: one that may read the account, may not upload
    media, or is not valid at all is refused before anything is written; a write:media-only one is kept."""
    watched.lab.stop()
    tokens = {"media-only": "write:media", "good-token": "read write", "no-media-token": "read write:statuses",
              "write-token": "write"}
    watched.lab.run = lab_mastodon.start(watched.lab.env_file, PORT, tmp_path / "state2", tokens)
    assert watched.save("--read-only").returncode == 0
    units, creds = tmp_path / "units", tmp_path / "creds"
    units.mkdir()
    install = ["--install", "--unit-dir", str(units), "--credential-dir", str(creds), "--yes",
               "--program", sys.executable, *[a for a in watched.common if a != "--poll-timeout" and a != "20"]]
    for token, said in (("good-token", "this token may also read the account"),
                        ("write-token", "this token may also delete and post statuses and follow accounts"),
                        ("no-media-token", "this token may not upload media (a media upload answers 403"),
                        ("forged-token", "refuses this token (401)")):
        p = run(*install, token=token)
        assert p.returncode == 2 and p.stderr.startswith("mastowizard: MASTODON_ACCESS_TOKEN: "), p.stderr
        assert said in p.stderr and "mastowizard token --instance" in p.stderr, p.stderr
        assert token not in p.stdout + p.stderr
        assert not list(units.iterdir()) and not creds.exists(), "nothing is written for a refused token"
    p = run(*install, token="media-only")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "the token may upload media, and may not read the account, post or follow: as the timer needs" in p.stdout
    assert (creds / "watch.token").read_text() == "media-only\n"
