-- Sync erp_invoice_requests: the rows to push (see int_sync_erp_invoice_requests for the rules); only rows routed to NetSuite (erp_system); rows that must not be pushed are in erp_invoice_requests_blocked.
select
    external_id,
    name,
    custrecord_pshub_ir_project,
    custrecord_pshub_ir_amount,
    custrecord_pshub_ir_currency,
    custrecord_pshub_ir_milestone,
    custrecord_pshub_ir_date,
    custrecord_pshub_ir_status,
    _customer,
    _engagement,
    _amount_at_stake,
    _currency
from {{ ref('int_sync_erp_invoice_requests') }}
where block_reason_code is null and erp_system = 'netsuite'
