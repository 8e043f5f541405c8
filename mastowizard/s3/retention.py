"""What deletes or keeps media behind Mastodon's back (`jobs.retention`): lifecycle rules that
expire Mastodon's prefixes, versioning without an expiry of old versions. Part of the jobs checks."""

from __future__ import annotations

from .probe_run import ProbeRun
from .probe_run import check as _check

MASTODON_PREFIXES = ("accounts/", "media_attachments/", "custom_emojis/", "site_uploads/", "preview_cards/",
                     "cache/", "backups/", "imports/")


def _rule_prefix(rule: dict) -> str:
    f = rule.get("Filter") or {}
    return f.get("Prefix", (f.get("And") or {}).get("Prefix", rule.get("Prefix", ""))) or ""


def probe_retention(run: ProbeRun) -> None:
    """Lifecycle expiry (Mastodon never uploads avatars and headers again), versioning without expiry of
    old versions (every deleted file stays billed), read with the admin key where given."""
    s, chk = run.settings, _check("jobs.retention")
    c, who = run.config_client, ("admin key" if run.s3_admin else "writer key")     # as run.versioning() reads
    bad, warn, seen, unread = [], [], [], []
    rules: list[dict] = []
    try:
        rules = c.get_bucket_lifecycle_configuration(Bucket=s.bucket).get("Rules", [])
    except Exception as exc:  # noqa: BLE001
        e = run.err(exc)
        if e.code == "NoSuchLifecycleConfiguration":
            seen.append("no lifecycle rules")
        else:
            unread.append(f"lifecycle ({e.code})")
    noncurrent = False
    for rule in (r for r in rules if r.get("Status") == "Enabled"):
        prefix, name = _rule_prefix(rule), rule.get("ID") or "(no id)"
        noncurrent |= "NoncurrentVersionExpiration" in rule
        exp = rule.get("Expiration") or {}
        if not (exp.get("Days") or exp.get("Date")):
            seen.append(f"rule {name}: no expiry of current objects")
            continue
        when = f"after {exp['Days']} days" if exp.get("Days") else f"on {exp['Date']}"
        hit = [p for p in MASTODON_PREFIXES if s.key(p).startswith(prefix) or prefix.startswith(s.key(p))]
        if set(hit) - {"cache/"}:
            bad.append(f"lifecycle rule {name} expires objects under '{prefix or '(everything)'}' {when}: "
                       f"Mastodon's own media there ({', '.join(hit)}) vanishes and is never uploaded again")
        elif hit:
            warn.append(f"lifecycle rule {name} expires cache/ {when}: remote accounts' avatars and headers are "
                        "there too, and Mastodon does not fetch them again")
    versioning, code = run.versioning()
    if versioning is None:
        unread.append(f"versioning ({code})")
    else:
        seen.append(f"versioning {versioning or 'never enabled'}")
        if versioning == "Enabled" and not noncurrent:
            warn.append("versioning is on without a rule that expires old versions: every file Mastodon deletes "
                        "or replaces stays stored (and billed)")
    ev = {"read_with": who, "seen": seen, "unread": unread}
    if bad:
        run.add(chk.failed("; ".join(bad), "remove the rule, or limit it to a prefix Mastodon does not use "
                                           "(use `tootctl media remove` to clean the cache)", **ev))
    elif warn:
        fix = ("add a lifecycle rule with NoncurrentVersionExpiration (for example 7 days), or suspend versioning"
               if any("versioning" in w for w in warn) else
               "let `tootctl media remove` (Mastodon's own cleanup) expire the cache instead")
        run.add(chk.warned("; ".join(warn), fix, **ev))
    elif unread:      # what could not be read is not verified: never a pass
        run.add(chk.skipped(f"the {who} may not read the bucket's {' or '.join(unread)}"
                            + (f" (seen: {'; '.join(seen)})" if seen else "") + "; give the admin key to read them",
                            **ev))
    else:
        run.add(chk.passed("; ".join(seen), **ev))
