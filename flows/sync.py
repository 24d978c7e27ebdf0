"""Prefect flow `sync`: plan and apply each reverse-ETL sync, in order."""
from __future__ import annotations

from dataclasses import asdict

from prefect import flow, task

from reverse_etl import engine
from reverse_etl.apply import apply_sync
from reverse_etl.syncs import SYNCS


@task(name="sync", retries=2, retry_delay_seconds=[5, 30], task_run_name="sync {name}")
def apply_sync_task(name: str, run_id: str, confirm: bool = False) -> dict:
    return asdict(apply_sync(name, run_id, confirm))


@flow(name="sync")
def sync(run_id: str, names: list[str] | None = None, confirm: bool = False) -> list[dict]:
    """Apply the syncs in their declared order (later syncs read what earlier ones created). A sync that fails
    does not stop the others: its result says failed, with why."""
    results = []
    for name in names or list(SYNCS):
        state = apply_sync_task(name, run_id, confirm, return_state=True)
        if state.is_completed():
            results.append(state.result())
        else:
            try:
                state.result()
                message = state.message
            except Exception as exc:  # the task's own exception, after its retries
                message = str(exc)
            results.append(asdict(engine.SyncResult(name, run_id, status="failed", message=message)))
    return results
