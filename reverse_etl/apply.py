"""One sync applied with the hub's settings and clients: the plain function under the `sync` flow's tasks, also
what `pshub sync apply` runs without Prefect when no sync has anything to push."""
from __future__ import annotations

from pshub.clients import client_for
from pshub.settings import get_settings
from pshub.warehouse import connect
from reverse_etl import engine
from reverse_etl.syncs import get_sync


def apply_sync(name: str, run_id: str, confirm: bool = False) -> engine.SyncResult:
    sync = get_sync(name)
    settings = get_settings()
    concurrency = {"netsuite": settings.netsuite_concurrency, "salesforce": settings.salesforce_concurrency}.get(
        sync.destination, 1)
    with connect() as conn:
        return engine.apply(conn, sync, run_id, lambda: client_for(sync.destination), concurrency=concurrency,
                            max_share=settings.sync_max_share, max_growth=settings.sync_max_growth,
                            min_guarded=settings.sync_guard_min_records, confirm=confirm)


def planned_work(names: list[str]) -> dict[str, int]:
    """{sync: records its plan would write now} (inserts + updates), read from the warehouse."""
    with connect() as conn:
        return {name: sum(engine.plan_counts(conn, get_sync(name))[k] for k in ("inserts", "updates"))
                for name in names}
