{{ config(materialized='view') }}
-- What the hub has created at each destination, by sync and key, read from the sync ledger when a sync plans.
-- The int_sync views take ids from here when the landed data does not have them yet, so that a sync later in a
-- cycle sees what an earlier one created: a won deal becomes ERP customer and project, PSA project with roles
-- and milestones, and CRM links in one cycle, and the next cycle, landing those records back, pushes nothing.
select
    sync_name,
    record_key,
    destination_id,
    created_by_hub
from {{ ref('stg_ops__sync_ledger') }}
where destination_id is not null
