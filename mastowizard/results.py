"""Structured results every probe and check returns: id, title, status, detail, fix, evidence."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from .secrets import scrub

STATUSES = ("pass", "warn", "fail", "skip")


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: _scrubbed(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_scrubbed(v) for v in value)
    return value


@dataclass
class Check:
    id: str
    title: str
    status: str = "skip"
    detail: str = ""
    fix: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    seconds: float | None = None          # how long the step that judged it took (timing.timed)

    def passed(self, detail: str, **evidence: Any) -> Check:
        return self._set("pass", detail, "", evidence)

    def warned(self, detail: str, fix: str = "", **evidence: Any) -> Check:
        return self._set("warn", detail, fix, evidence)

    def failed(self, detail: str, fix: str, **evidence: Any) -> Check:
        return self._set("fail", detail, fix, evidence)

    def skipped(self, detail: str, **evidence: Any) -> Check:
        return self._set("skip", detail, "", evidence)

    def _set(self, status: str, detail: str, fix: str, evidence: dict[str, Any]) -> Check:
        # What a check says is shown and saved: never a secret, nor a URL's userinfo.
        self.status, self.detail, self.fix = status, scrub(detail), scrub(fix)
        self.evidence.update(_scrubbed(evidence))
        if self.seconds is None:
            from .timing import elapsed
            took = elapsed()
            self.seconds = None if took is None else round(took, 3)
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def report(checks: Iterable[Check]) -> dict[str, Any]:
    """The JSON document of the CLI contract: {"ok": bool, "checks": [...]}."""
    items = list(checks)
    return {"ok": all(c.status in ("pass", "warn", "skip") for c in items),
            "checks": [c.to_dict() for c in items]}


@dataclass
class Verdict:
    """What a list of checks adds up to, said without rounding up: a skip is never a pass."""

    counts: dict[str, int]
    not_verified: list[Check]

    @property
    def failed(self) -> int:
        return self.counts["fail"]

    @property
    def all_passed(self) -> bool:
        """Every check ran and none failed (warnings are said, but are no failure)."""
        return bool(sum(self.counts.values())) and not self.counts["fail"] and not self.counts["skip"]

    def line(self) -> str:
        """One line for a status bar: the counts, and what was not verified."""
        c = self.counts
        parts = [f"{n} {word}" for n, word in ((c["fail"], "failed"), (c["pass"], "passed"),
                                                (c["warn"], "warned"), (c["skip"], "not verified")) if n]
        text = ", ".join(parts)
        if self.all_passed:
            return f"every check passed ({text})"
        if not c["fail"] and c["skip"]:
            return f"{text}: not verified is not passed ({', '.join(x.title for x in self.not_verified[:3])}" + \
                (", ..." if len(self.not_verified) > 3 else "") + ")"
        return text


def verdict(checks: Iterable[Check]) -> Verdict:
    items = list(checks)
    return Verdict({s: sum(c.status == s for c in items) for s in STATUSES}, [c for c in items if c.status == "skip"])
