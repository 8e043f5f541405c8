"""What a repair found and did, as the lines the CLI prints and the wizard shows."""

from __future__ import annotations

from ..settings import Settings
from .repair import Plan, RepairResult


def plan_lines(plan: Plan, settings: Settings, headers: bool) -> list[str]:
    where = f"bucket {settings.bucket}" + (f" under {settings.key_prefix}/" if settings.key_prefix else "")
    lines = [f"surveyed {where}: {plan.listed} object(s); {plan.tally.describe()}"]
    if plan.not_mastodon:
        lines.append(f"  {plan.not_mastodon} object(s) outside the folders Mastodon writes: left as they are")
    if not settings.acl:
        lines.append("  no ACLs (policy mode): the bucket policy decides who reads; no object ACL is set")
    for what, n, text in (("to_public", plan.to_public, f"to make readable by anyone (ACL {settings.acl})"),
                          ("to_private", plan.to_private, "to make private"),
                          ("keep_private", plan.keep_private, "private media attachment(s) kept private"),
                          ("headers", plan.headers, "with headers Mastodon would not have written"),
                          ("exposed_by_policy", plan.exposed_by_policy,
                           "private by Mastodon's rules but readable through the bucket policy")):
        if n:
            lines.append(f"  {n} {text}, e.g. {', '.join(plan.examples.get(what, [])[:2])}")
    if not headers and not plan.changes:
        lines.append("  every object's ACL is as Mastodon would have set it")
    for bad in plan.unreadable[:10]:
        lines.append(f"  could not be surveyed: {bad['key']}: {bad['error']}")
    return lines


def outcome_lines(result: RepairResult) -> list[str]:
    plan = result.plan
    if result.dry_run:
        lines = [f"dry run: nothing was changed; {plan.changes} change(s) would be made"]
        if result.decision_needed or (plan.tally.suspect and plan.tally.private("attachment")
                                      and not result.private_media):
            lines.append("note: this bucket is suspect (mostly private): the repair will ask whether its private "
                         "media attachments stay private (--private-media keep) or become public (--private-media "
                         "public)")
        return lines
    if result.cancelled:
        return ["cancelled: a rerun surveys afresh and changes only what is still wrong"]
    if result.aborted:
        return [f"problem: {result.aborted}", f"repair stopped after {result.made_public + result.made_private} "
                f"change(s) and {len(result.failed)} refusal(s): fix the key or the bucket, then run it again"]
    if not plan.changes:
        return ["nothing to change"] + (["problem: " + _policy_line(plan)] if plan.exposed_by_policy else [])
    lines = [f"made {result.made_public} public, {result.made_private} private; fixed the headers of "
             f"{result.headers_fixed} object(s) in {result.seconds:.1f}s"]
    if result.vanished:
        lines.append(f"  {result.vanished} object(s) vanished during the repair (deleted by Mastodon): skipped")
    if result.replaced_meanwhile:
        lines.append(f"  {result.replaced_meanwhile} object(s) were replaced meanwhile: left as Mastodon wrote them")
    for what, items in (("failed", result.failed), ("still readable by anyone", result.still_exposed),
                        ("still refused to anyone", result.still_unreadable)):
        for bad in items[:20]:
            lines.append(f"problem: {what}: {bad['key']}: {bad['error']}")
        if len(items) > 20:
            lines.append(f"problem: ... and {len(items) - 20} more {what}")
    if plan.exposed_by_policy:
        lines.append("problem: " + _policy_line(plan))
    lines.append("repair complete: a rerun finds nothing to change" if result.ok else
                 "repair incomplete: fix the problems above, then run it again (it changes only what is still wrong)")
    return lines


def _policy_line(plan) -> str:
    return (f"{plan.exposed_by_policy} object(s) Mastodon keeps private are readable through the bucket policy "
            f"(e.g. {', '.join(plan.examples.get('exposed_by_policy', [])[:3])}): `mastowizard policy` "
            "prints one that covers only Mastodon's public folders, and `setup-bucket` applies it")
