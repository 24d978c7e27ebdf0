-- Rows of sync erp_time_bills that must not be pushed, each with its reason code, for the engine's exception queue; only rows
-- routed to NetSuite (erp_system), with the columns of erp_time_bills.
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
    _load_watermark,
    block_reason_code
from {{ ref('int_sync_erp_time_bills') }}
where block_reason_code is not null and erp_system = 'netsuite'
