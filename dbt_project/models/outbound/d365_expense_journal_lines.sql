-- Sync d365_expense_journal_lines: the rows to push to Dynamics 365 Finance (see int_sync_d365_expense_journal_lines for the rules); rows that must not be pushed are in d365_expense_journal_lines_blocked.
{{ outbound_d365_expense_journal_lines() }}
