-- One row per engagement and calendar month from its first activity to the as-of month: hours, delivered,
-- cost, billed, collected and recognized revenue in that month (contract currency), and cumulative recognized.
-- Recognized in a month, by billing model: T&M = approved billable work of the month at bill rate + approved
-- billable expenses; fixed fee = contract value x the month's increase in percent complete by hours;
-- milestone = milestones completed in the month; retainer = contract value / service months, in each service month.
with engagements as (

    select * from {{ ref('engagements') }}

),

time_monthly as (

    select
        engagement_id, work_month as month_start,
        approved_hours,
        approved_billable_hours,
        approved_bill_value                                         as delivered_labor_value,
        approved_cost_value                                         as labor_cost
    from {{ ref('int_time_engagement_months') }}

),

expense_monthly as (

    select engagement_id, expense_month as month_start,
           sum(approved_billable_amount) as delivered_expense_amount, sum(approved_amount) as expense_cost
    from {{ ref('int_expenses') }}
    where engagement_id is not null
    group by 1, 2

),

billed_monthly as (

    select engagement_id, date_trunc('month', invoice_date)::date as month_start, sum(amount) as billed_amount
    from {{ ref('int_invoices') }}
    where engagement_id is not null
    group by 1, 2

),

collected_monthly as (

    select invoices.engagement_id, date_trunc('month', applications.applied_date)::date as month_start,
           sum(applications.amount_applied) as collected_amount
    from {{ ref('int_payment_applications') }} as applications
    join {{ ref('int_invoices') }} as invoices using (erp_invoice_id)
    where applications.application_type = 'payment' and invoices.engagement_id is not null
    group by 1, 2

),

milestone_monthly as (

    select engagements.engagement_id,
           date_trunc('month', least(coalesce(stories.due_date, stories.updated_at::date), stories.updated_at::date))::date as month_start,
           sum(stories.budget_estimate_amount) as completed_milestone_amount
    from {{ ref('int_psa_tasks') }} as stories
    join engagements on engagements.psa_project_id = stories.psa_project_id
    where stories.story_type = 'milestone' and stories.state = 'completed'
    group by 1, 2

),

months as (

    select distinct engagements.engagement_id, calendar.month_start
    from engagements
    join {{ ref('int_calendar_days') }} as calendar
        on calendar.calendar_date between date_trunc('month', least(engagements.closed_won_date, engagements.start_date))
                                   and engagements.as_of_date
        and calendar.calendar_date = calendar.month_start

),

joined as (

    select
        months.engagement_id,
        months.month_start,
        engagements.billing_model,
        engagements.sold_amount,
        engagements.budgeted_hours,
        engagements.start_date,
        engagements.end_date,
        coalesce(time_monthly.approved_hours, 0)                    as approved_hours,
        coalesce(time_monthly.approved_billable_hours, 0)           as approved_billable_hours,
        coalesce(time_monthly.delivered_labor_value, 0)             as delivered_labor_value,
        coalesce(expense_monthly.delivered_expense_amount, 0)       as delivered_expense_amount,
        coalesce(time_monthly.labor_cost, 0)                        as labor_cost,
        coalesce(expense_monthly.expense_cost, 0)                   as expense_cost,
        coalesce(billed_monthly.billed_amount, 0)                   as billed_amount,
        coalesce(collected_monthly.collected_amount, 0)             as collected_amount,
        coalesce(milestone_monthly.completed_milestone_amount, 0)   as completed_milestone_amount,
        sum(coalesce(time_monthly.approved_hours, 0)) over (
            partition by months.engagement_id order by months.month_start)    as cumulative_approved_hours
    from months
    join engagements using (engagement_id)
    left join time_monthly using (engagement_id, month_start)
    left join expense_monthly using (engagement_id, month_start)
    left join billed_monthly using (engagement_id, month_start)
    left join collected_monthly using (engagement_id, month_start)
    left join milestone_monthly using (engagement_id, month_start)

),

recognized as (

    select
        joined.*,
        round(case billing_model
            when 'time_and_materials' then delivered_labor_value + delivered_expense_amount
            when 'fixed_fee' then sold_amount * (
                least(cumulative_approved_hours / nullif(budgeted_hours, 0), 1)
                - least((cumulative_approved_hours - approved_hours) / nullif(budgeted_hours, 0), 1))
            when 'milestone' then completed_milestone_amount
            when 'retainer' then case when month_start between date_trunc('month', start_date) and end_date
                then sold_amount / nullif(
                    (extract(year from end_date) * 12 + extract(month from end_date))
                    - (extract(year from start_date) * 12 + extract(month from start_date)) + 1, 0) end
        end, 2)                                                     as recognized_revenue
    from joined

)

select
    engagement_id || ':' || to_char(month_start, 'YYYY-MM')         as engagement_month_id,
    engagement_id,
    month_start,
    billing_model,
    approved_hours,
    approved_billable_hours,
    round(delivered_labor_value + delivered_expense_amount, 2)      as delivered_amount,
    round(labor_cost + expense_cost, 2)                             as project_cost,
    round(billed_amount, 2)                                         as billed_amount,
    round(collected_amount, 2)                                      as collected_amount,
    coalesce(recognized_revenue, 0)                                 as recognized_revenue,
    sum(coalesce(recognized_revenue, 0)) over (partition by engagement_id order by month_start) as cumulative_recognized_revenue,
    round(coalesce(recognized_revenue, 0) - (labor_cost + expense_cost), 2) as margin_amount
from recognized
