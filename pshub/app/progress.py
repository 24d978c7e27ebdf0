"""Progress of a long command on the terminal: one line every few seconds per stage (sandbox generation, ingest,
dbt, sync), so that nothing long is silent. Listeners of flows.ingest (objects), pshub.dbt (nodes) and
reverse_etl.engine (batches) feed it, and the sandbox's generator its callback. Imported by the commands that run
flows (it imports them)."""
from __future__ import annotations

import sys
import threading
import time
from contextlib import ExitStack, contextmanager

from flows.objects import Progress, progress_listener
from pshub import dbt
from reverse_etl import engine


class TerminalProgress:
    """`pshub ingest`: one line per object as it starts and ends, and a line every few seconds for long ones."""

    def __init__(self, stream=None, every_seconds: float = 3.0):
        self.stream = stream or sys.stderr
        self.every = every_seconds
        self._last: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def __call__(self, p: Progress) -> None:
        key = (p.system, p.object)
        now = time.monotonic()
        with self._lock:
            if p.stage in ("landing", "reconciling") and now - self._last.get(key, 0) < self.every:
                return
            self._last[key] = now
            rate = f"  {p.rows_fetched / p.seconds:,.0f} rows/s" if p.seconds > 0 and p.rows_fetched else ""
            self.stream.write(f"  {p.system + '.' + p.object:<50} {p.stage:<11} {p.rows_fetched:>10,} read "
                              f"{p.rows_landed:>10,} landed  {p.seconds:7.1f}s{rate}\n")
            self.stream.flush()


class CycleProgress:
    def __init__(self, stream=None, every_seconds: float = 5.0):
        self.stream = stream or sys.stdout
        self.every = every_seconds
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()
        self._objects: dict[tuple[str, str], str] = {}
        self._rows = 0

    def _say(self, stage: str, text: str, force: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            if not force and now - self._last.get(stage, 0) < self.every:
                return
            self._last[stage] = now
            self.stream.write(f"  {time.strftime('%H:%M:%S')}  {stage:<7} {text}\n")
            self.stream.flush()

    def ingest(self, p) -> None:
        with self._lock:
            self._objects[(p.system, p.object)] = p.stage
            if p.stage in ("completed", "stopped", "failed"):
                self._rows += p.rows_landed
            done = sum(s in ("completed", "stopped", "failed") for s in self._objects.values())
            failed = sum(s == "failed" for s in self._objects.values())
            running = len(self._objects) - done
        self._say("ingest", f"{done} objects landed, {running} landing"
                  + (f", {failed} failed" if failed else "") + f"; {self._rows:,} rows so far")

    def dbt(self, p: dict) -> None:
        if p.get("phase") == "starting":
            self._say("dbt", "parsing and compiling the project (the first node follows)", force=True)
            return
        self._say("dbt", f"{p['done']} of {p['total'] or '?'} nodes done: {p['models']} models, {p['tests']} tests, "
                         f"{p['failures']} failures so far", force=p["done"] == p["total"])

    def sandbox(self, p: dict) -> None:
        """The sandbox firm's generation (sandbox.generate): steps done of all, tables and rows written of all."""
        from sandbox.generate import describe  # loaded already: only a generation calls this

        self._say("sandbox", describe(p), force=p["done"] in (0, p["total"]))

    def sync(self, p: dict) -> None:
        self._say("sync", f"{p['sync']}: batch {p['batch']} of {p['batches']}, {p['pushed']:,} pushed",
                  force=p["batch"] == p["batches"])


@contextmanager
def show_progress(stream=None, every_seconds: float = 5.0):
    """Everything long in this process reports to the terminal while the block runs."""
    progress = CycleProgress(stream, every_seconds)
    with ExitStack() as stack:
        stack.enter_context(progress_listener(progress.ingest))
        stack.enter_context(dbt.progress_listener(progress.dbt))
        stack.enter_context(engine.progress_listener(progress.sync))
        yield progress
