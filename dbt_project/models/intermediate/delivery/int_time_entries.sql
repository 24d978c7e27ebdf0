-- One row per PSA time entry: hours, values at bill and cost rate (contract and reporting currency), the
-- engagement, whether and how it reached the ERP, and the data-quality rules (docs/kpis.md 1-6) it breaks.
--
-- Incremental (delete+insert by entry id). Change detection is by landing, not by clock: each build stores the
-- load-id watermark of ops.loads (every load at or below it had finished when the build started), and the next
-- build reprocesses rows of loads above it (landed since, or still running then), so nothing is missed or
-- counted twice however long a landing takes. It reprocesses every entry whose result can have changed:
--   entries that landed; entries of a (person, day) with a landed or deleted entry or ERP time bill (day totals, duplicates
--   and time-bill matching look at the whole day); entries of projects whose workspace, custom fields, resources
--   or rate card landed or whose engagement key changed; entries of people whose PSA user or ERP employee
--   landed; entries in accounting periods that landed (closing a period). Entries deleted since the last
--   successful build (ops.dbt_builds) are removed (post-hook; found through the raw table's load-id index).
-- The table is vacuumed after each build (it only visits the pages the build changed): the models that count its
-- rows by group (int_time_engagement_months, int_time_resource_weeks) then read its indexes alone.
-- Every input of a row is in one of those sets, so a full refresh and an incremental build give the same rows
-- (tested in tests/dbt); a weekly full refresh (issue 7) also picks up seed edits.
-- depends_on: {{ ref('stg_kantata__workspaces') }}
-- depends_on: {{ ref('stg_kantata__custom_field_values') }}
-- depends_on: {{ ref('stg_kantata__workspace_resources') }}
-- depends_on: {{ ref('stg_kantata__rate_card_roles') }}
-- depends_on: {{ ref('stg_kantata__users') }}
-- depends_on: {{ ref('stg_netsuite__employees') }}
-- depends_on: {{ ref('stg_netsuite__accounting_periods') }}
-- depends_on: {{ ref('int_time_bills') }}
-- depends_on: {{ ref('stg_netsuite__deleted_time_bills') }}
{{ config(
    materialized='incremental',
    unique_key='psa_time_entry_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    indexes=[{'columns': ['psa_time_entry_id'], 'unique': True}, {'columns': ['engagement_id', 'work_month']},
             {'columns': ['psa_user_id', 'work_week']}, {'columns': ['psa_project_id', 'engagement_id', 'erp_project_id']},
             {'columns': ['breaks_a_data_quality_rule']}, {'columns': ['_load_watermark']}],
    post_hook=[
        "delete from {{ this }} where psa_time_entry_id in (select psa_time_entry_id from {{ ref('stg_kantata__deleted_time_entries') }} where {{ landed_since_last_build() }})",
        after_commit("vacuum {{ this }}")
    ]
) }}

with all_entries as (

    select * from {{ ref('stg_kantata__time_entries') }}

),

{% if is_incremental() and has_load_watermark() %}
cutoff as (

    select coalesce(max(_load_watermark), -1) as changed_since from {{ this }}

),

previous_keys as (

    select distinct psa_project_id, engagement_id, erp_project_id from {{ this }}

),

changed_projects as (

    select psa_project_id from {{ ref('stg_kantata__workspaces') }} where load_id > (select changed_since from cutoff)
    union
    select subject_id from {{ ref('stg_kantata__custom_field_values') }} where load_id > (select changed_since from cutoff)
    union
    select psa_project_id from {{ ref('stg_kantata__workspace_resources') }} where load_id > (select changed_since from cutoff)
    union
    select projects.psa_project_id
    from {{ ref('int_psa_projects') }} as projects
    join {{ ref('stg_kantata__rate_card_roles') }} as rates using (psa_rate_card_id)
    where rates.load_id > (select changed_since from cutoff)
    union
    -- the engagement key or the engagement's ERP project changed
    select project_keys.project_id
    from {{ ref('int_project_keys') }} as project_keys
    left join {{ ref('int_engagements_keyed') }} as engagements using (engagement_id)
    left join previous_keys on previous_keys.psa_project_id = project_keys.project_id
    where project_keys.source_system = 'kantata'
      and (previous_keys.engagement_id is distinct from project_keys.engagement_id
           or previous_keys.erp_project_id is distinct from engagements.erp_project_id)

),

changed_people as (

    select psa_user_id from {{ ref('stg_kantata__users') }} where load_id > (select changed_since from cutoff)
    union
    select resources.psa_user_id
    from {{ ref('stg_netsuite__employees') }} as employees
    join {{ ref('int_resources_matched') }} as resources using (erp_employee_id)
    where employees.load_id > (select changed_since from cutoff)

),

changed_periods as (

    select start_date, end_date from {{ ref('stg_netsuite__accounting_periods') }}
    where load_id > (select changed_since from cutoff)

),

changed_days as (

    select psa_user_id, work_date from {{ ref('stg_kantata__time_entries') }}
    where load_id > (select changed_since from cutoff)
    union
    select previous.psa_user_id, previous.work_date
    from {{ this }} as previous
    join {{ ref('stg_kantata__deleted_time_entries') }} as deleted using (psa_time_entry_id)
    where deleted.load_id > (select changed_since from cutoff)
    union
    -- days whose ERP time bill was deleted since
    select previous.psa_user_id, previous.work_date
    from {{ this }} as previous
    join {{ ref('stg_netsuite__deleted_time_bills') }} as deleted_bills using (erp_time_bill_id)
    where deleted_bills.load_id > (select changed_since from cutoff)
    union
    select resources.psa_user_id, time_bills.work_date
    from {{ ref('int_time_bills') }} as time_bills
    join {{ ref('int_resources_matched') }} as resources using (erp_employee_id)
    where time_bills.load_id > (select changed_since from cutoff)

),

selected as (

    -- every entry processed before is in this table (typed), the ones landed since are in changed_days: so the
    -- projects, people and periods that changed are looked up here, never by parsing every entry's jsonb.
    -- Each test is guarded by whether its set is empty.
    -- one branch per set, each through its own index (by project, by person); the periods are a date range
    select psa_user_id, work_date from {{ this }} as previous
    where psa_project_id = any(array(select psa_project_id from changed_projects))
    union
    select psa_user_id, work_date from {{ this }} as previous
    where psa_user_id = any(array(select psa_user_id from changed_people))
    union
    select psa_user_id, work_date from {{ this }} as previous
    where exists (select 1 from changed_periods) and exists (
            select 1 from changed_periods
            where previous.work_date between changed_periods.start_date and changed_periods.end_date)
    union
    select psa_user_id, work_date from changed_days

),

days as (

    select distinct psa_user_id, work_date from selected

),

entries as (

    -- whole (person, day) groups, so that day totals and duplicates see every entry of the day. Each of them is in
    -- this table or landed since: they are read by id (an index scan of the raw table's primary key), not found
    -- by parsing every entry.
    -- (the staging view, not the CTE all_entries: a CTE read twice is materialized, every entry parsed)
    select all_entries.*
    from {{ ref('stg_kantata__time_entries') }} as all_entries
    join days using (psa_user_id, work_date)
    where all_entries.psa_time_entry_id = any(array(
        select previous.psa_time_entry_id from {{ this }} as previous
        where (previous.psa_user_id, previous.work_date) in (select psa_user_id, work_date from days)
        union all
        select psa_time_entry_id from {{ ref('stg_kantata__time_entries') }}
        where load_id > (select changed_since from cutoff)))
    union all
    -- an entry with no date or no person is in no (person, day) group: read when it lands (a sync holds it)
    select landed.*
    from {{ ref('stg_kantata__time_entries') }} as landed
    where landed.load_id > (select changed_since from cutoff) and (landed.work_date is null or landed.psa_user_id is null)

),
{% else %}
entries as (

    select * from all_entries

),
{% endif %}

projects as (

    select * from {{ ref('int_psa_projects') }}

),

assignments as (

    select psa_project_id, psa_user_id, min(start_date) as assignment_start, max(end_date) as assignment_end
    from {{ ref('stg_kantata__workspace_resources') }}
    group by 1, 2

),

rate_cards as (

    select psa_rate_card_id, psa_role_id, bill_rate as rate_card_rate
    from {{ ref('stg_kantata__rate_card_roles') }}

),

posted as (

    -- at most one time bill per entry (tested unique on int_time_bill_matches); an index lookup per entry
    select psa_time_entry_id, erp_time_bill_id, match_method, erp_project_id, created_at
    from {{ ref('int_time_bill_matches') }}
    where psa_time_entry_id is not null

),

day_totals as (

    select psa_user_id, work_date, sum(minutes) as day_minutes
    from entries
    group by 1, 2

),

duplicates as (

    select
        psa_time_entry_id,
        row_number() over (
            partition by psa_user_id, psa_project_id, psa_story_id, work_date, minutes, is_billable, bill_rate, notes
            order by length(psa_time_entry_id), psa_time_entry_id
        ) > 1                                                   as is_duplicate  -- the later id is the copy
    from entries

),

enriched as (

    select
        entries.psa_time_entry_id,
        entries.psa_project_id,
        project_keys.engagement_id,
        engagements.erp_project_id,
        entries.psa_user_id,
        resources.erp_employee_id,
        entries.psa_role_id,
        roles.role_name,
        entries.notes,
        entries.work_date,
        date_trunc('week', entries.work_date)::date             as work_week,
        date_trunc('month', entries.work_date)::date            as work_month,
        entries.minutes,
        round(entries.minutes / 60.0, 2)                        as hours,
        entries.bill_rate,
        entries.cost_rate,
        rate_cards.rate_card_rate,
        entries.currency_code,
        coalesce(entries.is_billable, false)                    as is_billable,
        coalesce(entries.is_approved, false)                    as is_approved,
        coalesce(entries.is_invoiced, false)                    as is_invoiced,
        coalesce(projects.is_internal, false)                   as is_internal,
        projects.canonical_status                               as project_status,
        projects.psa_project_id is null                         as is_without_project,
        periods.erp_accounting_period_id,
        coalesce(periods.is_closed, false)                      as is_period_closed,
        periods.end_date                                        as period_end_date,
        -- entered after its period closed: it cannot be posted there any more (rule 1)
        (coalesce(periods.is_closed, false) and entries.created_at::date > periods.closed_on_date)
                                                                as is_entered_after_period_close,
        posted.erp_time_bill_id,
        posted.match_method                                     as erp_posting_match,
        posted.created_at                                       as posted_at,
        rates.rate_to_reporting,
        -- data-quality rules
        (projects.canonical_status in ('completed', 'closed') and entries.work_date > projects.due_date)
                                                                as is_on_inactive_project,
        (assignments.assignment_end is not null and entries.work_date > assignments.assignment_end)
                                                                as is_after_assignment_end,
        duplicates.is_duplicate,
        (day_totals.day_minutes > 24 * 60)                      as is_over_24_hours_day,
        (entries.minutes <= 0)                                  as is_non_positive,
        (coalesce(entries.is_billable, false) and (coalesce(entries.bill_rate, 0) = 0 or coalesce(entries.cost_rate, 0) = 0))
                                                                as is_zero_rate_billable,
        (coalesce(entries.is_billable, false) and entries.bill_rate > 0 and rate_cards.rate_card_rate is not null
            and entries.bill_rate <> rate_cards.rate_card_rate) as is_rate_off_card,
        (not coalesce(entries.is_approved, false) and coalesce(entries.is_invoiced, false))
                                                                as is_unapproved_marked_billed,
        entries.created_at,
        entries.updated_at,
        entries.landed_at,
        entries.load_id
    from entries
    left join projects using (psa_project_id)
    left join {{ ref('int_project_keys') }} as project_keys
        on project_keys.source_system = 'kantata' and project_keys.project_id = entries.psa_project_id
    left join {{ ref('int_engagements_keyed') }} as engagements on engagements.engagement_id = project_keys.engagement_id
    left join {{ ref('int_resources_matched') }} as resources on resources.psa_user_id = entries.psa_user_id
    left join {{ ref('stg_kantata__roles') }} as roles on roles.psa_role_id = entries.psa_role_id
    left join rate_cards on rate_cards.psa_rate_card_id = projects.psa_rate_card_id and rate_cards.psa_role_id = entries.psa_role_id
    left join assignments on assignments.psa_project_id = entries.psa_project_id and assignments.psa_user_id = entries.psa_user_id
    left join {{ ref('int_accounting_periods') }} as periods
        on entries.work_date between periods.start_date and periods.end_date
    left join posted using (psa_time_entry_id)
    left join day_totals on day_totals.psa_user_id = entries.psa_user_id and day_totals.work_date = entries.work_date
    left join duplicates using (psa_time_entry_id)
    left join {{ ref('int_exchange_rates_daily') }} as rates
        on rates.currency_code = entries.currency_code and rates.calendar_date = entries.work_date

){% if is_incremental() and has_load_watermark() and this_has_column('_moved') %},

moves as (

    -- entries that left a group (engagement and month, person and week) since the last successful build: the
    -- time sums (int_time_engagement_months, int_time_resource_weeks) then recount their groups. Kept true
    -- until a successful build, so that a failed build in between loses no move.
    select
        enriched.psa_time_entry_id,
        previous.engagement_id is distinct from enriched.engagement_id
            or previous.work_month is distinct from enriched.work_month
            or previous.psa_user_id is distinct from enriched.psa_user_id
            or previous.work_week is distinct from enriched.work_week
            or coalesce(previous._moved and previous._load_watermark > {{ last_good_build_watermark() }}, false)
                                                                as _moved
    from enriched
    join {{ this }} as previous using (psa_time_entry_id)

)
{% set with_moves = true %}
{% else %}
{% set with_moves = false %}
{% endif %}

select
    enriched.*,
    -- approved billable client work (internal projects are never billable work): its hours, and at the entry's bill
    -- rate what T&M revenue and "delivered" count. Every sum of approved billable hours sums this column.
    case when is_approved and is_billable and not is_internal then hours else 0 end as approved_billable_hours,
    case when is_approved and is_billable and not is_internal then hours * bill_rate else 0 end as approved_bill_value,
    case when is_approved then hours * cost_rate else 0 end as approved_cost_value,
    case when is_approved and is_billable and not is_internal then hours * coalesce(rate_card_rate, bill_rate) else 0 end
                                                                as approved_standard_value,
    erp_time_bill_id is not null                                as is_posted_to_erp,
    -- some rule of int_data_quality_issues applies (indexed: it reads these few entries, not all of them)
    coalesce(is_on_inactive_project or is_after_assignment_end or is_duplicate or is_over_24_hours_day
       or is_non_positive or is_zero_rate_billable or is_rate_off_card or is_unapproved_marked_billed
       or is_without_project
       or (is_approved and is_billable and not is_internal and is_period_closed and erp_time_bill_id is null)
       or is_entered_after_period_close
       or (is_billable and is_internal), false)                as breaks_a_data_quality_rule,
    {% if with_moves %}coalesce(moves._moved, false){% else %}false{% endif %} as _moved,
    {{ load_watermark() }}                                      as _load_watermark
from enriched
{% if with_moves %}
left join moves using (psa_time_entry_id)
{% endif %}
