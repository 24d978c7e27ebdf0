"""Prefect flow `hub`: one cycle, ingest -> transform -> sync, under one run id."""
from __future__ import annotations

from prefect import flow

from flows.ingest import ingest
from flows.sync import sync
from flows.transform import transform
from pshub.runs import finish_run, new_run_id, set_current_run_id, start_run
from pshub.warehouse import connect


@flow(name="hub")
def hub(run_id: str | None = None, full_refresh: bool = False) -> dict:
    run_id = run_id or new_run_id()
    set_current_run_id(run_id)
    with connect() as conn:
        start_run(conn, "cycle", run_id)
    summary: dict = {"run_id": run_id}
    status = "failed"
    try:
        summary["loads"] = ingest(run_id, full_refresh=full_refresh)
        summary["transform"] = transform()
        summary["syncs"] = sync(run_id)
        status = "succeeded"
        return summary
    finally:
        with connect() as conn:
            finish_run(conn, run_id, status, summary)
