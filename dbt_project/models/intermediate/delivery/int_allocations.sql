-- One row per PSA allocation: allocated hours, spread evenly over the weekdays between its dates, split into
-- hours scheduled up to the as-of date and hours still to come (used by staffed and estimate at completion).
with allocations as (

    select allocations.*, resources.bill_rate, resources.cost_rate, resources.psa_role_id
    from {{ ref('stg_kantata__workspace_allocations') }} as allocations
    left join {{ ref('stg_kantata__workspace_resources') }} as resources using (psa_project_resource_id)

),

weekdays as (

    select
        allocations.psa_allocation_id,
        count(*)                                                as weekdays,
        count(*) filter (where calendar.calendar_date > (select as_of_date from {{ ref('int_as_of_date') }}))
                                                                as future_weekdays
    from allocations
    join {{ ref('int_calendar_days') }} as calendar
        on calendar.calendar_date between allocations.start_date and allocations.end_date
        and calendar.is_weekday
    group by 1

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
    on project_keys.source_system = 'kantata' and project_keys.project_id = allocations.psa_project_id
