"""Structured results every probe and check returns: id, title, status, detail, fix, evidence."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

STATUSES = ("pass", "warn", "fail", "skip")


@dataclass
class Check:
    id: str
    title: str
    status: str = "skip"
    detail: str = ""
    fix: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)

    def passed(self, detail: str, **evidence: Any) -> "Check":
        return self._set("pass", detail, "", evidence)

    def warned(self, detail: str, fix: str = "", **evidence: Any) -> "Check":
        return self._set("warn", detail, fix, evidence)

    def failed(self, detail: str, fix: str, **evidence: Any) -> "Check":
        return self._set("fail", detail, fix, evidence)

    def skipped(self, detail: str, **evidence: Any) -> "Check":
        return self._set("skip", detail, "", evidence)

    def _set(self, status: str, detail: str, fix: str, evidence: dict[str, Any]) -> "Check":
        self.status, self.detail, self.fix = status, detail, fix
        self.evidence.update(evidence)
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def report(checks: Iterable[Check]) -> dict[str, Any]:
    """The JSON document of the CLI contract: {"ok": bool, "checks": [...]}."""
    items = list(checks)
    return {"ok": all(c.status in ("pass", "warn", "skip") for c in items),
            "checks": [c.to_dict() for c in items]}
