"""The Restart step: restart web, sidekiq and streaming so they read the env file."""

from __future__ import annotations

from collections.abc import Callable

from .risk import risk_first
from .state import State


class RestartStep(State):
    def describe_restart(self):
        """What Restart will do, exactly, and what it risks: (the confirmation's lines, the media on
        disk not in the bucket yet when the env file stores media in S3, else None)."""
        import shlex

        from ..host.restart import detect, restart_argv
        from ..migrate.gap import gap_before_restart
        install = detect(self.host, self.answers.env_file)
        gap = gap_before_restart(self.host, self.answers.env_file, self.http())
        return risk_first([f"on {self.host.describe()}: {shlex.join(restart_argv(install))}",
                            f"restarting {', '.join(install.services)} ({install.kind}): the instance is briefly "
                            "unavailable", "then waiting until web answers /health"
                            + (f" at {self.answers.instance}" if self.answers.instance else "")], gap), gap

    def restart(self, on_line: Callable[[str], None] | None = None):
        from ..host.restart import detect, restart
        install = detect(self.host, self.answers.env_file)
        return restart(self.host, install, self.instance_url(), self.http(), on_line=on_line)
