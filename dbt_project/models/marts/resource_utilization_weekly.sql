-- One row per person and ISO week (Monday start) from their first to their last time entry.
-- capacity hours = weekly capacity (var default_weekly_capacity_hours) x working days / 5, minus public holidays of
-- the person's legal entity (seed public_holidays); billable utilization = approved billable hours / capacity;
-- total utilization = all approved hours / capacity (docs/kpis.md; both can exceed 100%).
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

weeks as (

    select resources.psa_user_id, resources.legal_entity, weekly_working_days.week_start, weekly_working_days.working_days
    from resources
    join (select psa_user_id, min(work_week) as first_week, max(work_week) as last_week from hours group by 1) as span
        using (psa_user_id)
    join weekly_working_days
        on weekly_working_days.legal_entity is not distinct from resources.legal_entity
        and weekly_working_days.week_start between span.first_week and span.last_week

)

select
    weeks.psa_user_id || ':' || to_char(weeks.week_start, 'YYYY-MM-DD')          as resource_week_id,
    weeks.psa_user_id                                                           as resource_id,
    resources.resource_name,
    resources.role_name,
    weeks.legal_entity,
    weeks.week_start,
    round({{ var('default_weekly_capacity_hours', 40) }} * weeks.working_days / 5.0, 2) as capacity_hours,
    coalesce(hours.approved_hours, 0)                                           as approved_hours,
    coalesce(hours.approved_billable_hours, 0)                                  as approved_billable_hours,
    coalesce(hours.logged_hours, 0)                                             as logged_hours,
    round(coalesce(hours.approved_billable_hours, 0)
          / nullif({{ var('default_weekly_capacity_hours', 40) }} * weeks.working_days / 5.0, 0), 4) as billable_utilization,
    round(coalesce(hours.approved_hours, 0)
          / nullif({{ var('default_weekly_capacity_hours', 40) }} * weeks.working_days / 5.0, 0), 4) as total_utilization
from weeks
join resources using (psa_user_id)
left join hours on hours.psa_user_id = weeks.psa_user_id and hours.work_week = weeks.week_start
