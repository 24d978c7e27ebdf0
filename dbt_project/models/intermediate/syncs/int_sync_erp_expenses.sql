-- Candidates of sync erp_expenses: one row per billable PSA expense of a client engagement not already in the
-- ERP by the pre-hub process, as a NetSuite expense report; external id = the PSA expense id.
-- erp_system, erp_company: the ERP and company the expense goes to (int_sync_erp_record_routes, which says which
-- expenses). _hold_reason_code: the first reason after the ERP's own (as int_sync_erp_time_bills).
with expenses as (

    select expenses.*, routed.erp_system, routed.erp_company, routed._load_watermark
    from {{ ref('int_sync_erp_record_routes') }} as routed
    join {{ ref('int_expenses') }} as expenses on expenses.psa_expense_id = routed.record_id
    where routed.sync_name = 'erp_expenses'

),

facts as (

    select * from {{ ref('int_engagement_facts') }}

),

candidates as (

    select
        expenses.psa_expense_id                                     as external_id,
        expenses.erp_employee_id                                    as employee,
        coalesce(expenses.erp_project_id, created.destination_id)   as entity,
        expenses.expense_date                                       as "tranDate",
        expenses.category                                           as category,
        expenses.amount                                             as amount,
        currencies.erp_currency_id                                  as currency,
        true                                                        as "isBillable",
        expenses.notes                                              as memo,
        -- NetSuite's expense report to update (a record another ERP holds is that ERP's sync's)
        case when expenses.erp_posting_system = 'netsuite' then expenses.erp_expense_report_id end as _erp_expense_report_id,
        facts.customer_name                                         as _customer,
        expenses.engagement_id                                      as _engagement,
        expenses.amount                                             as _amount_at_stake,
        expenses.currency_code                                      as _currency,
        expenses._load_watermark,  -- the load that landed the expense (int_sync_erp_record_routes)
        case
            when not expenses.is_approved then 'unapproved_expense'
            when expenses.expense_date is null then 'expense_without_date'
            when expenses.amount is null then 'expense_without_amount'
            -- an expense report is a charge: a refund or correction is a credit, entered in the ERP by hand
            when expenses.amount < 0 then 'negative_amount'
            when expenses.is_without_project then 'expense_without_project'
            when expenses.engagement_id is null then 'expense_without_engagement'
            when coalesce(expenses.erp_project_id, created.destination_id) is null then 'engagement_not_in_erp'
            when expenses.erp_employee_id is null then 'employee_not_in_erp'
            when expenses.is_period_closed then 'closed_period'
        end                                                         as _record_reason_code,
        case
            when facts.canonical_status = 'on_hold' then 'project_on_hold'
            when collections.is_credit_hold then 'customer_credit_hold'
            when currencies.erp_currency_id is null then 'unknown_currency'
        end                                                         as _hold_reason_code,
        expenses.erp_system,
        expenses.erp_company
    from expenses
    left join facts using (engagement_id)
    left join {{ ref('int_sync_created_ids') }} as created
        on created.sync_name = 'erp_projects' and created.record_key = expenses.engagement_id
    left join {{ ref('int_customer_collections') }} as collections on collections.customer_id = facts.customer_id
    left join {{ ref('currencies') }} as currencies on currencies.currency_code = expenses.currency_code

)

select candidates.*, coalesce(_record_reason_code, _hold_reason_code) as block_reason_code
from candidates
