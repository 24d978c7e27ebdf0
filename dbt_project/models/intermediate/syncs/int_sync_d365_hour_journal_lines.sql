-- Candidates of sync d365_hour_journal_lines: the approved billable time of int_sync_erp_time_bills routed to
-- Dynamics 365 Finance (the entry's legal entity posts there on its work date), as project hour journal lines of the
-- entity's company, keyed by (dataAreaId, JournalNumber, LineNumber): one hub journal a company and month
-- (PSH-HRS-YYYY-MM), the line numbered by the PSA time entry id, so that a retry meets the line it made. A line
-- already in Dynamics with the entry's id (PshExternalId) keeps its journal and line number: updated, not doubled.
-- Entity: "Project hour journal lines" (ProjJournalTransEntity, Common Data Model operationsCommon
-- ProjectManagementAndAccounting: ProjectID, LineNumber, LineProperty, Category, ...); the entity set name
-- ProjectHourJournalLines is this project's choice (sandbox/dynamics.py).
with candidates as (

    select * from {{ ref('int_sync_erp_time_bills') }} as source_rows
    where source_rows.erp_system = 'dynamics'
      and not {{ d365_held_by_netsuite('erp_time_bills', 'int_erp_time_transactions', 'source_rows.external_id', 'source_rows._erp_time_bill_id') }}

),

landed as (

    -- the line the record already is in Dynamics (its landed id is dataAreaId|JournalNumber|LineNumber)
    select distinct on (external_id, erp_company)
        external_id, erp_company, split_part(erp_time_id, '|', 2) as journal_number, split_part(erp_time_id, '|', 3)::bigint as line_number
    from {{ ref('int_erp_time_transactions') }}
    where erp_system = 'dynamics' and external_id is not null
    order by external_id, erp_company, erp_time_id

)

select
    candidates.external_id,
    candidates.erp_company                                      as "dataAreaId",
    coalesce(landed.journal_number, 'PSH-HRS-' || to_char(candidates."tranDate", 'YYYY-MM')) as "JournalNumber",
    coalesce(landed.line_number, {{ d365_line_number('candidates.external_id') }}) as "LineNumber",
    projects.project_code                                       as "ProjectID",
    {{ d365_worker('candidates.employee') }}                    as "Worker",
    items.d365_category_id                                      as "CategoryId",
    candidates."tranDate"                                       as "TransactionDate",
    candidates.hours                                            as "Hours",
    candidates.rate                                             as "SalesPrice",
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
                         'items.d365_category_id', 'candidates.erp_company', 'candidates."tranDate"',
                         "'unapproved_time', 'time_without_date', 'time_without_hours', 'negative_rate', 'time_without_engagement'") }}
                                                                as block_reason_code
from candidates
left join landed on landed.external_id = candidates.external_id and landed.erp_company = candidates.erp_company
left join {{ d365_project_codes() }} as projects
    on projects.engagement_id = candidates._engagement and projects.data_area_id = candidates.erp_company
left join {{ ref('role_service_items') }} as items on items.erp_item_id = candidates.item
