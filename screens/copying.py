"""What the two copy screens (Copy media to a bucket, and back to disk) share while a copy runs: Cancel
and the progress bar shown, and the callback that moves them from the engine's worker."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import ProgressBar


def begin_copy(screen, text: str, already: str) -> Callable:
    """Show SCREEN's #cancel and #progress, say TEXT; the on_progress callback for the engine, which
    says each Progress with ALREADY naming the files skipped (e.g. "already on disk")."""
    screen.cancel.clear()
    screen.query_one("#cancel").remove_class("hidden")
    screen.query_one("#progress").remove_class("hidden")
    screen.say(text)
    bar = screen.query_one("#progress", ProgressBar)
    screen.call_after_refresh(bar.scroll_visible, animate=False)       # the progress where the eye is

    def progress(p) -> None:
        screen.app.call_from_thread(bar.update, progress=p.files)
        screen.app.call_from_thread(screen.say, p.line(already))
    return progress
