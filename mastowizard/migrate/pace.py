"""A request rate this process keeps to (`migrate --max-rate R`): the fleet's share of a provider's
limit (B2: 500 requests/s per account; Linode: 750 or 2,000 per bucket; AWS: 3,500 writes/s per
prefix). Requests are spaced evenly, 1/R apart, whichever thread sends them. A server that says
SlowDown (503) or TooManyRequests (429) widens the spacing (up to 8x) until it answers again, then it
narrows back by 2% an answer: the fleet slows down together instead of hammering."""

from __future__ import annotations

import random
import threading
import time


class Pace:
    def __init__(self, per_second: float):
        if per_second <= 0:
            raise ValueError("a rate is above 0")
        self.base = 1.0 / per_second
        self.interval = self.base
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Until this request's turn."""
        with self._lock:
            now = time.monotonic()
            turn = max(now, self._next)
            self._next = turn + self.interval
        if turn > now:
            time.sleep(turn - now)

    def slowed(self) -> None:
        """The server asked to slow down."""
        with self._lock:
            self.interval = min(self.interval * 2, self.base * 8)

    def answered(self) -> None:
        with self._lock:
            self.interval = max(self.base, self.interval * 0.98)


def jittered(delay: float) -> float:
    """A retry's wait: between half and all of DELAY, so clients that failed together do not retry
    together (AWS's advice for SlowDown)."""
    return delay * (0.5 + random.random() / 2)
