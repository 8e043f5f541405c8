"""What the two copy screens (Copy media to a bucket, and back to disk) share: the question a suspect
bucket asks, and, while a copy runs, Cancel and the progress bar shown and the callback that moves
them from the engine's worker."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, ProgressBar, RadioSet, Static

from .widgets import Choice


def private_media_box(on_disk: bool = False) -> ComposeResult:
    """#private-box (hidden until the bucket is suspect): keep the private attachments private
    (#keep) or make them public (#public); ON_DISK says what each means there (0600 or 0644)."""
    with Vertical(id="private-box", classes="hidden"):
        yield Label("Private media attachments: keep or make public?", classes="title")
        yield Static("Most of the bucket is private, as a copy tool's default ACL leaves it (rclone's is "
                     "private). Its private attachments cannot be told from suspended accounts' media, which "
                     "Mastodon keeps private" + (" (0600 on disk: nginx serves none of them)." if on_disk else "."))
        with RadioSet(id="private-media"):
            yield Choice("Keep them private" + (" (0600)" if on_disk else ""), id="keep")
            yield Choice("Make them public" + (" (0644)" if on_disk else ""), id="public")


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
