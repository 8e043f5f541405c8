"""Command palette entries (ctrl+p): jump to any step, open Troubleshoot."""

from __future__ import annotations

from functools import partial

from textual.command import Hit, Hits, Provider

from .widgets import STEPS


class StepCommands(Provider):
    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for i, (sid, title) in enumerate(STEPS, 1):
            text = f"Go to step {i}: {title}"
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(self.app.goto, sid), help="jump to this step")
        text = "Troubleshoot"
        score = matcher.match(text)
        if score > 0:
            yield Hit(score, matcher.highlight(text), self.app.troubleshoot, help="checks, logs, rollback")
