"""Command palette entries (ctrl+p): jump to any step, open Troubleshoot."""

from __future__ import annotations

from functools import partial

from textual.command import Hit, Hits, Provider

from .steps import STEPS


class StepCommands(Provider):
    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for step in STEPS:
            text = f"Go to step {step.number}: {step.title}"
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(self.app.goto, step.id), help="jump to this step")
        text = "Troubleshoot"
        score = matcher.match(text)
        if score > 0:
            yield Hit(score, matcher.highlight(text), self.app.troubleshoot, help="checks, logs, rollback")
