"""Prefect flow `sync`: plan and apply each reverse-ETL sync, independent ones side by side (PSHUB_SYNC_CONCURRENCY),
each after the syncs it reads from; a sync with records to push is a task of its own, retried when a retry can help,
and one with nothing to push is applied in the flow itself. The hub runs it as
its third stage, naming the syncs a failed dbt build blocked: those are recorded as skipped, with why, and not
applied."""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from contextvars import copy_context
from dataclasses import asdict

import psycopg
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from connectors.http import ConnectorError, Unreachable
from pshub.settings import ConfigurationError, get_settings
from pshub.warehouse import connect
from reverse_etl import engine
from reverse_etl.apply import apply_sync
from reverse_etl.syncs import SYNCS, for_systems

log = logging.getLogger("pshub.hub")


def worth_retrying(task, task_run, state) -> bool:
    """Prefect retries a sync only for what a retry can help: a transient API error or a dropped warehouse
    connection; a setting, a credential or a refusal fails the same way every time."""
    try:
        state.result()
    except (ConfigurationError, Unreachable):
        return False
    except ConnectorError as exc:
        return exc.transient
    except psycopg.OperationalError:
        return True
    except Exception:
        return False
    return False


@task(name="sync", retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=worth_retrying, cache_policy=NO_CACHE,
      task_run_name="sync {name}")
def apply_sync_task(name: str, run_id: str, confirm: bool = False) -> dict:
    out = asdict(apply_sync(name, run_id, confirm))
    log.info("sync %s: %d pushed, %d failed, %d invalid", name, out["pushed"], out["failed"], out["invalid"],
             extra={"stage": "sync", "sync": name})
    return out


def record_blocked_sync(run_id: str, name: str, reason: str) -> dict:
    """A sync not applied because dbt failed on its model or upstream of it: a skipped row in ops.sync_runs."""
    log.warning("sync %s blocked: %s", name, reason, extra={"stage": "sync", "sync": name})
    with connect() as conn:
        conn.execute("""insert into ops.sync_runs (run_id, sync_name, status, finished_at, error)
                        values (%s, %s, 'skipped', now(), %s)""", (run_id, name, f"blocked: {reason}"[:2000]))
        conn.commit()
    return {**asdict(engine.SyncResult(name, run_id, status="blocked")), "reason": reason}


def apply_if_nothing_to_push(conn, name: str, run_id: str, confirm: bool) -> dict | None:
    """The sync applied here, in the flow, when its plan has nothing to push (its held-back rows recorded, its run
    in ops.sync_runs as any apply's); None when it has records to push, or when the apply failed (the sync's task
    then applies it, with its retries). Most syncs of a cycle have nothing to push, and a task run cost such a sync
    more than its queries: Prefect's bookkeeping of the run (created, then running, then completed, each a call to
    its API) took 0.3 s a sync on a 2-core machine under load, the queries 0.1 to 0.3 s."""
    try:
        result = apply_sync(name, run_id, confirm, conn, only_if_nothing_to_push=True)
    except Exception as exc:  # noqa: BLE001 - the task applies it again, and reports what fails there
        log.info("sync %s: applied as a task after %s", name, type(exc).__name__, extra={"stage": "sync", "sync": name})
        return None
    if result.status == "deferred":
        return None
    out = asdict(result)
    log.info("sync %s: %d pushed, %d failed, %d invalid", name, out["pushed"], out["failed"], out["invalid"],
             extra={"stage": "sync", "sync": name})
    return out


@flow(name="sync")
def sync(run_id: str, names: list[str] | None = None, confirm: bool = False,
         blocked: dict[str, str] | None = None) -> list[dict]:
    """Apply the syncs, up to PSHUB_SYNC_CONCURRENCY at once, each once the syncs it reads from (Sync.after) that
    this run applies finished; names None = every sync, [] = none. Results in the order of `names` (the declared
    order). A sync in `blocked` ({name: why}) is recorded as skipped. A sync with nothing to push is applied in the
    flow itself, on a warehouse connection of its worker (apply_if_nothing_to_push); one with records to push is a
    task of its own, retried when a retry can help. A sync that fails does not stop the others, not even those that
    read from it (as when one at a time): its result says failed, with why."""
    order = list(SYNCS) if names is None else list(names)
    results: list[dict | None] = [None] * len(order)
    todo = []
    for i, name in enumerate(order):
        if blocked and name in blocked:
            results[i] = record_blocked_sync(run_id, name, blocked[name])
        else:
            todo.append(i)
    settings = get_settings()
    # what each sync waits for: the syncs of its `after` listed before it (a sync named later, or not at all, is
    # not waited for: the order given stays one that runs)
    waits = {i: {j for j in todo if j < i and order[j] in _after(order[i])} for i in todo}
    destination = {i: _destination(order[i], settings) for i in todo}
    with _Connections() as connections:
        for i, result in _run(todo, waits, destination, settings.sync_concurrency,
                              lambda i: _apply_one(connections, order[i], run_id, confirm)):
            results[i] = result
    return results


def _after(name: str) -> tuple[str, ...]:
    sync = SYNCS.get(name)
    return sync.after if sync else ()


def _destination(name: str, settings) -> str:
    """The system the sync writes to in this installation (a CRM or PSA sync's depends on which: HubSpot's, Certinia's
    in Salesforce); the sync's own name when it writes nowhere here (it is skipped) or is not known."""
    sync = SYNCS.get(name)
    taken = for_systems(sync, settings.crm, settings.psa) if sync else None
    return taken.destination if taken else f"sync:{name}"


def _run(todo: list[int], waits: dict[int, set[int]], destination: dict[int, str], concurrency: int,
         apply_one) -> Iterator[tuple[int, dict]]:
    """(i, result) of each of `todo` as it finishes: at most `concurrency` at once, i started once every sync of
    waits[i] finished, the first startable in order first. Two syncs of the same destination never run at once: a
    destination's limits are per sync (e.g. NetSuite's 5 requests in flight, settings.netsuite_concurrency, which
    one sync's pusher uses all of), so that keeps them whole without a limiter shared between syncs; the syncs of
    one destination mostly read from each other anyway (NetSuite's customers, projects, then time bills). Each
    sync runs in a worker thread in a copy of this thread's context (contextvars.copy_context, as Prefect's
    ThreadPoolTaskRunner runs a submitted task): Prefect's flow run context goes with it, so that a sync's task run
    is one of this flow run's. concurrency 1: one after the other, in order."""
    pending, finished, busy = list(todo), set(), set()
    running: dict[Future, int] = {}
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="sync") as pool:
        while pending or running:
            for i in list(pending):
                if len(running) >= max(1, concurrency):
                    break
                if waits[i] <= finished and destination[i] not in busy:
                    pending.remove(i)
                    busy.add(destination[i])
                    running[pool.submit(copy_context().run, apply_one, i)] = i
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                i = running.pop(future)
                finished.add(i)
                busy.discard(destination[i])
                yield i, future.result()


class _Connections:
    """Warehouse connections for the workers: one taken for each sync applied in the flow and handed back after it,
    so that at most one per worker is open; a connection the warehouse dropped is replaced."""

    def __init__(self):
        self._free: list[psycopg.Connection] = []
        self._opened = ExitStack()
        self._lock = threading.Lock()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._opened.close()

    @contextmanager
    def taken(self) -> Iterator[psycopg.Connection]:
        with self._lock:
            conn = self._free.pop() if self._free else None
            if conn is None or conn.closed or conn.broken:
                conn = self._opened.enter_context(connect())
        try:
            yield conn
        finally:
            with self._lock:
                self._free.append(conn)


def _apply_one(connections: _Connections, name: str, run_id: str, confirm: bool) -> dict:
    """One sync, in a worker: applied on the worker's connection when it has nothing to push, else (or when no
    connection could be had) by its task, which reports what fails."""
    try:
        with connections.taken() as conn:
            done = apply_if_nothing_to_push(conn, name, run_id, confirm)
    except Exception:  # noqa: BLE001 - a connection refused: the task tries with its own, and reports what fails
        done = None
    return done if done is not None else _apply_as_task(name, run_id, confirm)


def _apply_as_task(name: str, run_id: str, confirm: bool) -> dict:
    """The sync's task (its own connection), its result or, after its retries, why it failed."""
    state = apply_sync_task(name, run_id, confirm, return_state=True)
    if state.is_completed():
        return state.result()
    try:
        state.result()
        message = state.message
    except Exception as exc:  # the task's own exception, after its retries
        message = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    log.error("sync %s failed: %s", name, message, extra={"stage": "sync", "sync": name})
    return asdict(engine.SyncResult(name, run_id, status="failed", message=message))
