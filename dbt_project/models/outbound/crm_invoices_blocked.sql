-- Rows of sync crm_invoices that must not be pushed, each with its reason code, for the engine's exception queue.
select * from {{ ref('int_sync_crm_invoices') }}
where block_reason_code is not null
