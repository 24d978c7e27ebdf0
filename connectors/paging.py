"""Pages fetched ahead, several at a time, and handed out in order.

Readers whose APIs page by number or offset know every page's address after the first response, so the next
few pages can be in flight while the current one lands. They are yielded in request order, so that whoever
lands them can advance a cursor page by page; memory stays bounded by the window.
"""
from __future__ import annotations

import queue
import threading
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


def merge_streams(streams: list[Iterable[T]], *, held: int = 4) -> Iterator[T]:
    """Drain several iterators at once, one thread each, yielding their items as they come (any order).

    At most `held` items exist at a time between the streams and the consumer, counting those being read:
    a stream takes a slot before it reads its next item, and the slot comes back when the consumer asks for
    the item after the one it was given. So memory is bounded by `held` items however many streams there are
    and however far the consumer falls behind. An error in any stream is raised here; when the consumer
    stops early, the streams stop at their next item.
    """
    if len(streams) == 1:
        yield from streams[0]
        return
    slots = threading.Semaphore(held)
    items: queue.SimpleQueue = queue.SimpleQueue()  # never longer than `held`: the slots bound it
    stop = threading.Event()

    def take_slot() -> bool:
        while not stop.is_set():
            if slots.acquire(timeout=0.2):
                return True
        return False

    def drain(stream: Iterable[T]) -> None:
        try:
            iterator = iter(stream)
            while take_slot():
                try:
                    item = next(iterator)
                except StopIteration:
                    slots.release()
                    items.put(("done", None))
                    return
                items.put(("item", item))
                del item
        except BaseException as exc:  # handed to the consumer, which raises it
            items.put(("error", exc))

    threads = [threading.Thread(target=drain, args=(s,), daemon=True, name="stream") for s in streams]
    for t in threads:
        t.start()
    remaining = len(threads)
    try:
        while remaining:
            kind, value = items.get()
            if kind == "item":
                yield value
                del value
                slots.release()
            elif kind == "done":
                remaining -= 1
            else:
                raise value
    finally:
        stop.set()
