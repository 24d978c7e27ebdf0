-- Candidates of sync d365_hour_journal_lines: the approved billable time of int_sync_erp_time_bills routed to
-- Dynamics 365 Finance (the entry's legal entity posts there on its work date), as project hour journal lines of the
-- entity's company (macro d365_journal_lines: one hub journal PSH-HRS-YYYY-MM a company and month, the line numbered
-- by the PSA time entry id; a line already in Dynamics with the entry's id keeps its key: updated, not doubled).
-- Entity: "Project hour journal lines" (ProjJournalTransEntity, Common Data Model operationsCommon
-- ProjectManagementAndAccounting), entity set JournalTrans, keys dataAreaId, JournalId, LineNumber (a client generated
-- from an environment's $metadata; sandbox/dynamics.py names the sources). PshExternalId is the firm's extension field.
{{ d365_journal_lines(
    'erp_time_bills', 'int_sync_erp_time_bills', 'int_erp_time_transactions', 'erp_time_id', '_erp_time_bill_id',
    'PSH-HRS', category='items.d365_category_id', watermark=true,
    value_columns='candidates.hours as "Hours", candidates.rate as "SalesPrice"',
    category_check='items.d365_category_id',
    names={'journal': 'JournalId', 'project': 'ProjectID', 'resource': 'ResourceId', 'category': 'Category',
           'date': 'ProjectDate', 'currency': 'CurrencyId', 'line_property': 'LineProperty', 'text': 'Description'},
    source_reasons="'unapproved_time', 'time_without_date', 'time_without_hours', 'negative_rate', 'time_without_engagement'",
    joins="left join " ~ ref('role_service_items') ~ " as items on items.erp_item_id = candidates.item") }}
