"""One source object landed end to end, without Prefect: `land_object` reads the object's cursor, pages the source
from a little before it (the overlap; newest-wins landing dedupes), lands batch by batch, then applies what the
source says about deletes (Salesforce: IsDeleted rows; NetSuite: deletedrecord; Kantata: an id reconciliation,
when due).

The Prefect flow `ingest` (flows/ingest.py) runs it as one task per object; `pshub ingest` of one object calls it
directly, so that a fresh process neither imports Prefect nor waits for its API (seconds each).
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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson
import psycopg

from connectors import catalog, kantata
from connectors.http import ApiClient, LimitExceeded
from connectors.paging import merge_streams
from flows.landing import (SEEN_TABLE, CheckedPage, Load, LoadResult, check_page, count_live, mark_deleted,
                           mark_vanished, read_cursor, spec_for)
from pshub.listeners import Listeners
from pshub.warehouse import connect

if TYPE_CHECKING:  # the other connectors are imported where their system lands (see flows.landing.parser_for)
    from connectors import hubspot, salesforce

log = logging.getLogger("pshub.ingest")

# How late a change may be committed after the time it is stamped with (a source's transaction open that long): an
# incremental read starts early enough to see such a change (read_since).
OVERLAP = dt.timedelta(minutes=2)
# Pages are combined up to this many records per landing transaction (Kantata pages hold 200).
BATCH_ROWS = 5000
# Large Kantata reads are split into this many updated_at windows, read at the same time: one per request the
# Kantata client keeps in flight (connectors/kantata.py, MAX_IN_FLIGHT: Kantata documents rate limits, not their
# figures).
KANTATA_WINDOWS = kantata.MAX_IN_FLIGHT
# Pages the windows of a Kantata read may hold read ahead of landing (merge_streams' `held`): a batch's worth, so
# that the windows read the next batch while this one lands, instead of stopping after 4 pages (800 records) and
# leaving the sandbox or the API idle for the rest of the landing. Records in memory stay bounded by constants:
# a batch landing and a batch read ahead.
KANTATA_READ_AHEAD = BATCH_ROWS // kantata.PER_PAGE_MAX
# Kantata reports no deletes; listing every id is a full scan, so it runs when this much time has passed.
RECONCILE_EVERY = dt.timedelta(hours=24)
# A read of every record (full refresh, first load) reconciles from the ids it read, not from a second listing
# (False: list them again, as before; bench/ingest.py --previous measures both).
RECONCILE_FROM_READ = True
# Each cycle confirms the records dated this far back (the current and the previous month: the periods a firm still
# edits and approves): counted, and listed when the counts differ, so that a recent deletion leaves the warehouse
# within a cycle.
RECENT_WINDOW = dt.timedelta(days=62)
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
    if obj.system in ("salesforce", "certinia"):  # Certinia: pse__ objects read as every Salesforce object
        fields = _salesforce_fields(client, obj)
        return [client.changed_pages(obj.name, fields, since=since, updated_field=obj.updated_field)]
    if obj.system == "kantata":
        # updated_after excludes its own second (connectors.kantata.changed_partitions) and Kantata stamps whole
        # seconds: after the second before `since`, so that a record stamped at `since` itself (the cursor) is read
        after = since - dt.timedelta(seconds=1) if since is not None else None
        return client.changed_partitions(obj.name, after, dict(obj.params), parts=KANTATA_WINDOWS)
    if obj.system == "netsuite":
        windows = client.changed_windows(obj.name, obj.typed_fields(), id_field=obj.id_field,
                                         updated_field=obj.updated_field, since=since)
        return _grouped(windows, client.concurrency)
    if obj.system == "dynamics":
        fields = tuple(f for f in obj.field_names if f != obj.id_field)
        return [client.changed_pages(obj.name, fields, since=since, updated_field=obj.updated_field)]
    if obj.system == "hubspot":
        return [_hubspot_pages(client, obj, since)]
    raise KeyError(f"no reader for {obj.system}")


def _hubspot_pages(client: hubspot.HubSpotClient, obj: catalog.SourceObject,
                   since: dt.datetime | None) -> Iterator[list[dict]]:
    """Lists are read whole; searched objects from `since`, then their archived records (HubSpot's deletes)."""
    if obj.name in catalog.HUBSPOT_LISTS:
        yield from getattr(client, obj.name)()
        return
    fields = tuple(f for f in obj.field_names if f not in (obj.id_field, "archived", "archived_at")
                   and not f.startswith("associated_"))
    yield from client.changed_pages(obj.name, fields, since=since)
    yield from client.archived_pages(obj.name, fields)


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


def land_batches(load: Load, batches: Iterable[list]) -> Iterator[None]:
    """Land each batch (yielding after each), checking the next one meanwhile where the load allows it
    (Load.checks_ahead: a read from no cursor): the checks and the COPY text of a batch (check_page, pure Python)
    run in a thread of their own while the warehouse writes the batch before it, so that neither waits for the
    other. Measured before, on a medium full ingest of Kantata time entries: 41 s of the landing thread waiting on
    the warehouse, and 30 s of its CPU in checks and COPY text, one after the other. At most one batch is held
    checked ahead: records in memory stay bounded by constants."""
    if not load.checks_ahead:
        for batch in batches:
            load.land(batch)
            del batch  # landed: not kept alive while the next batch fills
            yield
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="check-ahead") as checker:
        ahead: tuple[list, Future[CheckedPage]] | None = None
        pending = iter(batches)
        while True:
            try:
                batch = next(pending)
            except StopIteration:
                break
            except BaseException:  # the read failed or stopped: what it read before lands first, as without checks ahead
                if ahead is not None:
                    load.land(ahead[0], ahead[1].result())
                raise
            checking = checker.submit(check_page, load.spec, batch, load.load_id)
            if ahead is not None:
                load.land(ahead[0], ahead[1].result())
                ahead = None
                yield
            ahead = (batch, checking)
            del batch, checking
        if ahead is not None:
            load.land(ahead[0], ahead[1].result())
            ahead = None
            yield


def netsuite_delete_applier(load_id_of: Callable[[], int]) -> Callable[[psycopg.Connection, list[tuple]], int]:
    """on_landed hook of deletedrecord: mark the named records deleted in their raw tables (same transaction)."""
    from connectors.netsuite import deleted_record_table  # with the NetSuite object that uses it (parser_for)

    def apply(conn: psycopg.Connection, rows: list[tuple]) -> int:
        by_table: dict[str, list[str]] = defaultdict(list)
        newest: dict[str, dt.datetime] = {}
        for _id, data, deleted_at, _flag in rows:
            rec = orjson.loads(data)
            table = deleted_record_table(rec)
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

    if load.fills_new_table:
        # every record landed was read by this load into a table that did not exist: none can be missing from the
        # read (Load.fills_new_table), so the comparison would find nothing
        deleted = 0
    elif load.track_seen:
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
    """Mark deleted the landed records dated in RECENT_WINDOW that the source no longer has.

    The source's count of the window comes first (one request): the read that has just landed every record
    created or changed since the cursor leaves each of the source's records landed, so when the source counts as
    many as the warehouse holds live, none of those is gone, and the listing of every id in the window (hundreds of
    requests at medium scale) is skipped. A deletion racing a creation in the window between the read and the count
    waits for the next cycle, whose counts differ. Records of the object held in quarantine are the source's but
    not landed: while any is open the counts cannot be compared (one quarantined and one deleted would balance),
    and the ids are listed."""
    list_filter, date_field = obj.recent
    start, end = today - RECENT_WINDOW, today + dt.timedelta(days=366)
    params = {**dict(obj.params), list_filter: f"{start.isoformat()}:{end.isoformat()}"}
    quarantined = conn.execute("""select exists (select 1 from ops.quarantine where system = %s and object = %s
                                    and resolved_at is null)""", (obj.system, obj.name)).fetchone()[0]
    if not quarantined and client.count(obj.name, params) == count_live(conn, spec_for(obj), (date_field, start, end)):
        conn.commit()
        return 0

    def still_there(ids: list[str]) -> set[str]:
        return {str(r["id"]) for r in client.get_by_ids(obj.name, ids, dict(obj.params))}

    deleted = mark_vanished(conn, spec_for(obj), client.list_ids(obj.name, params), confirm=still_there,
                            load_id=load.load_id, dated=(date_field, start, end))
    load.add_deleted(deleted)
    return deleted


# -- where an incremental read starts ------------------------------------------------------------------
def read_since(conn: psycopg.Connection, obj: catalog.SourceObject, cursor: dt.datetime | None) -> dt.datetime | None:
    """The stamp an incremental read of `obj` starts at: the cursor (the newest stamp landed), or earlier when the
    last completed read began less than OVERLAP after it; None (every record) with no cursor.

    A change stamped before the cursor yet not landed was committed after the last read began (that read saw every
    change committed before, from where it started): committed at most OVERLAP after its stamp, it is stamped at
    or after (the source's clock when that read began) - OVERLAP. So the read starts at the earlier of the cursor
    and that time, and not at the cursor less OVERLAP every time: that re-read, in every later cycle, the records
    stamped in the OVERLAP before the cursor (the echoes of the hub's own writes at the end of a cycle: tens of
    thousands after a first load) until a newer change moved the cursor on. The time is ops.loads.source_read_from
    of the object's last completed load (the source's clock from its responses' Date headers,
    connectors.http.SourceClock); a load that stopped or failed may have missed changes of its own read, and the
    one before still bounds them. No such time (the source sent no Date): the cursor less OVERLAP, as before."""
    if cursor is None:
        return None
    row = conn.execute("""select source_read_from from ops.loads where system = %s and object = %s
                            and status = 'completed' order by started_at desc, load_id desc limit 1""",
                       (obj.system, obj.name)).fetchone()
    read_from = row[0] if row else None
    since = cursor - OVERLAP if read_from is None else min(cursor, read_from - OVERLAP)
    return since.astimezone(dt.timezone.utc)


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
    since = read_since(conn, obj, cursor)
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
        with client.source_clock() as clock:  # when the read began, on the source's clock: where the next one starts
            streams = source_streams(client, obj, since)
            load.pages_in_order = len(streams) == 1 and client.pages_in_cursor_order(obj.name)
            held = KANTATA_READ_AHEAD if obj.system == "kantata" else 4
            for _ in land_batches(load, batched(merge_streams(streams, held=held), batch_rows)):
                release_free_memory()
                report("landing")
        load.source_read_from = clock.read_from
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


# -- memory ---------------------------------------------------------------------------------------------
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
