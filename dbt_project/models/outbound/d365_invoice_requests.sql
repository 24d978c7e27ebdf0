-- Sync d365_invoice_requests: the unposted free text invoices to push to Dynamics 365 Finance (see int_sync_d365_invoice_requests for the rules); rows that must not be pushed are in d365_invoice_requests_blocked.
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
    _currency
from {{ ref('int_sync_d365_invoice_requests') }}
where block_reason_code is null
