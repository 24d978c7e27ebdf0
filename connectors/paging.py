"""Pages fetched ahead, several at a time, and handed out in order.

Readers whose APIs page by number or offset know every page's address after the first response, so the next
few pages can be in flight while the current one lands. They are yielded in request order, so that whoever
lands them can advance a cursor page by page; memory stays bounded by the window.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

A = TypeVar("A")
T = TypeVar("T")


def fetch_in_order(fetch: Callable[[A], T], addresses: Iterable[A], *, workers: int) -> Iterator[T]:
    """fetch(address) for each address, up to `workers` in flight, results yielded in address order."""
    if workers <= 1:
        for address in addresses:
            yield fetch(address)
        return
    pending: deque[Future] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="page") as pool:
        try:
            for address in addresses:
                pending.append(pool.submit(fetch, address))
                if len(pending) >= workers * 2:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:  # the consumer stopped early or a fetch failed: drop what has not started
            for f in pending:
                f.cancel()
