"""The watch as Prometheus metrics, in the text format node_exporter's textfile collector reads:
every value a gauge, names and labels after Prometheus' conventions (base units, _seconds,
_timestamp_seconds). Written atomically: a scrape sees the old file or the new one, never half."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from ..results import STATUSES, Check
from .compare import DRIFT_ITEMS, Change
from .snapshot import Snapshot


@dataclass
class Reading:
    """One watch run, as the metrics say it."""

    checks: list[Check]
    changes: list[Change]
    now: Snapshot
    baseline: Snapshot
    ok: bool
    ended_at: float
    seconds: float
    last_success: float | None
    bucket: str = ""
    media_host: str = ""
    mode: str = ""
    domain: str = ""            # the instance's LOCAL_DOMAIN: on every series, so two watches never collide


class _Out:
    def __init__(self, domain: str = "") -> None:
        self.lines: list[str] = []
        self.domain = domain

    def metric(self, name: str, help_: str, samples: list[tuple[dict[str, str], float]]) -> None:
        if not samples:
            return
        self.lines += [f"# HELP {name} {help_}", f"# TYPE {name} gauge"]
        for own, value in samples:
            labels = {"domain": self.domain, **own}
            inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
            self.lines.append(f"{name}{{{inner}}} {_number(value)}" if inner else f"{name} {_number(value)}")


def render(r: Reading) -> str:
    out = _Out(r.domain)
    m = out.metric
    _run_state(out, r.ok, r.ended_at, r.last_success)
    m("mastowizard_watch_duration_seconds", "How long the last watch run took.", [({}, r.seconds)])
    m("mastowizard_watch_baseline_timestamp_seconds", "When the baseline was saved.", [({}, r.baseline.taken_at)])
    m("mastowizard_watch_info", "What is watched: the bucket, its media host, the permission mode.",
      [({"bucket": r.bucket, "media_host": r.media_host, "mode": r.mode,
         "read_only": "true" if r.now.read_only else "false"}, 1)])
    m("mastowizard_check_status", "1 for the check's status (pass, warn, fail, skip), 0 for the other three.",
      [({"check": c.id, "status": s}, 1 if c.status == s else 0) for c in r.checks for s in STATUSES])
    m("mastowizard_check_duration_seconds", "How long the step that judged the check took.",
      [({"check": c.id}, c.seconds) for c in r.checks if c.seconds is not None])
    drifted = {c.item: c for c in r.changes if c.item in DRIFT_ITEMS}
    m("mastowizard_drift", "1 when the item differs from the baseline.",
      [({"item": i}, 1 if i in drifted else 0) for i in DRIFT_ITEMS])
    m("mastowizard_drift_matters", "1 when the item differs from the baseline in a way that matters.",
      [({"item": i}, 1 if i in drifted and drifted[i].matters else 0) for i in DRIFT_ITEMS])
    m("mastowizard_drift_first_seen_timestamp_seconds", "When the item's difference from the baseline was first seen.",
      [({"item": i}, c.first_seen) for i, c in drifted.items() if c.first_seen])
    cert = r.now.certificate
    m("mastowizard_certificate_expiry_timestamp_seconds", "When the media host's TLS certificate expires.",
      [({"host": cert.host}, cert.not_after)] if cert else [])
    latency = next((c for c in r.checks if c.id == "jobs.latency"), None)
    ev = latency.evidence if latency else {}
    samples = ev.get("samples_s") or []
    if samples:
        m("mastowizard_s3_latency_max_seconds", "The slowest of the timed small requests to the S3 provider.",
          [({}, max(samples))])
        m("mastowizard_s3_latency_median_seconds", "The median of the timed small requests to the S3 provider.",
          [({}, statistics.median(samples))])
    if ev.get("read_timeout_s") is not None:
        m("mastowizard_s3_read_timeout_seconds", "Mastodon's S3_READ_TIMEOUT: it gives up on a request after this.",
          [({}, float(ev["read_timeout_s"]))])
    if ev.get("open_timeout_s") is not None:
        m("mastowizard_s3_open_timeout_seconds", "Mastodon's S3_OPEN_TIMEOUT: it gives up connecting after this.",
          [({}, float(ev["open_timeout_s"]))])
    return "\n".join(out.lines) + "\n"


def render_failure(kind: str, at: float, last_success: float | None, domain: str = "") -> str:
    """A run that could not compare: ok 0 and why (KIND: bad_input or internal)."""
    out = _Out(domain)
    _run_state(out, False, at, last_success)
    out.metric("mastowizard_watch_error", "1 when the last run could not compare with the baseline (bad input, an "
               "internal error): run the watch by hand to read why.", [({"kind": kind}, 1)])
    return "\n".join(out.lines) + "\n"


def _run_state(out: _Out, ok: bool, at: float, last_success: float | None) -> None:
    """What every run says, whether it could compare or not: ok, when it ended, the last success."""
    out.metric("mastowizard_watch_ok", "1 when no check failed and nothing that matters changed since the baseline.",
               [({}, 1 if ok else 0)])
    out.metric("mastowizard_watch_last_run_timestamp_seconds", "When the last watch run ended.", [({}, at)])
    out.metric("mastowizard_watch_last_success_timestamp_seconds",
               "When a watch run last ended with mastowizard_watch_ok 1.", [({}, last_success)] if last_success else [])


def write(path: str, text: str, files=None) -> None:
    """PATH replaced atomically (temporary file beside it, then rename), readable by node_exporter."""
    from .files import Files
    (files or Files.here()).write(path, text.encode(), 0o644, "--metrics")


def _escape(v: str) -> str:
    return str(v).replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")


def _number(v: float) -> str:
    if isinstance(v, bool):
        return str(int(v))
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))
