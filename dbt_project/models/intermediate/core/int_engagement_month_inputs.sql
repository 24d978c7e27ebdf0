-- What engagement_monthly is computed from, engagement by engagement: one row per engagement with its terms
-- (row_kind 'terms': billing model, sold amount, budgeted hours, service dates, the first month and the as-of month),
-- one per engagement and month with PSA time (row_kind 'time': approved hours and values, from
-- int_time_engagement_months) and one per engagement and month with any other input (row_kind 'other': expenses,
-- invoices, payments applied, milestones completed). engagement_monthly recomputes an engagement exactly when these
-- rows change.
--
-- Incremental (delete+insert by engagement): a build writes the engagements whose rows differ from the ones held here
-- (new or changed), stamped with the time they were written (_written_at), and finds them without reading every
-- input again:
--   terms  computed for every engagement (one row each) and compared with those held
--   other  computed for every engagement (a few sums of the few records of each input) and compared with those held:
--          a record that moved to another engagement changed both, and only the rows held know the one it left
--   time   only the groups int_time_groups_changed names (those int_time_engagement_months recomputed since the last
--          successful build, in every build since: their keys now and before), compared with those held, each
--          through the indexes on engagement and month; no other time row can have changed
-- An engagement that is no more gets one row, so that delete+insert drops its rows, and the post-hook removes it.
-- engagement_monthly recomputes the engagements with rows written since the last successful build finished (so a
-- build that fails in between is covered by the next one), and those it holds that are no longer here. The as-of date
-- counts by its month (the months run to the as-of month), so time passing changes every engagement once a month;
-- so does an earlier first calendar day (a record older than any). So a full refresh and an incremental build give
-- the same rows (tested in tests/dbt).
-- depends_on: {{ ref('int_time_groups_changed') }}
{{ config(
    materialized='incremental',
    unique_key='engagement_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    indexes=[{'columns': ['engagement_id', 'month_start']}, {'columns': ['_written_at']}],
    post_hook="delete from {{ this }} where row_kind = 'gone'"
) }}

{% set time_columns = ['approved_hours', 'approved_billable_hours', 'delivered_labor_value', 'labor_cost'] %}
{% set other_columns = ['delivered_expense_amount', 'expense_cost', 'billed_amount', 'collected_amount',
                        'completed_milestone_amount'] %}
{% set terms_columns = ['billing_model', 'sold_amount', 'budgeted_hours', 'start_date', 'end_date', 'first_month',
                        'as_of_month', 'first_calendar_day'] %}
{% set all_columns = ['row_kind', 'engagement_id', 'month_start'] + terms_columns + time_columns + other_columns %}
{% set held_columns = all_columns | join(', ') %}

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
        (select min(calendar_date) from {{ ref('int_calendar_days') }}) as first_calendar_day,
        {% for column in time_columns + other_columns %}null::numeric as {{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
    from facts
    cross join {{ ref('int_as_of_date') }} as as_of

),

other_inputs as (

    -- each input but time summed by engagement and month, one branch per input
    select engagement_id, expense_month as month_start,
           sum(approved_billable_amount) as delivered_expense_amount, sum(approved_amount) as expense_cost,
           null::numeric as billed_amount, null::numeric as collected_amount, null::numeric as completed_milestone_amount
    from {{ ref('int_expenses') }}
    where engagement_id is not null
    group by 1, 2

    union all
    select engagement_id, date_trunc('month', invoice_date)::date, null, null, sum(amount), null, null
    from {{ ref('int_invoices') }}
    where engagement_id is not null
    group by 1, 2

    union all
    select invoices.engagement_id, date_trunc('month', applications.applied_date)::date,
           null, null, null, sum(applications.amount_applied), null
    from {{ ref('int_payment_applications') }} as applications
    join {{ ref('int_invoices') }} as invoices using (erp_invoice_id)
    where applications.application_type = 'payment' and invoices.engagement_id is not null
    group by 1, 2

    union all
    select facts.engagement_id,
           date_trunc('month', least(coalesce(stories.due_date, stories.updated_at::date), stories.updated_at::date))::date,
           null, null, null, null, sum(stories.budget_estimate_amount)
    from {{ ref('int_psa_tasks') }} as stories
    join facts on facts.psa_project_id = stories.psa_project_id
    where stories.story_type = 'milestone' and stories.state = 'completed'
    group by 1, 2

),

other_months as (

    select
        'other'                                                     as row_kind,
        engagement_id,
        month_start,
        {% for column in terms_columns %}null::{{ 'text' if column == 'billing_model' else 'numeric' if column in ('sold_amount', 'budgeted_hours') else 'date' }} as {{ column }},
        {% endfor %}
        {% for column in time_columns %}null::numeric as {{ column }},
        {% endfor %}
        {% for column in other_columns %}sum({{ column }}) as {{ column }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from other_inputs
    where engagement_id in (select engagement_id from facts)
    group by engagement_id, month_start

),

time_months as (

    -- the time sums of every engagement and month (a full refresh), or of the groups that can have changed
    select
        'time'                                                      as row_kind,
        months.engagement_id,
        months.work_month                                           as month_start,
        {% for column in terms_columns %}null::{{ 'text' if column == 'billing_model' else 'numeric' if column in ('sold_amount', 'budgeted_hours') else 'date' }} as {{ column }},
        {% endfor %}
        months.approved_hours,
        months.approved_billable_hours,
        months.approved_bill_value                                  as delivered_labor_value,
        months.approved_cost_value                                  as labor_cost,
        {% for column in other_columns %}null::numeric as {{ column }}{% if not loop.last %},{% endif %}
        {% endfor %}
    {% if is_incremental() -%}
    from ({{ changed_time_groups('engagement_month') }}) as changed
    join {{ ref('int_time_engagement_months') }} as months
        on months.engagement_id = changed.engagement_id and months.work_month = changed.work_month
    {%- else -%}
    from {{ ref('int_time_engagement_months') }} as months
    {%- endif %}
    where months.engagement_id in (select engagement_id from facts)

){% if is_incremental() %},

held_time as (

    -- the rows held of the time groups that can have changed (through the index on engagement and month)
    select {% for column in all_columns %}held.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
    from ({{ changed_time_groups('engagement_month') }}) as changed
    join {{ this }} as held on held.engagement_id = changed.engagement_id and held.month_start = changed.work_month
    where held.row_kind = 'time'

),

changed as (

    -- the engagements whose rows differ from those held here, either way
    select engagement_id from (
        select * from terms except all select {{ held_columns }} from {{ this }} where row_kind = 'terms'
    ) as terms_added
    union
    select engagement_id from (
        select {{ held_columns }} from {{ this }} where row_kind = 'terms' except all select * from terms
    ) as terms_removed
    union
    select engagement_id from (
        select * from other_months except all select {{ held_columns }} from {{ this }} where row_kind = 'other'
    ) as other_added
    union
    select engagement_id from (
        select {{ held_columns }} from {{ this }} where row_kind = 'other' except all select * from other_months
    ) as other_removed
    union
    select engagement_id from (select * from time_months except all select * from held_time) as time_added
    union
    select engagement_id from (select * from held_time except all select * from time_months) as time_removed

),

engagement_rows as (

    -- the rows of the engagements written: their time rows through int_time_engagement_months' index on engagement
    select * from terms where engagement_id in (select engagement_id from changed)
    union all
    select * from other_months where engagement_id in (select engagement_id from changed)
    union all
    select
        'time', months.engagement_id, months.work_month,
        {% for column in terms_columns %}null, {% endfor %}
        months.approved_hours, months.approved_billable_hours, months.approved_bill_value, months.approved_cost_value,
        {% for column in other_columns %}null{% if not loop.last %}, {% endif %}{% endfor %}
    from changed
    join {{ ref('int_time_engagement_months') }} as months using (engagement_id)
    where changed.engagement_id in (select engagement_id from facts)

)

select engagement_rows.*, localtimestamp as _written_at
from engagement_rows
union all
-- an engagement that is no more: one row, so that delete+insert drops its rows (the post-hook, this row)
select 'gone', engagement_id, {% for column in all_columns[2:] %}null, {% endfor %}localtimestamp
from changed
where engagement_id not in (select engagement_id from facts)
{% else %}

select *, localtimestamp as _written_at from terms
union all
select *, localtimestamp from other_months
union all
select *, localtimestamp from time_months
{% endif %}
