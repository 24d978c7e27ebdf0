-- One row per engagement: every input the engagement KPIs need, summed from the three systems, in contract
-- currency (and in reporting currency where a transaction date fixes the rate). No KPI formula lives here:
-- the marts' engagements model applies them (docs/kpis.md), so each formula is unit-tested on its own.
with engagements as (

    select * from {{ ref('int_engagements_keyed') }}

),

opportunities as (

    select * from {{ ref('int_crm_opportunities') }}

),

sold_hours as (

    select crm_opportunity_id, sum(quantity_hours) as sold_hours, count(*) as line_items
    from {{ ref('int_crm_opportunity_lines') }}
    group by 1

),

time_facts as (

    select
        engagement_id,
        sum(approved_hours)                                             as approved_hours,
        sum(approved_billable_hours)                                    as approved_billable_hours,
        sum(approved_bill_value)                                        as approved_labor_value,
        sum(approved_bill_value_reporting)                              as approved_labor_value_reporting,
        sum(approved_standard_value)                                    as approved_standard_value,
        sum(approved_cost_value)                                        as labor_cost,
        sum(approved_cost_value_reporting)                              as labor_cost_reporting,
        min(first_approved_work_date)                                   as first_approved_work_date
    from {{ ref('int_time_engagement_months') }}  -- the time entries, summed by month
    group by 1

),

expense_facts as (

    select
        engagement_id,
        sum(approved_billable_amount)                                   as approved_billable_expenses,
        sum(approved_billable_amount * rate_to_reporting)               as approved_billable_expenses_reporting,
        sum(approved_amount)                                            as approved_expenses,
        sum(approved_amount * rate_to_reporting)                        as approved_expenses_reporting
    from {{ ref('int_expenses') }}
    where engagement_id is not null
    group by 1

),

staffing as (

    select
        engagement_id,
        sum(allocated_hours)                                            as staffed_hours,
        sum(allocated_hours * bill_rate)                                as staffed_value,
        sum(remaining_hours)                                            as remaining_scheduled_hours,
        sum(remaining_hours * bill_rate)                                as remaining_scheduled_value
    from {{ ref('int_allocations') }}
    where engagement_id is not null
    group by 1

),

milestones as (

    select
        project_keys.engagement_id,
        sum(stories.budget_estimate_amount)                             as milestone_amount,
        sum(stories.budget_estimate_amount) filter (where stories.state = 'completed') as completed_milestone_amount,
        sum(stories.time_estimate_minutes) / 60.0                       as estimated_hours
    from {{ ref('int_psa_tasks') }} as stories
    join {{ ref('int_project_keys') }} as project_keys
        on project_keys.source_system in {{ psa_systems() }} and project_keys.project_id = stories.psa_project_id
    where stories.story_type = 'milestone' or stories.time_estimate_minutes is not null
    group by 1

),

erp_projects as (

    select projects.erp_project_id, projects.created_date, statuses.canonical_status
    from {{ ref('int_erp_projects') }} as projects
    left join {{ ref('status_mappings') }} as statuses
        on statuses.source_system = projects.erp_system and statuses.status_value = projects.status_name

)

select
    engagements.engagement_id,
    engagements.crm_opportunity_id,
    engagements.crm_account_id,
    customers.customer_id,
    customers.erp_customer_id,
    engagements.erp_project_id,
    engagements.erp_match_method,
    engagements.erp_candidate_count,
    engagements.psa_project_id,
    engagements.psa_match_method,
    engagements.psa_candidate_count,
    customers.customer_name,
    opportunities.opportunity_name                                      as engagement_name,
    coalesce(legal_entities.legal_entity, customers.legal_entity)       as legal_entity,
    opportunities.legal_entity                                          as crm_legal_entity,
    opportunities.service_line,
    coalesce(service_lines.practice, 'Unassigned')                      as practice,
    billing_models.billing_model,
    opportunities.billing_model                                         as crm_billing_model,
    opportunities.currency_code                                         as contract_currency,
    opportunities.close_date                                            as closed_won_date,
    opportunities.start_date,
    opportunities.end_date,
    coalesce(psa_projects.canonical_status, erp_projects.canonical_status, 'proposed') as canonical_status,
    psa_projects.status_name                                            as psa_status,
    coalesce(psa_projects.is_credit_hold_flagged, false)                as is_psa_credit_hold_flagged,
    erp_projects.created_date                                           as erp_project_created_on,
    psa_projects.created_at                                             as psa_project_created_at,
    coalesce(opportunities.amount, 0)                                   as sold_amount,
    sold_rates.rate_to_reporting                                        as sold_rate_to_reporting,
    as_of_rates.rate_to_reporting                                       as as_of_rate_to_reporting,
    coalesce(sold_hours.line_items, 0)                                  as line_items,
    sold_hours.sold_hours,
    coalesce(sold_hours.sold_hours, milestones.estimated_hours)         as budgeted_hours,
    psa_projects.contract_amount                                        as psa_budget_amount,
    psa_projects.budget_used_amount                                     as psa_budget_used_amount,
    coalesce(staffing.staffed_hours, 0)                                 as staffed_hours,
    coalesce(staffing.staffed_value, 0)                                 as staffed_value,
    coalesce(staffing.remaining_scheduled_hours, 0)                     as remaining_scheduled_hours,
    coalesce(staffing.remaining_scheduled_value, 0)                     as remaining_scheduled_value,
    coalesce(time_facts.approved_hours, 0)                              as approved_hours,
    coalesce(time_facts.approved_billable_hours, 0)                     as approved_billable_hours,
    coalesce(time_facts.approved_labor_value, 0)                        as approved_labor_value,
    coalesce(time_facts.approved_labor_value_reporting, 0)              as approved_labor_value_reporting,
    coalesce(time_facts.approved_standard_value, 0)                     as approved_standard_value,
    coalesce(time_facts.labor_cost, 0)                                  as labor_cost,
    coalesce(time_facts.labor_cost_reporting, 0)                        as labor_cost_reporting,
    time_facts.first_approved_work_date,
    coalesce(expense_facts.approved_billable_expenses, 0)               as approved_billable_expenses,
    coalesce(expense_facts.approved_billable_expenses_reporting, 0)     as approved_billable_expenses_reporting,
    coalesce(expense_facts.approved_expenses, 0)                        as approved_expenses,
    coalesce(expense_facts.approved_expenses_reporting, 0)              as approved_expenses_reporting,
    coalesce(milestones.milestone_amount, 0)                            as milestone_amount,
    coalesce(milestones.completed_milestone_amount, 0)                  as completed_milestone_amount,
    coalesce(invoice_facts.billed_amount, 0)                            as billed_amount,
    coalesce(invoice_facts.billed_amount_reporting, 0)                  as billed_amount_reporting,
    coalesce(invoice_facts.credit_memo_amount, 0)                       as credit_memo_amount,
    invoice_facts.first_invoice_date,
    coalesce(invoice_facts.collected_amount, 0)                         as collected_amount,
    coalesce(invoice_facts.collected_amount_reporting, 0)               as collected_amount_reporting,
    invoice_facts.last_payment_date
from engagements
join opportunities on opportunities.crm_opportunity_id = engagements.crm_opportunity_id
left join {{ ref('int_customers_matched') }} as customers on customers.crm_account_id = engagements.crm_account_id
left join {{ ref('legal_entities') }} as legal_entities on legal_entities.legal_entity = opportunities.legal_entity
left join {{ ref('service_lines') }} as service_lines on service_lines.service_line = opportunities.service_line
left join {{ ref('billing_models') }} as billing_models on billing_models.crm_value = opportunities.billing_model
left join {{ ref('int_psa_projects') }} as psa_projects on psa_projects.psa_project_id = engagements.psa_project_id
left join erp_projects on erp_projects.erp_project_id = engagements.erp_project_id
left join sold_hours on sold_hours.crm_opportunity_id = engagements.crm_opportunity_id
left join time_facts using (engagement_id)
left join expense_facts using (engagement_id)
left join staffing using (engagement_id)
left join {{ ref('int_engagement_billing') }} as invoice_facts using (engagement_id)
left join milestones using (engagement_id)
left join {{ ref('int_exchange_rates_daily') }} as sold_rates
    on sold_rates.currency_code = opportunities.currency_code and sold_rates.calendar_date = opportunities.close_date
left join {{ ref('int_exchange_rates_daily') }} as as_of_rates
    on as_of_rates.currency_code = opportunities.currency_code
    and as_of_rates.calendar_date = (select as_of_date from {{ ref('int_as_of_date') }})
