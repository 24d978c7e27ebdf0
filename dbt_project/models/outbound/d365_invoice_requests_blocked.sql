-- Rows of sync d365_invoice_requests that must not be pushed, each with its reason code, for the engine's exception queue.
select
    external_id,
    "dataAreaId",
    "InvoiceIdentifier",
    "CustomerAccount",
    "InvoiceDate",
    "CurrencyCode",
    "IsPosted",
    "InvoiceDescription",
    "PshProjectId",
    _customer,
    _engagement,
    _amount_at_stake,
    _currency,
    block_reason_code
from {{ ref('int_sync_d365_invoice_requests') }}
where block_reason_code is not null
