-- One row per engagement (a closed-won CRM opportunity = one ERP project = one PSA project) with the KPIs of
-- docs/kpis.md. Inputs come summed from int_engagement_facts; every formula is here, once.
with facts as (

    select * from {{ ref('int_engagement_facts') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

recognition as (

    select
        facts.*,
        as_of.as_of_date,
        -- retainer: whole service months from the start month to the end month
        case when facts.start_date is not null and facts.end_date is not null then
            (extract(year from facts.end_date) * 12 + extract(month from facts.end_date))
            - (extract(year from facts.start_date) * 12 + extract(month from facts.start_date)) + 1
        end                                                             as service_months,
        case when facts.start_date is not null and facts.end_date is not null then
            greatest(0, least(
                (extract(year from as_of.as_of_date) * 12 + extract(month from as_of.as_of_date))
                - (extract(year from facts.start_date) * 12 + extract(month from facts.start_date)) + 1,
                (extract(year from facts.end_date) * 12 + extract(month from facts.end_date))
                - (extract(year from facts.start_date) * 12 + extract(month from facts.start_date)) + 1))
        end                                                             as service_months_elapsed,
        least(facts.approved_hours / nullif(facts.budgeted_hours, 0), 1.0) as percent_complete_by_hours
    from facts
    cross join as_of

),

kpis as (

    select
        recognition.*,
        facts_delivered.delivered_amount,
        round(case recognition.billing_model
            when 'time_and_materials' then recognition.approved_labor_value + recognition.approved_billable_expenses
            when 'fixed_fee' then recognition.sold_amount * coalesce(recognition.percent_complete_by_hours, 0)
            when 'milestone' then recognition.completed_milestone_amount
            when 'retainer' then recognition.sold_amount * recognition.service_months_elapsed / nullif(recognition.service_months, 0)
        end, 2)                                                         as recognized_revenue
    from recognition
    cross join lateral (
        select recognition.approved_labor_value + recognition.approved_billable_expenses as delivered_amount
    ) as facts_delivered

)

select
    -- ids and keys
    engagement_id,
    crm_opportunity_id,
    crm_account_id,
    customer_id,
    erp_customer_id,
    erp_project_id,
    psa_project_id,
    erp_match_method,
    psa_match_method,

    -- descriptors
    customer_name,
    engagement_name,
    legal_entity,
    practice,
    service_line,
    billing_model,
    contract_currency,
    {{ reporting_currency() }}::text                                    as reporting_currency,
    canonical_status,
    psa_status,

    -- dates
    as_of_date,
    closed_won_date,
    start_date,
    end_date,
    erp_project_created_on,
    psa_project_created_at,
    first_approved_work_date,
    first_invoice_date,
    last_payment_date,
    case when erp_project_created_on is not null and psa_project_created_at is not null
         then greatest(erp_project_created_on, psa_project_created_at::date) - closed_won_date end
                                                                        as order_to_start_days,
    first_approved_work_date - closed_won_date                          as order_to_first_time_days,

    -- sold, staffed, delivered (contract currency)
    sold_amount,
    round(sold_amount * sold_rate_to_reporting, 2)                      as sold_amount_reporting,
    sold_hours,
    budgeted_hours,
    staffed_hours,
    round(staffed_value, 2)                                             as staffed_value,
    approved_hours,
    approved_billable_hours,
    round(approved_labor_value, 2)                                      as delivered_labor_value,
    round(approved_billable_expenses, 2)                                as delivered_expense_amount,
    round(delivered_amount, 2)                                          as delivered_amount,
    round(approved_labor_value_reporting + approved_billable_expenses_reporting, 2) as delivered_amount_reporting,

    -- billed, recognized, collected
    round(billed_amount, 2)                                             as billed_amount,
    round(billed_amount_reporting, 2)                                   as billed_amount_reporting,
    round(credit_memo_amount, 2)                                        as credit_memo_amount,
    recognized_revenue,
    round(case when billing_model = 'time_and_materials'
               then approved_labor_value_reporting + approved_billable_expenses_reporting
               else recognized_revenue * as_of_rate_to_reporting end, 2) as recognized_revenue_reporting,
    round(collected_amount, 2)                                          as collected_amount,
    round(collected_amount_reporting, 2)                                as collected_amount_reporting,

    -- derived KPIs (docs/kpis.md)
    greatest(sold_amount - coalesce(recognized_revenue, 0), 0)          as backlog_amount,
    round(delivered_amount / nullif(sold_amount, 0), 4)                 as burn_pct,
    round(approved_hours / nullif(budgeted_hours, 0), 4)                as hours_burn_pct,
    round(percent_complete_by_hours, 4)                                 as percent_complete_by_hours,
    round(delivered_amount + remaining_scheduled_value, 2)              as estimate_at_completion,
    remaining_scheduled_hours,
    round(labor_cost, 2)                                                as labor_cost,
    round(approved_expenses, 2)                                         as expense_cost,
    round(labor_cost + approved_expenses, 2)                            as project_cost,
    round(labor_cost_reporting + approved_expenses_reporting, 2)        as project_cost_reporting,
    round(recognized_revenue - (labor_cost + approved_expenses), 2)     as margin_amount,
    round((recognized_revenue - (labor_cost + approved_expenses)) / nullif(recognized_revenue, 0), 4) as margin_pct,
    round(recognized_revenue - billed_amount, 2)                        as wip_amount,
    round(billed_amount / nullif(approved_standard_value + approved_billable_expenses, 0), 4) as realization_pct,
    round(recognized_revenue / nullif(approved_hours, 0), 2)            as effective_bill_rate,
    psa_budget_amount,
    psa_budget_used_amount,
    line_items
from kpis
