"""Run ids: one per cycle, stamped on landed rows, ledger rows, exceptions and log lines."""
from __future__ import annotations

import contextvars
import datetime as dt
import secrets

import orjson
import psycopg

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("pshub_run_id", default=None)


def new_run_id() -> str:
    """Sortable and unique: r20261122T020304Z-3f9a1c."""
    return dt.datetime.now(dt.timezone.utc).strftime("r%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)


def current_run_id() -> str | None:
    return _current.get()


def set_current_run_id(run_id: str) -> None:
    _current.set(run_id)


def start_run(conn: psycopg.Connection, kind: str, run_id: str | None = None) -> str:
    run_id = run_id or current_run_id() or new_run_id()
    conn.execute("insert into ops.runs (run_id, kind) values (%s, %s) on conflict (run_id) do nothing",
                 (run_id, kind))
    conn.commit()
    return run_id


def finish_run(conn: psycopg.Connection, run_id: str, status: str, summary: dict) -> None:
    conn.execute("update ops.runs set finished_at = now(), status = %s, summary = %s::jsonb where run_id = %s",
                 (status, orjson.dumps(summary, default=str).decode(), run_id))
    conn.commit()


def connection_name(run_id: str) -> str:
    """application_name of the connection a cycle holds for as long as it runs (how a later one knows it is alive)."""
    return f"pshub cycle {run_id}"


def mark_abandoned(conn: psycopg.Connection) -> list[str]:
    """Cycles still `running` whose process is gone (no connection of theirs is open) become `abandoned`, with
    their loads and sync runs that were still running; returns their run ids."""
    abandoned = [r[0] for r in conn.execute("""
        update ops.runs r set status = 'abandoned', finished_at = now(),
               error = 'the process running this cycle stopped before it finished (killed or crashed)'
         where r.kind = 'cycle' and r.status = 'running' and r.finished_at is null
           and not exists (select 1 from pg_stat_activity a where a.application_name = 'pshub cycle ' || r.run_id)
        returning r.run_id""")]
    if abandoned:
        conn.execute("""update ops.loads set status = 'failed', completed_at = now(),
                               error = 'abandoned: the cycle''s process stopped before this load finished'
                         where run_id = any(%s) and status = 'running'""", (abandoned,))
        conn.execute("""update ops.sync_runs set status = 'failed', finished_at = now(),
                               error = 'abandoned: the cycle''s process stopped before this sync finished'
                         where run_id = any(%s) and status = 'running'""", (abandoned,))
    conn.commit()
    return abandoned
