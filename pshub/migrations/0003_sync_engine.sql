-- Reverse ETL: where an exception came from, and write intents for destinations without external-id upserts.
alter table ops.sync_exceptions
    add column stage text not null default 'rejected'
        check (stage in ('blocked', 'invalid', 'rejected', 'failed'));
comment on column ops.sync_exceptions.stage is
    'blocked: the outbound model held the row back (reason_code from dbt); invalid: failed the sync''s schema; '
    'rejected: the destination refused the record; failed: the call could not be completed';

-- A create that was sent but whose outcome may not have been recorded (a crash between call and ledger):
-- the engine looks the record up at the destination before it creates it again.
create table ops.sync_intents (
    sync_name    text not null,
    record_key   text not null,
    run_id       text not null,
    row_hash     text not null,
    created_at   timestamptz not null default now(),
    primary key (sync_name, record_key)
);
