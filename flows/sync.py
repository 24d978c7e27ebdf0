"""Prefect flow `sync`: plan and apply each reverse-ETL sync, in order; one task per sync, retried when a retry can
help. The hub runs it as its third stage, naming the syncs a failed dbt build blocked: those are recorded as
skipped, with why, and not applied."""
from __future__ import annotations

import logging
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


@flow(name="sync")
def sync(run_id: str, names: list[str] | None = None, confirm: bool = False,
         blocked: dict[str, str] | None = None) -> list[dict]:
    """Apply the syncs in their declared order (later syncs read what earlier ones created); names None = every
    sync, [] = none. A sync in `blocked` ({name: why}) is recorded as skipped. A sync that fails does not stop the
    others: its result says failed, with why."""
    results = []
    for name in list(SYNCS) if names is None else names:
        if blocked and name in blocked:
            results.append(record_blocked_sync(run_id, name, blocked[name]))
            continue
        state = apply_sync_task(name, run_id, confirm, return_state=True)
        if state.is_completed():
            results.append(state.result())
        else:
            try:
                state.result()
                message = state.message
            except Exception as exc:  # the task's own exception, after its retries
                message = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
            log.error("sync %s failed: %s", name, message, extra={"stage": "sync", "sync": name})
            results.append(asdict(engine.SyncResult(name, run_id, status="failed", message=message)))
    return results
