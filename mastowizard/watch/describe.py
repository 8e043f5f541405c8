"""One line for each way a recorded item differs from the baseline, said as an admin reads a bucket:
the policy statement added, the CORS rules gone, the lifecycle rule that appeared."""

from __future__ import annotations

import json
from typing import Any

NAMES = {"settings": "the env file's storage settings", "writer_key": "the writer key",
         "policy": "bucket policy", "cors": "CORS rules", "ownership": "object ownership",
         "public_access_block": "Block Public Access", "lifecycle": "lifecycle rules", "versioning": "versioning",
         "certificate_issuer": "the media host certificate's issuer"}


def describe(item: str, was: Any, now: Any) -> str:
    if isinstance(now, dict) and "unreadable" in now:
        return f"can no longer be read with the writer key ({now['unreadable']}), so it is not watched" \
            if not (isinstance(was, dict) and "unreadable" in was) else f"unreadable ({now['unreadable']})"
    if isinstance(was, dict) and "unreadable" in was:
        return f"readable now (was {was['unreadable']}): " + ("not set" if now is None else _value(item, now))
    how = {"policy": _policy, "cors": _rules("CORS rule", _cors_rule), "lifecycle": _rules("rule", _lifecycle_rule),
           "settings": _settings, "public_access_block": _flags}.get(item)
    if was is None:
        return f"appeared: {_value(item, now)}"
    if now is None:
        return "removed" + {"cors": ": browsers on the instance's pages can no longer read media from the media "
                                    "host", "policy": ": media is public only where object ACLs say so"}.get(item, "")
    if item == "writer_key":
        return f"is another key now (its ID's fingerprint {now}, was {was}): a rotated key; the checks say whether " \
               "it can do what Mastodon needs"
    if how:
        return how(was, now)
    return f"{_value(item, now)} (was {_value(item, was)})"


def _value(item: str, value: Any) -> str:
    if item == "policy":
        return "; ".join(_statement(s) for s in value.get("Statement", [])) or "no statement"
    if item == "cors":
        return "; ".join(_cors_rule(r) for r in value) or "no rule"
    if item == "lifecycle":
        return "; ".join(_lifecycle_rule(r) for r in value) or "no rule"
    if item == "settings":
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if item == "public_access_block":
        return ", ".join(f"{k}={str(v).lower()}" for k, v in sorted(value.items()))
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    return str(value)


def _policy(was: dict, now: dict) -> str:
    return _rules("statement", _statement, "its version or layout changed")(was.get("Statement", []),
                                                                           now.get("Statement", []))


def _statement(s: dict) -> str:
    principal = s.get("Principal", "?")
    if isinstance(principal, dict):
        principal = ",".join(str(v) for v in principal.values())
    cond = " with conditions" if s.get("Condition") else ""
    return f"{s.get('Effect', '?')} {principal} {_join(s.get('Action', s.get('NotAction', '?')))} " \
           f"on {_join(s.get('Resource', '?'))}{cond}"


def _rules(word: str, one, same: str = "reordered"):
    """The difference of two lists of rules (or statements): each added and removed one, said by ONE."""
    def diff(was: list, now: list) -> str:
        before = {json.dumps(r, sort_keys=True): r for r in was}
        after = {json.dumps(r, sort_keys=True): r for r in now}
        parts = [f"{word} added: {one(r)}" for k, r in after.items() if k not in before]
        parts += [f"{word} removed: {one(r)}" for k, r in before.items() if k not in after]
        return "; ".join(parts) or same
    return diff


def _cors_rule(r: dict) -> str:
    return f"{_join(r.get('AllowedMethods', []))} from {_join(r.get('AllowedOrigins', []))}"


def _lifecycle_rule(r: dict) -> str:
    prefix = r.get("Filter", {}).get("Prefix", r.get("Prefix", "")) if isinstance(r.get("Filter", {}), dict) else ""
    what = []
    if "Expiration" in r:
        exp = r["Expiration"]
        what.append("expires objects " + (f"after {exp['Days']} days" if "Days" in exp else
                                          f"on {exp.get('Date', '?')}" if "Date" in exp else "(delete markers)"))
    if "NoncurrentVersionExpiration" in r:
        what.append(f"expires old versions after {r['NoncurrentVersionExpiration'].get('NoncurrentDays', '?')} days")
    if "Transitions" in r or "Transition" in r:
        what.append("moves objects to another storage class")
    if "AbortIncompleteMultipartUpload" in r:
        what.append("aborts unfinished uploads")
    return f"{r.get('ID', '(no ID)')} ({r.get('Status', '?')}) under '{prefix or '(everything)'}': " \
           f"{', '.join(what) or 'no action'}"


def _settings(was: dict, now: dict) -> str:
    parts = []
    for k in sorted(set(was) | set(now)):
        if was.get(k) != now.get(k):
            parts.append(f"{k}: {was.get(k, '(unset)') or '(empty)'} -> {now.get(k, '(unset)') or '(empty)'}")
    return "; ".join(parts)


def _flags(was: dict, now: dict) -> str:
    return "; ".join(f"{k}: {str(was.get(k)).lower()} -> {str(now.get(k)).lower()}"
                     for k in sorted(set(was) | set(now)) if was.get(k) != now.get(k))


def _join(v: Any) -> str:
    return ",".join(map(str, v)) if isinstance(v, list) else str(v)
