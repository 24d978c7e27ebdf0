"""The reverse-ETL engine: plan (diff against the ledger), validate (pandera), push (batched), record.

plan:     one set-based query: the outbound model's rows whose hash differs from the ledger's last success.
validate: rows that would be rejected become ops.sync_exceptions with a reason, never pushes.
push:     batches through the destination connector, bounded concurrency, transient errors retried there.
record:   a ledger row per success (destination id, hash, run id); an exception per failure, retried later.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice

import orjson
import pandas as pd
import pandera.pandas as pa
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from connectors.http import ConnectorError
from reverse_etl.syncs import Sync

log = logging.getLogger("pshub.sync")


@dataclass
class Outcome:
    """What happened to one record at the destination."""
    record_key: str
    destination_id: str | None = None
    error_code: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class SyncResult:
    sync: str
    run_id: str
    planned_inserts: int = 0
    planned_updates: int = 0
    pushed: int = 0
    failed: int = 0
    invalid: int = 0
    write_calls: int = 0
    status: str = "succeeded"
    exceptions: list[str] = field(default_factory=list)

    @property
    def planned(self) -> int:
        return self.planned_inserts + self.planned_updates


def _model_ident(sync: Sync) -> sql.Composable:
    schema, table = sync.model.split(".", 1)
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))


def _plan_query(sync: Sync) -> sql.Composable:
    return sql.SQL("""
        select m.*, md5(to_jsonb(m)::text) as _row_hash, l.destination_id as _destination_id,
               case when l.record_key is null then 'insert' else 'update' end as _action
          from {model} m
          left join ops.sync_ledger l on l.sync_name = %(sync)s and l.record_key = m.{key}::text
         where l.row_hash is distinct from md5(to_jsonb(m)::text)
    """).format(model=_model_ident(sync), key=sql.Identifier(sync.key))


def plan_counts(conn: psycopg.Connection, sync: Sync) -> dict[str, int]:
    """inserts / updates / unchanged, computed in the warehouse."""
    row = conn.execute(sql.SQL("""
        with m as (select {key}::text as k, md5(to_jsonb(m)::text) as h from {model} m)
        select count(*) filter (where l.record_key is null),
               count(*) filter (where l.record_key is not null and l.row_hash <> m.h),
               count(*) filter (where l.row_hash = m.h)
          from m left join ops.sync_ledger l on l.sync_name = %(sync)s and l.record_key = m.k
    """).format(model=_model_ident(sync), key=sql.Identifier(sync.key)), {"sync": sync.name}).fetchone()
    return {"inserts": row[0], "updates": row[1], "unchanged": row[2]}


def plan(conn: psycopg.Connection, sync: Sync, limit: int | None = None) -> Iterator[dict]:
    """Stream the rows to push (a server-side cursor: memory stays flat however large the plan)."""
    query = _plan_query(sync)
    if limit:
        query = query + sql.SQL(" limit {}").format(sql.Literal(limit))
    with conn.cursor(name=f"plan_{sync.name}", row_factory=dict_row) as cur:
        cur.itersize = 2000
        cur.execute(query, {"sync": sync.name})
        yield from cur


# -- validation -------------------------------------------------------------------------------------
_PANDERA_TYPES = {"string": str, "ref": str, "number": float, "date": object, "boolean": bool}


def _schema(sync: Sync) -> pa.DataFrameSchema:
    columns = {}
    for f in sync.fields:
        checks = [pa.Check(lambda s: s.astype(str).str.len() > 0, element_wise=False, name="not empty")] \
            if f.required and f.type in ("string", "ref") else []
        columns[f.name] = pa.Column(object, nullable=not f.required, checks=checks, required=True)
    columns[sync.key] = pa.Column(object, nullable=False)
    return pa.DataFrameSchema(columns, strict=False)


def validate(sync: Sync, rows: list[dict]) -> tuple[list[dict], list[tuple[dict, str]]]:
    """(valid rows, [(row, reason)]) for a batch."""
    if not rows:
        return [], []
    frame = pd.DataFrame([{c: r.get(c) for c in [sync.key, *sync.pushed_columns]} for r in rows])
    reasons: dict[int, list[str]] = {}
    try:
        _schema(sync).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        for case in err.failure_cases.itertuples():
            if case.index is None or pd.isna(case.index):
                continue
            what = "is missing" if case.check in ("not_nullable", "not empty") else f"fails {case.check}"
            reasons.setdefault(int(case.index), []).append(f"{case.column} {what}")
    valid, invalid = [], []
    for i, row in enumerate(rows):
        if i in reasons:
            invalid.append((row, "; ".join(sorted(set(reasons[i])))))
        else:
            valid.append(row)
    return valid, invalid


# -- destination payloads ---------------------------------------------------------------------------
def _json_value(value):
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def destination_fields(sync: Sync, row: dict) -> dict:
    body = {}
    for f in sync.fields:
        value = _json_value(row.get(f.name))
        if value is None:
            continue
        body[f.name] = {"id": str(value)} if f.type == "ref" else value
    return body


# -- pushers: one per destination operation ---------------------------------------------------------
def netsuite_upsert(client, sync: Sync, rows: list[dict], concurrency: int) -> list[Outcome]:
    def one(row: dict) -> Outcome:
        key = str(row[sync.key])
        try:
            return Outcome(key, destination_id=client.upsert(sync.object, key, destination_fields(sync, row)))
        except ConnectorError as exc:
            return Outcome(key, error_code=exc.code or type(exc).__name__, error=exc.message)

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        return list(pool.map(one, rows))


PUSHERS: dict[tuple[str, str], Callable] = {("netsuite", "upsert"): netsuite_upsert}


# -- recording --------------------------------------------------------------------------------------
def _context(sync: Sync, row: dict) -> tuple:
    ctx = sync.context
    amount = row.get(ctx["amount"]) if "amount" in ctx else None
    return (row.get(ctx["customer"]) if "customer" in ctx else None,
            row.get(ctx["engagement"]) if "engagement" in ctx else None,
            amount, row.get(ctx["currency"]) if "currency" in ctx else None)


def record(conn: psycopg.Connection, sync: Sync, run_id: str, rows_by_key: dict[str, dict],
           outcomes: list[Outcome]) -> None:
    """Ledger rows for successes (and their exceptions resolved); exception rows for failures."""
    ok = [o for o in outcomes if o.ok]
    failed = [o for o in outcomes if not o.ok]
    with conn.transaction():
        if ok:
            with conn.cursor() as cur:
                cur.executemany("""
                    insert into ops.sync_ledger (sync_name, record_key, destination_id, row_hash, run_id)
                    values (%s, %s, %s, %s, %s)
                    on conflict (sync_name, record_key) do update
                       set destination_id = coalesce(excluded.destination_id, ops.sync_ledger.destination_id),
                           row_hash = excluded.row_hash, run_id = excluded.run_id, synced_at = now()
                """, [(sync.name, o.record_key, o.destination_id, rows_by_key[o.record_key]["_row_hash"], run_id)
                      for o in ok])
                cur.execute("""update ops.sync_exceptions set resolved_at = now()
                                where sync_name = %s and record_key = any(%s) and resolved_at is null""",
                            (sync.name, [o.record_key for o in ok]))
        if failed:
            record_exceptions(conn, sync, run_id,
                              [(rows_by_key[o.record_key], o.error_code or "rejected", o.error) for o in failed])


def record_exceptions(conn: psycopg.Connection, sync: Sync, run_id: str,
                      failures: list[tuple[dict, str, str]]) -> None:
    with conn.cursor() as cur:
        cur.executemany("""
            insert into ops.sync_exceptions (sync_name, record_key, reason_code, reason, run_id, customer,
                                             engagement, amount_at_stake, currency, payload)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)
            on conflict (sync_name, record_key) where resolved_at is null do update
               set reason_code = excluded.reason_code, reason = excluded.reason, run_id = excluded.run_id,
                   attempts = ops.sync_exceptions.attempts + 1, last_seen_at = now(),
                   customer = excluded.customer, engagement = excluded.engagement,
                   amount_at_stake = excluded.amount_at_stake, currency = excluded.currency,
                   payload = excluded.payload
        """, [(sync.name, str(row[sync.key]), code, reason, run_id, *_context(sync, row),
               orjson.dumps({k: _json_value(v) for k, v in row.items()}, default=str).decode())
              for row, code, reason in failures])


# -- the run ----------------------------------------------------------------------------------------
def _batches(iterable, size):
    it = iter(iterable)
    while batch := list(islice(it, size)):
        yield batch


def apply(conn: psycopg.Connection, sync: Sync, run_id: str, client_factory: Callable[[], object], *,
          concurrency: int = 1) -> SyncResult:
    """Push the plan. A run with nothing planned opens no connection to the destination."""
    result = SyncResult(sync.name, run_id)
    counts = plan_counts(conn, sync)
    result.planned_inserts, result.planned_updates = counts["inserts"], counts["updates"]
    sync_run_id = conn.execute("insert into ops.sync_runs (run_id, sync_name, rows_planned) values (%s, %s, %s)"
                               " returning sync_run_id", (run_id, sync.name, result.planned)).fetchone()[0]
    conn.commit()
    client = None
    pusher = PUSHERS[(sync.destination, sync.operation)]
    try:
        if result.planned:
            client = client_factory()
            # the plan is read by a second connection so that recording can commit batch by batch
            with psycopg.connect(conn.info.dsn, password=conn.info.password) as reader:
                for batch in _batches(plan(reader, sync), sync.batch_size):
                    valid, invalid = validate(sync, batch)
                    if invalid:
                        record_exceptions(conn, sync, run_id, [(row, "invalid", reason) for row, reason in invalid])
                        conn.commit()
                        result.invalid += len(invalid)
                    if not valid:
                        continue
                    outcomes = pusher(client, sync, valid, concurrency)
                    record(conn, sync, run_id, {str(r[sync.key]): r for r in valid}, outcomes)
                    conn.commit()
                    result.pushed += sum(o.ok for o in outcomes)
                    result.failed += sum(not o.ok for o in outcomes)
        result.write_calls = getattr(client, "write_calls", 0)
        result.status = "succeeded" if not (result.failed or result.invalid) else "succeeded_with_exceptions"
    except Exception as exc:
        result.status = "failed"
        conn.rollback()
        conn.execute("update ops.sync_runs set status = 'failed', error = %s, finished_at = now() where sync_run_id = %s",
                     (str(exc)[:2000], sync_run_id))
        conn.commit()
        raise
    finally:
        if client is not None:
            client.close()
    conn.execute("""update ops.sync_runs set status = 'succeeded', finished_at = now(), rows_pushed = %s,
                           rows_failed = %s, write_calls = %s where sync_run_id = %s""",
                 (result.pushed, result.failed + result.invalid, result.write_calls, sync_run_id))
    conn.commit()
    return result
