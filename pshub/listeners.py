"""Progress of long work (landing, dbt builds, sync pushes) for whoever displays it: listeners registered for
the length of a block, told of each event. A listener that fails never stops the work it follows."""
from __future__ import annotations

import contextlib
import logging
import threading
from typing import Callable, Generic, TypeVar

Event = TypeVar("Event")
log = logging.getLogger("pshub.listeners")


class Listeners(Generic[Event]):
    """The callbacks following one kind of work in this process (thread-safe)."""

    def __init__(self, work: str):
        self.work = work
        self._callbacks: list[Callable[[Event], None]] = []
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self._callbacks)

    @contextlib.contextmanager
    def listen(self, callback: Callable[[Event], None]):
        """`callback(event)` for every event of this work while the block runs."""
        with self._lock:
            self._callbacks.append(callback)
        try:
            yield callback
        finally:
            with self._lock:
                self._callbacks.remove(callback)

    def report(self, event: Event) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback(event)
            except Exception:  # a broken progress display must not stop the work
                log.exception("%s progress listener failed", self.work)
