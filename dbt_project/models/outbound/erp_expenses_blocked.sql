-- Rows of sync erp_expenses that must not be pushed, each with its reason code, for the engine's exception queue.
select * from {{ ref('int_sync_erp_expenses') }}
where block_reason_code is not null and erp_system = 'netsuite'
