"""Versioned SQL migrations of the `ops` schema: pshub/migrations/NNNN_name.sql, applied once each, in order."""
from __future__ import annotations

from importlib import resources

import psycopg

_LOCK_KEY = 0x7073687562  # 'pshub': one migrator at a time across processes
_migrated: set[str] = set()

# Versions some warehouses recorded under an earlier name, when two migrations shared a number. Same files, same
# order of application: only the names were made unique, so a warehouse that applied one applies it not again.
RENAMED = {
    "0002_sync_engine": "0003_sync_engine",
    "0003_ledger_created_by_hub": "0004_ledger_created_by_hub",
    "0004_dbt_builds": "0005_dbt_builds",
    "0005_quarantine_field_value": "0006_quarantine_field_value",
    "0005_runs_abandoned": "0007_runs_abandoned",
}


def available() -> list[tuple[str, str]]:
    files = sorted(f for f in resources.files(__name__).iterdir() if f.name.endswith(".sql"))
    return [(f.name.removesuffix(".sql"), f.read_text()) for f in files]


def migrate(url: str) -> list[str]:
    """Apply the migrations not yet applied; returns their names. Idempotent and safe to run concurrently."""
    if url in _migrated:
        return []
    applied_now = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            conn.execute("create schema if not exists ops")
            conn.execute("""create table if not exists ops.schema_migrations (
                                version text primary key, applied_at timestamptz not null default now())""")
            conn.execute("""update ops.schema_migrations m set version = r.now
                              from (select * from unnest(%s::text[], %s::text[])) as r(before, now)
                             where m.version = r.before""", (list(RENAMED), list(RENAMED.values())))
            done = {r[0] for r in conn.execute("select version from ops.schema_migrations")}
            for version, sql in available():
                if version in done:
                    continue
                with conn.transaction():
                    conn.execute(sql)
                    conn.execute("insert into ops.schema_migrations (version) values (%s)", (version,))
                applied_now.append(version)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (_LOCK_KEY,))
    _migrated.add(url)
    return applied_now
