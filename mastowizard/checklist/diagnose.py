"""The doctor's diagnosis: the checklist's failures and the known errors in web's and sidekiq's logs,
each explained with cause and fix. One `Finding` type, for `doctor` and the wizard's Troubleshoot."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..host.interface import Host
from ..host.restart import detect, logs
from ..results import Check
from .knowledge import for_check, match_logs

LOG_LINES = 500            # read from each service's log


@dataclass(frozen=True)
class Finding:
    title: str
    cause: str
    fix: str
    doc: str | None = None            # the troubleshooting entry's link
    entry: str | None = None          # the knowledge entry's id, where one explains it
    check: str | None = None          # the failing check's id, for a check's failure
    log: str | None = None            # the service whose log showed it, for a log's finding
    count: int = 0                    # lines of that log that showed it
    sample: str = ""                  # one of them

    @property
    def where(self) -> str:
        return f"{self.log} log, {self.count} line(s)" if self.log else f"check {self.check}"

    def to_json(self) -> dict[str, Any]:
        if self.log:
            return {"log": self.log, "entry": self.entry, "title": self.title, "count": self.count,
                    "sample": self.sample, "cause": self.cause, "fix": self.fix, "doc": self.doc}
        return {"check": self.check, "entry": self.entry, "title": self.title, "cause": self.cause,
                "fix": self.fix, "doc": self.doc}


@dataclass
class Diagnosis:
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)      # what could not be read, and why

    @property
    def from_logs(self) -> list[Finding]:
        return [f for f in self.findings if f.log]


def diagnose(host: Host, env_path: str, checks: list[Check]) -> Diagnosis:
    """Explain CHECKS' failures, then read web's and sidekiq's logs on HOST (the install found beside
    ENV_PATH) for known errors. Logs that cannot be read are a note, not a failure."""
    found = Diagnosis()
    for c in checks:
        if c.status == "fail":
            e = for_check(c)
            found.findings.append(Finding(e.title if e else c.title, e.cause if e else c.detail,
                                          e.fix if e else c.fix, e.link if e else None, e.id if e else None,
                                          check=c.id))
    try:
        install = detect(host, env_path)
        for service in install.services:
            if "streaming" in service:
                continue
            for m in match_logs(logs(host, install, service, lines=LOG_LINES), service):
                found.findings.append(Finding(m.entry.title, m.entry.cause, m.entry.fix, m.entry.link, m.entry.id,
                                              log=m.source, count=m.count, sample=m.sample))
    except Exception as e:  # noqa: BLE001 - logs are a bonus: say why they are missing
        found.notes.append(f"logs not read: {e}")
    return found
