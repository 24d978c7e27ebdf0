-- Sync erp_time_bills: the rows to push (see int_sync_erp_time_bills for the rules); only rows routed to NetSuite (erp_system); rows that must not be pushed are in erp_time_bills_blocked.
select
    external_id,
    employee,
    customer,
    item,
    hours,
    rate,
    "isBillable",
    "tranDate",
    memo,
    _erp_time_bill_id,
    _customer,
    _engagement,
    _amount_at_stake,
    _currency,
    _load_watermark
from {{ ref('int_sync_erp_time_bills') }}
where block_reason_code is null and erp_system = 'netsuite'
