-- ops: the hub's own bookkeeping. Landings, cursors, quarantine, and the reverse-ETL ledger.

-- (the schema itself is created by the migrator, which keeps ops.schema_migrations in it)

create table ops.runs (
    run_id       text primary key,
    kind         text not null,                 -- cycle | ingest | transform | sync
    started_at   timestamptz not null default now(),
    finished_at  timestamptz,
    status       text not null default 'running' check (status in ('running', 'succeeded', 'failed')),
    summary      jsonb not null default '{}'::jsonb
);

-- One row per (run, system, object) landing; completed_at is set last, in the data's own transaction.
create table ops.loads (
    load_id          bigserial primary key,
    run_id           text not null,
    system           text not null,
    object           text not null,
    started_at       timestamptz not null default now(),
    completed_at     timestamptz,
    status           text not null default 'running' check (status in ('running', 'completed', 'failed', 'stopped')),
    rows_fetched     bigint not null default 0,
    rows_landed      bigint not null default 0,
    rows_quarantined bigint not null default 0,
    cursor_from      text,
    cursor_to        text,
    error            text
);
create index loads_object_idx on ops.loads (system, object, started_at desc);

create table ops.cursors (
    system        text not null,
    object        text not null,
    cursor_field  text not null,
    cursor_value  text not null,
    load_id       bigint,
    updated_at    timestamptz not null default now(),
    primary key (system, object)
);

-- Records that could not land, with the payload as received; resolved when a later version lands.
create table ops.quarantine (
    quarantine_id  bigserial primary key,
    system         text not null,
    object         text not null,
    record_id      text,
    reason         text not null,
    payload        jsonb,
    run_id         text not null,
    load_id        bigint,
    attempts       integer not null default 1,
    first_seen_at  timestamptz not null default now(),
    last_seen_at   timestamptz not null default now(),
    resolved_at    timestamptz
);
create unique index quarantine_open_record_idx on ops.quarantine (system, object, coalesce(record_id, ''), reason)
    where resolved_at is null;

-- The last successful push of each destination record of each sync.
create table ops.sync_ledger (
    sync_name       text not null,
    record_key      text not null,
    destination_id  text,
    row_hash        text not null,
    synced_at       timestamptz not null default now(),
    run_id          text not null,
    primary key (sync_name, record_key)
);

create table ops.sync_runs (
    sync_run_id   bigserial primary key,
    run_id        text not null,
    sync_name     text not null,
    started_at    timestamptz not null default now(),
    finished_at   timestamptz,
    status        text not null default 'running' check (status in ('running', 'succeeded', 'failed', 'refused', 'skipped')),
    rows_planned  integer not null default 0,
    rows_pushed   integer not null default 0,
    rows_failed   integer not null default 0,
    write_calls   integer not null default 0,
    error         text
);

-- Rows a sync could not push, with why and what is at stake; resolved when a later push succeeds.
create table ops.sync_exceptions (
    exception_id     bigserial primary key,
    sync_name        text not null,
    record_key       text not null,
    reason_code      text not null,
    reason           text not null,
    run_id           text not null,
    attempts         integer not null default 1,
    customer         text,
    engagement       text,
    amount_at_stake  numeric(18, 2),
    currency         text,
    payload          jsonb,
    first_seen_at    timestamptz not null default now(),
    last_seen_at     timestamptz not null default now(),
    resolved_at      timestamptz
);
create unique index sync_exceptions_open_idx on ops.sync_exceptions (sync_name, record_key) where resolved_at is null;
