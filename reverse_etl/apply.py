"""One sync applied with the hub's settings and clients: the plain function under the `sync` flow's tasks, also
what `pshub sync apply` runs without Prefect when no sync has anything to push."""
from __future__ import annotations

import psycopg

from pshub.settings import get_settings
from pshub.warehouse import connect
from reverse_etl import engine
from reverse_etl.syncs import get_sync


def apply_sync(name: str, run_id: str, confirm: bool = False, conn: psycopg.Connection | None = None
               ) -> engine.SyncResult:
    """conn: a warehouse connection to use (an apply of every sync with nothing to push shares one); default a
    connection of its own."""
    if conn is None:
        with connect() as own:
            return apply_sync(name, run_id, confirm, own)
    sync = get_sync(name)
    settings = get_settings()
    concurrency = {"netsuite": settings.netsuite_concurrency, "salesforce": settings.salesforce_concurrency}.get(
        sync.destination, 1)
    return engine.apply(conn, sync, run_id, lambda: _client(sync.destination), concurrency=concurrency,
                        max_share=settings.sync_max_share, max_growth=settings.sync_max_growth,
                        min_guarded=settings.sync_guard_min_records, confirm=confirm)


def planned_work(names: list[str], conn: psycopg.Connection | None = None) -> dict[str, int]:
    """{sync: records its plan would write now} (inserts + updates), read from the warehouse."""
    if conn is None:
        with connect() as own:
            return planned_work(names, own)
    work = {}
    for name in names:
        counts = engine.plan_counts(conn, get_sync(name), held_back=False)
        work[name] = counts["inserts"] + counts["updates"]
    return work


def _client(destination: str):
    """The destination's API client, made only when the plan has rows to push. Its connectors (httpx, JWT,
    cryptography) are imported here: they take longer to import than an apply with nothing to push takes."""
    from pshub.clients import client_for

    return client_for(destination)
