-- One row per person and ISO week (Monday start) from their first to their last time entry.
-- capacity hours = weekly capacity (var default_weekly_capacity_hours) x working days / 5, minus public holidays of
-- the person's legal entity (seed public_holidays); billable utilization = approved billable hours / capacity;
-- total utilization = all approved hours / capacity (docs/kpis.md; both can exceed 100%).
--
-- Incremental (delete+insert by person and week): a build recomputes the weeks whose row can have changed since the
-- last successful build, and no other (in a cycle nearly every person has new time, in one or two weeks):
--   hours     the groups int_time_groups_changed names (the time sums it recomputed: int_time_resource_weeks)
--   span      a person whose first or last week moved: the weeks between the old and the new one (in or out of it)
--   person    a person whose name, role or legal entity is not the one held here, or who is new or no more: every
--             week held or now (each person's first and last row here, through the index on person and week)
--   capacity  every week after the as-of date. A week's working days change only where the calendar's bounds cut it
--             (int_calendar_days: from 400 days before the first record, never near a week with time, to 730 days
--             after the as-of date, which only moves on), so only in weeks after the as-of date, of time dated ahead
--             (the holidays and the capacity are in the project's fingerprint: a change is a full refresh)
-- Each week recomputed that has no row now gets one with no key, so that delete+insert drops the one it had; the
-- post-hook removes it. So a full refresh and an incremental build give the same rows (tested in tests/dbt).
-- Each row is stamped with the time it was written (_written_at): an incremental build's data tests check the rows
-- written since the last successful build (macros/test_where.sql); the weekly full refresh checks every row.
-- depends_on: {{ ref('int_time_groups_changed') }}
-- depends_on: {{ ref('int_as_of_date') }}
{{ config(
    materialized='incremental',
    unique_key=['resource_id', 'week_start'],
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    indexes=[{'columns': ['resource_id', 'week_start']}, {'columns': ['_written_at']}],
    post_hook="delete from {{ this }} where resource_week_id is null"
) }}

{% set capacity = "round(" ~ var('default_weekly_capacity_hours', 40) ~ " * working_days / 5.0, 2)" %}

with resources as (

    select * from {{ ref('int_resources_matched') }}

),

hours as (

    select psa_user_id, work_week, approved_hours, approved_billable_hours, logged_hours
    from {{ ref('int_time_resource_weeks') }}  -- the time entries, summed by person and week

),

weekly_working_days as (

    -- working days per legal entity and week: weekdays that are not public holidays of the entity
    select
        entities.legal_entity,
        calendar.week_start,
        count(*) filter (where calendar.is_weekday and holidays.holiday_name is null) as working_days
    from (select distinct legal_entity from resources) as entities
    cross join {{ ref('int_calendar_days') }} as calendar
    left join {{ ref('public_holidays') }} as holidays
        on holidays.legal_entity = entities.legal_entity
        and holidays.month = extract(month from calendar.calendar_date)
        and holidays.day = extract(day from calendar.calendar_date)
    group by 1, 2

),

span as (

    select psa_user_id, min(work_week) as first_week, max(work_week) as last_week
    from {{ ref('int_time_resource_weeks') }}
    group by 1

),
{% if is_incremental() %}

people as (

    -- everyone who has or had rows: every person now, those whose time changed (all of whose time went), and those
    -- held here (a person no longer a PSA user: their rows go), each found through this table's index on (person,
    -- week), the next person after the one before (a few hundred lookups, not a read of every row)
    select psa_user_id from resources
    union
    select psa_user_id from ({{ changed_time_groups('resource_week') }}) as changed
    union
    select resource_id from ({{ keys_held_in(this, 'resource_id') }}) as held

),

people_compared as (

    -- each person here or now beside their rows here, found through this table's index on (person, week): is_whole
    -- when their name, role or legal entity is not the one held, or they have no rows here or none now
    select
        people.psa_user_id                                      as resource_id,
        held_first.week_start is null or now_people.psa_user_id is null
            or (held_first.resource_name, held_first.role_name, held_first.legal_entity)
               is distinct from (now_people.resource_name, now_people.role_name, now_people.legal_entity) as is_whole,
        now_people.psa_user_id is not null                      as is_person_now,
        held_first.week_start                                   as held_first_week,
        held_last.week_start                                    as held_last_week,
        now_people.first_week,
        now_people.last_week
    from people
    left join (
        select resources.psa_user_id, resources.resource_name, resources.role_name, resources.legal_entity,
               span.first_week, span.last_week
        from resources join span using (psa_user_id)
    ) as now_people using (psa_user_id)
    left join lateral (
        select resource_name, role_name, legal_entity, week_start from {{ this }} as held
        where held.resource_id = people.psa_user_id
        order by week_start limit 1
    ) as held_first on true
    left join lateral (
        select week_start from {{ this }} as held
        where held.resource_id = people.psa_user_id
        order by week_start desc limit 1
    ) as held_last on true

),

people_changed as (

    -- each person whose rows here can differ from those now: is_whole, or their span here is not the one now
    select resource_id, is_whole, held_first_week, held_last_week, first_week, last_week
    from people_compared
    where (held_first_week is not null or is_person_now)
      and (is_whole or held_first_week <> first_week or held_last_week <> last_week)

),

recomputed as (

    -- hours: the groups whose sums changed (macros/changed_time_groups.sql)
    select psa_user_id as resource_id, work_week as week_start from ({{ changed_time_groups('resource_week') }}) as changed
    union
    -- person: every week held (they run from the first to the last) and every week of the span now
    select resource_id, generate_series(least(held_first_week, first_week)::timestamp,
                                        greatest(held_last_week, last_week)::timestamp, interval '1 week')::date
    from people_changed
    where is_whole
    union
    -- span: the weeks between a person's first (and last) week here and now
    select resource_id, generate_series(least(held_first_week, first_week)::timestamp,
                                        greatest(held_first_week, first_week)::timestamp, interval '1 week')::date
    from people_changed
    where not is_whole
    union
    select resource_id, generate_series(least(held_last_week, last_week)::timestamp,
                                        greatest(held_last_week, last_week)::timestamp, interval '1 week')::date
    from people_changed
    where not is_whole
    union
    -- capacity: the weeks after the as-of date (see the header), held or now
    select held.resource_id, held.week_start from {{ this }} as held
    where held.week_start > (select as_of_date from {{ ref('int_as_of_date') }})
    union
    select weeks_now.psa_user_id, weeks_now.work_week from {{ ref('int_time_resource_weeks') }} as weeks_now
    where weeks_now.work_week > (select as_of_date from {{ ref('int_as_of_date') }})

),
{% endif %}

weeks as (

    {% if is_incremental() -%}
    -- the weeks recomputed, each of a person now and inside their span now
    select resources.psa_user_id, resources.legal_entity, weekly_working_days.week_start, weekly_working_days.working_days
    from recomputed
    join resources on resources.psa_user_id = recomputed.resource_id
    join span using (psa_user_id)
    join weekly_working_days
        on coalesce(weekly_working_days.legal_entity, '') = coalesce(resources.legal_entity, '')  -- hashed: no entity is ''
        and weekly_working_days.week_start = recomputed.week_start
    where recomputed.week_start between span.first_week and span.last_week
    {%- else -%}
    select resources.psa_user_id, resources.legal_entity, weekly_working_days.week_start, weekly_working_days.working_days
    from resources
    join span using (psa_user_id)
    join weekly_working_days
        on coalesce(weekly_working_days.legal_entity, '') = coalesce(resources.legal_entity, '')  -- hashed: no entity is ''
        and weekly_working_days.week_start between span.first_week and span.last_week
    {%- endif %}

)

select
    weeks.psa_user_id || ':' || to_char(weeks.week_start, 'YYYY-MM-DD')          as resource_week_id,
    weeks.psa_user_id                                                           as resource_id,
    resources.resource_name,
    resources.role_name,
    weeks.legal_entity,
    weeks.week_start,
    {{ capacity | replace('working_days', 'weeks.working_days') }} as capacity_hours,
    coalesce(hours.approved_hours, 0)                                           as approved_hours,
    coalesce(hours.approved_billable_hours, 0)                                  as approved_billable_hours,
    coalesce(hours.logged_hours, 0)                                             as logged_hours,
    round(coalesce(hours.approved_billable_hours, 0)
          / nullif({{ var('default_weekly_capacity_hours', 40) }} * weeks.working_days / 5.0, 0), 4) as billable_utilization,
    round(coalesce(hours.approved_hours, 0)
          / nullif({{ var('default_weekly_capacity_hours', 40) }} * weeks.working_days / 5.0, 0), 4) as total_utilization,
    localtimestamp                                                              as _written_at
from weeks
join resources using (psa_user_id)
left join hours on hours.psa_user_id = weeks.psa_user_id and hours.work_week = weeks.week_start
{% if is_incremental() %}
union all
-- a week recomputed that has no row now: one with no key, so that delete+insert drops its row (the post-hook, this one)
select null, recomputed.resource_id, null, null, null, recomputed.week_start, null, null, null, null, null, null,
       localtimestamp
from recomputed
where not exists (select 1 from weeks where weeks.psa_user_id = recomputed.resource_id
                                        and weeks.week_start = recomputed.week_start)
{% endif %}
