-- One row per month, legal entity and practice: the portfolio KPIs analysts trend, in reporting currency.
-- order-to-start = average days closed-won -> project in ERP and PSA, of deals won that month; billing cycle time =
-- average days from the end of the work month to the invoice date, of invoices issued that month; utilization =
-- approved billable hours / capacity of the people of that legal entity; margin % = (recognized - cost) / recognized.
-- DSO is not a monthly figure here: it is each customer's, at the as-of date, in customer_collections.
with engagements as (

    select * from {{ ref('engagements') }}

),

monthly as (

    select
        monthly.month_start,
        engagements.legal_entity,
        engagements.practice,
        sum(monthly.recognized_revenue * engagements.recognized_revenue_reporting / nullif(engagements.recognized_revenue, 0)) as recognized_revenue_reporting_approx,
        sum(monthly.recognized_revenue)                             as recognized_revenue,
        sum(monthly.project_cost)                                   as project_cost,
        sum(monthly.billed_amount)                                  as billed_amount,
        sum(monthly.delivered_amount)                               as delivered_amount
    from {{ ref('engagement_monthly') }} as monthly
    join engagements using (engagement_id)
    group by 1, 2, 3

),

won as (

    select date_trunc('month', closed_won_date)::date as month_start, legal_entity, practice,
           count(*) as deals_won, sum(sold_amount_reporting) as sold_amount_reporting,
           avg(order_to_start_days) as avg_order_to_start_days
    from engagements
    group by 1, 2, 3

),

billing_cycle as (

    select date_trunc('month', invoices.invoice_date)::date as month_start, engagements.legal_entity, engagements.practice,
           avg(invoices.invoice_date - (date_trunc('month', invoices.invoice_date) - interval '1 day')::date) as avg_billing_cycle_days
    from {{ ref('invoices') }} as invoices
    join engagements using (engagement_id)
    where invoices.invoice_type = 'invoice'
    group by 1, 2, 3

),

utilization as (

    select date_trunc('month', week_start)::date as month_start, legal_entity,
           sum(approved_billable_hours) / nullif(sum(capacity_hours), 0) as billable_utilization
    from {{ ref('resource_utilization_weekly') }}
    group by 1, 2

),

keys as (

    select month_start, legal_entity, practice from monthly
    union select month_start, legal_entity, practice from won

)

select
    to_char(keys.month_start, 'YYYY-MM') || ':' || coalesce(keys.legal_entity, '?') || ':' || coalesce(keys.practice, '?') as rollup_id,
    keys.month_start,
    keys.legal_entity,
    keys.practice,
    coalesce(won.deals_won, 0)                                      as deals_won,
    round(coalesce(won.sold_amount_reporting, 0), 2)                as sold_amount_reporting,
    round(won.avg_order_to_start_days, 1)                           as avg_order_to_start_days,
    round(billing_cycle.avg_billing_cycle_days, 1)                  as avg_billing_cycle_days,
    round(coalesce(monthly.recognized_revenue, 0), 2)               as recognized_revenue_contract_currency,
    round(coalesce(monthly.recognized_revenue_reporting_approx, 0), 2) as recognized_revenue_reporting,
    round(coalesce(monthly.project_cost, 0), 2)                     as project_cost_contract_currency,
    round((monthly.recognized_revenue - monthly.project_cost) / nullif(monthly.recognized_revenue, 0), 4) as margin_pct,
    round(utilization.billable_utilization, 4)                      as billable_utilization
from keys
left join monthly using (month_start, legal_entity, practice)
left join won using (month_start, legal_entity, practice)
left join billing_cycle using (month_start, legal_entity, practice)
left join utilization using (month_start, legal_entity)
