-- Rows of sync erp_expenses that must not be pushed, each with its reason code, for the engine's exception queue; only rows
-- routed to NetSuite (erp_system), with the columns of erp_expenses.
select
    external_id,
    employee,
    entity,
    "tranDate",
    category,
    amount,
    currency,
    "isBillable",
    memo,
    _erp_expense_report_id,
    _customer,
    _engagement,
    _amount_at_stake,
    _currency,
    block_reason_code
from {{ ref('int_sync_erp_expenses') }}
where block_reason_code is not null and erp_system = 'netsuite'
