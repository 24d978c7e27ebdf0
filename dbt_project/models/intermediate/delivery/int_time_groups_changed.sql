-- The groups of the time sums that the change set (int_time_changes) reaches, once int_time_entries has applied it:
-- one row per (engagement, month) of int_time_engagement_months and per (person, week) of int_time_resource_weeks
-- to recompute. A group is named when an entry rewritten since the last successful build is in it now, was in it
-- then (the entry's _*_before columns: it moved out), or a time entry deleted since was in it (as last landed); and an
-- engagement month whose entry's time bill int_time_bill_matches rewrote since (whether it is billed).
-- The sums recompute exactly these groups; a group left without entries is removed there.
{{ config(materialized='table') }}

{% set since = last_good_build_watermark() %}

with rewritten as (

    -- through int_time_entries' index on _load_watermark: the entries a build since wrote
    select engagement_id, work_month, psa_user_id, work_week,
           _engagement_id_before, _work_month_before, _psa_user_id_before, _work_week_before
    from {{ ref('int_time_entries') }}
    where _load_watermark > {{ since }}

),

deleted as (

    select
        project_keys.engagement_id,
        date_trunc('month', changes.work_date)::date            as work_month,
        changes.psa_user_id,
        date_trunc('week', changes.work_date)::date             as work_week
    from {{ ref('int_time_changes') }} as changes
    left join {{ ref('int_project_keys') }} as project_keys
        on project_keys.source_system in {{ psa_systems() }} and project_keys.project_id = changes.psa_project_id
    where changes.changed_input in ('kantata.time_entries (deleted)', 'certinia.time_entries (deleted)')

),

rebilled as (

    -- the entries paired with a time bill int_time_bill_matches rewrote since (its index on _load_watermark; then
    -- int_time_entries' by time bill): the engagement months read whether that bill is billed. A billing run lands
    -- thousands of time bills again, billed now with the same pair, and int_time_entries rewrites none of their entries
    select entries.engagement_id, entries.work_month
    from {{ ref('int_time_bill_matches') }} as matches
    join {{ ref('int_time_entries') }} as entries on entries.erp_time_bill_id = matches.erp_time_bill_id
    where matches._load_watermark > {{ since }} and matches._load_watermark <= {{ load_watermark() }}

),

groups as (

    select 'engagement_month' as group_kind, engagement_id, work_month, null as psa_user_id, null::date as work_week
    from rewritten
    union
    select 'engagement_month', _engagement_id_before, _work_month_before, null, null from rewritten
    union
    select 'engagement_month', engagement_id, work_month, null, null from deleted
    union
    select 'engagement_month', engagement_id, work_month, null, null from rebilled
    union
    select 'resource_week', null, null, psa_user_id, work_week from rewritten
    union
    select 'resource_week', null, null, _psa_user_id_before, _work_week_before from rewritten
    union
    select 'resource_week', null, null, psa_user_id, work_week from deleted

)

-- a sum has no group with a null key (time with no date, no engagement or no person)
select * from groups
where ((group_kind = 'engagement_month' and engagement_id is not null and work_month is not null)
       or (group_kind = 'resource_week' and psa_user_id is not null and work_week is not null))
  -- a full refresh recomputes every group: it names none (every entry was just rewritten)
  {% if flags.FULL_REFRESH %}and false{% endif %}
