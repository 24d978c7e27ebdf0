-- Sync erp_expenses: the rows to push (see int_sync_erp_expenses for the rules); only rows routed to NetSuite (erp_system); rows that must not be pushed are in erp_expenses_blocked.
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
    _currency
from {{ ref('int_sync_erp_expenses') }}
where block_reason_code is null and erp_system = 'netsuite'
