-- PSA role: people and roles staffed on a project, with their rates (Kantata workspace resources), with the PSA's id; Kantata today.
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
