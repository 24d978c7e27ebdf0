"""Prefect flow `sync`: plan and apply each reverse-ETL sync."""
from __future__ import annotations

from dataclasses import asdict

from prefect import flow, task

from pshub.clients import client_for
from pshub.settings import get_settings
from pshub.warehouse import connect
from reverse_etl import engine
from reverse_etl.syncs import SYNCS, get_sync


def apply_sync(name: str, run_id: str) -> engine.SyncResult:
    sync = get_sync(name)
    concurrency = get_settings().netsuite_concurrency if sync.destination == "netsuite" else 1
    with connect() as conn:
        return engine.apply(conn, sync, run_id, lambda: client_for(sync.destination), concurrency=concurrency)


@task(name="sync", retries=2, retry_delay_seconds=[5, 30], task_run_name="sync {name}")
def apply_sync_task(name: str, run_id: str) -> dict:
    return asdict(apply_sync(name, run_id))


@flow(name="sync")
def sync(run_id: str, names: list[str] | None = None) -> list[dict]:
    return [apply_sync_task(name, run_id) for name in (names or list(SYNCS))]
