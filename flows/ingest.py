"""Prefect flow `ingest`: land every source object, incrementally, one task per (system, object)."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict

from prefect import flow, task
from prefect.futures import wait

from connectors import catalog
from connectors.http import LimitExceeded
from connectors.salesforce import SalesforceClient, parse_datetime, soql_literal
from flows.landing import LoadResult, ObjectSpec, land_stream, read_cursor
from pshub.clients import client_for
from pshub.warehouse import connect

log = logging.getLogger("pshub.ingest")


def spec_for(obj: catalog.SourceObject) -> ObjectSpec:
    parsers = {"salesforce": parse_datetime}
    return ObjectSpec(system=obj.system, object=obj.name, table=obj.table, id_field=obj.id_field,
                      updated_field=obj.updated_field, parse_updated=parsers[obj.system],
                      deleted_field=obj.deleted_field)


def salesforce_pages(client: SalesforceClient, obj: catalog.SourceObject, since: dt.datetime | None):
    where = f" WHERE {obj.updated_field} >= {soql_literal(since)}" if since else ""
    soql = f"SELECT {', '.join(obj.fields)} FROM {obj.name}{where} ORDER BY {obj.updated_field} ASC"
    return client.query_pages(soql, include_deleted=True)


def land_object(system: str, object_name: str, run_id: str, full_refresh: bool = False) -> LoadResult:
    """Land one object: read its cursor, page the source from there, land page by page."""
    (obj,) = catalog.find(system, object_name)
    with connect() as conn, client_for(system) as client:
        since = None if full_refresh else read_cursor(conn, system, obj.name)
        pages = salesforce_pages(client, obj, since)
        try:
            return land_stream(conn, spec_for(obj), pages, run_id=run_id, cursor_from=since,
                               cursor_field=obj.updated_field)
        except LimitExceeded as exc:
            # the daily limit: stop this object cleanly; its cursor stays where the last page left it
            conn.execute("update ops.loads set status = 'stopped' where run_id = %s and system = %s and object = %s"
                         " and status = 'failed'", (run_id, system, obj.name))
            conn.commit()
            log.warning("%s %s stopped: %s", system, obj.name, exc)
            return LoadResult(system, obj.name, -1, "stopped", error=str(exc))


@task(name="land", retries=2, retry_delay_seconds=[2, 10], task_run_name="land {system}.{object_name}")
def land_object_task(system: str, object_name: str, run_id: str, full_refresh: bool = False) -> dict:
    result = land_object(system, object_name, run_id, full_refresh)
    log.info("run %s landed %s.%s: %d fetched, %d changed, %d quarantined", run_id, system, object_name,
             result.rows_fetched, result.rows_landed, result.rows_quarantined)
    return asdict(result)


@flow(name="ingest", log_prints=True)
def ingest(run_id: str, systems: list[str] | None = None, objects: list[str] | None = None,
           full_refresh: bool = False) -> list[dict]:
    targets = [(o.system, o.name) for o in catalog.select(systems, objects)]
    futures = [land_object_task.submit(system, name, run_id, full_refresh) for system, name in targets]
    wait(futures)
    return [f.result() for f in futures]
