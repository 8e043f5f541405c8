"""The checks as a command prints them: a line each with detail, fix and link, or one JSON document."""

from __future__ import annotations

import json
from typing import Any

from ..results import Check, report
from .status import ExitStatus

MARK = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "skip": "skip"}


def print_checks(checks: list[Check], as_json: bool, notes: list[str], extra: dict[str, Any] | None = None) -> int:
    doc = report(checks)
    if as_json:
        if notes:
            doc["notes"] = notes
        doc.update(extra or {})
        print(json.dumps(doc, indent=2, default=str))
    else:
        for n in notes:
            print(f"note: {n}")
        for c in checks:
            print(f"{MARK[c.status]:4}  {c.title} [{c.id}]")
            if c.detail:
                print(f"      {c.detail}")
            if c.fix and c.status in ("fail", "warn"):
                print(f"      fix: {c.fix}")
            if c.evidence.get("doc") and c.status in ("fail", "warn"):
                print(f"      see: {c.evidence['doc']}")
        counts = {s: sum(c.status == s for c in checks) for s in MARK}
        print(f"{counts['pass']} passed, {counts['fail']} failed, {counts['warn']} warnings, {counts['skip']} skipped")
    return ExitStatus.of(doc["ok"])
