-- Sync d365_expense_journal_lines: the rows to push to Dynamics 365 Finance (see int_sync_d365_expense_journal_lines for the rules); rows that must not be pushed are in d365_expense_journal_lines_blocked.
select
    external_id,
    "dataAreaId",
    "JournalNumber",
    "LineNumber",
    "ProjectID",
    "Worker",
    "CategoryId",
    "TransactionDate",
    "Amount",
    "CurrencyCode",
    "LineProperty",
    "Text",
    "PshExternalId",
    _in_erp,
    _customer,
    _engagement,
    _amount_at_stake,
    _currency
from {{ ref('int_sync_d365_expense_journal_lines') }}
where block_reason_code is null
