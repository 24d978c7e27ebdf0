-- PSA role: allocations of a project resource over dates (Kantata workspace allocations), with the PSA's id; Kantata today.
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
