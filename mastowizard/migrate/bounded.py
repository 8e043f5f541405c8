"""Run one function over a stream of items in a pool of threads, at most twice the workers in
flight, results in completion order: memory stays bounded whatever the length of the stream."""

from __future__ import annotations

import threading
from collections import deque
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


def ordered_map(fn: Callable[[T], R], items: Iterable[T], jobs: int, name: str = "mastowizard"
                ) -> Iterator[tuple[T, R | None, BaseException | None]]:
    """As bounded_map, but in the items' order (a window of 2x JOBS ahead): for a stream that must
    stay sorted, such as a listing in key order."""
    window: deque = deque()
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix=name) as pool:
        try:
            for item in items:
                window.append((item, pool.submit(fn, item)))
                if len(window) >= 2 * jobs:
                    yield _result(*window.popleft())
            while window:
                yield _result(*window.popleft())
        finally:
            for _, fut in window:
                fut.cancel()


def _result(item, fut: Future):
    e = fut.exception()
    return (item, None, e) if e is not None else (item, fut.result(), None)
