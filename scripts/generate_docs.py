"""Regenerate the docs pages made from the engine's data: docs/troubleshooting.md (the knowledge base
the checks link to) and docs/providers.md (the provider catalog). Run after changing either:
    python3 scripts/generate_docs.py
tests/checklist/test_knowledge.py and tests/core/test_providers.py fail while a page is out of date."""

from __future__ import annotations

from pathlib import Path

from mastowizard.checklist.knowledge import render_docs
from mastowizard.checklist.provider_docs import render

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = {"troubleshooting.md": render_docs, "providers.md": render}

if __name__ == "__main__":
    for name, make in PAGES.items():
        (DOCS / name).write_text(make())
        print(f"wrote docs/{name}")
