-- Whether the hub created the destination record (rather than matching one made by hand and updating it):
-- dbt adds planned roles and milestones only to PSA projects the hub created.
alter table ops.sync_ledger add column created_by_hub boolean not null default false;
