-- One row per dbt build that succeeded, written by the hub after it (flows/transform.record_build): the load
-- watermark it covered (every load up to it had finished when it was planned). The next cycle builds what
-- changed since, and its tests on the big models check the rows landed or written since (macros/test_where.sql).
create table ops.dbt_builds (
    build_id        bigserial primary key,
    finished_at     timestamptz not null default now(),
    load_watermark  bigint not null,
    full_refresh    boolean not null,
    nodes_built     integer not null,
    tests_passed    integer not null
);
