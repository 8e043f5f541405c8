"""How long each check took: the step that judges a check (a checklist group, one probe) runs
`timed`, and a check judged in it records the seconds since that step began (Check.seconds)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
_local = threading.local()


def timed(call: Callable[[], T]) -> Callable[[], T]:
    """CALL, as a step of its own: checks judged while it runs (in its thread) time from its start."""
    def run() -> T:
        outer = getattr(_local, "started", None)
        _local.started = time.monotonic()
        try:
            return call()
        finally:
            _local.started = outer
    return run


def elapsed() -> float | None:
    """Seconds since the current thread's step began, or None outside any step."""
    started = getattr(_local, "started", None)
    return None if started is None else time.monotonic() - started


def lap() -> None:
    """A check was judged: the next one in this step times from now (a chain of checks, each its own time)."""
    if getattr(_local, "started", None) is not None:
        _local.started = time.monotonic()
