"""Landing: one page of source records into raw_<system>.<object>, newest version wins, nothing lost.

Each page is validated (pandera), COPYed into a temporary table and upserted in one transaction together
with the object's cursor, so a crash between pages loses nothing and re-running converges. Records that
cannot land go to ops.quarantine with their payload and reason; they leave it when a later version lands.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import orjson
import pandas as pd
import pandera.pandas as pa
import psycopg
from psycopg import sql


@dataclass(frozen=True)
class ObjectSpec:
    """How one source object lands: which fields carry its id, version timestamp and deleted flag."""
    system: str
    object: str                      # source name (Account, time_entries, customer)
    table: str                       # raw table name (account, time_entries, customer)
    id_field: str
    updated_field: str
    parse_updated: Callable[[str], dt.datetime]
    deleted_field: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def schema(self) -> str:
        return f"raw_{self.system}"


_landing_schema = pa.DataFrameSchema(
    {
        "id": pa.Column(str, nullable=False, checks=pa.Check.str_length(min_value=1), coerce=False),
        "source_updated_at": pa.Column(pd.DatetimeTZDtype(tz="UTC"), nullable=False),
    },
    strict=False,
)


def ensure_raw_table(conn: psycopg.Connection, spec: ObjectSpec) -> None:
    conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(spec.schema)))
    conn.execute(sql.SQL("""
        create table if not exists {}.{} (
            id                 text primary key,
            data               jsonb not null,
            source_updated_at  timestamptz not null,
            is_deleted         boolean not null default false,
            _load_id           bigint not null,
            _landed_at         timestamptz not null default now()
        )""").format(sql.Identifier(spec.schema), sql.Identifier(spec.table)))


@dataclass
class PageResult:
    landed: int = 0
    quarantined: int = 0
    max_updated: dt.datetime | None = None


def _parse_ts(spec: ObjectSpec, value) -> dt.datetime | None:
    if value is None or value == "":
        return None
    try:
        ts = spec.parse_updated(value)
    except (TypeError, ValueError):
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=dt.timezone.utc)


def split_valid(spec: ObjectSpec, records: list) -> tuple[list[tuple], list[tuple[dict | None, str | None, str]]]:
    """Validate a page: (rows that can land, [(payload, record id, reason)] that cannot)."""
    bad: list[tuple[dict | None, str | None, str]] = []
    candidates = []
    for rec in records:
        if not isinstance(rec, dict):
            bad.append(({"unreadable": repr(rec)[:2000]}, None, "unreadable record: not a JSON object"))
            continue
        rid = rec.get(spec.id_field)
        candidates.append((rec, None if rid is None else str(rid), _parse_ts(spec, rec.get(spec.updated_field))))
    if not candidates:
        return [], bad
    frame = pd.DataFrame({
        "id": pd.Series([c[1] for c in candidates], dtype=object),
        "source_updated_at": pd.to_datetime(pd.Series([c[2] for c in candidates], dtype=object), utc=True),
    })
    failed_rows: dict[int, str] = {}
    try:
        _landing_schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        for case in err.failure_cases.itertuples():
            if case.index is None or pd.isna(case.index):
                continue
            column = case.column
            reason = (f"missing {spec.id_field}" if column == "id" else
                      f"missing or unreadable {spec.updated_field}: {candidates[int(case.index)][0].get(spec.updated_field)!r}")
            failed_rows.setdefault(int(case.index), reason)
    good = []
    for i, (rec, rid, ts) in enumerate(candidates):
        if i in failed_rows:
            bad.append((rec, rid, failed_rows[i]))
            continue
        deleted = bool(rec.get(spec.deleted_field)) if spec.deleted_field else False
        good.append((rid, orjson.dumps(rec).decode(), ts, deleted))
    return good, bad


def land_page(conn: psycopg.Connection, spec: ObjectSpec, records: list, *, load_id: int, run_id: str,
              cursor_field: str | None = None) -> PageResult:
    """Land one page in one transaction: upsert (newer wins), quarantine, resolve, advance the cursor."""
    good, bad = split_valid(spec, records)
    result = PageResult()
    target = sql.SQL("{}.{}").format(sql.Identifier(spec.schema), sql.Identifier(spec.table))
    with conn.transaction():
        if good:
            conn.execute("create temp table if not exists _landing (id text, data jsonb, source_updated_at timestamptz,"
                         " is_deleted boolean) on commit delete rows")
            with conn.cursor().copy("copy _landing (id, data, source_updated_at, is_deleted) from stdin") as copy:
                for row in good:
                    copy.write_row(row)
            cur = conn.execute(sql.SQL("""
                insert into {target} as t (id, data, source_updated_at, is_deleted, _load_id, _landed_at)
                select distinct on (id) id, data, source_updated_at, is_deleted, %(load_id)s, now()
                from _landing order by id, source_updated_at desc
                on conflict (id) do update
                   set data = excluded.data, source_updated_at = excluded.source_updated_at,
                       is_deleted = excluded.is_deleted, _load_id = excluded._load_id, _landed_at = excluded._landed_at
                 where excluded.source_updated_at >= t.source_updated_at
                   and (excluded.data is distinct from t.data or excluded.is_deleted <> t.is_deleted)
            """).format(target=target), {"load_id": load_id})
            result.landed = cur.rowcount
            # a record that lands leaves quarantine
            conn.execute("""
                update ops.quarantine q set resolved_at = now()
                  from _landing l
                 where q.system = %s and q.object = %s and q.record_id = l.id and q.resolved_at is null
            """, (spec.system, spec.object))
            result.max_updated = max(row[2] for row in good)
        for payload, rid, reason in bad:
            conn.execute("""
                insert into ops.quarantine (system, object, record_id, reason, payload, run_id, load_id)
                values (%s, %s, %s, %s, %s::jsonb, %s, %s)
                on conflict (system, object, coalesce(record_id, ''), reason) where resolved_at is null
                do update set attempts = ops.quarantine.attempts + 1, last_seen_at = now(),
                              payload = excluded.payload, run_id = excluded.run_id, load_id = excluded.load_id
            """, (spec.system, spec.object, rid, reason, orjson.dumps(payload).decode(), run_id, load_id))
        result.quarantined = len(bad)
        if cursor_field and result.max_updated is not None:
            conn.execute("""
                insert into ops.cursors (system, object, cursor_field, cursor_value, load_id)
                values (%s, %s, %s, %s, %s)
                on conflict (system, object) do update
                   set cursor_value = greatest(ops.cursors.cursor_value::timestamptz, excluded.cursor_value::timestamptz)::text,
                       cursor_field = excluded.cursor_field, load_id = excluded.load_id, updated_at = now()
            """, (spec.system, spec.object, cursor_field, result.max_updated.isoformat(), load_id))
        conn.execute("""update ops.loads set rows_fetched = rows_fetched + %s, rows_landed = rows_landed + %s,
                               rows_quarantined = rows_quarantined + %s, cursor_to = coalesce(%s, cursor_to)
                         where load_id = %s""",
                     (len(records), result.landed, result.quarantined,
                      result.max_updated.isoformat() if result.max_updated else None, load_id))
    return result


def read_cursor(conn: psycopg.Connection, system: str, object_: str) -> dt.datetime | None:
    row = conn.execute("select cursor_value::timestamptz from ops.cursors where system = %s and object = %s",
                       (system, object_)).fetchone()
    return row[0] if row else None


@dataclass
class LoadResult:
    system: str
    object: str
    load_id: int
    status: str
    rows_fetched: int = 0
    rows_landed: int = 0
    rows_quarantined: int = 0
    error: str | None = None


def land_stream(conn: psycopg.Connection, spec: ObjectSpec, pages: Iterable[list], *, run_id: str,
                cursor_from: dt.datetime | None, cursor_field: str | None,
                on_page: Callable[[PageResult], None] | None = None) -> LoadResult:
    """Land every page of a stream under one ops.loads row, marked completed after the last page commits."""
    ensure_raw_table(conn, spec)
    conn.commit()
    load_id = conn.execute(
        "insert into ops.loads (run_id, system, object, cursor_from) values (%s, %s, %s, %s) returning load_id",
        (run_id, spec.system, spec.object, cursor_from.isoformat() if cursor_from else None)).fetchone()[0]
    conn.commit()
    result = LoadResult(spec.system, spec.object, load_id, "running")
    try:
        for page in pages:
            page_result = land_page(conn, spec, page, load_id=load_id, run_id=run_id, cursor_field=cursor_field)
            result.rows_fetched += len(page)
            result.rows_landed += page_result.landed
            result.rows_quarantined += page_result.quarantined
            if on_page:
                on_page(page_result)
    except Exception as exc:
        conn.rollback()
        result.status, result.error = "failed", str(exc)[:2000]
        conn.execute("update ops.loads set status = 'failed', error = %s, completed_at = now() where load_id = %s",
                     (result.error, load_id))
        conn.commit()
        raise
    conn.execute("update ops.loads set status = 'completed', completed_at = now() where load_id = %s", (load_id,))
    conn.commit()
    result.status = "completed"
    return result

