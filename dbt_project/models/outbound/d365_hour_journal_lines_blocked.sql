-- Rows of sync d365_hour_journal_lines that must not be pushed, each with its reason code, for the engine's exception queue.
select
    external_id,
    "dataAreaId",
    "JournalNumber",
    "LineNumber",
    "ProjectID",
    "Worker",
    "CategoryId",
    "TransactionDate",
    "Hours",
    "SalesPrice",
    "CurrencyCode",
    "LineProperty",
    "Text",
    "PshExternalId",
    _in_erp,
    _customer,
    _engagement,
    _amount_at_stake,
    _currency,
    block_reason_code
from {{ ref('int_sync_d365_hour_journal_lines') }}
where block_reason_code is not null
