"""Memory stays flat as data grows: what is read ahead of landing is bounded, whatever the row counts."""
from __future__ import annotations

import threading
import time

from connectors.paging import merge_streams


def test_streams_read_at_once_hold_at_most_a_fixed_number_of_pages_however_slow_the_consumer():
    held = 3
    alive = 0
    most = 0
    lock = threading.Lock()

    class Page(list):
        """A page that counts how many exist at once (made by a stream, gone when the consumer drops it)."""

        def __init__(self, *a):
            nonlocal alive, most
            super().__init__(*a)
            with lock:
                alive += 1
                most = max(most, alive)

        def __del__(self):
            nonlocal alive
            with lock:
                alive -= 1

    def stream(n: int):
        for i in range(n):
            yield Page([i])

    streams = [stream(20) for _ in range(8)]
    seen = 0
    for page in merge_streams(streams, held=held):
        time.sleep(0.002)  # landing slower than reading
        seen += len(page)
        del page
    assert seen == 8 * 20
    assert most <= held
