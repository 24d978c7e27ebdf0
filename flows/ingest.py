"""Prefect flow `ingest`: land every source object, incrementally, one task per (system, object).

`land_object` is the plain function under each task: read the object's cursor, page the source from a little
before it (the overlap; newest-wins landing dedupes), land batch by batch, then apply what the source says
about deletes (Salesforce: IsDeleted rows; NetSuite: deletedrecord; Kantata: an id reconciliation, when due).
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
import itertools
import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass

import orjson
import psycopg
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import wait
from prefect.task_runners import ThreadPoolTaskRunner

from connectors import catalog, kantata, netsuite, salesforce
from connectors.http import ApiClient, ConnectorError, LimitExceeded, Unreachable
from connectors.paging import merge_streams
from flows.landing import SEEN_TABLE, Load, LoadResult, mark_deleted, mark_vanished, read_cursor, spec_for
from pshub.clients import client_for
from pshub.listeners import Listeners
from pshub.settings import ConfigurationError, get_settings
from pshub.warehouse import connect

log = logging.getLogger("pshub.ingest")

# Re-read a little before the cursor: a change committed late with an earlier stamp is not missed.
OVERLAP = dt.timedelta(minutes=2)
# Pages are combined up to this many records per landing transaction (Kantata pages hold 200).
BATCH_ROWS = 5000
# Large Kantata reads are split into this many updated_at windows, read at the same time: one per request the
# Kantata client keeps in flight (connectors/kantata.py, MAX_IN_FLIGHT: Kantata publishes no concurrency limit).
KANTATA_WINDOWS = kantata.MAX_IN_FLIGHT
# Kantata reports no deletes; listing every id is a full scan, so it runs when this much time has passed.
RECONCILE_EVERY = dt.timedelta(hours=24)
# A read of every record (full refresh, first load) reconciles from the ids it read, not from a second listing
# (False: list them again, as before; bench/ingest.py measures both).
RECONCILE_FROM_READ = True
# Each cycle lists the ids of the records dated this far back (the current and the previous month: the periods a
# firm still edits and approves), so that a recent deletion leaves the warehouse within a cycle.
RECENT_WINDOW = dt.timedelta(days=62)
# Objects landed at the same time. Each holds at most merge_streams' `held` pages read ahead (4 of at most
# 1,000 records; one stream reads none ahead) and one batch (under BATCH_ROWS + a page of at most 2,000), so the
# records in memory are bounded by constants, not by row counts or by how far landing falls behind on a loaded
# machine: about 8 x 11,000 at most, some 200 MB of Python objects.
LANDING_WORKERS = 8
# glibc heap arenas of the process (see cap_malloc_arenas).
MALLOC_ARENAS = 2

# -- progress on the terminal ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Progress:
    system: str
    object: str
    stage: str             # started | landing | reconciling | completed | stopped | failed
    rows_fetched: int
    rows_landed: int
    seconds: float


_progress: Listeners[Progress] = Listeners("landing")
# `with progress_listener(callback):` calls `callback(Progress)` from every landing in this process
progress_listener = _progress.listen
_report = _progress.report


# -- reading the sources -----------------------------------------------------------------------------
def source_streams(client: ApiClient, obj: catalog.SourceObject,
                   since: dt.datetime | None) -> list[Iterator[list[dict]]]:
    """The object's records changed at or after `since` (all when None), as one stream of pages oldest change
    first, or (large Kantata reads) several streams over disjoint updated_at windows, to be read at once."""
    if obj.system == "salesforce":
        fields = _salesforce_fields(client, obj)
        return [client.changed_pages(obj.name, fields, since=since, updated_field=obj.updated_field)]
    if obj.system == "kantata":
        return client.changed_partitions(obj.name, since, dict(obj.params), parts=KANTATA_WINDOWS)
    if obj.system == "netsuite":
        windows = client.changed_windows(obj.name, obj.typed_fields(), id_field=obj.id_field,
                                         updated_field=obj.updated_field, since=since)
        return _grouped(windows, client.concurrency)
    if obj.system == "dynamics":
        fields = tuple(f for f in obj.field_names if f != obj.id_field)
        return [client.changed_pages(obj.name, fields, since=since, updated_field=obj.updated_field)]
    raise KeyError(f"no reader for {obj.system}")


def _grouped(streams: list[Iterator[list[dict]]], groups: int) -> list[Iterator[list[dict]]]:
    """At most `groups` streams, each reading its share of the given ones one after the other."""
    if len(streams) <= groups:
        return streams
    return [itertools.chain.from_iterable(streams[i::groups]) for i in range(groups)]


def _salesforce_fields(client: salesforce.SalesforceClient, obj: catalog.SourceObject) -> tuple[str, ...]:
    """Every field the org describes (so that new custom fields land), the catalog's first."""
    described = client.describe_fields(obj.name)
    return tuple(dict.fromkeys([f for f in obj.field_names if f in described] + described))


def batched(pages: Iterable[list], min_rows: int = BATCH_ROWS) -> Iterator[list]:
    """Consecutive pages joined into batches of at least `min_rows` records, order kept."""
    batch: list = []
    for page in pages:
        batch.extend(page)
        if len(batch) >= min_rows:
            yield batch
            batch = []
    if batch:
        yield batch


def netsuite_delete_applier(load_id_of: Callable[[], int]) -> Callable[[psycopg.Connection, list[tuple]], int]:
    """on_landed hook of deletedrecord: mark the named records deleted in their raw tables (same transaction)."""
    def apply(conn: psycopg.Connection, rows: list[tuple]) -> int:
        by_table: dict[str, list[str]] = defaultdict(list)
        newest: dict[str, dt.datetime] = {}
        for _id, data, deleted_at, _flag in rows:
            rec = orjson.loads(data)
            table = netsuite.deleted_record_table(rec)
            if table is None or table not in catalog.NETSUITE or rec.get("recordid") is None:
                continue
            by_table[table].append(str(rec["recordid"]))
            newest[table] = max(newest.get(table, deleted_at), deleted_at)
        count = 0
        for table, ids in by_table.items():
            count += mark_deleted(conn, "raw_netsuite", table, ids, load_id=load_id_of(), deleted_at=newest[table])
            for child in catalog.NETSUITE.values():  # lines go with their transaction
                if child.parent and child.parent[0] == table:
                    count += mark_deleted(conn, "raw_netsuite", child.table, ids, load_id=load_id_of(),
                                          deleted_at=newest[table], parent_field=child.parent[1])
        return count
    return apply


def _reconcile_key(obj: catalog.SourceObject) -> str:
    return f"{obj.name}#ids"


def reconcile_due(conn: psycopg.Connection, obj: catalog.SourceObject, now: dt.datetime) -> bool:
    row = conn.execute("select updated_at from ops.cursors where system = %s and object = %s",
                       (obj.system, _reconcile_key(obj))).fetchone()
    return row is None or now - row[0] >= RECONCILE_EVERY


def reconcile_ids(conn: psycopg.Connection, client: kantata.KantataClient, obj: catalog.SourceObject,
                  load: Load) -> int:
    """Mark the landed ids a Kantata resource (or Dynamics entity) no longer has deleted: compared with the ids this
    load read when it read every record (a full read, Load(track_seen=True)), else with a listing of every id."""
    params = dict(obj.params)

    def still_there(ids: list[str]) -> set[str]:
        return {str(r["id"]) for r in client.get_by_ids(obj.name, ids, params)}

    if load.track_seen:
        # a full read has just seen every id (the same filters as the listing, obj.params): no second listing.
        # A record changed during the read can move into a window already read and be missed: still_there
        # confirms every candidate before it is marked, as it does after a listing.
        deleted = mark_vanished(conn, spec_for(obj), None, confirm=still_there, load_id=load.load_id,
                                listed_table=SEEN_TABLE)
        conn.execute(f"drop table if exists {SEEN_TABLE}")
    else:
        deleted = mark_vanished(conn, spec_for(obj), client.list_ids(obj.name, params), confirm=still_there,
                                load_id=load.load_id)
    conn.execute("""insert into ops.cursors (system, object, cursor_field, cursor_value, load_id)
                    values (%s, %s, 'reconciled_at', now()::text, %s)
                    on conflict (system, object) do update set cursor_value = excluded.cursor_value,
                        load_id = excluded.load_id, updated_at = now()""",
                 (obj.system, _reconcile_key(obj), load.load_id))
    conn.commit()
    load.add_deleted(deleted)
    return deleted


def confirm_recent(conn: psycopg.Connection, client: kantata.KantataClient, obj: catalog.SourceObject, load: Load,
                   today: dt.date) -> int:
    """List the ids of the object's records dated in RECENT_WINDOW; mark the landed ones it no longer has deleted."""
    list_filter, date_field = obj.recent
    start, end = today - RECENT_WINDOW, today + dt.timedelta(days=366)
    params = {**dict(obj.params), list_filter: f"{start.isoformat()}:{end.isoformat()}"}

    def still_there(ids: list[str]) -> set[str]:
        return {str(r["id"]) for r in client.get_by_ids(obj.name, ids, dict(obj.params))}

    deleted = mark_vanished(conn, spec_for(obj), client.list_ids(obj.name, params), confirm=still_there,
                            load_id=load.load_id, dated=(date_field, start, end))
    load.add_deleted(deleted)
    return deleted


# -- one object ----------------------------------------------------------------------------------------
def land_object(client: ApiClient, obj: catalog.SourceObject, run_id: str, *, full_refresh: bool = False,
                reconcile: bool | None = None, batch_rows: int = BATCH_ROWS,
                conn: psycopg.Connection | None = None) -> LoadResult:
    """Land one object: read its cursor, page the source from there, land batch by batch.

    reconcile (Kantata): True = list every id now; False = never; None = when the last one is a day old.
    conn: the warehouse connection to use (default: a new one to the configured warehouse).
    """
    with contextlib.ExitStack() as stack:
        if conn is None:
            conn = stack.enter_context(connect())
        return _land_object(conn, client, obj, run_id, full_refresh, reconcile, batch_rows)


def _land_object(conn: psycopg.Connection, client: ApiClient, obj: catalog.SourceObject, run_id: str,
                 full_refresh: bool, reconcile: bool | None, batch_rows: int) -> LoadResult:
    spec = spec_for(obj)
    cursor = None if full_refresh else read_cursor(conn, obj.system, obj.name)
    since = cursor - OVERLAP if cursor is not None else None
    # a read of every record (no cursor) sees every id: the reconciliation that follows compares with those
    track_seen = bool(obj.reconcile_ids and since is None and reconcile is not False and RECONCILE_FROM_READ)
    load = Load(conn, spec, run_id=run_id, cursor_from=cursor, cursor_field=obj.updated_field,
                on_landed=netsuite_delete_applier(lambda: load.load_id) if obj.applies_deletes else None,
                track_seen=track_seen)
    started = time.perf_counter()

    def report(stage: str) -> None:
        r = load.result
        _report(Progress(obj.system, obj.name, stage, r.rows_fetched, r.rows_landed,
                         round(time.perf_counter() - started, 2)))

    report("started")
    try:
        streams = source_streams(client, obj, since)
        load.pages_in_order = len(streams) == 1 and client.pages_in_cursor_order(obj.name)
        for batch in batched(merge_streams(streams), batch_rows):
            load.land(batch)
            del batch  # landed: not kept alive while the next batch fills
            release_free_memory()
            report("landing")
        if obj.reconcile_ids and (reconcile or (reconcile is None and (
                track_seen or full_refresh or reconcile_due(conn, obj, dt.datetime.now(dt.timezone.utc))))):
            report("reconciling")
            reconcile_ids(conn, client, obj, load)
        elif obj.recent and reconcile is not False:
            report("reconciling")
            confirm_recent(conn, client, obj, load, dt.datetime.now(dt.timezone.utc).date())
    except LimitExceeded as exc:
        # Salesforce's daily request limit: stop this object cleanly; its cursor stays where the last
        # committed batch left it, and the next run resumes from there.
        log.warning("%s.%s stopped: %s", obj.system, obj.name, exc)
        result = load.finish("stopped", str(exc))
        report("stopped")
        return result
    except BaseException as exc:
        load.finish("failed", f"{type(exc).__name__}: {exc}")
        report("failed")
        raise
    result = load.finish()
    report("completed")
    return result


# -- the flow ----------------------------------------------------------------------------------------------
@functools.cache
def _libc():
    try:
        libc = ctypes.CDLL(None)
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def cap_malloc_arenas(arenas: int = MALLOC_ARENAS) -> None:
    """Keep glibc's malloc from holding freed memory: at most `arenas` heap arenas (as MALLOC_ARENA_MAX), and
    large buffers (response bodies, COPY buffers) always in memory maps of their own, returned when freed.

    By default every thread that allocates gets an arena of its own, up to 8 per core, and the threshold for
    memory maps rises with the largest buffer freed, so that later buffers come from the heaps: pages parsed in
    one thread and freed in another leave heaps holding free memory they do not return, and RSS grows with the
    number of threads and with how far landing falls behind on a loaded machine, not with the data. The
    environment variables are read only when a process starts; mallopt applies from now on, so this runs
    before the flow starts its workers. Not glibc (macOS, musl): nothing to do.
    """
    libc = _libc()
    if libc is None:
        return
    M_MMAP_THRESHOLD, M_ARENA_MAX = -3, -8
    libc.mallopt(M_ARENA_MAX, arenas)
    libc.mallopt(M_MMAP_THRESHOLD, 256 * 1024)


def release_free_memory() -> None:
    """Give the heaps' free pages back to the system (after a batch has landed and its records are gone)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


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
