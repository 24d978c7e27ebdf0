"""Prefect flow `ingest`: land every source object, incrementally, one task per (system, object).

Each task runs `flows.objects.land_object`, the plain function that lands one object (and that `pshub ingest` of
one object calls without Prefect).
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import asdict

import psycopg
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import wait
from prefect.task_runners import ThreadPoolTaskRunner

from connectors import catalog
from connectors.http import ApiClient, ConnectorError, Unreachable
from flows.landing import LoadResult
from flows.objects import cap_malloc_arenas, land_object
from pshub.clients import client_for
from pshub.settings import ConfigurationError, get_settings

log = logging.getLogger("pshub.ingest")

# Objects landed at the same time. Each holds at most merge_streams' `held` pages read ahead (4 of at most
# 1,000 records; one stream reads none ahead) and one batch (under flows.objects.BATCH_ROWS + a page of at most 2,000), so the
# records in memory are bounded by constants, not by row counts or by how far landing falls behind on a loaded
# machine: about 8 x 11,000 at most, some 200 MB of Python objects.
LANDING_WORKERS = 8


# -- the flow ----------------------------------------------------------------------------------------------
def _worth_retrying(task, task_run, state) -> bool:
    """Prefect retries a landing unless the API said no for good (auth, bad query, daily limit)."""
    try:
        state.result()
    except Unreachable:  # the client tried a few times already; the next cycle tries again
        return False
    except ConnectorError as exc:
        return exc.transient
    except psycopg.OperationalError:  # the warehouse connection dropped
        return True
    except Exception:  # a setting, a key that does not parse, a bug: the same again on every attempt
        return False
    return False


@task(name="land", retries=2, retry_delay_seconds=[2, 10], retry_condition_fn=_worth_retrying,
      cache_policy=NO_CACHE, task_run_name="land {system}.{object_name}")
def land_object_task(system: str, object_name: str, client: ApiClient, run_id: str, full_refresh: bool = False,
                     reconcile: bool | None = None) -> dict:
    (obj,) = catalog.find(system, object_name)
    result = land_object(client, obj, run_id, full_refresh=full_refresh, reconcile=reconcile)
    log.info("run %s landed %s.%s: %d fetched, %d changed, %d quarantined", run_id, system, object_name,
             result.rows_fetched, result.rows_landed, result.rows_quarantined)
    return asdict(result)


def _interleaved(objects: list[catalog.SourceObject]) -> list[catalog.SourceObject]:
    """One object of each system in turn, so that a few workers keep every system busy at once."""
    by_system: dict[str, list[catalog.SourceObject]] = defaultdict(list)
    for o in objects:
        by_system[o.system].append(o)
    out = []
    while any(by_system.values()):
        for queue in by_system.values():
            if queue:
                out.append(queue.pop(0))
    return out


@flow(name="ingest", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=LANDING_WORKERS))
def ingest(run_id: str, systems: list[str] | None = None, objects: list[str] | None = None,
           full_refresh: bool = False, reconcile: bool | None = None) -> list[dict]:
    """Land the chosen objects (default: all of every system), systems in parallel; one result per object.

    A failed object (after its task's retries) does not stop the others: its result says `failed` with
    the error, and the caller decides what a failed object means for the cycle.
    """
    cap_malloc_arenas()
    systems = systems or get_settings().default_systems
    chosen = catalog.select(systems, objects)
    clients, unconfigured = {}, {}
    for system in dict.fromkeys(o.system for o in chosen):
        try:
            clients[system] = client_for(system)
        except ConfigurationError as exc:  # a setting to fix: each of its objects fails at once, nothing retried
            unconfigured[system] = str(exc)
    results = [asdict(LoadResult(o.system, o.name, -1, "failed", error=unconfigured[o.system][:500]))
               for o in chosen if o.system in unconfigured]
    chosen = [o for o in chosen if o.system not in unconfigured]
    try:
        futures, netsuite_futures = [], []
        for o in _interleaved([o for o in chosen if not o.applies_deletes]):
            f = land_object_task.submit(o.system, o.name, clients[o.system], run_id, full_refresh, reconcile)
            futures.append((o, f))
            if o.system == "netsuite":
                netsuite_futures.append(f)
        appliers = [o for o in chosen if o.applies_deletes]
        if appliers:  # deletes are applied after the objects they name have landed (or failed) in this run
            wait(netsuite_futures)
            for o in appliers:
                futures.append((o, land_object_task.submit(o.system, o.name, clients[o.system], run_id,
                                                           full_refresh, reconcile)))
        for o, f in futures:
            try:
                results.append(f.result())
            except Exception as exc:
                results.append(asdict(LoadResult(o.system, o.name, -1, "failed", error=str(exc)[:500])))
    finally:
        for client in clients.values():
            client.close()
    failed = [r for r in results if r["status"] == "failed"]
    if failed:
        log.error("ingest run %s: %d object(s) failed (each with why in the run's summary)", run_id, len(failed),
                  extra={"objects": [f"{r['system']}.{r['object']}" for r in failed]})
    return results
