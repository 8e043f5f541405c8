"""Run one function over a stream of items in a pool of threads, at most twice the workers in
flight, results in completion order: memory stays bounded whatever the length of the stream."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def bounded_map(fn: Callable[[T], R], items: Iterable[T], jobs: int, cancel: threading.Event | None = None,
                name: str = "mastowizard") -> Iterator[tuple[T, R | None, BaseException | None]]:
    """(item, result, None) or (item, None, the exception it raised) for each item. Stops taking
    items once CANCEL is set; the ones in flight still finish."""
    in_flight: dict[Future, T] = {}
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix=name) as pool:
        def settle(done) -> Iterator[tuple[T, R | None, BaseException | None]]:
            for fut in done:
                item = in_flight.pop(fut)
                e = fut.exception()
                yield (item, None, e) if e is not None else (item, fut.result(), None)
        try:
            for item in items:
                if cancel is not None and cancel.is_set():
                    break
                in_flight[pool.submit(fn, item)] = item
                if len(in_flight) >= 2 * jobs:
                    done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
                    yield from settle(done)
            while in_flight:
                done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
                yield from settle(done)
        finally:
            for fut in in_flight:
                fut.cancel()
