-- Rows of sync d365_expense_journal_lines that must not be pushed, each with its reason code, for the engine's exception queue.
select * from {{ ref('int_sync_d365_expense_journal_lines') }}
where block_reason_code is not null
