-- PSA role: people and roles staffed on a project, with their rates (Kantata workspace resources; Certinia
-- assignments, their dates from their schedules), with the PSA's id.
select
    'kantata'                           as psa_system,
    psa_project_resource_id,
    psa_project_id,
    psa_user_id,
    psa_role_id,
    load_id,
    role_name,
    currency_code,
    bill_rate,
    cost_rate,
    start_date,
    end_date,
    created_at,
    updated_at,
    landed_at
from {{ ref('stg_kantata__workspace_resources') }}

union all

select
    'certinia'                          as psa_system,
    assignments.psa_project_resource_id,
    assignments.psa_project_id,
    assignments.psa_user_id,
    assignments.psa_role_id,
    greatest(assignments.load_id, schedules.load_id) as load_id,
    assignments.role_name,
    assignments.currency_code,
    assignments.bill_rate,
    assignments.cost_rate,
    schedules.start_date,
    schedules.end_date,
    assignments.created_at,
    assignments.updated_at,
    assignments.landed_at
from {{ ref('stg_certinia__assignments') }} as assignments
left join {{ ref('stg_certinia__schedules') }} as schedules using (psa_schedule_id)
