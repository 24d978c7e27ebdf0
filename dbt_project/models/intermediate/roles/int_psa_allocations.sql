-- PSA role: allocations of a project resource over dates (Kantata workspace allocations; Certinia assignment
-- schedules), with the PSA's id.
select
    'kantata'                           as psa_system,
    psa_allocation_id,
    psa_project_resource_id,
    psa_project_id,
    psa_user_id,
    load_id,
    allocated_minutes,
    is_hard,
    start_date,
    end_date,
    created_at,
    updated_at,
    landed_at
from {{ ref('stg_kantata__workspace_allocations') }}

union all

select
    'certinia'                          as psa_system,
    schedules.psa_schedule_id           as psa_allocation_id,
    assignments.psa_project_resource_id,
    assignments.psa_project_id,
    assignments.psa_user_id,
    schedules.load_id,
    round(schedules.scheduled_hours * 60)::integer as allocated_minutes,
    schedules.is_blocking               as is_hard,
    schedules.start_date,
    schedules.end_date,
    schedules.created_at,
    schedules.updated_at,
    schedules.landed_at
from {{ ref('stg_certinia__schedules') }} as schedules
join {{ ref('stg_certinia__assignments') }} as assignments using (psa_schedule_id)
