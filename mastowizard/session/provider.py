"""The Provider step: test the bucket with the writer key (the probes and Mastodon's jobs)."""

from __future__ import annotations

from collections.abc import Callable

from ..results import Check
from .state import State


class ProviderStep(State):
    def probe(self, on_check: Callable[[Check], None] | None = None) -> list[Check]:
        """The bucket's probes; what the jobs checks measured is kept for Review's plan."""
        from ..s3.jobs import measured
        from ..s3.probes import run_probes
        checks = run_probes(self.settings(), self.writer(), self.http(), self.admin, on_check)
        self.measured = measured(checks)
        return checks
