"""`migrate --status --out DIR`: where a fleet's copy stands, shard by shard. The truth is one walk of
the media and one listing of the bucket (what each shard still lacks, in files and bytes); what the
engines said completes it: GNU parallel's joblog (a job's exit) and results/ (a shard's own JSON
summary, and a job that started without ending yet). A Kubernetes Job or systemd units leave no
joblog here: then the bucket alone says done, partly copied or not started. Prints nothing."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..net import HttpOptions
from ..s3.credential import Credential
from ..settings import Settings
from .copy import listing, merged
from .inventory import walk
from .putter import Putter
from .shards import shard_number, unit_of

DONE, FAILED, RUNNING, PARTIAL, NOT_STARTED = "done", "failed", "running", "partly copied", "not started"


@dataclass
class ShardStatus:
    shard: str
    files: int = 0
    bytes: int = 0
    files_left: int = 0
    bytes_left: int = 0
    exit: int | None = None          # the engine's last word: the job's exit value, None when unknown
    started: bool = False            # parallel started it (its results file exists)
    seconds: float | None = None     # the shard's own report: how long its last run took
    copied: int | None = None
    failed: int | None = None

    @property
    def state(self) -> str:
        if self.files_left == 0:
            return DONE
        if self.exit not in (None, 0):
            return FAILED
        if self.started and self.exit is None:
            return RUNNING
        return PARTIAL if self.files_left < self.files else NOT_STARTED

    def to_json(self) -> dict:
        return {"shard": self.shard, "state": self.state, "files": self.files, "bytes": self.bytes,
                "files_left": self.files_left, "bytes_left": self.bytes_left, "exit": self.exit,
                "seconds": self.seconds, "copied": self.copied, "failed": self.failed}


@dataclass
class FleetStatus:
    n: int
    shards: list[ShardStatus] = field(default_factory=list)
    reports: str = "none"        # where the engines' words came from: "GNU parallel" or "none"

    @property
    def files_left(self) -> int:
        return sum(s.files_left for s in self.shards)

    @property
    def bytes_left(self) -> int:
        return sum(s.bytes_left for s in self.shards)

    def count(self, state: str) -> int:
        return sum(s.state == state for s in self.shards)

    def pace(self) -> float | None:
        """Files/s of one shard, from the shards that reported a whole run."""
        runs = [(s.copied, s.seconds) for s in self.shards if s.copied and s.seconds]
        seconds = sum(t for _, t in runs)
        return sum(c for c, _ in runs) / seconds if seconds > 0 else None

    def estimate(self, at_once: int) -> float | None:
        """Seconds left with AT_ONCE shards running at the reported pace."""
        pace = self.pace()
        if pace is None:
            return None
        return self.files_left / (pace * max(1, min(at_once, self.n - self.count(DONE)) or 1))

    def to_json(self, at_once: int) -> dict:
        return {"shards": self.n, "files_left": self.files_left, "bytes_left": self.bytes_left,
                "states": {st: self.count(st) for st in (DONE, RUNNING, FAILED, PARTIAL, NOT_STARTED)},
                "reports": self.reports, "pace_files_per_s": self.pace(),
                "estimate_s": self.estimate(at_once), "at_once": at_once,
                "per_shard": [s.to_json() for s in self.shards]}


def shards_of(plan_dir: str) -> int:
    """N, from the plan's shards.txt."""
    with open(os.path.join(plan_dir, "shards.txt")) as f:
        lines = [line.strip() for line in f if line.strip()]
    return len(lines)


def _joblog(plan_dir: str) -> Iterator[tuple[int, str, int, float]]:
    """(seq, shard, exit, when it ended) of each job parallel logged, in order (a rerun's row comes
    after)."""
    path = os.path.join(plan_dir, "joblog")
    if not os.path.exists(path):
        return
    with open(path) as f:
        for line in list(f)[1:]:
            row = line.rstrip("\n").split("\t")
            if len(row) >= 9 and "--shard " in row[-1]:
                try:
                    ended = float(row[2]) + float(row[3])
                except ValueError:
                    ended = 0.0
                yield int(row[0]), row[-1].split("--shard ")[1].split()[0], int(row[6]), ended


STARTED_AGAIN = 1.0     # seconds: a results file written this much after its job's logged end is a new run's


def read_reports(plan_dir: str, n: int, status: dict[str, ShardStatus]) -> str:
    """Fill STATUS with what parallel said (joblog, results/); where they came from. parallel numbers
    the jobs as shards.txt lists them ({#}), opens results/{#} when a job starts and logs its row when
    it ends: a results file with no row, or written after its row's end, is a job running now."""
    ended: dict[int, float] = {}
    for seq, shard, rc, at in _joblog(plan_dir):
        if shard in status:
            status[shard].exit = rc
            ended[seq] = at
    results = os.path.join(plan_dir, "results")
    if not ended and not os.path.isdir(results):
        return "none"
    for k in range(1, n + 1):
        path = os.path.join(results, str(k))
        if not os.path.exists(path):
            continue
        s = status[f"{k}/{n}"]
        s.started = True
        if k not in ended or os.path.getmtime(path) > ended[k] + STARTED_AGAIN:
            s.exit = None                  # running: not logged yet, or started again since (a rerun)
            continue
        try:
            with open(path) as f:
                doc = json.load(f)
        except (OSError, ValueError):
            continue                       # it died before saying anything
        if isinstance(doc, dict) and doc.get("shard") == s.shard:
            s.seconds, s.copied = doc.get("seconds"), doc.get("copied")
            s.failed = len(doc.get("failed") or [])
    return "GNU parallel"


def fleet_status(plan_dir: str, settings: Settings, credential: Credential, source: str,
                 http: HttpOptions | None = None) -> FleetStatus:
    n = shards_of(plan_dir)
    status = {f"{k}/{n}": ShardStatus(f"{k}/{n}") for k in range(1, n + 1)}
    for f, _, listed in merged(walk(source), listing(Putter(settings, credential, http), settings), settings):
        s = status[f"{shard_number(unit_of(f.rel), n)}/{n}"]
        s.files += 1
        s.bytes += f.size
        if listed is None or listed[1] != f.size:
            s.files_left += 1
            s.bytes_left += f.size
    out = FleetStatus(n, list(status.values()))
    out.reports = read_reports(plan_dir, n, status)
    return out
