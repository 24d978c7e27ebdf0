-- PSA role: roles (Kantata roles; Certinia resource roles, a picklist: the role's name is its id), with the PSA's id.
select
    'kantata'                           as psa_system,
    psa_role_id,
    load_id,
    role_name,
    created_at,
    updated_at,
    landed_at
from {{ ref('stg_kantata__roles') }}

union all

select
    'certinia'                          as psa_system,
    role_name                           as psa_role_id,
    max(load_id)                        as load_id,
    role_name,
    min(created_at)                     as created_at,
    max(updated_at)                     as updated_at,
    max(landed_at)                      as landed_at
from (
    select role_name, load_id, created_at, updated_at, landed_at from {{ ref('stg_certinia__resources') }}
    union all
    select psa_role_id, load_id, created_at, updated_at, landed_at from {{ ref('stg_certinia__rate_cards') }}
    union all
    select role_name, load_id, created_at, updated_at, landed_at from {{ ref('stg_certinia__assignments') }}
) as roles
where role_name is not null
group by role_name
