"""Render the provider catalog as the admin-facing page docs/providers.md."""

from __future__ import annotations

from ..providers import all_providers

HEADER = """# Providers

Generated from the catalog (`mastowizard/data/providers.json`) by
`python3 scripts/generate_docs.py`; `mastowizard providers` lists it too.
The catalog is a starting point: `mastowizard probe` checks the real bucket, because providers
change. ACL mode is recommended wherever object ACLs work (see
[permission-modes.md](permission-modes.md)).
"""


def render() -> str:
    out = [HEADER]
    for p in all_providers():
        out.append(f"## {p.name} (`--provider {p.id}`)\n")
        endpoint = p.endpoint_pattern or ("none: S3_REGION is enough" if p.id == "aws"
                                          else "your server's URL (--endpoint)")
        rows = [
            ("Endpoint", f"`{endpoint}`" if p.endpoint_pattern else endpoint),
            ("Region (S3_REGION)", p.region_value_note + (f"; known: {', '.join(p.regions)}" if p.regions else "")),
            ("Addressing", ", ".join(p.addressing) + f" (default {p.default_addressing})"),
            ("Object ACLs", p.object_acls),
            ("Recommended mode", f"`--permission {p.default_permission}`"),
            ("Public read", p.public_read_how),
            ("CORS", p.cors + (f": {p.cors_note}" if p.cors_note else "")),
            ("Media host", p.alias_host_hint),
        ]
        if p.listing_risk:
            rows.append(("Listing risk", p.listing_risk))
        if p.mastodon_env:
            rows.append(("Extra variables", ", ".join(f"`{k}={v}`" for k, v in p.mastodon_env.items())))
        out.append("| | |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows) + "\n")
        if p.quirks:
            out.append("Quirks:\n" + "\n".join(f"- {q}" for q in p.quirks) + "\n")
        out.append("Sources: " + "; ".join(p.sources) + "\n")
    return "\n".join(out)

