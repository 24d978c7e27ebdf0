-- Operations (issue 7): cycle outcomes beyond succeeded/failed, what each run was asked to do, and alerts sent.

-- partial: the cycle finished but some object, dbt node or sync failed or was blocked (the summary says which);
-- skipped: another cycle held the warehouse's cycle lock, so this one did nothing.
alter table ops.runs drop constraint if exists runs_status_check;
alter table ops.runs add constraint runs_status_check
    check (status in ('running', 'succeeded', 'partial', 'failed', 'skipped'));
alter table ops.runs add column if not exists parameters jsonb not null default '{}'::jsonb;
alter table ops.runs add column if not exists flow_run_id text;   -- the Prefect flow run, when there is one
alter table ops.runs add column if not exists error text;
create index if not exists runs_kind_started_idx on ops.runs (kind, started_at desc);

-- run ids of landed rows (raw tables carry _load_id) and of sync runs are looked up by run
create index if not exists loads_run_idx on ops.loads (run_id);
create index if not exists sync_runs_run_idx on ops.sync_runs (run_id);
create index if not exists sync_exceptions_run_idx on ops.sync_exceptions (run_id);

-- Webhook alerts sent (or attempted): threshold alerts repeat only when the figure grows or a day has passed.
create table if not exists ops.alerts (
    alert_id     bigserial primary key,
    run_id       text,
    kind         text not null,          -- run_failed | run_partial | exceptions | money_at_stake
    value        numeric(18, 2),
    message      text not null,
    sent_at      timestamptz not null default now(),
    delivered    boolean not null,
    error        text
);
create index if not exists alerts_kind_idx on ops.alerts (kind, sent_at desc);
