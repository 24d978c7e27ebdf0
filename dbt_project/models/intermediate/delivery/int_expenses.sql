-- One row per PSA expense: amount (contract and reporting currency), engagement, and its ERP expense (a NetSuite
-- expense report or a Dynamics 365 Finance expense line, from the ERP role; erp_expense_report_id is its id there).
-- ERP match: the expense report's externalid is the PSA expense id; before the hub, the same person, engagement,
-- day and amount (pairs off one to one).
with expenses as (

    select * from {{ ref('int_psa_expenses') }}

),

keyed as (

    select
        expenses.*,
        project_keys.engagement_id,
        projects.psa_project_id is null                         as is_without_project,
        resources.erp_employee_id
    from expenses
    left join {{ ref('int_psa_projects') }} as projects using (psa_project_id)
    left join {{ ref('int_project_keys') }} as project_keys
        on project_keys.source_system in {{ psa_systems() }} and project_keys.project_id = expenses.psa_project_id
    left join {{ ref('int_resources_matched') }} as resources on resources.psa_user_id = expenses.psa_user_id

),

reports as (

    select reports.*, reports.erp_expense_id as erp_expense_report_id, project_keys.engagement_id
    from {{ ref('int_erp_expense_transactions') }} as reports
    left join {{ ref('int_project_keys') }} as project_keys
        on project_keys.source_system = reports.erp_system and project_keys.project_id = reports.erp_project_id

),

by_external_id as (

    select external_id as psa_expense_id, erp_expense_report_id, 'external_id' as match_method, erp_system, erp_company
    from reports where external_id is not null

),

legacy_reports as (

    select *, row_number() over (partition by erp_employee_id, engagement_id, expense_date, amount order by erp_expense_report_id) as pair_number
    from reports where external_id is null and engagement_id is not null

),

legacy_expenses as (

    select *, row_number() over (partition by erp_employee_id, engagement_id, expense_date, amount order by psa_expense_id) as pair_number
    from keyed
    -- an anti-join, not `not in (subquery)`, which becomes a row-by-row scan once the set outgrows work_mem
    where engagement_id is not null
      and not exists (select 1 from by_external_id where by_external_id.psa_expense_id = keyed.psa_expense_id)

),

day_periods as (

    -- the accounting periods of each day with expenses, one per ERP and company: the range join on the few distinct
    -- days, then an equi-join by day. Joined by range to every expense, it compared each expense with every period
    -- of its ERP (700k comparisons at medium scale, a quarter of this model's time)
    select days.work_date, periods.erp_system, periods.erp_company, periods.erp_accounting_period_id, periods.is_closed
    from (select distinct expense_date as work_date from keyed) as days
    join {{ ref('int_accounting_periods') }} as periods
        on days.work_date between periods.start_date and periods.end_date

),

matched as (

    select * from by_external_id
    union all
    select legacy_expenses.psa_expense_id, legacy_reports.erp_expense_report_id, 'rule', legacy_reports.erp_system,
           legacy_reports.erp_company
    from legacy_expenses
    join legacy_reports using (erp_employee_id, engagement_id, expense_date, amount, pair_number)

)

select
    keyed.psa_expense_id,
    keyed.psa_system,
    keyed.psa_project_id,
    keyed.engagement_id,
    engagements.erp_project_id,
    keyed.psa_user_id,
    keyed.erp_employee_id,
    keyed.category,
    keyed.notes,
    keyed.currency_code,
    keyed.amount,
    rates.rate_to_reporting,
    coalesce(keyed.is_billable, false)                          as is_billable,
    coalesce(keyed.is_approved, false)                          as is_approved,
    coalesce(keyed.is_invoiced, false)                          as is_invoiced,
    keyed.is_without_project,
    keyed.expense_date,
    date_trunc('month', keyed.expense_date)::date               as expense_month,
    periods.erp_accounting_period_id,
    coalesce(periods.is_closed, false)                          as is_period_closed,
    matched.erp_expense_report_id,
    matched.match_method                                        as erp_posting_match,
    matched.erp_system                                          as erp_posting_system,
    matched.erp_company                                         as erp_posting_company,
    matched.erp_expense_report_id is not null                   as is_posted_to_erp,
    case when keyed.is_approved and keyed.is_billable then keyed.amount else 0 end as approved_billable_amount,
    case when keyed.is_approved then keyed.amount else 0 end    as approved_amount,
    keyed.created_at,
    keyed.updated_at,
    keyed.load_id                                               -- the landing of its PSA row (int_sync_erp_record_routes)
from keyed
left join (select distinct on (psa_expense_id) * from matched order by psa_expense_id, erp_expense_report_id) as matched
    using (psa_expense_id)
left join {{ ref('int_engagements_keyed') }} as engagements on engagements.engagement_id = keyed.engagement_id
-- the period of the ERP and company the expense is posted to, else of the one its entity posts to on its day
{{ posting_period_join('periods', 'keyed.engagement_id', 'keyed.expense_date', 'matched.erp_system',
                       'matched.erp_company', day_periods='day_periods') }}
left join {{ ref('int_exchange_rates_daily') }} as rates
    on rates.currency_code = keyed.currency_code and rates.calendar_date = keyed.expense_date
