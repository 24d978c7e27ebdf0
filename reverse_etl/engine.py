"""The reverse-ETL engine: plan (diff against the ledger), validate (pandera), push (batched), record.

plan:     one set-based query: the outbound model's rows whose hash of pushed fields differs from the ledger's
          last success. Nothing changed means no call to the destination at all.
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


def check_model(conn: psycopg.Connection, sync: Sync) -> None:
    columns = model_columns(conn, sync.model)
    if not columns:
        raise ModelMissing(f"{sync.model} does not exist: run `pshub transform` first")
    missing = [c for c in [sync.key, *sync.pushed_columns] if c not in columns]
    if missing:
        raise ModelMissing(f"{sync.model} lacks column(s) {', '.join(missing)} that sync {sync.name} pushes")


def _plan_query(sync: Sync) -> sql.Composable:
    return sql.SQL("""
        select m.*, {hash} as _row_hash, l.destination_id as _destination_id,
               case when l.record_key is null then 'insert' else 'update' end as _action
          from {model} m
          left join ops.sync_ledger l on l.sync_name = %(sync)s and l.record_key = m.{key}::text
         where l.row_hash is distinct from {hash}
         order by m.{key}
    """).format(model=_ident(sync.model), key=sql.Identifier(sync.key), hash=_hash_expr(sync))


def plan_counts(conn: psycopg.Connection, sync: Sync, held_back: bool = True) -> dict[str, int]:
    """inserts / updates / unchanged / held back, computed in the warehouse (held back: 0 when not asked for,
    which spares reading the `_blocked` model)."""
    check_model(conn, sync)
    row = conn.execute(sql.SQL("""
        with m as (select m.{key}::text as k, {hash} as h from {model} m)
        select count(*) filter (where l.record_key is null),
               count(*) filter (where l.record_key is not null and l.row_hash <> m.h),
               count(*) filter (where l.row_hash = m.h)
          from m left join ops.sync_ledger l on l.sync_name = %(sync)s and l.record_key = m.k
    """).format(model=_ident(sync.model), key=sql.Identifier(sync.key), hash=_hash_expr(sync)),
        {"sync": sync.name}).fetchone()
    blocked = 0
    if held_back and model_columns(conn, sync.blocked_model):
        blocked = conn.execute(sql.SQL("select count(*) from {}").format(_ident(sync.blocked_model))).fetchone()[0]
    return {"inserts": row[0], "updates": row[1], "unchanged": row[2], "blocked": blocked}


def plan(conn: psycopg.Connection, sync: Sync, limit: int | None = None) -> Iterator[dict]:
    """Stream the rows to push (a server-side cursor: memory stays flat however large the plan; the first `limit`
    rows, as `pshub sync plan` shows them, in one round trip)."""
    query = _plan_query(sync)
    if limit:
        with conn.cursor(row_factory=dict_row) as cur:
            yield from cur.execute(query + sql.SQL(" limit {}").format(sql.Literal(limit)), {"sync": sync.name})
        return
    with conn.cursor(name=f"plan_{sync.name}", row_factory=dict_row) as cur:
        cur.itersize = 2000
        cur.execute(query, {"sync": sync.name})
        yield from cur


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
    """Rows the outbound model holds back become exceptions with dbt's reason code; exceptions whose record is
    neither held back nor still to push any more are resolved. One set-based statement that writes only what
    changed: a new hold is inserted, a hold whose reason, context or row changed is updated, and a hold seen again
    unchanged is not written at all (its last_seen_at is when it last changed), so an apply with nothing new to
    push or hold writes no row. Returns the number of records held back."""
    if not model_columns(conn, sync.blocked_model):
        return 0
    blocked, model, key = _ident(sync.blocked_model), _ident(sync.model), sql.Identifier(sync.key)
    with conn.transaction():
        held, = conn.execute(sql.SQL("""
            with held as materialized (
                select b.{key}::text as record_key, b.block_reason_code as reason_code,
                       coalesce(to_jsonb(b) ->> 'block_reason', replace(b.block_reason_code, '_', ' ')) as reason,
                       to_jsonb(b) ->> '_customer' as customer, to_jsonb(b) ->> '_engagement' as engagement,
                       (to_jsonb(b) ->> '_amount_at_stake')::numeric as amount_at_stake,
                       to_jsonb(b) ->> '_currency' as currency, to_jsonb(b) as payload
                  from {blocked} b
            ),
            changed as (
                update ops.sync_exceptions e
                   set stage = 'blocked', reason_code = h.reason_code, reason = h.reason, run_id = %(run)s,
                       last_seen_at = now(), customer = h.customer, engagement = h.engagement,
                       amount_at_stake = h.amount_at_stake, currency = h.currency, payload = h.payload
                  from held h
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
                  from held h
                 where not exists (select 1 from ops.sync_exceptions e where e.sync_name = %(sync)s
                                      and e.record_key = h.record_key and e.resolved_at is null)
                on conflict (sync_name, record_key) where resolved_at is null do nothing
            ),
            released as (
                update ops.sync_exceptions e set resolved_at = now()
                 where e.sync_name = %(sync)s and e.resolved_at is null
                   and not exists (select 1 from held h where h.record_key = e.record_key)
                   and (e.stage = 'blocked'
                        or not exists (select 1 from {model} m where m.{key}::text = e.record_key))
            )
            -- the three writes above run to completion whether read or not (PostgreSQL docs, "WITH Queries",
            -- data-modifying statements in WITH); each touches rows the others do not
            select count(*) from held
        """).format(key=key, blocked=blocked, model=model), {"sync": sync.name, "run": run_id}).fetchone()
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
    return int.from_bytes(sync.name.encode()[:8].ljust(8, b"\0"), "big") & 0x7FFF_FFFF_FFFF_FFFF


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
        counts = plan_counts(conn, sync, held_back=False)  # record_blocked counts them below
        result.planned_inserts, result.planned_updates = counts["inserts"], counts["updates"]
        if only_if_nothing_to_push and result.planned:
            result.status = "deferred"
            return result
        sync_run_id = conn.execute("insert into ops.sync_runs (run_id, sync_name, rows_planned) values (%s, %s, %s)"
                                   " returning sync_run_id", (run_id, sync.name, result.planned)).fetchone()[0]
        conn.commit()
        result.blocked = record_blocked(conn, sync, run_id)
        managed = conn.execute("select count(*) from ops.sync_ledger where sync_name = %s", (sync.name,)).fetchone()[0]
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
            # the plan is read on a second connection so that recording can commit batch by batch
            with psycopg.connect(conn.info.dsn, password=conn.info.password) as reader:
                batches = -(-result.planned // sync.batch_size)
                for number, batch in enumerate(_batches(plan(reader, sync), sync.batch_size), start=1):
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
        conn.execute("select pg_advisory_unlock(%s)", (_lock_key(sync),))
        conn.commit()
    return result
