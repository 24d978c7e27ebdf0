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
