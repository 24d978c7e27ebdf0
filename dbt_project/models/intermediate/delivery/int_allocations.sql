-- One row per PSA allocation: allocated hours, spread evenly over the weekdays between its dates, split into
-- hours scheduled up to the as-of date and hours still to come (used by staffed and estimate at completion).
with allocations as (

    select allocations.*, resources.bill_rate, resources.cost_rate, resources.psa_role_id
    from {{ ref('int_psa_allocations') }} as allocations
    left join {{ ref('int_psa_project_resources') }} as resources using (psa_project_resource_id)

),

calendar as (

    select * from {{ ref('int_calendar_days') }}

),

bounds as (

    select min(calendar_date) as first_day, max(calendar_date) as last_day,
           (select as_of_date from {{ ref('int_as_of_date') }}) as as_of_date
    from calendar

),

weekdays as (

    -- weekdays of the calendar between two days, both included: the running count at the last one minus the
    -- running count the day before the first one (three lookups per allocation, not one row per day)
    select
        allocations.psa_allocation_id,
        case when last_day.calendar_date >= first_day.calendar_date
             then last_day.weekdays_through - first_day.weekdays_through + first_day.is_weekday::int else 0 end
                                                                as weekdays,
        case when last_day.calendar_date >= first_future_day.calendar_date
             then last_day.weekdays_through - first_future_day.weekdays_through + first_future_day.is_weekday::int else 0 end
                                                                as future_weekdays
    from allocations
    cross join bounds
    left join calendar as first_day
        on first_day.calendar_date = greatest(allocations.start_date, bounds.first_day)
    left join calendar as last_day
        on last_day.calendar_date = least(allocations.end_date, bounds.last_day)
    left join calendar as first_future_day
        on first_future_day.calendar_date = greatest(allocations.start_date, bounds.first_day, bounds.as_of_date + 1)

)

select
    allocations.psa_allocation_id,
    allocations.psa_project_resource_id,
    allocations.psa_project_id,
    project_keys.engagement_id,
    allocations.psa_user_id,
    allocations.start_date,
    allocations.end_date,
    allocations.bill_rate,
    allocations.cost_rate,
    round(allocations.allocated_minutes / 60.0, 2)              as allocated_hours,
    round(allocations.allocated_minutes / 60.0
          * coalesce(weekdays.future_weekdays::numeric / nullif(weekdays.weekdays, 0), 0), 2) as remaining_hours
from allocations
left join weekdays using (psa_allocation_id)
left join {{ ref('int_project_keys') }} as project_keys
    on project_keys.source_system in {{ psa_systems() }} and project_keys.project_id = allocations.psa_project_id
