-- Candidates of sync d365_expense_journal_lines: the approved billable expenses of int_sync_erp_expenses routed to
-- Dynamics 365 Finance (the expense's legal entity posts there on its date), as project expense journal lines of
-- the entity's company, keyed by (dataAreaId, JournalNumber, LineNumber): one hub journal a company and month
-- (PSH-EXP-YYYY-MM), the line numbered by the PSA expense id; a line already there with the expense's id
-- (PshExternalId) keeps its key.
-- Entity: "Project expense journal lines" (ExpenseJournalLineEntity, Common Data Model operationsCommon
-- ProjectManagementAndAccounting); the entity set name ProjectExpenseJournalLines is this project's choice.
with candidates as (

    select * from {{ ref('int_sync_erp_expenses') }} as source_rows
    where source_rows.erp_system = 'dynamics'
      and not {{ d365_held_by_netsuite('erp_expenses', 'int_erp_expense_transactions', 'source_rows.external_id', 'source_rows._erp_expense_report_id') }}

),

landed as (

    -- the line the record already is in Dynamics (its landed id is dataAreaId|JournalNumber|LineNumber)
    select distinct on (external_id, erp_company)
        external_id, erp_company, split_part(erp_expense_id, '|', 2) as journal_number, split_part(erp_expense_id, '|', 3)::bigint as line_number
    from {{ ref('int_erp_expense_transactions') }}
    where erp_system = 'dynamics' and external_id is not null
    order by external_id, erp_company, erp_expense_id

)

select
    candidates.external_id,
    candidates.erp_company                                      as "dataAreaId",
    coalesce(landed.journal_number, 'PSH-EXP-' || to_char(candidates."tranDate", 'YYYY-MM')) as "JournalNumber",
    coalesce(landed.line_number, {{ d365_line_number('candidates.external_id') }}) as "LineNumber",
    projects.project_code                                       as "ProjectID",
    {{ d365_worker('candidates.employee') }}                    as "Worker",
    candidates.category                                         as "CategoryId",
    candidates."tranDate"                                       as "TransactionDate",
    candidates.amount                                           as "Amount",
    candidates._currency                                        as "CurrencyCode",
    'Chargeable'                                                as "LineProperty",
    candidates.memo                                             as "Text",
    candidates.external_id                                      as "PshExternalId",
    landed.journal_number is not null                           as _in_erp,
    candidates._customer,
    candidates._engagement,
    candidates._amount_at_stake,
    candidates._currency,
    {{ d365_block_reason('candidates.block_reason_code', 'candidates._hold_reason_code', 'projects.project_code', 'candidates.employee',
                         "'-'", 'candidates.erp_company', 'candidates."tranDate"',
                         "'unapproved_expense', 'expense_without_date', 'expense_without_amount', 'negative_amount', 'expense_without_project', 'expense_without_engagement'") }}
                                                                as block_reason_code
from candidates
left join landed on landed.external_id = candidates.external_id and landed.erp_company = candidates.erp_company
left join {{ d365_project_codes() }} as projects
    on projects.engagement_id = candidates._engagement and projects.data_area_id = candidates.erp_company
