"""The monitoring assets admins get for `mastowizard watch` (docs/monitoring/), proved against the real
Prometheus and node_exporter from Debian: the rule file passes promtool, the watch's metrics (from
its own renderer) pass promtool and the Python client's parser, each sample run fires exactly the
alerts an admin should get, and every Grafana panel's query answers with data.

The end-to-end test loads a copy of the rules with every `for:` set to 0s (their real values, 5 min to
3 h, suit a watch that runs hourly, not a test), so an alert fires at the first evaluation that sees it.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from mastowizard.watch import metrics
from mastowizard_lab import prometheus
from mastowizard_lab.prometheus import SAMPLE_BUCKET, SAMPLE_MEDIA_HOST

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "docs" / "monitoring" / "mastowizard-alerts.yml"
DASHBOARD = ROOT / "docs" / "monitoring" / "grafana-dashboard.json"
METRICS_FILE = "mastowizard.prom"
WAIT = 20.0          # seconds: a scrape and an evaluation take 1 s each

# The metrics the watch promises (docs/monitoring.md), all gauges.
CONTRACT = {
    "mastowizard_watch_ok", "mastowizard_watch_last_run_timestamp_seconds",
    "mastowizard_watch_last_success_timestamp_seconds", "mastowizard_watch_duration_seconds",
    "mastowizard_watch_baseline_timestamp_seconds", "mastowizard_watch_info", "mastowizard_check_status",
    "mastowizard_check_duration_seconds", "mastowizard_drift", "mastowizard_drift_matters",
    "mastowizard_drift_first_seen_timestamp_seconds", "mastowizard_certificate_expiry_timestamp_seconds",
    "mastowizard_s3_latency_max_seconds", "mastowizard_s3_latency_median_seconds",
    "mastowizard_s3_read_timeout_seconds", "mastowizard_s3_open_timeout_seconds",
}
HOST = SAMPLE_MEDIA_HOST
# What each sample run (mastowizard_lab.prometheus.SAMPLES) must fire, and nothing else. In order:
# each differs from the one before, so the set seen after a switch is the new file's.
EXPECTED = {
    "trouble": {"MastowizardCheckFailing{check=upload}", "MastowizardChangeMatters{item=policy}",
                f"MastowizardCertificateExpiresSoon{{host={HOST}}}",
                f"MastowizardCertificateExpiresVerySoon{{host={HOST}}}"},
    # a run that just passed, with a warning, two skipped checks (a read-only watch) and a change that
    # does not matter (a rotated writer key): nothing fires, not even the staleness or success alerts
    "healthy": set(),
    "stale_slow": {"MastowizardWatchNotRunning", "MastowizardNoRecentSuccess", "MastowizardS3Slow"},
    "never": {"MastowizardNeverSucceeded", "MastowizardCheckFailing{check=anon.list}"},
    "not_verified": {"MastowizardWatchNotOk"},
    None: {"MastowizardWatchMetricsMissing"},          # no metrics file at all
}
SEVERITY = {"MastowizardCheckFailing": "critical", "MastowizardChangeMatters": "critical",
            "MastowizardCertificateExpiresVerySoon": "critical"}


@pytest.fixture(scope="module")
def prom(tmp_path_factory):
    d = tmp_path_factory.mktemp("monitoring")
    rules = d / "mastowizard-alerts-for-0s.yml"
    rules.write_text(prometheus.rules_with_for(RULES, "0s"))
    info = prometheus.start(d / "textfile", rules)
    yield info
    prometheus.stop()


def wait_until(what: str, probe, timeout: float = WAIT):
    """PROBE() -> (done, seen), polled until done; on timeout the error names WHAT and the last SEEN."""
    deadline = time.monotonic() + timeout
    while True:
        done, seen = probe()
        if done:
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(f"awaited {what} for {timeout:.0f}s; last seen: {seen}")
        time.sleep(0.1)


def query(expr: str) -> list[dict]:
    answer = prometheus.api("query", query=expr)
    assert answer.get("status") == "success", f"{expr}: {answer}"
    return answer["data"]["result"]


def last_evaluation() -> float:
    groups = prometheus.api("rules").get("data", {}).get("groups", [])
    stamps = [datetime.fromisoformat(g["lastEvaluation"]).timestamp() for g in groups if g.get("lastEvaluation")]
    return min(stamps) if stamps else 0.0


def firing() -> tuple[set[str], list[dict]]:
    alerts = [a for a in prometheus.api("alerts").get("data", {}).get("alerts", []) if a["state"] == "firing"]
    names = set()
    for a in alerts:
        lb = a["labels"]
        key = next((f"{k}={lb[k]}" for k in ("check", "item", "host") if k in lb), "")
        names.add(lb["alertname"] + (f"{{{key}}}" if key else ""))
    return names, alerts


def serve(prom, sample: str | None) -> None:
    """Write SAMPLE's metrics file (none: remove it) and wait until Prometheus has scraped it and
    evaluated the rules on it."""
    path = prom.textfile_dir / METRICS_FILE
    if sample is None:
        path.unlink(missing_ok=True)
        wait_until("the watch's metrics to disappear from Prometheus",
                   lambda: (not (r := query("mastowizard_watch_last_run_timestamp_seconds")), r))
    else:
        text, ended = prometheus.sample_metrics(sample, time.time())
        metrics.write(str(path), text)

        def scraped():
            r = query("mastowizard_watch_last_run_timestamp_seconds")
            return bool(r) and abs(float(r[0]["value"][1]) - ended) < 1e-3, r
        wait_until(f"Prometheus to scrape the {sample} sample (last run {ended})", scraped)
    seen = time.time()
    wait_until("a rule evaluation after that scrape", lambda: (last_evaluation() > seen, last_evaluation()))


def test_the_alert_rules_pass_promtool():
    r = subprocess.run([prometheus.promtool(), "check", "rules", str(RULES)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS: 10 rules found" in r.stdout, r.stdout
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
            assert rule["annotations"]["summary"] and len(rule["annotations"]["description"]) > 80, rule["alert"]
            assert re.fullmatch(r"\d+[mh]", rule["for"]), rule["alert"]       # hourly runs: minutes or hours


def test_the_watch_metrics_pass_promtool_and_the_python_parser():
    from prometheus_client.parser import text_string_to_metric_families
    for sample in prometheus.SAMPLES:
        text, ended = prometheus.sample_metrics(sample, time.time())
        r = subprocess.run([prometheus.promtool(), "check", "metrics"], input=text, capture_output=True, text=True)
        assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), f"{sample}: {r.stdout}{r.stderr}"
        families = {f.name: f for f in text_string_to_metric_families(text)}
        assert {f.type for f in families.values()} == {"gauge"}, sample
        assert set(families) <= CONTRACT, set(families) - CONTRACT
        assert families["mastowizard_watch_last_run_timestamp_seconds"].samples[0].value == pytest.approx(ended)
    text, _ = prometheus.sample_metrics("trouble", time.time())
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert set(families) == CONTRACT, CONTRACT ^ set(families)       # this run has every metric
    status = {(s.labels["check"], s.labels["status"]): s.value for s in families["mastowizard_check_status"].samples}
    assert status[("upload", "fail")] == 1 and status[("upload", "pass")] == 0 and status[("cors", "pass")] == 1
    matters = {s.labels["item"]: s.value for s in families["mastowizard_drift_matters"].samples}
    drift = {s.labels["item"]: s.value for s in families["mastowizard_drift"].samples}
    assert matters["policy"] == drift["policy"] == drift["writer_key"] == 1 and matters["writer_key"] == 0
    assert families["mastowizard_watch_ok"].samples[0].value == 0
    info = families["mastowizard_watch_info"].samples[0].labels
    assert info == {"bucket": SAMPLE_BUCKET, "media_host": HOST, "mode": "acl", "read_only": "false",
                    "domain": prometheus.SAMPLE_DOMAIN}
    # every series says whose it is: two watches on one node_exporter never collide
    assert {s.labels.get("domain") for f in families.values() for s in f.samples} == {prometheus.SAMPLE_DOMAIN}
    # every metric the rules and the dashboard use is one the watch writes
    used = set(re.findall(r"\bmastowizard_[a-z0-9_]+", RULES.read_text() + DASHBOARD.read_text()))
    assert used <= CONTRACT, used - CONTRACT


def test_each_sample_run_fires_exactly_its_alerts(prom):
    order = list(EXPECTED)
    assert all(EXPECTED[a] != EXPECTED[b] for a, b in zip(order, order[1:], strict=False))
    alerts_in_rules = {r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]}
    assert {name.split("{")[0] for e in EXPECTED.values() for name in e} == alerts_in_rules   # each one proved
    for sample, expected in EXPECTED.items():
        serve(prom, sample)
        names, alerts = wait_until(f"exactly {sorted(expected)} firing for the {sample} sample",
                                   lambda e=expected: ((f := firing())[0] == e, f))
        for a in alerts:
            name = a["labels"]["alertname"]
            assert a["labels"]["severity"] == SEVERITY.get(name, "warning"), a
            assert "{{" not in a["annotations"]["summary"] + a["annotations"]["description"], a
        if sample == "trouble":
            by = {a["labels"]["alertname"]: a for a in alerts}
            failing = by["MastowizardCheckFailing"]["annotations"]
            assert failing["summary"] == f"Mastodon media storage of {prometheus.SAMPLE_DOMAIN}: check upload fails " \
                                         f"on 127.0.0.1:{prometheus.NODE_EXPORTER_PORT}", failing
            assert f"(bucket {SAMPLE_BUCKET}, media host {HOST})" in failing["description"], failing
            changed = by["MastowizardChangeMatters"]["annotations"]["description"]
            assert f"(bucket {SAMPLE_BUCKET})" in changed and ", since 20" in changed, changed
            soon = by["MastowizardCertificateExpiresVerySoon"]["annotations"]["summary"]
            assert soon.startswith(f"The certificate of media host {HOST} expires in 1d 23h 59m"), soon
        if sample == "stale_slow":
            slow = next(a for a in alerts if a["labels"]["alertname"] == "MastowizardS3Slow")
            assert float(slow["value"]) == 3.1 and "S3_READ_TIMEOUT (5s)" in slow["annotations"]["description"], slow


def _dashboard_queries(dash: dict) -> list[tuple[str, str, str]]:
    return [(p["title"], t["refId"], t["expr"]) for p in dash["panels"] for t in p.get("targets", [])]


def test_the_dashboard_imports_and_every_panel_query_answers(prom):
    dash = json.loads(DASHBOARD.read_text())
    assert dash["title"] == "mastowizard: media storage" and dash["uid"] and 36 <= dash["schemaVersion"] <= 41
    assert [i["name"] for i in dash["__inputs"]] == ["DS_PROMETHEUS"]
    assert dash["__inputs"][0]["pluginId"] == "prometheus"
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids)), ids
    for p in dash["panels"]:
        assert p["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}, p["title"]
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24 and g["h"] > 0, p["title"]
        assert all(t["datasource"]["uid"] == "${DS_PROMETHEUS}" for t in p["targets"]), p["title"]
    kinds = {p["type"] for p in dash["panels"]}
    assert {"stat", "table", "state-timeline", "timeseries"} <= kinds, kinds
    assert {r["id"] for r in dash["__requires"] if r["type"] == "panel"} == kinds
    variables = dash["templating"]["list"]
    assert [v["name"] for v in variables] == ["instance"]

    serve(prom, "trouble")
    instance = f"127.0.0.1:{prometheus.NODE_EXPORTER_PORT}"
    values = prometheus.api("label/instance/values", **{"match[]": "mastowizard_watch_info"})
    assert values.get("data") == [instance], values          # the variable's label_values(...)
    queries = _dashboard_queries(dash)
    assert len(queries) >= 12, queries
    answers = {}
    for title, ref, expr in queries:
        for value in (".*", instance):                 # "All", and the one instance picked
            promql = expr.replace("$instance", value)
            assert "$" not in promql, promql
            result = query(promql)
            assert result, f"panel {title!r}: {promql} returned no data"
            answers.setdefault((title, ref), result)
    # what the panels show for this run
    assert answers["Media storage", "A"][0]["value"][1] == "0"                      # PROBLEM
    assert float(answers["Days until the certificate expires", "A"][0]["value"][1]) == pytest.approx(2, abs=0.01)
    assert float(answers["Since the last success", "A"][0]["value"][1]) == pytest.approx(3600, abs=30)
    checks = {r["metric"]["check"]: r["metric"]["status"] for r in answers["Checks in the last run", "A"]}
    assert checks["upload"] == "fail" and checks["cors"] == "pass" and len(checks) == len(prometheus.SAMPLE_CHECKS)
    took = {r["metric"]["check"]: float(r["value"][1]) for r in answers["Checks in the last run", "B"]}
    assert set(took) == set(checks) and took["writer.credentials"] == 0.05, took
    changes = {r["metric"]["item"]: r["value"][1] for r in answers["Changes since the baseline", "A"]}
    assert changes == {**{i: "0" for i in changes}, "policy": "2", "writer_key": "1"}, changes
    timeline = {r["metric"]["check"]: r["value"][1] for r in answers["Check status over time", "A"]}
    assert timeline["upload"] == "2" and timeline["cors"] == "0", timeline
    watched = answers["What is watched", "A"][0]["metric"]
    assert watched["bucket"] == SAMPLE_BUCKET and watched["media_host"] == HOST, watched


def test_two_watches_on_one_node_exporter_are_both_served(prom):
    """Two instances on one host, each with its watch and its file in the textfile directory: every
    series carries the instance's domain, so node_exporter serves both (the same series from two
    files would be dropped: "collected before with the same name and label values")."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families
    files = {"one.example": prom.textfile_dir / "mastowizard-one.prom",
             "two.example": prom.textfile_dir / "mastowizard-two.prom"}
    try:
        for (domain, path), sample in zip(files.items(), ("healthy", "trouble"), strict=True):
            metrics.write(str(path), prometheus.sample_metrics(sample, time.time(), domain)[0])
        text = httpx.get(prom.node_exporter_url, timeout=10).text
        ok = {s.labels["domain"]: s.value for f in text_string_to_metric_families(text)
              if f.name == "mastowizard_watch_ok" for s in f.samples}
        assert {k: v for k, v in ok.items() if k in files} == {"one.example": 1, "two.example": 0}, ok
    finally:
        for path in files.values():
            path.unlink(missing_ok=True)
