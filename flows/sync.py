"""Prefect flow `sync`: plan and apply each reverse-ETL sync, in order; a sync with records to push is a task of its
own, retried when a retry can help, and one with nothing to push is applied in the flow itself. The hub runs it as
its third stage, naming the syncs a failed dbt build blocked: those are recorded as skipped, with why, and not
applied."""
from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import asdict

import psycopg
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from connectors.http import ConnectorError, Unreachable
from pshub.settings import ConfigurationError
from pshub.warehouse import connect
from reverse_etl import engine
from reverse_etl.apply import apply_sync
from reverse_etl.syncs import SYNCS

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
    its API) took 0.3 s a sync on this 2-core machine under load, the queries 0.1 to 0.3 s."""
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
    """Apply the syncs in their declared order (later syncs read what earlier ones created); names None = every
    sync, [] = none. A sync in `blocked` ({name: why}) is recorded as skipped. A sync with nothing to push is applied
    in the flow itself, on one warehouse connection (apply_if_nothing_to_push); one with records to push is a task
    of its own, retried when a retry can help. A sync that fails does not stop the others: its result says failed,
    with why."""
    results = []
    with ExitStack() as connections:
        conn = connections.enter_context(connect())
        for name in list(SYNCS) if names is None else names:
            if blocked and name in blocked:
                results.append(record_blocked_sync(run_id, name, blocked[name]))
                continue
            if conn.closed or conn.broken:  # a connection the warehouse dropped: a new one for the next syncs
                conn = connections.enter_context(connect())
            done = apply_if_nothing_to_push(conn, name, run_id, confirm)
            results.append(done if done is not None else _apply_as_task(name, run_id, confirm))
    return results


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
