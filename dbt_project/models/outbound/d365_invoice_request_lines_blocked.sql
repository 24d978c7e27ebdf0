-- Rows of sync d365_invoice_request_lines that must not be pushed, each with its reason code, for the engine's exception queue.
select * from {{ ref('int_sync_d365_invoice_requests') }}
where block_reason_code is not null
