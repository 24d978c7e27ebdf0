-- Rows of sync erp_invoice_requests that must not be pushed, each with its reason code, for the engine's exception queue; only rows
-- routed to NetSuite (erp_system), with the columns of erp_invoice_requests.
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
    _currency,
    block_reason_code
from {{ ref('int_sync_erp_invoice_requests') }}
where block_reason_code is not null and erp_system = 'netsuite'
