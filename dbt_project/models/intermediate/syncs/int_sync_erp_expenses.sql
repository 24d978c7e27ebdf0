-- Candidates of sync erp_expenses: one row per billable PSA expense of a client engagement not already in the
-- ERP by the pre-hub process, as a NetSuite expense report; external id = the PSA expense id.
-- erp_system, erp_company: the ERP and company the expense goes to: the one already holding it, else the one its
-- engagement's legal entity posts to on the expense date (int_erp_routes).
with expenses as (

    select * from {{ ref('int_expenses') }}
    where is_billable and coalesce(erp_posting_match, '') <> 'rule'

),

facts as (

    select * from {{ ref('int_engagement_facts') }}

)

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
        when facts.canonical_status = 'on_hold' then 'project_on_hold'
        when collections.is_credit_hold then 'customer_credit_hold'
        when currencies.erp_currency_id is null then 'unknown_currency'
    end                                                         as block_reason_code,
    {{ erp_route_columns('route', 'legal_entities.erp_subsidiary_id',
                         held_system='expenses.erp_posting_system', held_company='expenses.erp_posting_company') }}
from expenses
left join facts using (engagement_id)
left join {{ ref('int_sync_created_ids') }} as created
    on created.sync_name = 'erp_projects' and created.record_key = expenses.engagement_id
left join {{ ref('int_customer_collections') }} as collections on collections.customer_id = facts.customer_id
left join {{ ref('currencies') }} as currencies on currencies.currency_code = expenses.currency_code
left join {{ ref('legal_entities') }} as legal_entities on legal_entities.legal_entity = facts.legal_entity
{{ erp_route_join('route', 'facts.legal_entity', 'expenses.expense_date') }}
