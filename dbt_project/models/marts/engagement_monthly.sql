-- One row per engagement and calendar month from its first activity to the as-of month: hours, delivered,
-- cost, billed, collected and recognized revenue in that month (contract currency), and cumulative recognized.
-- Recognized in a month, by billing model: T&M = approved billable work of the month at bill rate + approved
-- billable expenses; fixed fee = contract value x the month's increase in percent complete by hours;
-- milestone = milestones completed in the month; retainer = contract value / service months, in each service month.
--
-- Incremental (delete+insert by engagement): a build recomputes, whole (the cumulative columns run over every month),
-- exactly the engagements whose inputs changed: int_engagement_month_inputs holds each engagement's terms and monthly
-- inputs and rewrites those that differ, so the engagements it wrote since the last successful build finished are the
-- ones to recompute, with those held here that it no longer holds (gone). Each also gets one row with no month, so that delete+insert drops the months it had even when it
-- has none left (an engagement gone); the post-hook removes it. So a full refresh and an incremental build give the
-- same rows (tested in tests/dbt). Each row is stamped with the time it was written (_written_at): an incremental
-- build's data tests check the rows written since the last successful build (macros/test_where.sql).
{{ config(
    materialized='incremental',
    unique_key='engagement_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    indexes=[{'columns': ['engagement_id', 'month_start']}, {'columns': ['_written_at']}],
    post_hook="delete from {{ this }} where month_start is null"
) }}

with {% if is_incremental() %}recomputed as (

    select engagement_id from {{ ref('int_engagement_month_inputs') }}
    where _written_at > {{ last_good_build_finished_at() }}
    union
    -- the engagements held here, each found through this table's index on (engagement, month), the next after the
    -- one before (a lookup per engagement, not a read of every row), that are no longer there
    select engagement_id from ({{ keys_held_in(this, 'engagement_id') }}) as held
    where not exists (select 1 from {{ ref('int_engagement_month_inputs') }} as inputs
                      where inputs.engagement_id = held.engagement_id)

),

{% endif %}inputs as (

    select * from {{ ref('int_engagement_month_inputs') }}
    {% if is_incremental() %}where engagement_id in (select engagement_id from recomputed){% endif %}

),

engagements as (

    select engagement_id, billing_model, sold_amount, budgeted_hours, start_date, end_date, first_month, as_of_month
    from inputs where row_kind = 'terms'

),

monthly as (

    -- the month's time and its other inputs, each a row of its own there
    select
        engagement_id,
        month_start,
        sum(approved_hours)                                         as approved_hours,
        sum(approved_billable_hours)                                as approved_billable_hours,
        sum(delivered_labor_value)                                  as delivered_labor_value,
        sum(labor_cost)                                             as labor_cost,
        sum(delivered_expense_amount)                               as delivered_expense_amount,
        sum(expense_cost)                                           as expense_cost,
        sum(billed_amount)                                          as billed_amount,
        sum(collected_amount)                                       as collected_amount,
        sum(completed_milestone_amount)                             as completed_milestone_amount
    from inputs
    where row_kind in ('time', 'other')
    group by engagement_id, month_start

),

months as (

    select distinct engagements.engagement_id, calendar.month_start
    from engagements
    join {{ ref('int_calendar_days') }} as calendar
        on calendar.calendar_date between engagements.first_month and engagements.as_of_month
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
        coalesce(monthly.approved_hours, 0)                         as approved_hours,
        coalesce(monthly.approved_billable_hours, 0)                as approved_billable_hours,
        coalesce(monthly.delivered_labor_value, 0)                  as delivered_labor_value,
        coalesce(monthly.delivered_expense_amount, 0)               as delivered_expense_amount,
        coalesce(monthly.labor_cost, 0)                             as labor_cost,
        coalesce(monthly.expense_cost, 0)                           as expense_cost,
        coalesce(monthly.billed_amount, 0)                          as billed_amount,
        coalesce(monthly.collected_amount, 0)                       as collected_amount,
        coalesce(monthly.completed_milestone_amount, 0)             as completed_milestone_amount,
        sum(coalesce(monthly.approved_hours, 0)) over (
            partition by months.engagement_id order by months.month_start)    as cumulative_approved_hours
    from months
    join engagements using (engagement_id)
    left join monthly using (engagement_id, month_start)

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
    round(coalesce(recognized_revenue, 0) - (labor_cost + expense_cost), 2) as margin_amount,
    localtimestamp                                                  as _written_at
from recognized
{% if is_incremental() %}
union all
-- every engagement recomputed, with no month: delete+insert drops the months it had (the post-hook, this row)
select null, engagement_id, null, null, null, null, null, null, null, null, null, null, null, localtimestamp
from recomputed
{% endif %}
