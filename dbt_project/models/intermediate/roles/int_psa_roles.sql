-- PSA role: roles (Kantata roles), with the PSA's id; Kantata today.
select
    'kantata'                           as psa_system,
    psa_role_id,
    load_id,
    role_name,
    created_at,
    updated_at,
    landed_at
from {{ ref('stg_kantata__roles') }}
