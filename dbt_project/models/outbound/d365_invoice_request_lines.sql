-- Sync d365_invoice_request_lines: the one line of each unposted free text invoice of d365_invoice_requests (pushed after it); rows that must not be pushed are in d365_invoice_request_lines_blocked.
select
    external_id,
    "dataAreaId",
    "InvoiceIdentifier",
    "LineNumber",
    "Description",
    "Quantity",
    "UnitPrice",
    "LineAmount",
    "PshProjectId",
    _customer,
    _engagement,
    _amount_at_stake,
    _currency
from {{ ref('int_sync_d365_invoice_requests') }}
where block_reason_code is null
