"""Prometheus and node_exporter from Debian, to prove the monitoring assets (`docs/monitoring/`) work.

node_exporter serves only its textfile collector, reading the `*.prom` files `mastowizard watch` writes,
as an admin's would; Prometheus scrapes it every second, evaluates a given rule file every second and
answers its HTTP API and web UI. Both on 127.0.0.1 only, data under `<lab>/prometheus`.

Debian's packages would start their system services on install (Prometheus on :9090 and node_exporter
on :9100, every interface): `procs.ensure_debian` forbids that through policy-rc.d, and `install()` checks
that none is running afterwards.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from . import procs
from .config import HOST, home, port

PACKAGES = ["prometheus", "prometheus-node-exporter"]
PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"
PROMETHEUS_PORT = port("PROMETHEUS", 17090)
NODE_EXPORTER_PORT = port("NODE_EXPORTER", 17091)
INTERVAL = "1s"          # scrape and rule evaluation: a test sees a new file within about two seconds


@dataclass(frozen=True)
class PrometheusInfo:
    url: str                   # http://127.0.0.1:17090 (API under /api/v1, UI at /alerts, /graph)
    node_exporter_url: str     # http://127.0.0.1:17091/metrics
    textfile_dir: Path         # node_exporter reads every *.prom file here at each scrape
    rules_file: Path           # the rules Prometheus evaluates
    config_file: Path


def root() -> Path:
    return home() / "prometheus"


def _prom_pid() -> Path:
    return root() / "prometheus.pid"


def _node_pid() -> Path:
    return root() / "node_exporter.pid"


def _node_dir_file() -> Path:
    return root() / "node_exporter.textfile_dir"


def install() -> None:
    procs.ensure_debian(PACKAGES, [PROMETHEUS, PROMTOOL, NODE_EXPORTER])
    system = _system_services()
    if system:
        raise RuntimeError(f"lab: Debian's own Prometheus services are running ({', '.join(system)}); "
                           "the lab runs its own copies on 127.0.0.1 only: stop those first")


def _system_services() -> list[str]:
    """Processes of the packages' system services (run as the `prometheus` user from Debian's init
    script or unit), which would listen on every interface."""
    out = subprocess.run(["pgrep", "-u", "prometheus", "-a"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.strip()]


def promtool() -> str:
    """The path of promtool (Debian's prometheus package ships it), installed when missing."""
    if not Path(PROMTOOL).exists():
        install()
    return PROMTOOL


def info(textfile_dir: Path | None = None, rules_file: Path | None = None) -> PrometheusInfo:
    d = root()
    if textfile_dir is None:
        textfile_dir = Path(_node_dir_file().read_text()) if _node_dir_file().exists() else d / "textfile"
    return PrometheusInfo(url=f"http://{HOST}:{PROMETHEUS_PORT}",
                          node_exporter_url=f"http://{HOST}:{NODE_EXPORTER_PORT}/metrics",
                          textfile_dir=Path(textfile_dir), rules_file=Path(rules_file or d / "rules.yml"),
                          config_file=d / "prometheus.yml")


def config(rules_file: Path) -> str:
    """prometheus.yml: one job, `node`, as Debian's default config names node_exporter's."""
    return f"""# written by mastowizard_lab.prometheus
global:
  scrape_interval: {INTERVAL}
  scrape_timeout: {INTERVAL}
  evaluation_interval: {INTERVAL}
rule_files:
  - {json.dumps(str(rules_file))}
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ["{HOST}:{NODE_EXPORTER_PORT}"]
"""


def is_running() -> bool:
    return (procs.running(_prom_pid()) and procs.port_open(PROMETHEUS_PORT)
            and procs.running(_node_pid()) and procs.port_open(NODE_EXPORTER_PORT))


def _get(url: str, timeout: float = 2.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except OSError as e:
        return 0, str(e)


def _ready() -> bool:
    return _get(f"http://{HOST}:{PROMETHEUS_PORT}/-/ready")[0] == 200


def _start_node_exporter(textfile_dir: Path) -> None:
    d = root()
    if procs.running(_node_pid()) and _node_dir_file().exists() and _node_dir_file().read_text() == str(textfile_dir):
        return
    procs.stop(_node_pid())
    procs.wait_for(lambda: not procs.port_open(NODE_EXPORTER_PORT), 10,
                   f"port {NODE_EXPORTER_PORT} to be free for node_exporter")
    _node_dir_file().write_text(str(textfile_dir))
    procs.spawn([NODE_EXPORTER, f"--web.listen-address={HOST}:{NODE_EXPORTER_PORT}",
                 "--web.disable-exporter-metrics",
                 "--collector.disable-defaults", "--collector.textfile",
                 f"--collector.textfile.directory={textfile_dir}"],
                d / "node_exporter.log", _node_pid())
    procs.wait_for(lambda: procs.port_open(NODE_EXPORTER_PORT), 15, "node_exporter", d / "node_exporter.log", 0.05)


def start(textfile_dir: Path, rules_file: Path) -> PrometheusInfo:
    """node_exporter reading TEXTFILE_DIR and Prometheus evaluating RULES_FILE (both checked by
    promtool first). A running Prometheus reloads its config (it answers once the reload is done);
    otherwise it starts on an empty database, so no series from an earlier run shows."""
    install()
    d = root()
    d.mkdir(parents=True, exist_ok=True)
    textfile_dir, rules_file = Path(textfile_dir).resolve(), Path(rules_file).resolve()
    textfile_dir.mkdir(parents=True, exist_ok=True)
    cfg = d / "prometheus.yml"
    cfg.write_text(config(rules_file))
    check = subprocess.run([PROMTOOL, "check", "config", str(cfg)], capture_output=True, text=True)
    if check.returncode:
        raise RuntimeError(f"lab: promtool check config {cfg} failed:\n{check.stdout}{check.stderr}")
    _start_node_exporter(textfile_dir)
    if procs.running(_prom_pid()) and _ready():
        req = urllib.request.Request(f"http://{HOST}:{PROMETHEUS_PORT}/-/reload", method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30):
                pass
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"lab: Prometheus could not reload {cfg}: {e.read().decode(errors='replace')}") \
                from e
        return info(textfile_dir, rules_file)
    procs.stop(_prom_pid())
    procs.wait_for(lambda: not procs.port_open(PROMETHEUS_PORT), 10,
                   f"port {PROMETHEUS_PORT} to be free for Prometheus")
    shutil.rmtree(d / "data", ignore_errors=True)
    procs.spawn([PROMETHEUS, f"--config.file={cfg}", f"--web.listen-address={HOST}:{PROMETHEUS_PORT}",
                 f"--storage.tsdb.path={d / 'data'}", "--storage.tsdb.retention.time=1d",
                 f"--web.external-url=http://{HOST}:{PROMETHEUS_PORT}/",
                 "--web.enable-lifecycle"],        # POST /-/reload, on 127.0.0.1 only
                d / "prometheus.log", _prom_pid(), cwd=d)
    procs.wait_for(_ready, 30, "Prometheus", d / "prometheus.log", 0.05)
    return info(textfile_dir, rules_file)


def api(path: str, **params: str) -> dict:
    """GET /api/v1/PATH from the lab's Prometheus; its JSON answer (status, data or error)."""
    from urllib.parse import urlencode
    url = f"http://{HOST}:{PROMETHEUS_PORT}/api/v1/{path}" + (f"?{urlencode(params)}" if params else "")
    status, body = _get(url, timeout=10)
    try:
        return json.loads(body)
    except ValueError:
        return {"status": "error", "error": f"HTTP {status}: {body[:300]}"}


def rules_with_for(rules_file: Path, duration: str = "0s") -> str:
    """RULES_FILE with every alert's `for:` set to DURATION: an alert fires at the first evaluation that
    sees its condition, as a test or a screenshot needs (the real values suit an hourly watch)."""
    import yaml
    doc = yaml.safe_load(Path(rules_file).read_text())
    for group in doc["groups"]:
        for rule in group["rules"]:
            if "alert" in rule:
                rule["for"] = duration
    return f"# {Path(rules_file).name} with every for: set to {duration}\n" + \
        yaml.safe_dump(doc, sort_keys=False, width=1000)


def stop() -> None:
    procs.stop(_prom_pid())
    procs.stop(_node_pid())


def remove() -> list[str]:
    """Stop both and remove their directory (what was removed, for clean's report)."""
    stop()
    if root().exists():
        shutil.rmtree(root())
        return [str(root())]
    return []


# -- sample watch runs ----------------------------------------------------------------------------------
# What `mastowizard watch` would write after runs of these kinds, through its own renderer: for the
# monitoring assets' test and the docs' screenshot of Prometheus' alerts page.
SAMPLE_BUCKET = "mastodon-media"
SAMPLE_MEDIA_HOST = "media.example.social"
SAMPLE_CHECKS = ("writer.credentials", "writer.bucket", "writer.write", "media_host", "anon.list", "anon.put",
                 "cors", "jobs.latency", "upload", "public_fetch")
SAMPLE_DOMAIN = "example.social"
SAMPLES = {
    # a check fails, the bucket policy changed (it matters), the writer key was rotated (it does not),
    # and the media host's certificate expires in 2 days; the run before passed
    "trouble": {"statuses": {"upload": "fail"}, "cert_days": 2, "last_success_ago": 3600,
                "drift": {"policy": True, "writer_key": False}},
    # every check passes but CORS (a warning) and the upload chain (skipped: a read-only watch); the
    # writer key was rotated (it does not matter)
    "healthy": {"statuses": {"cors": "warn", "upload": "skip", "public_fetch": "skip"}, "read_only": True,
                "drift": {"writer_key": False}},
    # the last run passed 3 h 10 min ago, with the provider slow (3.1 s of S3_READ_TIMEOUT's 5 s), and
    # nothing ran since
    "stale_slow": {"statuses": {"jobs.latency": "warn"}, "ended_ago": 3 * 3600 + 600, "latency": [0.2, 0.4, 3.1]},
    # a new watch whose every run so far found the bucket listable by anyone
    "never": {"statuses": {"anon.list": "fail"}, "last_success_ago": None},
    # the test upload could not run any more (its token was revoked): not verified, which matters
    "not_verified": {"statuses": {"upload": "skip", "public_fetch": "skip"}, "last_success_ago": 3600,
                     "not_verified": ["upload", "public_fetch"]},
}


def sample_metrics(name: str, now: float, domain: str = SAMPLE_DOMAIN) -> tuple[str, float]:
    """The metrics file of sample run NAME (a SAMPLES key) ending about NOW, rendered by
    mastowizard.watch.metrics, and its mastowizard_watch_last_run_timestamp_seconds."""
    from mastowizard.results import Check
    from mastowizard.watch.certificate import Certificate
    from mastowizard.watch.compare import DRIFT_ITEMS, Change
    from mastowizard.watch.metrics import Reading, render
    from mastowizard.watch.snapshot import Snapshot

    spec = SAMPLES[name]
    ended = now - spec.get("ended_ago", 0)
    statuses = {cid: spec.get("statuses", {}).get(cid, "pass") for cid in SAMPLE_CHECKS}
    checks = []
    for i, cid in enumerate(SAMPLE_CHECKS):
        evidence = {}
        if cid == "jobs.latency":
            evidence = {"samples_s": spec.get("latency", [0.04, 0.06, 0.09]), "read_timeout_s": 5,
                        "open_timeout_s": 5, "retry_limit": 0}
        checks.append(Check(cid, cid, statuses[cid], f"sample: {statuses[cid]}", evidence=evidence,
                            seconds=0.05 + 0.01 * i))
    changes = [Change(item, "CHANGED", f"sample: {item} changed", DRIFT_ITEMS[item], f"{item}:sample",
                      first_seen=ended - 1800) for item in spec.get("drift", {})]
    changes += [Change(f"check:{c}", "FAIL", f"sample: {c} fails", True, f"check:{c}:fail", first_seen=ended - 600)
                for c, s in statuses.items() if s == "fail"]
    changes += [Change(f"check:{c}", "NOT-VERIFIED", f"sample: {c} not verified", True, f"check:{c}:skip",
                       first_seen=ended - 600) for c in spec.get("not_verified", [])]
    cert_days = spec.get("cert_days", 60)
    cert = Certificate(host=SAMPLE_MEDIA_HOST, issuer="CN=R11,O=Let's Encrypt,C=US", subject=f"CN={SAMPLE_MEDIA_HOST}",
                       not_after=int(now + cert_days * 86400), sha256="0" * 64)
    if cert_days < 14:
        changes.append(Change("certificate", "EXPIRES", f"sample: expires in {cert_days} days", True,
                              "certificate:sample", first_seen=ended - 600))
    ok = not any(c.matters for c in changes) and "fail" not in statuses.values()
    last_success_ago = spec.get("last_success_ago", 0)
    last_success = ended if ok else (None if last_success_ago is None else ended - last_success_ago)
    read_only = bool(spec.get("read_only"))
    base = Snapshot(taken_at=round(now - 7 * 86400), settings={}, writer_key=None, bucket={}, certificate=cert)
    snap = Snapshot(taken_at=ended - 3, settings={}, writer_key=None, bucket={}, certificate=cert,
                    verdicts=statuses, read_only=read_only)
    reading = Reading(checks, changes, snap, base, ok, ended, 2.75, last_success, bucket=SAMPLE_BUCKET,
                      media_host=SAMPLE_MEDIA_HOST, mode="acl", domain=domain)
    return render(reading), ended
