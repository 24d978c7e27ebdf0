"""The reverse-ETL engine: plan (diff against the ledger), validate (pandera), push (batched), record.

plan:     set-based: the outbound model and its `_blocked` twin are each read once, into temporary tables that
          stage the run's plan: the model's rows whose hash of pushed fields differs from the ledger's last success,
          and the rows held back with their reasons; the counts, the exceptions and the pushes are taken from them.
          Nothing changed means no call to the destination at all.
validate: rows the destination would reject for their shape become ops.sync_exceptions, never pushes. Rows the
          outbound model holds back (`<sync>_blocked`, reason code decided in dbt) become exceptions too.
push:     batches through the destination connector (pushers.py), bounded concurrency; transient failures are
          retried in the connector; a per-record rejection never stops the rest of the batch.
record:   per record a ledger row (destination id, hash, run id) or an exception (reason, attempts, customer,
          engagement, amount at stake). Failed records are planned again, so retried, on later runs.

Exactly once: NetSuite records are upserted by external id and Salesforce records updated by id, both
idempotent; Kantata, which has no external-id upsert, gets a write intent committed before each create and a
look-up before any create whose earlier outcome was lost. One apply per sync at a time (advisory lock).
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING

import orjson
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from pshub.listeners import Listeners
from reverse_etl.payloads import json_value
from reverse_etl.syncs import Sync

if TYPE_CHECKING:  # what a pusher returns, named in annotations only
    from reverse_etl.pushers import Outcome

log = logging.getLogger("pshub.sync")


class PlanRefused(RuntimeError):
    """The plan would touch more of the destination than the safety share allows."""


class ModelMissing(RuntimeError):
    pass


@dataclass
class SyncResult:
    sync: str
    run_id: str
    planned_inserts: int = 0
    planned_updates: int = 0
    pushed: int = 0
    failed: int = 0
    invalid: int = 0
    blocked: int = 0
    write_calls: int = 0
    calls: int = 0
    status: str = "succeeded"
    message: str | None = None

    @property
    def planned(self) -> int:
        return self.planned_inserts + self.planned_updates


# -- plan -------------------------------------------------------------------------------------------
def _ident(qualified: str) -> sql.Composable:
    schema, table = qualified.split(".", 1)
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))


def _hash_expr(sync: Sync, alias: str = "m") -> sql.Composable:
    """md5 of the key and the pushed fields only: context columns changing alone push nothing."""
    parts = []
    for column in [sync.key, *sync.pushed_columns]:
        parts += [sql.Literal(column), sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(column))]
    return sql.SQL("md5(jsonb_build_object({})::text)").format(sql.SQL(", ").join(parts))


def model_columns(conn: psycopg.Connection, qualified: str) -> list[str]:
    """The relation's columns in order ([] when it does not exist), from the catalog: information_schema's views
    take tens of milliseconds a call, which a plan of every sync pays several times."""
    schema, table = qualified.split(".", 1)
    return [r[0] for r in conn.execute(
        "select a.attname from pg_catalog.pg_attribute a join pg_catalog.pg_class c on c.oid = a.attrelid"
        " join pg_catalog.pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = %s and c.relname = %s and a.attnum > 0 and not a.attisdropped order by a.attnum",
        (schema, table))]


def check_model(conn: psycopg.Connection, sync: Sync) -> list[str]:
    """The model's columns; ModelMissing when it does not exist or lacks a column the sync pushes."""
    columns = model_columns(conn, sync.model)
    if not columns:
        raise ModelMissing(f"{sync.model} does not exist: run `pshub transform` first")
    missing = [c for c in [sync.key, *sync.pushed_columns] if c not in columns]
    if missing:
        raise ModelMissing(f"{sync.model} lacks column(s) {', '.join(missing)} that sync {sync.name} pushes")
    return columns


# The plan of a run, staged once in this session's temporary tables: the outbound model and its `_blocked` twin are
# views that can take seconds to evaluate (each reads its candidates model in full), so a run reads each exactly once
# and takes its counts, its held-back records, the exceptions it releases and the rows it pushes from these tables.
# Each is filled by a CREATE TABLE AS, whose query may run in parallel workers (PostgreSQL docs, "When Can Parallel
# Query Be Used?": not so an INSERT, nor a query with a data-modifying WITH, nor a cursor's): reading a view of a million
# time entries takes half the time it takes in one process.
PLAN_TABLE = sql.SQL("pg_temp.pshub_sync_plan")   # the model's rows to push: hash, ledger's destination id, action
HELD_TABLE = sql.SQL("pg_temp.pshub_sync_held")   # the `_blocked` model's rows: reason and business context


def _model_rows(sync: Sync, columns: list[str], unchanged: bool) -> sql.Composable:
    """The model's rows whose hash of pushed fields differs from the ledger's last success (unchanged: every row), with
    that hash, the ledger's destination id, the action (insert / update / unchanged) and _plan_seq, their number in
    key order."""
    hash_ = _hash_expr(sync)
    return sql.SQL("""
        select {columns}, {hash} as _row_hash, l.destination_id as _destination_id,
               case when l.record_key is null then 'insert'
                    when l.row_hash is distinct from {hash} then 'update' else 'unchanged' end as _action,
               row_number() over (order by m.{key}) as _plan_seq
          from {model} m
          left join ops.sync_ledger l on l.sync_name = {sync} and l.record_key = m.{key}::text
         {where}
    """).format(columns=sql.SQL(", ").join(sql.SQL("m.{}").format(sql.Identifier(c)) for c in columns),
                model=_ident(sync.model), key=sql.Identifier(sync.key), hash=hash_, sync=sql.Literal(sync.name),
                where=sql.SQL("") if unchanged else sql.SQL("where l.row_hash is distinct from {}").format(hash_))


def stage(conn: psycopg.Connection, sync: Sync, unchanged: bool = False) -> dict[str, int]:
    """Stage the run's plan: the model's rows to push into PLAN_TABLE (numbered in key order by _plan_seq) and the
    rows the `_blocked` model holds back into HELD_TABLE, each model read once; returns inserts / updates / unchanged
    / blocked. unchanged: also count the model's rows the ledger already holds as they are (`pshub sync plan` shows
    it; a run does not need it)."""
    counts = stage_plan(conn, sync, unchanged)
    return {**counts, "blocked": stage_held(conn, sync)}


def stage_plan(conn: psycopg.Connection, sync: Sync, unchanged: bool = False) -> dict[str, int]:
    """The first half of stage(): the model's rows to push into PLAN_TABLE (HELD_TABLE dropped); inserts / updates /
    unchanged."""
    columns = check_model(conn, sync)
    unstage(conn)
    conn.execute(sql.SQL("create temporary table {} as {}").format(PLAN_TABLE, _model_rows(sync, columns, unchanged)))
    inserts, updates, same = conn.execute(sql.SQL("""
        select count(*) filter (where _action = 'insert'), count(*) filter (where _action = 'update'),
               count(*) filter (where _action = 'unchanged')
          from {plan}
    """).format(plan=PLAN_TABLE)).fetchone()
    if same:
        conn.execute(sql.SQL("delete from {} where _action = 'unchanged'").format(PLAN_TABLE))
    if inserts + updates:
        conn.execute(sql.SQL("alter table {} add primary key (_plan_seq)").format(PLAN_TABLE))
    return {"inserts": inserts, "updates": updates, "unchanged": same}


def stage_held(conn: psycopg.Connection, sync: Sync) -> int:
    """The second half of stage(), after stage_plan(): the rows the `_blocked` model holds back into HELD_TABLE;
    their number."""
    if model_columns(conn, sync.blocked_model):
        # each row made into jsonb once (`offset 0` keeps PostgreSQL from pulling the subquery up, which would make
        # it once per column read from it: six times; 1.8 s -> 0.8 s for erp_time_bills' 33k held rows, medium firm)
        conn.execute(sql.SQL("""
            create temporary table {held} as
            select record_key, reason_code, coalesce(payload ->> 'block_reason', replace(reason_code, '_', ' ')) as reason,
                   payload ->> '_customer' as customer, payload ->> '_engagement' as engagement,
                   (payload ->> '_amount_at_stake')::numeric as amount_at_stake,
                   payload ->> '_currency' as currency, payload
              from (select b.{key}::text as record_key, b.block_reason_code as reason_code, to_jsonb(b) as payload
                      from {blocked} b offset 0) as b
        """).format(held=HELD_TABLE, key=sql.Identifier(sync.key), blocked=_ident(sync.blocked_model)))
    else:
        conn.execute(sql.SQL("""create temporary table {} (record_key text, reason_code text, reason text,
                                    customer text, engagement text, amount_at_stake numeric, currency text,
                                    payload jsonb)""").format(HELD_TABLE))
    return conn.execute(sql.SQL("select count(*) from {}").format(HELD_TABLE)).fetchone()[0]


def unstage(conn: psycopg.Connection) -> None:
    conn.execute(sql.SQL("drop table if exists {}, {}").format(PLAN_TABLE, HELD_TABLE))


def plan_counts(conn: psycopg.Connection, sync: Sync) -> dict[str, int]:
    """inserts / updates / unchanged / held back, computed in the warehouse; the plan stays staged for plan()."""
    return stage(conn, sync, unchanged=True)


def plan(conn: psycopg.Connection, sync: Sync, limit: int | None = None) -> Iterator[dict]:
    """The staged plan's rows to push (stage() or plan_counts() first), in key order, `limit` at most; read page by
    page (memory stays flat however large the plan) with no transaction left open between pages, so that what the
    caller records between them commits."""
    after, left = 0, limit or None  # no limit (or 0): every row
    page = min(left or 2000, 2000)
    while left is None or left > 0:
        size = page if left is None else min(page, left)
        with conn.cursor(row_factory=dict_row) as cur:
            # never prepared: the same text reads each sync's table, whose columns differ (a prepared statement's
            # result type may not change: "cached plan must not change result type")
            rows = cur.execute(sql.SQL("select * from {} where _plan_seq > %s order by _plan_seq limit %s").format(
                PLAN_TABLE), (after, size), prepare=False).fetchall()
        conn.commit()
        if not rows:
            return
        after = rows[-1]["_plan_seq"]
        for row in rows:
            del row["_plan_seq"]
            yield row
        if left is not None:
            left -= len(rows)
        if len(rows) < size:
            return


# -- validate ---------------------------------------------------------------------------------------
def _schema(sync: Sync):
    # pandas and pandera are imported where rows are validated: a plan, and an apply with nothing to push, start
    # a second faster without them (pshub sync plan answers at the speed of its queries)
    import pandas as pd
    import pandera.pandas as pa

    columns = {}
    for f in sync.fields:
        checks = []
        if f.required:
            checks.append(pa.Check(lambda s: s.astype(str).str.strip().str.len() > 0, name="not empty"))
        if f.type in ("number", "integer"):
            checks.append(pa.Check(lambda s: pd.to_numeric(s, errors="coerce").notna() | s.isna(), name="numeric"))
        columns[f.name] = pa.Column(object, nullable=not f.required, checks=checks)
    columns[sync.key] = pa.Column(object, nullable=False)
    return pa.DataFrameSchema(columns, strict=False)


def validate(sync: Sync, rows: list[dict]) -> tuple[list[dict], list[tuple[dict, str]]]:
    """(valid rows, [(row, reason)]) for a batch."""
    if not rows:
        return [], []
    import pandas as pd
    import pandera.pandas as pa

    frame = pd.DataFrame([{c: r.get(c) for c in [sync.key, *(f.name for f in sync.fields)]} for r in rows],
                         dtype=object)
    reasons: dict[int, set[str]] = {}
    try:
        _schema(sync).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        for case in err.failure_cases.itertuples():
            if case.index is None or pd.isna(case.index):
                continue
            what = {"not_nullable": "is missing", "not empty": "is missing", "numeric": "is not a number"}.get(
                case.check, f"fails {case.check}")
            reasons.setdefault(int(case.index), set()).add(f"{case.column} {what}")
    valid, invalid = [], []
    for i, row in enumerate(rows):
        if i in reasons:
            invalid.append((row, "; ".join(sorted(reasons[i]))))
        else:
            valid.append(row)
    return valid, invalid


# -- record -----------------------------------------------------------------------------------------
def _context(row: dict) -> tuple:
    return (row.get("_customer"), row.get("_engagement"), row.get("_amount_at_stake"), row.get("_currency"))


def record(conn: psycopg.Connection, sync: Sync, run_id: str, rows_by_key: dict[str, dict],
           outcomes: list[Outcome]) -> None:
    """Ledger rows for successes (their exceptions and intents resolved); exception rows for failures."""
    ok = [o for o in outcomes if o.ok]
    failed = [o for o in outcomes if not o.ok]
    with conn.transaction(), conn.cursor() as cur:
        if ok:
            cur.executemany("""
                insert into ops.sync_ledger (sync_name, record_key, destination_id, row_hash, run_id, created_by_hub)
                values (%s, %s, %s, %s, %s, %s)
                on conflict (sync_name, record_key) do update
                   set destination_id = coalesce(excluded.destination_id, ops.sync_ledger.destination_id),
                       row_hash = excluded.row_hash, run_id = excluded.run_id, synced_at = now(),
                       created_by_hub = ops.sync_ledger.created_by_hub or excluded.created_by_hub
            """, [(sync.name, o.record_key, o.destination_id, rows_by_key[o.record_key]["_row_hash"], run_id,
                   o.created) for o in ok])
            keys = [o.record_key for o in ok]
            cur.execute("""update ops.sync_exceptions set resolved_at = now()
                            where sync_name = %s and record_key = any(%s) and resolved_at is null""",
                        (sync.name, keys))
        done = [o.record_key for o in outcomes if o.ok or o.stage == "rejected"]  # outcome known: no trace needed
        if done:
            cur.execute("delete from ops.sync_intents where sync_name = %s and record_key = any(%s)",
                        (sync.name, done))
        if failed:
            _upsert_exceptions(cur, sync, run_id, [(rows_by_key[o.record_key], o.stage, o.error_code or "rejected",
                                                    o.error or "") for o in failed])


def _upsert_exceptions(cur, sync: Sync, run_id: str, failures: list[tuple[dict, str, str, str]]) -> None:
    cur.executemany("""
        insert into ops.sync_exceptions (sync_name, record_key, stage, reason_code, reason, run_id, customer,
                                         engagement, amount_at_stake, currency, payload)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)
        on conflict (sync_name, record_key) where resolved_at is null do update
           set stage = excluded.stage, reason_code = excluded.reason_code, reason = excluded.reason,
               run_id = excluded.run_id, attempts = ops.sync_exceptions.attempts + 1, last_seen_at = now(),
               customer = excluded.customer, engagement = excluded.engagement,
               amount_at_stake = excluded.amount_at_stake, currency = excluded.currency, payload = excluded.payload
    """, [(sync.name, str(row[sync.key]), stage, code, reason, run_id, *_context(row),
           orjson.dumps({k: json_value(v) for k, v in row.items()}, default=str).decode())
          for row, stage, code, reason in failures])


def record_blocked(conn: psycopg.Connection, sync: Sync, run_id: str) -> int:
    """The staged held-back rows (stage()) become exceptions with dbt's reason code; exceptions whose record is neither
    held back nor still to push any more are resolved (a record the ledger holds as the model has it is not to push:
    its earlier exception is over). One set-based statement that writes only what changed: a new hold is inserted, a
    hold whose reason, context or row changed is updated, and a hold seen again unchanged is not written at all (its
    last_seen_at is when it last changed), so an apply with nothing new to push or hold writes no row. Returns the
    number of records held back."""
    key = sql.Identifier(sync.key)
    with conn.transaction():
        held, = conn.execute(sql.SQL("""
            with changed as (
                update ops.sync_exceptions e
                   set stage = 'blocked', reason_code = h.reason_code, reason = h.reason, run_id = %(run)s,
                       last_seen_at = now(), customer = h.customer, engagement = h.engagement,
                       amount_at_stake = h.amount_at_stake, currency = h.currency, payload = h.payload
                  from {held} h
                 where e.sync_name = %(sync)s and e.resolved_at is null and e.record_key = h.record_key
                   and (e.stage, e.reason_code, e.reason, e.customer, e.engagement, e.amount_at_stake, e.currency,
                        e.payload)
                       is distinct from ('blocked', h.reason_code, h.reason, h.customer, h.engagement,
                                         h.amount_at_stake, h.currency, h.payload)
            ),
            added as (
                insert into ops.sync_exceptions (sync_name, record_key, stage, reason_code, reason, run_id, customer,
                                                 engagement, amount_at_stake, currency, payload, attempts)
                select %(sync)s, h.record_key, 'blocked', h.reason_code, h.reason, %(run)s, h.customer,
                       h.engagement, h.amount_at_stake, h.currency, h.payload, 0
                  from {held} h
                 where not exists (select 1 from ops.sync_exceptions e where e.sync_name = %(sync)s
                                      and e.record_key = h.record_key and e.resolved_at is null)
                on conflict (sync_name, record_key) where resolved_at is null do nothing
            ),
            released as (
                update ops.sync_exceptions e set resolved_at = now()
                 where e.sync_name = %(sync)s and e.resolved_at is null
                   and not exists (select 1 from {held} h where h.record_key = e.record_key)
                   and (e.stage = 'blocked'
                        or not exists (select 1 from {plan} p where p.{key}::text = e.record_key))
            )
            -- the three writes above run to completion whether read or not (PostgreSQL docs, "WITH Queries",
            -- data-modifying statements in WITH); each touches rows the others do not
            select count(*) from {held}
        """).format(key=key, held=HELD_TABLE, plan=PLAN_TABLE), {"sync": sync.name, "run": run_id}).fetchone()
    return held


# -- progress ---------------------------------------------------------------------------------------
_progress: Listeners[dict] = Listeners("sync")
# `with progress_listener(callback):` calls `callback({sync, batch, batches, pushed})` after each pushed batch
progress_listener = _progress.listen
_report = _progress.report


# -- the run ----------------------------------------------------------------------------------------
def _batches(iterable, size):
    it = iter(iterable)
    while batch := list(islice(it, size)):
        yield batch


def safety_stop(name: str, inserts: int, updates: int, managed: int, *, max_share: float, max_growth: float,
                min_guarded: int) -> str | None:
    """Why a plan is refused until confirmed, or None. By kind: changing more than `max_share` of the records the
    sync already manages is what a broken model or mapping does (a mass update), so it is guarded tightly; new
    records are growth (a month of time bills after a pause is normal), guarded only past `max_growth` times what
    it manages. The hub never deletes destination records. Small syncs (under `min_guarded` records) are not
    guarded."""
    if managed < min_guarded:
        return None
    how = f"check `pshub sync plan {name}`, then confirm with `pshub sync apply {name} --confirm`"
    if updates > max_share * managed:
        return (f"safety stop: {name} would change {updates} of the {managed} records it manages, more than "
                f"PSHUB_SYNC_MAX_SHARE ({max_share:.0%}): {how}")
    if inserts > max_growth * managed:
        return (f"safety stop: {name} would create {inserts} records, more than PSHUB_SYNC_MAX_GROWTH "
                f"({max_growth:.0%}) of the {managed} it manages: {how}")
    return None


def _lock_key(sync: Sync) -> int:
    """The advisory lock of the sync's applies: from a hash of its whole name (its first 8 bytes were one key for
    psa_projects, psa_project_roles and psa_project_milestones, so that applies of different syncs side by side
    took each other for a second apply of the same sync)."""
    return int.from_bytes(hashlib.blake2b(sync.name.encode(), digest_size=8).digest(), "big") & 0x7FFF_FFFF_FFFF_FFFF


def apply(conn: psycopg.Connection, sync: Sync, run_id: str, client_factory: Callable[[], object], *,
          concurrency: int = 1, max_share: float = 0.5, min_guarded: int = 100, confirm: bool = False,
          pusher: Callable | None = None, max_growth: float = 2.0, only_if_nothing_to_push: bool = False
          ) -> SyncResult:
    """Push the plan. A run with nothing planned opens no connection to the destination (and does not even import
    the pushers and their connectors, which take longer to import than such a run takes).

    only_if_nothing_to_push: a plan with records to push is left alone (status `deferred`, nothing written), for
    the caller to push it elsewhere (`pshub sync apply` pushes in Prefect's sync flow, applies no-ops itself)."""
    result = SyncResult(sync.name, run_id)
    conn.commit()
    if not conn.execute("select pg_try_advisory_lock(%s)", (_lock_key(sync),)).fetchone()[0]:
        conn.commit()
        result.status, result.message = "skipped", "another apply of this sync is running"
        return result
    client = None
    sync_run_id = None
    try:
        # the model and its `_blocked` twin, each read once; in the transaction that records the run below, so that
        # the run's started_at (the transaction's start) counts the staging. A plan to leave alone is known before
        # the `_blocked` model is read (the apply that pushes it reads it)
        counts = stage_plan(conn, sync)
        result.planned_inserts, result.planned_updates = counts["inserts"], counts["updates"]
        if only_if_nothing_to_push and result.planned:
            result.status = "deferred"
            return result
        stage_held(conn, sync)
        sync_run_id = conn.execute("insert into ops.sync_runs (run_id, sync_name, rows_planned) values (%s, %s, %s)"
                                   " returning sync_run_id", (run_id, sync.name, result.planned)).fetchone()[0]
        conn.commit()
        result.blocked = record_blocked(conn, sync, run_id)
        managed = conn.execute("select count(*) from ops.sync_ledger where sync_name = %s", (sync.name,)).fetchone()[0]
        conn.commit()
        if not confirm:
            refusal = safety_stop(sync.name, result.planned_inserts, result.planned_updates, managed,
                                  max_share=max_share, max_growth=max_growth, min_guarded=min_guarded)
            if refusal:
                raise PlanRefused(refusal)
        if result.planned:
            # only here: the pushers import the connectors (httpx, tenacity, PyJWT), which take longer to import
            # than a plan or an apply with nothing to push takes to answer (bench/cli.py)
            from reverse_etl.pushers import PUSHERS, Context

            pusher = pusher or PUSHERS[sync.operation]
            client = client_factory()
            ctx = Context(conn, sync, run_id, concurrency)
            # the staged plan is read page by page on this connection, each read committed before the batch is
            # pushed, so that recording commits batch by batch
            batches = -(-result.planned // sync.batch_size)
            for number, batch in enumerate(_batches(plan(conn, sync), sync.batch_size), start=1):
                valid, invalid = validate(sync, batch)
                if invalid:
                    with conn.transaction(), conn.cursor() as cur:
                        _upsert_exceptions(cur, sync, run_id, [(r, "invalid", "invalid", why) for r, why in invalid])
                    result.invalid += len(invalid)
                if not valid:
                    continue
                outcomes = pusher(ctx, client, valid)
                record(conn, sync, run_id, {str(r[sync.key]): r for r in valid}, outcomes)
                result.pushed += sum(o.ok for o in outcomes)
                result.failed += sum(not o.ok for o in outcomes)
                _report({"sync": sync.name, "batch": number, "batches": max(batches, number),
                         "pushed": result.pushed})
        result.status = "succeeded"
    except PlanRefused as exc:
        conn.rollback()
        result.status, result.message = "refused", str(exc)
    except Exception as exc:
        conn.rollback()
        result.status, result.message = "failed", str(exc)[:2000]
        raise
    finally:
        if client is not None:
            result.write_calls, result.calls = client.write_calls, client.calls
            client.close()
        if sync_run_id is not None:
            conn.execute("""update ops.sync_runs set status = %s, finished_at = clock_timestamp(), rows_pushed = %s,
                                   rows_failed = %s, write_calls = %s, error = %s where sync_run_id = %s""",
                         (result.status, result.pushed, result.failed + result.invalid, result.write_calls,
                          result.message, sync_run_id))
        unstage(conn)
        conn.execute("select pg_advisory_unlock(%s)", (_lock_key(sync),))
        conn.commit()
    return result
