"""One sync applied with the hub's settings and clients: the plain function under the `sync` flow's tasks, also
what `pshub sync apply` runs without Prefect when no sync has anything to push."""
from __future__ import annotations

import psycopg

from pshub.settings import get_settings
from pshub.warehouse import connect
from reverse_etl import engine
from reverse_etl.syncs import PSA_SKIPPED, for_crm, for_psa, get_sync


def apply_sync(name: str, run_id: str, confirm: bool = False, conn: psycopg.Connection | None = None,
               only_if_nothing_to_push: bool = False) -> engine.SyncResult:
    """conn: a warehouse connection to use (the syncs `pshub sync apply` applies itself share one); default a
    connection of its own. only_if_nothing_to_push: as engine.apply."""
    if conn is None:
        with connect() as own:
            return apply_sync(name, run_id, confirm, own, only_if_nothing_to_push)
    settings = get_settings()
    sync = for_crm(get_sync(name), settings.crm)
    if sync is None:  # the installation's CRM has no destination for it
        return engine.SyncResult(name, run_id, status="skipped",
                                 message=f"not applied: the CRM is {settings.crm}, which has no object for it yet")
    sync = for_psa(sync, settings.psa)
    if sync is None:  # the installation's PSA has no destination for it (Certinia: roles, milestones, credit holds)
        return engine.SyncResult(name, run_id, status="skipped",
                                 message=f"not applied: the PSA is {settings.psa}: {PSA_SKIPPED.get(name, 'no object for it')}")
    concurrency = {"netsuite": settings.netsuite_concurrency, "salesforce": settings.salesforce_concurrency}.get(
        sync.destination, 1)
    return engine.apply(conn, sync, run_id, lambda: _client(sync.destination), concurrency=concurrency,
                        max_share=settings.sync_max_share, max_growth=settings.sync_max_growth,
                        min_guarded=settings.sync_guard_min_records, confirm=confirm,
                        only_if_nothing_to_push=only_if_nothing_to_push)


def _client(destination: str):
    """The destination's API client, made only when the plan has rows to push. Its connectors (httpx, JWT,
    cryptography) are imported here: they take longer to import than an apply with nothing to push takes."""
    from pshub.clients import client_for

    return client_for(destination)
