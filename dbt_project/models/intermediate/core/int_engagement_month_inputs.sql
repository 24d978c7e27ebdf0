-- What engagement_monthly is computed from, engagement by engagement: one row per engagement with its terms
-- (row_kind 'terms': billing model, sold amount, budgeted hours, service dates, the first month and the as-of month),
-- and one per engagement and month with any input (row_kind 'month': approved time, expenses, invoices, payments
-- applied, milestones completed). engagement_monthly recomputes an engagement exactly when these rows change.
--
-- Incremental (delete+insert by engagement): every build computes these rows for every engagement (a few sums per
-- input) and writes those of the engagements whose rows differ from the ones held here (new or changed), stamped
-- with the time they were written (_written_at); an engagement that is no more gets one row, so that delete+insert
-- drops its rows, and the post-hook removes it. engagement_monthly recomputes the engagements with rows written since
-- the last successful build finished (so a build that fails in between is covered by the next one), and those it
-- holds that are no longer here. The as-of date counts by its month (the months run to the as-of month), so time passing changes every
-- engagement once a month; so does an earlier first calendar day (a record older than any). So a full refresh and
-- an incremental build give the same rows (tested in tests/dbt).
{{ config(
    materialized='incremental',
    unique_key='engagement_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    indexes=[{'columns': ['engagement_id', 'month_start']}, {'columns': ['_written_at']}],
    post_hook="delete from {{ this }} where row_kind = 'gone'"
) }}

with facts as (

    select * from {{ ref('int_engagement_facts') }}

),

terms as (

    select
        'terms'                                                     as row_kind,
        facts.engagement_id,
        null::date                                                  as month_start,
        facts.billing_model,
        facts.sold_amount,
        facts.budgeted_hours,
        facts.start_date,
        facts.end_date,
        date_trunc('month', least(facts.closed_won_date, facts.start_date))::date as first_month,
        date_trunc('month', as_of.as_of_date)::date                 as as_of_month,
        (select min(calendar_date) from {{ ref('int_calendar_days') }}) as first_calendar_day
    from facts
    cross join {{ ref('int_as_of_date') }} as as_of

),

inputs as (

    -- each input summed by engagement and month, one branch per input
    select engagement_id, work_month as month_start,
           approved_hours, approved_billable_hours, approved_bill_value as delivered_labor_value,
           approved_cost_value as labor_cost, null::numeric as delivered_expense_amount, null::numeric as expense_cost,
           null::numeric as billed_amount, null::numeric as collected_amount, null::numeric as completed_milestone_amount
    from {{ ref('int_time_engagement_months') }}

    union all
    select engagement_id, expense_month, null, null, null, null,
           sum(approved_billable_amount), sum(approved_amount), null, null, null
    from {{ ref('int_expenses') }}
    where engagement_id is not null
    group by 1, 2

    union all
    select engagement_id, date_trunc('month', invoice_date)::date, null, null, null, null, null, null, sum(amount), null, null
    from {{ ref('int_invoices') }}
    where engagement_id is not null
    group by 1, 2

    union all
    select invoices.engagement_id, date_trunc('month', applications.applied_date)::date,
           null, null, null, null, null, null, null, sum(applications.amount_applied), null
    from {{ ref('int_payment_applications') }} as applications
    join {{ ref('int_invoices') }} as invoices using (erp_invoice_id)
    where applications.application_type = 'payment' and invoices.engagement_id is not null
    group by 1, 2

    union all
    select facts.engagement_id,
           date_trunc('month', least(coalesce(stories.due_date, stories.updated_at::date), stories.updated_at::date))::date,
           null, null, null, null, null, null, null, null, sum(stories.budget_estimate_amount)
    from {{ ref('int_psa_tasks') }} as stories
    join facts on facts.psa_project_id = stories.psa_project_id
    where stories.story_type = 'milestone' and stories.state = 'completed'
    group by 1, 2

),

months as (

    select
        'month'                                                     as row_kind,
        engagement_id,
        month_start,
        null::text as billing_model, null::numeric as sold_amount, null::numeric as budgeted_hours,
        null::date as start_date, null::date as end_date, null::date as first_month, null::date as as_of_month,
        null::date as first_calendar_day,
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
    where engagement_id in (select engagement_id from facts)
    group by engagement_id, month_start

),

engagement_rows as (

    select terms.*, null::numeric as approved_hours, null::numeric as approved_billable_hours,
           null::numeric as delivered_labor_value, null::numeric as labor_cost,
           null::numeric as delivered_expense_amount, null::numeric as expense_cost, null::numeric as billed_amount,
           null::numeric as collected_amount, null::numeric as completed_milestone_amount
    from terms
    union all
    select * from months

){% if is_incremental() %},

held as (

    select row_kind, engagement_id, month_start, billing_model, sold_amount, budgeted_hours, start_date, end_date,
           first_month, as_of_month, first_calendar_day, approved_hours, approved_billable_hours, delivered_labor_value,
           labor_cost, delivered_expense_amount, expense_cost, billed_amount, collected_amount, completed_milestone_amount
    from {{ this }}

),

changed as (

    -- the engagements whose rows differ from those held here, either way
    select engagement_id from (select * from engagement_rows except all select * from held) as added
    union
    select engagement_id from (select * from held except all select * from engagement_rows) as removed

){% endif %}

select engagement_rows.*, localtimestamp as _written_at
from engagement_rows
{% if is_incremental() %}
where engagement_id in (select engagement_id from changed)
union all
-- an engagement that is no more: one row, so that delete+insert drops its rows (the post-hook, this row)
select 'gone', engagement_id, null, null, null, null, null, null, null, null, null,
       null, null, null, null, null, null, null, null, null, localtimestamp
from changed
where engagement_id not in (select engagement_id from facts)
{% endif %}
