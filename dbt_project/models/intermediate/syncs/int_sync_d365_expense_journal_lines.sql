-- Candidates of sync d365_expense_journal_lines: the approved billable expenses of int_sync_erp_expenses routed to
-- Dynamics 365 Finance (the expense's legal entity posts there on its date), as project expense journal lines of
-- the entity's company (macro d365_journal_lines: one hub journal PSH-EXP-YYYY-MM a company and month, the line
-- numbered by the PSA expense id; a line already there with the expense's id keeps its key).
-- Entity: "Project expense journal lines" (ExpenseJournalLineEntity, Common Data Model operationsCommon
-- ProjectManagementAndAccounting), entity set ExpenseJournalLines, keys dataAreaId, JournalBatchNumber, LineNumber; the
-- expense is its DebitAmount (sandbox/dynamics.py names the sources). PshExternalId is the firm's extension field.
{{ d365_journal_lines(
    'erp_expenses', 'int_sync_erp_expenses', 'int_erp_expense_transactions', 'erp_expense_id', '_erp_expense_report_id',
    'PSH-EXP', category='candidates.category', value_columns='candidates.amount as "DebitAmount"',
    category_check="'-'",
    names={'journal': 'JournalBatchNumber', 'project': 'ProjId', 'resource': 'ResourceId', 'category': 'ProjectCategory',
           'date': 'ProjectDate', 'currency': 'CurrencyCode', 'line_property': 'ProjectLineProperty', 'text': 'Text'},
    source_reasons="'unapproved_expense', 'expense_without_date', 'expense_without_amount', 'negative_amount', 'expense_without_project', 'expense_without_engagement'") }}
